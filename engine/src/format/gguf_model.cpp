// SPDX-License-Identifier: Apache-2.0
// Model ↔ GGUF. The layout is documented in gguf_model.h.
#include "format/gguf_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sentencepiece_processor.h>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

#include "format/gguf.h"
#include "format/fingerprint.h"
#include "format/half.h"
#include "format/loaders.h"
#include "mmfree/error.h"

namespace mmfree {
namespace fs = std::filesystem;

namespace {

constexpr const char* kArch = "hgrn_bit";
constexpr uint32_t kAlignment = 64;   // cache-line aligned tensors: SIMD code may read them in place one day

// Every BitLinear of the model with its checkpoint name, in file order.
template <class M, class F> void for_each_bitlinear(M& m, F&& f) {
    for (size_t l = 0; l < m.layers.size(); ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        auto& lw = m.layers[l];
        f(p + "attn.i_proj", lw.i_proj);
        f(p + "attn.f_proj", lw.f_proj);
        f(p + "attn.g_proj", lw.g_proj);
        f(p + "attn.o_proj", lw.o_proj);
        f(p + "mlp.gate_proj", lw.gate_proj);
        f(p + "mlp.down_proj", lw.down_proj);
    }
    f(std::string("lm_head"), m.lm_head);
}

// Every plain float vector of a layer with its checkpoint name.
template <class LW, class F> void for_each_layer_norm(LW& lw, const std::string& p, F&& f) {
    f(p + "attn_norm.weight", lw.attn_norm);
    f(p + "attn.g_norm.weight", lw.g_norm);
    f(p + "mlp_norm.weight", lw.mlp_norm);
}

bool all_exact_bf16(const std::vector<float>& v) {
    for (float x : v) {
        uint32_t b;
        std::memcpy(&b, &x, 4);
        if (b & 0xffff) return false;
    }
    return true;
}

bool all_exact_f16(const std::vector<float>& v) {
    for (float x : v) {
        const float back = f16_to_f32(f32_to_f16(x));
        if (std::memcmp(&back, &x, 4) != 0) return false;
    }
    return true;
}

} // namespace

// The tokenizer as GGUF tools expect it (llama-style vocabulary arrays) plus the exact proto.
void add_sentencepiece_tokenizer(GgufWriter& w, const std::string& proto, const fs::path& from) {
    sentencepiece::SentencePieceProcessor sp;
    const auto st = sp.LoadFromSerializedProto(proto);
    if (!st.ok()) throw Error(ErrorCode::CorruptFile, printable_path(from) + " is not a SentencePiece tokenizer model");
    const int n = sp.GetPieceSize();
    std::vector<std::string> tokens(n);
    std::vector<float> scores(n);
    std::vector<int32_t> types(n);
    for (int i = 0; i < n; ++i) {
        tokens[i] = sp.IdToPiece(i);
        scores[i] = sp.GetScore(i);
        // llama.cpp token types: 1 normal, 2 unknown, 3 control, 5 unused, 6 byte.
        types[i] = sp.IsUnknown(i) ? 2 : sp.IsControl(i) ? 3 : sp.IsUnused(i) ? 5 : sp.IsByte(i) ? 6 : 1;
    }
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", tokens);
    w.add_f32_array("tokenizer.ggml.scores", scores.data(), scores.size());
    w.add_i32_array("tokenizer.ggml.token_type", types.data(), types.size());
    if (sp.unk_id() >= 0) w.add_u32("tokenizer.ggml.unknown_token_id", uint32_t(sp.unk_id()));
    w.add_u8_array("tokenizer.sentencepiece.model", proto.data(), proto.size());
}

namespace {

// --- reading ----------------------------------------------------------------------------

// Reserves room for n elements and maps all of it in one call (MADV_POPULATE_WRITE) before the
// copy: a 2.7B model copies ~1 GB out of the mapping, and taking one page fault per 4 KB costs
// more than the copy itself. (Transparent huge pages were slower here: zeroing 2 MB pages on
// fault cost 3× the system time on this VM.)
template <class T, class A> void reserve_populated(std::vector<T, A>& v, size_t n) {
    v.clear();
    v.reserve(n);
    const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(v.data()) + page - 1) & ~(page - 1);
    const uintptr_t end = (reinterpret_cast<uintptr_t>(v.data()) + n * sizeof(T)) & ~(page - 1);
    if (end > begin + (uintptr_t(1) << 20)) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

// Index of the first non-finite value, or n. Branch-free main loop so it vectorizes.
size_t first_non_finite(const float* v, size_t n) {
    constexpr size_t kBlock = 4096;
    for (size_t b = 0; b < n; b += kBlock) {
        const size_t e = std::min(n, b + kBlock);
        uint32_t any = 0;
        for (size_t i = b; i < e; ++i) {
            uint32_t bits;
            std::memcpy(&bits, &v[i], 4);
            any |= uint32_t((bits & 0x7f800000u) == 0x7f800000u);
        }
        if (any)
            for (size_t i = b; i < e; ++i)
                if (!std::isfinite(v[i])) return i;
    }
    return n;
}

// Converts n stored values (F32 / BF16 / F16) to fp32.
void to_f32(GgmlType type, const uint8_t* src, float* dst, size_t n) {
    if (type == GgmlType::F32) { std::memcpy(dst, src, n * 4); return; }
    if (type == GgmlType::BF16) {
        for (size_t i = 0; i < n; ++i) {
            uint16_t h;
            std::memcpy(&h, src + 2 * i, 2);
            const uint32_t bits = uint32_t(h) << 16;
            std::memcpy(&dst[i], &bits, 4);
        }
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = f16_to_f32(h);
    }
}

class Reader {
public:
    explicit Reader(const GgufFile& f) : f_(f), name_(printable_path(f.path())) {}

