// SPDX-License-Identifier: Apache-2.0
// An HGRNBit Model as a GGUF file (architecture "hgrn_bit"): `mmfree convert` writes it, load_model
// reads it. The file holds exactly what the engine's Model holds, so a converted model computes
// bit-identical logits to the folder it came from (when float tensors are stored losslessly,
// which `auto` guarantees).
//
// Metadata
//   general.architecture                       "hgrn_bit"
//   general.name, general.alignment (64)
//   hgrn_bit.block_count                       L             (uint32)
//   hgrn_bit.embedding_length                  H             (uint32)
//   hgrn_bit.feed_forward_length               I             (uint32)
//   hgrn_bit.vocab_size                        V             (uint32)
//   hgrn_bit.expand_ratio, hgrn_bit.hidden_ratio, hgrn_bit.attention.head_count   (uint32)
//   hgrn_bit.attention.layer_norm_rms_epsilon  ε             (float32)
//   hgrn_bit.use_lower_bound                               (bool)
//   hgrn_bit.source_dtype                      torch_dtype of the checkpoint it came from (string)
//   hgrn_bit.ternary_layout                    "mmfree.t2.v1" (see below; a reader refuses other values)
//   tokenizer.ggml.bos_token_id / eos_token_id (uint32), add_bos_token / add_eos_token (bool)
//   when the model has a tokenizer:
//   tokenizer.sentencepiece.model              the tokenizer.model file, byte for byte (uint8 array):
//                                              what the engine loads (SentencePiece serialized proto)
//   tokenizer.ggml.model "llama", tokenizer.ggml.tokens / scores / token_type / unknown_token_id:
//                                              the same vocabulary in the form GGUF tools display
//
// Tensors (names as in the Hugging Face checkpoint; shapes below are [rows, cols], stored as
// GGUF ne = [cols, rows])
//   model.embeddings.weight [V,H]    F32, BF16 or F16 (convert --embeddings; auto = the smallest
//                                    type that holds every value exactly)
//   model.lower_bounds_lb   [L,H]    F32: the PRECOMPUTED lower bounds lb[l] = cumsum(softmax_l(raw))[l] − p[0]
//                                    (what the recurrence uses), not the raw `model.lower_bounds`
//   per layer and final norms        F32, HF names (…attn_norm.weight, …attn.g_norm.weight, …)
//   every BitLinear X (attn.{i,f,g,o}_proj, mlp.{gate,down}_proj, lm_head):
//     X.weight        I8, ne = [row_stride, N]: ternary codes in the engine's canonical layout
//                     ("mmfree.t2.v1"): code = w + 1 ∈ {0,1,2}, weight k of a row in byte k/4 at
//                     bits 2·(k%4), rows padded with code 1 to a multiple of 128 weights, so
//                     row_stride = 32·⌈K/128⌉ bytes. Code 3 never occurs. The bytes are unsigned
//                     codes; I8 is only the container type stock GGUF tools can list.
//     X.weight_scale  F32 [1]: the per-tensor scale m = max(mean|W|, 1e-5)
//     X.norm.weight   F32 [K]: the BitLinear's RMSNorm weight
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "mmfree/model.h"

namespace mmfree {

inline constexpr const char* kTernaryLayout = "mmfree.t2.v1";

struct GgufWriteOptions {
    std::string embeddings = "auto";   // auto | f32 | bf16 | f16
    std::string name;                  // general.name; default: the source folder's name
};

void write_gguf_model(const Model& model, const std::filesystem::path& out, const GgufWriteOptions& options = {});
std::shared_ptr<const Model> load_gguf_model(const std::filesystem::path& file);

// True when the file starts with the GGUF magic (false for unreadable files).
bool is_gguf_file(const std::filesystem::path& file);

class GgufWriter;
// Adds a SentencePiece tokenizer.model (its bytes in `proto`) as the tokenizer.* keys listed above;
// `from` names it in errors. Also used for llama-architecture files (tools/llama-compare).
void add_sentencepiece_tokenizer(GgufWriter& w, const std::string& proto, const std::filesystem::path& from);

} // namespace mmfree
