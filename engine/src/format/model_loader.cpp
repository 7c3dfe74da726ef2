// SPDX-License-Identifier: Apache-2.0
// Hugging Face folder → Model: read config, map safetensors, quantize every BitLinear once.
#include <cmath>
#include <nlohmann/json.hpp>

#include "format/fingerprint.h"
#include "format/json_words.h"
#include "format/loaders.h"
#include "format/safetensors.h"
#include "mmfree/error.h"
#include "mmfree/model.h"

namespace mmfree {
namespace fs = std::filesystem;

namespace {

// Real configs are a few KB; tokenizer_config.json may list many added tokens.
constexpr size_t kMaxConfigBytes = size_t(4) << 20;
constexpr size_t kMaxTokenizerConfigBytes = size_t(32) << 20;

void check_finite(const std::vector<float>& v, const std::string& name) {
    for (size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]))
            throw Error(ErrorCode::CorruptFile, "tensor " + name + " has a non-finite value (" + std::to_string(v[i]) +
                                                    ") at element " + std::to_string(i) + "; the checkpoint is damaged");
}

std::vector<float> vec(const TensorSet& ts, const std::string& name, int64_t n) {
    auto v = ts.require(name, {n}).to_f32();
    check_finite(v, name);
    return v;
}

TernaryMatrix bitlinear(const TensorSet& ts, const std::string& prefix, int rows, int cols) {
    auto w = ts.require(prefix + ".weight", {rows, cols}).to_f32();
    check_finite(w, prefix + ".weight");
    TernaryMatrix m = quantize_ternary(w.data(), rows, cols);
    m.norm = vec(ts, prefix + ".norm.weight", cols);
    return m;
}

// lb[l] = cumsum(softmax_l(raw))[l] − p[0], per channel (MODEL_SPEC.md).
std::vector<float> lower_bounds_from_raw(const std::vector<float>& raw, int L, int H) {
    std::vector<float> lb(size_t(L) * H);
    for (int c = 0; c < H; ++c) {
        float mx = -INFINITY;
        for (int l = 0; l < L; ++l) mx = std::max(mx, raw[size_t(l) * H + c]);
        float sum = 0;
        std::vector<float> p(L);
        for (int l = 0; l < L; ++l) sum += p[l] = std::exp(raw[size_t(l) * H + c] - mx);
        float acc = 0;
        for (int l = 0; l < L; ++l) {
            acc += p[l] / sum;
            lb[size_t(l) * H + c] = acc - p[0] / sum;
        }
    }
    return lb;
}

void read_tokenizer_files(Model& m, const fs::path& folder) {
    if (path_exists(folder / "tokenizer.model")) m.tokenizer_path = folder / "tokenizer.model";
    const fs::path tc = folder / "tokenizer_config.json";
    if (!path_exists(tc)) return;
    try {
        auto j = nlohmann::json::parse(read_small_file(tc, kMaxTokenizerConfigBytes));
        if (!j.is_object()) throw Error(ErrorCode::CorruptFile, printable_path(tc) + " is not a JSON object");
        if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) m.add_bos = j["add_bos_token"].get<bool>();
        if (j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) m.add_eos = j["add_eos_token"].get<bool>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorCode::CorruptFile, printable_path(tc) + " " + json_error_words(e));
    }
}

} // namespace

std::string read_config_text(const fs::path& path) { return read_small_file(path, kMaxConfigBytes); }

TernaryMatrix quantize_ternary(const float* w, int rows, int cols) {
    TernaryMatrix t;
    t.rows = rows;
    t.cols = cols;
    t.row_stride = TernaryMatrix::stride_for(cols);
    const size_t n = size_t(rows) * cols;
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += std::fabs(w[i]);
    // As the reference: m = max(mean|W|, 1e-5), scale = 1/m in fp32, T = clamp(round_half_even(W·scale), −1, 1).
    t.scale = std::max(float(sum / double(n)), 1e-5f);
    const float inv = 1.0f / t.scale;
    t.codes.assign(size_t(rows) * t.row_stride, 0x55); // code 1 (weight 0) everywhere, padding included
    for (int r = 0; r < rows; ++r) {
        uint8_t* row = &t.codes[size_t(r) * t.row_stride];
        for (int k = 0; k < cols; ++k) {
            float q = std::nearbyint(w[size_t(r) * cols + k] * inv);
            int v = q > 0.5f ? 1 : (q < -0.5f ? -1 : 0);
            const int shift = 2 * (k % 4);
            row[k / 4] = uint8_t((row[k / 4] & ~(3 << shift)) | ((v + 1) << shift));
        }
    }
    return t;
}

std::string hf_folder_fingerprint(const fs::path& folder) {
    const fs::path cfg_path = folder / "config.json";
    if (!path_exists(cfg_path)) throw Error(ErrorCode::FileNotFound, "no config.json in " + printable_path(folder) + " (is this a model folder?)");
    // The same bytes in the same order as load_hf_folder.
    WeightFingerprint fp;
    fp.add(read_config_text(cfg_path));
    TensorSet::open_folder(folder).add_to(fp);
    return fp.hex();
}

std::shared_ptr<const Model> load_hf_folder(const fs::path& folder) {
    const fs::path cfg_path = folder / "config.json";
    if (!path_exists(cfg_path)) throw Error(ErrorCode::FileNotFound, "no config.json in " + printable_path(folder) + " (is this a model folder?)");
    auto m = std::make_shared<Model>();
    m->source = folder;
    const std::string config_text = read_config_text(cfg_path);
    m->config = parse_config_json(config_text);
    const ModelConfig& c = m->config;
    const int V = c.vocab_size, H = c.hidden_size, D = c.state_dim(), I = c.intermediate_size, L = c.num_layers;

    TensorSet ts = TensorSet::open_folder(folder);
    m->embeddings = ts.require("model.embeddings.weight", {V, H}).to_f32();
    check_finite(m->embeddings, "model.embeddings.weight");
    if (c.use_lower_bound) {
        auto raw = ts.require("model.lower_bounds", {L, H}).to_f32();
        check_finite(raw, "model.lower_bounds");
        m->lower_bound = lower_bounds_from_raw(raw, L, H);
    }
    m->layers.resize(L);
    for (int l = 0; l < L; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        LayerWeights& lw = m->layers[l];
        lw.attn_norm = vec(ts, p + "attn_norm.weight", H);
        lw.i_proj = bitlinear(ts, p + "attn.i_proj", D, H);
        lw.f_proj = bitlinear(ts, p + "attn.f_proj", D, H);
        lw.g_proj = bitlinear(ts, p + "attn.g_proj", D, H);
        lw.g_norm = vec(ts, p + "attn.g_norm.weight", D);
        lw.o_proj = bitlinear(ts, p + "attn.o_proj", H, D);
        lw.mlp_norm = vec(ts, p + "mlp_norm.weight", H);
        lw.gate_proj = bitlinear(ts, p + "mlp.gate_proj", 2 * I, H);
        lw.down_proj = bitlinear(ts, p + "mlp.down_proj", H, I);
    }
    m->final_norm = vec(ts, "model.norm.weight", H);
    m->lm_head = bitlinear(ts, "lm_head", V, H);
    read_tokenizer_files(*m, folder);
    // Everything the logits depend on: config.json and every byte of the weight files.
    WeightFingerprint fp;
    fp.add(config_text);
    ts.add_to(fp);
    m->fingerprint = fp.hex();
    return m;
}

} // namespace mmfree