    [[noreturn]] void corrupt(const std::string& what) const { throw Error(ErrorCode::CorruptFile, name_ + ": " + what); }

    const GgufValue& need(const std::string& key, GgufType type) const {
        const GgufValue* v = f_.find(key);
        if (!v) corrupt("metadata " + key + " is missing; was the file written by `mmfree convert`?");
        if (v->type != type) corrupt("metadata " + key + " has the wrong type");
        return *v;
    }
    int u32(const std::string& key, int lo, int hi) const {
        const uint64_t x = need(key, GgufType::U32).u;
        if (x < uint64_t(lo) || x > uint64_t(hi))
            corrupt("metadata " + key + " = " + std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return int(x);
    }
    int u32_or(const std::string& key, int fallback, int lo, int hi) const { return f_.find(key) ? u32(key, lo, hi) : fallback; }
    bool boolean_or(const std::string& key, bool fallback) const { return f_.find(key) ? need(key, GgufType::BOOL).u != 0 : fallback; }

    const GgufTensorInfo& tensor(const std::string& name, std::vector<uint64_t> ne) const {
        const GgufTensorInfo* t = f_.find_tensor(name);
        if (!t) corrupt("tensor " + name + " is missing");
        if (t->ne != ne) {
            auto shape = [](const std::vector<uint64_t>& v) {
                std::string s = "[";
                for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
                return s + "]";
            };
            corrupt("tensor " + name + " has shape " + shape(t->ne) + " but the metadata implies " + shape(ne) + " (ne, innermost first)");
        }
        return *t;
    }

    // A float tensor of F32, BF16 or F16 type with this shape.
    const GgufTensorInfo& float_tensor(const std::string& name, std::vector<uint64_t> ne) const {
        const GgufTensorInfo& t = tensor(name, std::move(ne));
        if (t.type != GgmlType::F32 && t.type != GgmlType::BF16 && t.type != GgmlType::F16)
            corrupt("tensor " + name + " has type " + ggml_type_name(t.type) + "; expected F32, BF16 or F16");
        return t;
    }

    // Elements [begin, end) of a float tensor → out (fp32), refusing non-finite values like the folder loader.
    void convert(const GgufTensorInfo& t, size_t begin, size_t end, float* out) const {
        to_f32(t.type, t.data + begin * ggml_type_size(t.type), out, end - begin);
        if (size_t bad = first_non_finite(out, end - begin); bad < end - begin)
            corrupt("tensor " + t.name + " has a non-finite value at element " + std::to_string(begin + bad) + "; the file is damaged");
    }

    void floats(const std::string& name, std::vector<uint64_t> ne, std::vector<float>& out) const {
        const GgufTensorInfo& t = float_tensor(name, std::move(ne));
        const size_t n = size_t(t.elements());
        out.resize(n);
        convert(t, 0, n, out.data());
    }

    void ternary(const std::string& prefix, int rows, int cols, TernaryMatrix& m) const {
        m.rows = rows;
        m.cols = cols;
        m.row_stride = TernaryMatrix::stride_for(cols);
        const std::string wname = prefix + ".weight";
        const GgufTensorInfo& t = tensor(wname, {uint64_t(m.row_stride), uint64_t(rows)});
        if (t.type != GgmlType::I8) corrupt("tensor " + wname + " has type " + ggml_type_name(t.type) + "; ternary codes are stored as I8");
        reserve_populated(m.codes, t.nbytes);
        m.codes.assign(t.data, t.data + t.nbytes);
        check_codes(wname, m);
        std::vector<float> s;
        floats(prefix + ".weight_scale", {1}, s);
        if (!(s[0] > 0)) corrupt("tensor " + prefix + ".weight_scale is " + std::to_string(s[0]) + "; a scale must be positive");
        m.scale = s[0];
        floats(prefix + ".norm.weight", {uint64_t(cols)}, m.norm);
    }

    // The llama-style vocabulary arrays, when present, must describe this vocabulary: GGUF tools
    // and the sampler trust them.
    void check_vocabulary(int vocab_size) const {
        const GgufValue* tokens = f_.find("tokenizer.ggml.tokens");
        uint64_t n = uint64_t(vocab_size);
        if (tokens) {
            if (tokens->type != GgufType::ARRAY || tokens->elem_type != GgufType::STRING)
                corrupt("tokenizer.ggml.tokens must be an array of strings");
            if (tokens->count != uint64_t(vocab_size))
                corrupt("tokenizer.ggml.tokens lists " + std::to_string(tokens->count) + " tokens but the vocabulary has " +
                        std::to_string(vocab_size));
            n = tokens->count;
        }
        if (const GgufValue* scores = f_.find("tokenizer.ggml.scores")) {
            if (scores->type != GgufType::ARRAY || scores->elem_type != GgufType::F32 || scores->count != n)
                corrupt("tokenizer.ggml.scores must be " + std::to_string(n) + " float32 values, one per token");
            for (uint64_t i = 0; i < scores->count; ++i) {
                float v;
                std::memcpy(&v, scores->array_data + 4 * i, 4);
                if (!std::isfinite(v)) corrupt("tokenizer.ggml.scores has a non-finite score for token " + std::to_string(i) + "; the file is damaged");
            }
        }
        if (const GgufValue* types = f_.find("tokenizer.ggml.token_type")) {
            if (types->type != GgufType::ARRAY || types->elem_type != GgufType::I32 || types->count != n)
                corrupt("tokenizer.ggml.token_type must be " + std::to_string(n) + " int32 values, one per token");
        }
        if (f_.find("tokenizer.ggml.unknown_token_id")) u32("tokenizer.ggml.unknown_token_id", 0, vocab_size - 1);
    }

private:
    // Codes are 0..2 (3 is not a weight), and the row padding is code 1 (weight 0): the kernels
    // run over whole padded rows, so anything else would silently change the results.
    void check_codes(const std::string& name, const TernaryMatrix& m) const {
        const uint8_t* p = m.codes.data();
        const size_t n = m.codes.size();
        uint64_t bad = 0;
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            bad |= w & (w >> 1) & 0x5555555555555555ull;   // a 2-bit field with both bits set
        }
        for (; i < n; ++i) bad |= p[i] & (p[i] >> 1) & 0x55;
        if (bad) corrupt("tensor " + name + " contains the invalid ternary code 3; the file is damaged");
        const int full = m.cols / 4, part = m.cols % 4;
        for (int r = 0; r < m.rows; ++r) {
            const uint8_t* row = p + size_t(r) * m.row_stride;
            bool ok = true;
            if (part) {
                const uint8_t mask = uint8_t(0xff << (2 * part));
                ok = (row[full] & mask) == (0x55 & mask);
            }
            for (int b = full + (part ? 1 : 0); ok && b < m.row_stride; ++b) ok = row[b] == 0x55;
            if (!ok) corrupt("tensor " + name + " row " + std::to_string(r) + " has non-zero weights in its padding; the file is damaged");
        }
    }

