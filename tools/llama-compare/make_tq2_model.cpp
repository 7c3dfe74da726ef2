// SPDX-License-Identifier: Apache-2.0
// mmfree-tq2-model: writes a llama-architecture GGUF whose every linear layer (attention q/k/v/o,
// ffn gate/up/down and the output head) is llama.cpp's TQ2_0 with random ternary weights, for
// benchmarking llama.cpp against MMfree Studio on the same weight bytes per token (README.md).
// The default shape is our 370M's: hidden 1024, 24 layers, ffn 2816, vocabulary 32000, so both
// models hold the same ternary matrices (4·H² + 3·H·I per layer, plus a V×H head).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "format/gguf_model.h"
#include "format/half.h"
#include "mmfree/error.h"
#include "mmfree/tokenizer.h"

namespace {

using mmfree::Error;
using mmfree::ErrorCode;

// ggml facts (ggml.h, ggml-common.h): GGML_TYPE_TQ2_0 = 35; a block holds 256 weights as 64 bytes
// of 2-bit codes (code = weight + 1) followed by one fp16 scale. Inside each run of 128 weights,
// byte m carries weights m, m+32, m+64, m+96 in bits 0-1, 2-3, 4-5, 6-7.
constexpr uint32_t kTypeTq2_0 = 35;
constexpr uint32_t kTypeF32 = 0;
constexpr uint32_t kTypeF16 = 1;
constexpr size_t kBlockWeights = 256;
constexpr size_t kBlockBytes = 64 + 2;

struct Shape {
    uint32_t layers = 24, hidden = 1024, ffn = 2816, heads = 16, kv_heads = 16, context = 4096;
};

// splitmix64: fast and good enough for weights nobody reads for their values.
struct Random {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

// rows × cols ternary weights, uniform over {-1, 0, +1}, in TQ2_0 blocks. The scale keeps a unit
// activation at unit size (variance of a code is 2/3), so the values stay finite through the
// layers (denormals or infinities could change the speed).
std::vector<uint8_t> random_tq2_0(uint64_t rows, uint64_t cols, Random& rng) {
    if (cols % kBlockWeights) throw Error(ErrorCode::InvalidArgument, "TQ2_0 needs rows of a multiple of 256 weights, got " + std::to_string(cols));
    const uint64_t blocks = rows * cols / kBlockWeights;
    std::vector<uint8_t> out(blocks * kBlockBytes);
    const uint16_t scale = mmfree::f32_to_f16(std::sqrt(1.5f / float(cols)));
    for (uint64_t b = 0; b < blocks; ++b) {
        uint8_t* block = out.data() + b * kBlockBytes;
        for (int i = 0; i < 64; i += 8) {
            uint64_t bits = rng.next();
            for (int k = 0; k < 8; ++k) {
                uint8_t byte = 0;
                for (int n = 0; n < 4; ++n) {
                    byte |= uint8_t((bits & 0xff) % 3) << (2 * n);   // 256 % 3 = 1: a bias of 1/256, harmless here
                    bits >>= 2;
                }
                block[i + k] = byte;
            }
        }
        std::memcpy(block + 64, &scale, 2);
    }
    return out;
}

std::vector<uint16_t> random_f16(uint64_t n, Random& rng) {
    std::vector<uint16_t> out(n);
    for (auto& v : out) v = mmfree::f32_to_f16(float(int64_t(rng.next() % 2001) - 1000) / 1000.0f);
    return out;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::FileNotFound, "cannot read " + path);
    return {std::istreambuf_iterator<char>(in), {}};
}

uint32_t parse_u32(const std::string& option, const char* text) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(text, &end, 10);
    if (!*text || *end || v == 0 || v > 1u << 20) throw Error(ErrorCode::InvalidArgument, option + " needs a positive whole number, got \"" + text + "\"");
    return uint32_t(v);
}

constexpr const char* kUsage = "usage: mmfree-tq2-model --tokenizer tokenizer.model --out model.gguf "
                                "[--layers 24 --hidden 1024 --ffn 2816 --heads 16 --seed 1]";

