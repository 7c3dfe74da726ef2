// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mmfree/huge_pages.h"

namespace mmfree {

// The fields of config.json that the math depends on (see MODEL_SPEC.md).
struct ModelConfig {
    int vocab_size = 0;          // V
    int hidden_size = 0;         // H
    int num_layers = 0;          // L
    int intermediate_size = 0;   // I (derived when null in config.json)
    int expand_ratio = 1;        // D = H * expand_ratio
    int hidden_ratio = 4;
    int num_heads = 1;           // layout only
    float rms_norm_eps = 1e-6f;
    bool use_lower_bound = true;
    int bos_token_id = 1;
    int eos_token_id = 2;
    std::string torch_dtype;     // as stored, informational

    int state_dim() const { return hidden_size * expand_ratio; } // D
};

// Parses and validates config.json text; throws Error with a message naming the field.
ModelConfig parse_config_json(const std::string& json_text);

// A BitLinear weight after load-time quantization: ternary codes + one per-tensor scale.
// Layout (canonical, shared by every backend and the packed file format):
//   row n occupies row_stride bytes starting at codes[n * row_stride];
//   weight k of the row is in byte k/4, bits 2*(k%4)..2*(k%4)+1, as code = w + 1 ∈ {0,1,2};
//   rows are padded with code 1 (weight 0) to a multiple of 128 weights (row_stride = 32·⌈K/128⌉).
struct TernaryMatrix {
    int rows = 0;            // N (output features)
    int cols = 0;            // K (input features)
    int row_stride = 0;      // bytes per row
    float scale = 0.f;       // m = max(mean|W|, 1e-5)
    std::vector<float> norm; // the BitLinear's own RMSNorm weight γ [K]
    StreamedBytes codes;     // read in full every token: kept in huge pages where the system allows

    static int stride_for(int cols) { return 32 * ((cols + 127) / 128); }
    int weight(int n, int k) const { return ((codes[size_t(n) * row_stride + k / 4] >> (2 * (k % 4))) & 3) - 1; }
    size_t packed_bytes() const { return codes.size(); }
};

struct LayerWeights {
    std::vector<float> attn_norm;     // [H]
    TernaryMatrix i_proj, f_proj, g_proj; // [D,H]
    std::vector<float> g_norm;        // [D]
    TernaryMatrix o_proj;             // [H,D]
    std::vector<float> mlp_norm;      // [H]
    TernaryMatrix gate_proj;          // [2I,H]: rows 0..I-1 gate, I..2I-1 up
    TernaryMatrix down_proj;          // [H,I]
};

// A loaded model: everything a backend needs, in fp32 + packed ternary. Immutable after load.
struct Model {
    ModelConfig config;
    std::filesystem::path source;          // folder or packed file it came from
    std::vector<float> embeddings;         // [V,H]
    std::vector<float> lower_bound;        // [L,H] lb[l] precomputed (softmax over layers, cumsum − p[0]); empty if unused
    std::vector<LayerWeights> layers;
    std::vector<float> final_norm;         // [H]
    TernaryMatrix lm_head;                 // [V,H]

    // Tokenizer files found beside the weights (empty path when absent).
    std::filesystem::path tokenizer_path;
    // The serialized SentencePiece model when it came embedded in a packed (GGUF) file; empty otherwise.
    std::string tokenizer_model;
    bool add_bos = true;
    bool add_eos = false;

    // Identifies the exact weights (32 hex digits): a hash of every byte of every file the model
    // was computed from (see format/fingerprint.h for the guarantee). Saved states are keyed on it.
    std::string fingerprint;

    size_t packed_weight_bytes() const;    // ternary codes of every BitLinear
    size_t parameter_count() const;        // as in the checkpoint (latent weights counted once)
    // Bytes one decode step streams: all ternary codes + scales + the embedding row.
    size_t weight_bytes_per_token() const;
};

// Loads a Hugging Face folder (config.json + model.safetensors[.index.json] + tokenizer files),
// a single packed model file, or a folder holding one. Throws Error with an actionable message.
std::shared_ptr<const Model> load_model(const std::filesystem::path& path);

// The model used when none is chosen: $MMFREE_MODEL, else the first *.gguf in
// <executable dir>/../share/mmfree/models (installed), else in the source tree's
// resources/models. Empty path when there is none.
std::filesystem::path default_model_path();

// Builds a model with random weights of the given shape (for `bench --synthetic`): no files.
std::shared_ptr<const Model> make_synthetic_model(const ModelConfig& config, uint64_t seed = 1);

// The release shapes by name: "370M", "1.3B", "2.7B". Throws on an unknown name.
ModelConfig release_config(const std::string& name);

// Quantizes a latent fp32 weight [rows, cols] exactly as MODEL_SPEC.md says (per-tensor absmean,
// round half to even). Exposed for tests and converters.
TernaryMatrix quantize_ternary(const float* weights, int rows, int cols);

} // namespace mmfree
