// SPDX-License-Identifier: Apache-2.0
#include "mmfree/model.h"

#include <algorithm>
#include <random>

#include "format/gguf_model.h"
#include "format/loaders.h"
#include "format/mapped_file.h"
#include "mmfree/error.h"

namespace mmfree {
namespace fs = std::filesystem;

template <class F> static void for_each_bitlinear(const Model& m, F&& f) {
    for (auto& l : m.layers)
        for (auto* t : {&l.i_proj, &l.f_proj, &l.g_proj, &l.o_proj, &l.gate_proj, &l.down_proj}) f(*t);
    f(m.lm_head);
}

size_t Model::packed_weight_bytes() const {
    size_t n = 0;
    for_each_bitlinear(*this, [&](const TernaryMatrix& t) { n += t.packed_bytes(); });
    return n;
}

size_t Model::parameter_count() const {
    size_t n = embeddings.size() + lower_bound.size() + final_norm.size();
    for (auto& l : layers) n += l.attn_norm.size() + l.g_norm.size() + l.mlp_norm.size();
    for_each_bitlinear(*this, [&](const TernaryMatrix& t) { n += size_t(t.rows) * t.cols + t.norm.size(); });
    return n;
}

size_t Model::weight_bytes_per_token() const {
    size_t n = size_t(config.hidden_size) * sizeof(float); // one embedding row
    for_each_bitlinear(*this, [&](const TernaryMatrix& t) { n += t.packed_bytes() + t.norm.size() * sizeof(float) + sizeof(float); });
    for (auto& l : layers) n += (l.attn_norm.size() + l.g_norm.size() + l.mlp_norm.size()) * sizeof(float);
    return n + (final_norm.size() + lower_bound.size()) * sizeof(float);
}

namespace {

std::shared_ptr<const Model> load_any(const fs::path& path) {
    if (!path_exists(path)) throw Error(ErrorCode::FileNotFound, "model path " + printable_path(path) + " does not exist");
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        // A folder without config.json may hold one packed model (e.g. an installed models folder).
        if (!path_exists(path / "config.json")) {
            const auto packed = packed_models_in(path);
            if (packed.size() == 1) return load_gguf_model(packed[0]);
            if (packed.size() > 1) {
                std::string names;
                for (auto& p : packed) names += (names.empty() ? "" : ", ") + printable(p.filename().string(), 60);
                throw Error(ErrorCode::InvalidArgument, printable_path(path) + " holds " + std::to_string(packed.size()) + " packed models (" +
                                                            printable(names, 200) + "); give the one you want");
            }
        }
        return load_hf_folder(path);
    }
    if (path.extension() == ".gguf" || is_gguf_file(path)) return load_gguf_model(path);
    throw Error(ErrorCode::UnsupportedModel, printable_path(path) +
                                                 " is neither a GGUF file nor a model folder; give a .gguf file or a folder with config.json + model.safetensors");
}

} // namespace

std::vector<fs::path> packed_models_in(const fs::path& folder) {
    std::error_code ec;
    std::vector<fs::path> packed;
    for (const auto& e : fs::directory_iterator(folder, ec))
        if (e.path().extension() == ".gguf" && e.is_regular_file(ec)) packed.push_back(e.path());
    std::sort(packed.begin(), packed.end());
    return packed;
}

std::shared_ptr<const Model> load_model(const fs::path& path) {
    // Library and OS failures below are turned into sentences here, so no caller ever shows
    // "std::bad_alloc" or "filesystem error: …" to a person.
    try {
        return load_any(path);
    } catch (const Error&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw Error(ErrorCode::CorruptFile, "not enough memory to load " + printable_path(path) + "; the model is larger than this machine can hold, or damaged");
    } catch (const fs::filesystem_error& e) {
        throw Error(ErrorCode::FileNotFound, "cannot read " + printable_path(path) + ": " + e.code().message());
    }
}

std::shared_ptr<const Model> make_synthetic_model(const ModelConfig& config, uint64_t seed) {
    auto m = std::make_shared<Model>();
    m->config = config;
    m->source = "synthetic";
    // No files to hash: the shape and the seed determine every weight.
    m->fingerprint = "synthetic-" + std::to_string(config.vocab_size) + "x" + std::to_string(config.hidden_size) + "x" +
                     std::to_string(config.num_layers) + "x" + std::to_string(config.intermediate_size) + "-seed" + std::to_string(seed);
    const int V = config.vocab_size, H = config.hidden_size, D = config.state_dim(), I = config.intermediate_size;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    auto random_vec = [&](size_t n, float mean, float sd) {
        std::vector<float> v(n);
        for (auto& x : v) x = mean + sd * normal(rng);
        return v;
    };
    // Random codes straight away (no latent fp32 tensor): ~1/3 zeros like trained checkpoints.
    auto ternary = [&](int rows, int cols) {
        TernaryMatrix t;
        t.rows = rows; t.cols = cols; t.row_stride = TernaryMatrix::stride_for(cols);
        t.scale = 0.02f;
        t.norm = random_vec(size_t(cols), 1.f, 0.1f);
        t.codes.assign(size_t(rows) * t.row_stride, 0x55);
        uint64_t s = rng();
        for (int r = 0; r < rows; ++r)
            for (int k = 0; k < cols; k += 4) {
                uint8_t b = 0;
                for (int j = 0; j < 4; ++j) {
                    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                    b |= uint8_t((k + j < cols ? (s >> 40) % 3 : 1) << (2 * j));
                }
                t.codes[size_t(r) * t.row_stride + k / 4] = b;
            }
        return t;
    };
    m->embeddings = random_vec(size_t(V) * H, 0.f, 1.f);
    if (config.use_lower_bound) {
        m->lower_bound.resize(size_t(config.num_layers) * H);
        for (int l = 0; l < config.num_layers; ++l)
            for (int h = 0; h < H; ++h) m->lower_bound[size_t(l) * H + h] = float(l) / float(config.num_layers);
    }
    m->layers.resize(config.num_layers);
    for (auto& l : m->layers) {
        l.attn_norm = random_vec(H, 1.f, 0.1f);
        l.i_proj = ternary(D, H); l.f_proj = ternary(D, H); l.g_proj = ternary(D, H);
        l.g_norm = random_vec(D, 1.f, 0.1f);
        l.o_proj = ternary(H, D);
        l.mlp_norm = random_vec(H, 1.f, 0.1f);
        l.gate_proj = ternary(2 * I, H);
        l.down_proj = ternary(H, I);
    }
    m->final_norm = random_vec(H, 1.f, 0.1f);
    m->lm_head = ternary(V, H);
    return m;
}

} // namespace mmfree