int run(int argc, char** argv) {
    Shape s;
    std::string tokenizer_path, out_path;
    uint64_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::puts(kUsage);
            return 0;
        }
        if (i + 1 >= argc) throw Error(ErrorCode::InvalidArgument, a + " needs a value (see --help)");
        const char* v = argv[++i];
        if (a == "--tokenizer") tokenizer_path = v;
        else if (a == "--out") out_path = v;
        else if (a == "--layers") s.layers = parse_u32(a, v);
        else if (a == "--hidden") s.hidden = parse_u32(a, v);
        else if (a == "--ffn") s.ffn = parse_u32(a, v);
        else if (a == "--heads") s.heads = s.kv_heads = parse_u32(a, v);
        else if (a == "--seed") seed = parse_u32(a, v);
        else throw Error(ErrorCode::InvalidArgument, "unknown option " + a + " (see --help)");
    }
    if (tokenizer_path.empty() || out_path.empty())
        throw Error(ErrorCode::InvalidArgument, std::string("--tokenizer and --out are needed; ") + kUsage);
    if (s.hidden % s.heads) throw Error(ErrorCode::InvalidArgument, "--hidden must be a multiple of --heads");

    const std::string proto = read_file(tokenizer_path);
    const auto tokenizer = mmfree::Tokenizer::load_from_bytes(proto, tokenizer_path);
    const uint64_t V = uint64_t(tokenizer->vocab_size()), H = s.hidden, I = s.ffn;
    const uint64_t kv = H / s.heads * s.kv_heads;

    mmfree::GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_string("general.name", "mmfree-compare random ternary TQ2_0");
    w.add_u32("general.file_type", 37);   // LLAMA_FTYPE_MOSTLY_TQ2_0
    w.add_u32("llama.vocab_size", uint32_t(V));
    w.add_u32("llama.context_length", s.context);
    w.add_u32("llama.embedding_length", s.hidden);
    w.add_u32("llama.block_count", s.layers);
    w.add_u32("llama.feed_forward_length", s.ffn);
    w.add_u32("llama.attention.head_count", s.heads);
    w.add_u32("llama.attention.head_count_kv", s.kv_heads);
    w.add_u32("llama.rope.dimension_count", s.hidden / s.heads);
    w.add_f32("llama.rope.freq_base", 10000.0f);
    w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
    mmfree::add_sentencepiece_tokenizer(w, proto, tokenizer_path);
    if (tokenizer->bos_id() >= 0) w.add_u32("tokenizer.ggml.bos_token_id", uint32_t(tokenizer->bos_id()));
    if (tokenizer->eos_id() >= 0) w.add_u32("tokenizer.ggml.eos_token_id", uint32_t(tokenizer->eos_id()));

    // The writer keeps pointers until write(): hold every buffer here.
    Random rng{seed};
    std::vector<std::vector<uint8_t>> matrices;
    std::vector<std::vector<float>> norms;
    uint64_t bytes_per_token = 0;
    auto linear = [&](const std::string& name, uint64_t out_features, uint64_t in_features) {
        matrices.push_back(random_tq2_0(out_features, in_features, rng));
        w.add_block_tensor(name, kTypeTq2_0, {in_features, out_features}, matrices.back().data(), matrices.back().size());
        bytes_per_token += matrices.back().size();
    };
    auto norm = [&](const std::string& name) {
        norms.emplace_back(H, 1.0f);
        w.add_block_tensor(name, kTypeF32, {H}, norms.back().data(), H * 4);
        bytes_per_token += H * 4;
    };
    // Only one row of the embedding table is read per token: fp16 keeps the file small.
    const std::vector<uint16_t> embeddings = random_f16(V * H, rng);
    w.add_block_tensor("token_embd.weight", kTypeF16, {H, V}, embeddings.data(), embeddings.size() * 2);
    bytes_per_token += H * 2;
    for (uint32_t l = 0; l < s.layers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        norm(p + "attn_norm.weight");
        linear(p + "attn_q.weight", H, H);
        linear(p + "attn_k.weight", kv, H);
        linear(p + "attn_v.weight", kv, H);
        linear(p + "attn_output.weight", H, H);
        norm(p + "ffn_norm.weight");
        linear(p + "ffn_gate.weight", I, H);
        linear(p + "ffn_up.weight", I, H);
        linear(p + "ffn_down.weight", H, I);
    }
    norm("output_norm.weight");
    linear("output.weight", V, H);
    w.write(out_path);
    std::printf("{\"model\": \"%s\", \"layers\": %u, \"hidden\": %u, \"ffn\": %u, \"heads\": %u, \"vocab\": %llu, "
                "\"weight_bytes_per_token\": %llu}\n",
                out_path.c_str(), s.layers, s.hidden, s.ffn, s.heads, (unsigned long long)V, (unsigned long long)bytes_per_token);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmfree-tq2-model: %s\n", e.what());
        return 2;
    }
}