    const GgufFile& f_;
    std::string name_;
};

} // namespace

bool is_gguf_file(const fs::path& file) {
    try {
        const int fd = open_regular_file(file);   // never blocks on a FIFO
        char magic[4] = {};
        const bool yes = ::read(fd, magic, 4) == 4 && std::memcmp(magic, "GGUF", 4) == 0;
        ::close(fd);
        return yes;
    } catch (const Error&) {
        return false;
    }
}

void write_gguf_model(const Model& m, const fs::path& out, const GgufWriteOptions& o) {
    const ModelConfig& c = m.config;
    GgufWriter w(kAlignment);
    w.add_string("general.architecture", kArch);
    std::string name = o.name;
    if (name.empty()) {   // the folder's name, or the file's stem
        std::error_code ec;
        const fs::path src = m.source.has_filename() ? m.source : m.source.parent_path();
        name = fs::is_regular_file(src, ec) ? src.stem().string() : src.filename().string();
    }
    w.add_string("general.name", name);
    w.add_u32("hgrn_bit.block_count", uint32_t(c.num_layers));
    w.add_u32("hgrn_bit.embedding_length", uint32_t(c.hidden_size));
    w.add_u32("hgrn_bit.feed_forward_length", uint32_t(c.intermediate_size));
    w.add_u32("hgrn_bit.vocab_size", uint32_t(c.vocab_size));
    w.add_u32("hgrn_bit.expand_ratio", uint32_t(c.expand_ratio));
    w.add_u32("hgrn_bit.hidden_ratio", uint32_t(c.hidden_ratio));
    w.add_u32("hgrn_bit.attention.head_count", uint32_t(c.num_heads));
    w.add_f32("hgrn_bit.attention.layer_norm_rms_epsilon", c.rms_norm_eps);
    w.add_bool("hgrn_bit.use_lower_bound", c.use_lower_bound);
    w.add_string("hgrn_bit.source_dtype", c.torch_dtype);
    w.add_string("hgrn_bit.ternary_layout", kTernaryLayout);
    if (c.bos_token_id >= 0) w.add_u32("tokenizer.ggml.bos_token_id", uint32_t(c.bos_token_id));
    if (c.eos_token_id >= 0) w.add_u32("tokenizer.ggml.eos_token_id", uint32_t(c.eos_token_id));
    w.add_bool("tokenizer.ggml.add_bos_token", m.add_bos);
    w.add_bool("tokenizer.ggml.add_eos_token", m.add_eos);
    if (!m.tokenizer_model.empty()) add_sentencepiece_tokenizer(w, m.tokenizer_model, m.source);
    else if (!m.tokenizer_path.empty()) add_sentencepiece_tokenizer(w, read_tokenizer_file(m.tokenizer_path), m.tokenizer_path);

    const uint64_t V = uint64_t(c.vocab_size), H = uint64_t(c.hidden_size), L = uint64_t(c.num_layers);
    // Embeddings: the requested type, or under `auto` the smallest exact one.
    std::string et = o.embeddings;
    if (et == "auto") et = all_exact_bf16(m.embeddings) ? "bf16" : all_exact_f16(m.embeddings) ? "f16" : "f32";
    std::vector<uint16_t> half;
    if (et == "f32") {
        w.add_tensor("model.embeddings.weight", GgmlType::F32, {H, V}, m.embeddings.data());
    } else if (et == "bf16" || et == "f16") {
        half.resize(m.embeddings.size());
        for (size_t i = 0; i < half.size(); ++i) {
            if (et == "f16") { half[i] = f32_to_f16(m.embeddings[i]); continue; }
            uint32_t b;   // round to nearest even
            std::memcpy(&b, &m.embeddings[i], 4);
            half[i] = uint16_t((b + 0x7fff + ((b >> 16) & 1)) >> 16);
        }
        w.add_tensor("model.embeddings.weight", et == "f16" ? GgmlType::F16 : GgmlType::BF16, {H, V}, half.data());
    } else {
        throw Error(ErrorCode::InvalidArgument, "--embeddings must be auto, f32, bf16 or f16, not \"" + et + "\"");
    }
    if (c.use_lower_bound) w.add_tensor("model.lower_bounds_lb", GgmlType::F32, {H, L}, m.lower_bound.data());
    std::vector<float> scales;   // stable storage for the 1-element scale tensors
    scales.reserve(m.layers.size() * 6 + 1);
    for (size_t l = 0; l < m.layers.size(); ++l)
        for_each_layer_norm(m.layers[l], "model.layers." + std::to_string(l) + ".", [&](const std::string& n, const std::vector<float>& v) {
            w.add_tensor(n, GgmlType::F32, {v.size()}, v.data());
        });
    w.add_tensor("model.norm.weight", GgmlType::F32, {m.final_norm.size()}, m.final_norm.data());
    for_each_bitlinear(m, [&](const std::string& p, const TernaryMatrix& t) {
        w.add_tensor(p + ".weight", GgmlType::I8, {uint64_t(t.row_stride), uint64_t(t.rows)}, t.codes.data());
        scales.push_back(t.scale);
        w.add_tensor(p + ".weight_scale", GgmlType::F32, {1}, &scales.back());
        w.add_tensor(p + ".norm.weight", GgmlType::F32, {t.norm.size()}, t.norm.data());
    });
    w.write(out);
}

ModelConfig read_gguf_config(const GgufFile& f) {
    Reader r(f);
    const std::string file = printable_path(f.path());
    const GgufValue* arch = f.find("general.architecture");
    if (!arch || arch->type != GgufType::STRING)
        r.corrupt("general.architecture is missing; every GGUF model names its architecture");
    if (arch->str != kArch)
        throw Error(ErrorCode::UnsupportedModel, file + " is a \"" + printable(arch->str, 40) +
                                                     "\" model; MMfree Studio runs MatMul-free models (architecture \"hgrn_bit\")");
    const std::string& layout = r.need("hgrn_bit.ternary_layout", GgufType::STRING).str;
    if (layout != kTernaryLayout)
        throw Error(ErrorCode::UnsupportedModel, file + " packs its ternary weights as \"" + printable(layout, 40) + "\"; this version reads \"" +
                                                     kTernaryLayout + "\" (convert the model again with this version)");
    ModelConfig c;
    c.num_layers = r.u32("hgrn_bit.block_count", 1, 1024);
    c.hidden_size = r.u32("hgrn_bit.embedding_length", 1, 1 << 16);
    c.intermediate_size = r.u32("hgrn_bit.feed_forward_length", 1, 1 << 18);
    c.vocab_size = r.u32("hgrn_bit.vocab_size", 1, 1 << 20);
    c.expand_ratio = r.u32_or("hgrn_bit.expand_ratio", 1, 1, 16);
    c.hidden_ratio = r.u32_or("hgrn_bit.hidden_ratio", 4, 1, 64);
    c.num_heads = r.u32_or("hgrn_bit.attention.head_count", 1, 1, 1 << 16);
    const double eps = r.need("hgrn_bit.attention.layer_norm_rms_epsilon", GgufType::F32).f;
    if (!(eps > 0 && eps < 1)) r.corrupt("hgrn_bit.attention.layer_norm_rms_epsilon = " + std::to_string(eps) + " must be in (0, 1)");
    c.rms_norm_eps = float(eps);
    c.use_lower_bound = r.boolean_or("hgrn_bit.use_lower_bound", true);
    if (const GgufValue* d = f.find("hgrn_bit.source_dtype"); d && d->type == GgufType::STRING) c.torch_dtype = printable(d->str, 20);
    c.bos_token_id = r.u32_or("tokenizer.ggml.bos_token_id", -1, 0, c.vocab_size - 1);
    c.eos_token_id = r.u32_or("tokenizer.ggml.eos_token_id", -1, 0, c.vocab_size - 1);
    r.check_vocabulary(c.vocab_size);
    return c;
}

std::shared_ptr<const Model> load_gguf_model(const fs::path& file) {
    GgufFile f(file);
    // Start reading the rest of the file from disk while the header is being checked.
    if (f.file_size()) ::madvise(const_cast<uint8_t*>(f.file_data()), f.file_size(), MADV_WILLNEED);
    auto m = std::make_shared<Model>();
    m->source = file;
    const ModelConfig& c = m->config = read_gguf_config(f);
    Reader r(f);
    m->add_bos = r.boolean_or("tokenizer.ggml.add_bos_token", true);
    m->add_eos = r.boolean_or("tokenizer.ggml.add_eos_token", false);
    if (const GgufValue* t = f.find("tokenizer.sentencepiece.model")) {
        if (t->type != GgufType::ARRAY || (t->elem_type != GgufType::U8 && t->elem_type != GgufType::I8))
            r.corrupt("tokenizer.sentencepiece.model must be an array of bytes");
        m->tokenizer_model.assign(reinterpret_cast<const char*>(t->array_data), size_t(t->count));
    }

    const uint64_t V = uint64_t(c.vocab_size), H = uint64_t(c.hidden_size), L = uint64_t(c.num_layers);
    const int D = c.state_dim(), I = c.intermediate_size;
    // The embeddings are converted by all threads below, a slice each.
    const GgufTensorInfo& emb = r.float_tensor("model.embeddings.weight", {H, V});
    reserve_populated(m->embeddings, size_t(V * H));
    m->embeddings.resize(size_t(V * H));
    if (c.use_lower_bound) r.floats("model.lower_bounds_lb", {H, L}, m->lower_bound);
    m->layers.resize(size_t(L));
    r.floats("model.norm.weight", {H}, m->final_norm);

    // Layers are independent: copy them on a few threads (the copy is bound by page faults and
    // memory bandwidth, which one core does not saturate).
    const int n_threads = int(std::max(1u, std::min(4u, std::thread::hardware_concurrency())));
    std::vector<std::exception_ptr> errors(static_cast<size_t>(n_threads));
    auto work = [&](int tid) {
        try {
            const size_t n = m->embeddings.size(), b = n * size_t(tid) / size_t(n_threads), e = n * size_t(tid + 1) / size_t(n_threads);
            r.convert(emb, b, e, m->embeddings.data() + b);
            for (size_t l = size_t(tid); l <= m->layers.size(); l += size_t(n_threads)) {
                if (l == m->layers.size()) { r.ternary("lm_head", c.vocab_size, c.hidden_size, m->lm_head); continue; }
                const std::string p = "model.layers." + std::to_string(l) + ".";
                LayerWeights& lw = m->layers[l];
                r.floats(p + "attn_norm.weight", {H}, lw.attn_norm);
                r.ternary(p + "attn.i_proj", D, c.hidden_size, lw.i_proj);
                r.ternary(p + "attn.f_proj", D, c.hidden_size, lw.f_proj);
                r.ternary(p + "attn.g_proj", D, c.hidden_size, lw.g_proj);
                r.floats(p + "attn.g_norm.weight", {uint64_t(D)}, lw.g_norm);
                r.ternary(p + "attn.o_proj", c.hidden_size, D, lw.o_proj);
                r.floats(p + "mlp_norm.weight", {H}, lw.mlp_norm);
                r.ternary(p + "mlp.gate_proj", 2 * I, c.hidden_size, lw.gate_proj);
                r.ternary(p + "mlp.down_proj", c.hidden_size, I, lw.down_proj);
            }
        } catch (...) {
            errors[size_t(tid)] = std::current_exception();
        }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < n_threads; ++t) threads.emplace_back(work, t);
    work(0);
    for (auto& t : threads) t.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    // The whole file: weights, metadata and the embedded tokenizer.
    WeightFingerprint fp;
    fp.add(f.file_data(), f.file_size());
    m->fingerprint = fp.hex();
    return m;
}

} // namespace mmfree
