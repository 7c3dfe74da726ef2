// SPDX-License-Identifier: Apache-2.0
#include "format/gguf.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mmfree/error.h"

static_assert(std::endian::native == std::endian::little, "GGUF files are little-endian; this reader assumes a little-endian host");

namespace mmfree {
namespace {

constexpr int kMaxDims = 4;          // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 4;    // nested arrays are legal GGUF but none are expected

const char* value_type_name(GgufType t) {
    switch (t) {
    case GgufType::U8: return "uint8"; case GgufType::I8: return "int8"; case GgufType::U16: return "uint16";
    case GgufType::I16: return "int16"; case GgufType::U32: return "uint32"; case GgufType::I32: return "int32";
    case GgufType::F32: return "float32"; case GgufType::BOOL: return "bool"; case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array"; case GgufType::U64: return "uint64"; case GgufType::I64: return "int64";
    case GgufType::F64: return "float64";
    }
    return "?";
}

size_t value_size(GgufType t) {
    switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;   // string, array: variable
    }
}

// Bounds-checked reading of the header: every read names what it was reading, so a truncated or
// garbled file produces "…/model.gguf: the header ends inside the name of tensor 12".
class Cursor {
public:
    Cursor(const uint8_t* data, size_t size, const std::string& file) : p_(data), size_(size), file_(file) {}
    size_t pos() const { return pos_; }
    size_t left() const { return size_ - pos_; }

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorCode::CorruptFile, file_ + ": " + what + " (byte " + std::to_string(pos_) + " of the header); the file is damaged or not a model written by a GGUF tool");
    }
    const uint8_t* take(size_t n, const std::string& what) {
        if (n > left())
            throw Error(ErrorCode::CorruptFile, file_ + " is truncated: it ends inside " + what + " (needs " + std::to_string(n) +
                                                    " bytes at offset " + std::to_string(pos_) + ", the file has " + std::to_string(size_) +
                                                    " bytes); copy or convert it again");
        const uint8_t* q = p_ + pos_;
        pos_ += n;
        return q;
    }
    template <class T> T get(const std::string& what) {
        T v;
        std::memcpy(&v, take(sizeof(T), what), sizeof(T));
        return v;
    }
    std::string string(const std::string& what) {
        const uint64_t n = get<uint64_t>("the length of " + what);
        if (n > left())
            throw Error(ErrorCode::CorruptFile, file_ + ": " + what + " claims a length of " + std::to_string(n) + " bytes but only " +
                                                    std::to_string(left()) + " bytes follow; the file is truncated or damaged");
        const uint8_t* s = take(size_t(n), what);
        return std::string(reinterpret_cast<const char*>(s), size_t(n));
    }

private:
    const uint8_t* p_;
    size_t size_;
    size_t pos_ = 0;
    std::string file_;
};

GgufType checked_type(Cursor& c, uint32_t raw, const std::string& what) {
    if (raw > uint32_t(GgufType::F64)) c.fail(what + " has unknown value type " + std::to_string(raw));
    return GgufType(raw);
}

void read_value(Cursor& c, GgufValue& v, GgufType type, const std::string& what, int depth) {
    v.type = type;
    switch (type) {
    case GgufType::U8: v.u = c.get<uint8_t>(what); break;
    case GgufType::I8: v.i = c.get<int8_t>(what); break;
    case GgufType::U16: v.u = c.get<uint16_t>(what); break;
    case GgufType::I16: v.i = c.get<int16_t>(what); break;
    case GgufType::U32: v.u = c.get<uint32_t>(what); break;
    case GgufType::I32: v.i = c.get<int32_t>(what); break;
    case GgufType::U64: v.u = c.get<uint64_t>(what); break;
    case GgufType::I64: v.i = c.get<int64_t>(what); break;
    case GgufType::F32: v.f = c.get<float>(what); break;
    case GgufType::F64: v.f = c.get<double>(what); break;
    case GgufType::BOOL: {
        const uint8_t b = c.get<uint8_t>(what);
        if (b > 1) c.fail(what + " is a bool with value " + std::to_string(b));
        v.u = b;
        break;
    }
    case GgufType::STRING: v.str = c.string(what); break;
    case GgufType::ARRAY: {
        if (depth >= kMaxArrayDepth) c.fail(what + " nests arrays deeper than " + std::to_string(kMaxArrayDepth));
        v.elem_type = checked_type(c, c.get<uint32_t>("the element type of " + what), what);
        v.count = c.get<uint64_t>("the length of " + what);
        if (const size_t es = value_size(v.elem_type)) {
            if (v.count > c.left() / es)
                c.fail(what + " claims " + std::to_string(v.count) + " elements but only " + std::to_string(c.left()) +
                       " bytes follow: truncated or damaged");
            v.array_data = c.take(size_t(v.count) * es, what);
        } else {
            // Strings and nested arrays take at least 8 bytes each: bounds the loop before reading.
            if (v.count > c.left() / 8) c.fail(what + " claims " + std::to_string(v.count) + " elements, more than the file can hold");
            if (v.elem_type == GgufType::STRING) v.strings.reserve(size_t(v.count));
            for (uint64_t k = 0; k < v.count; ++k) {
                GgufValue item;
                read_value(c, item, v.elem_type, what + "[" + std::to_string(k) + "]", depth + 1);
                if (v.elem_type == GgufType::STRING) v.strings.push_back(std::move(item.str));
            }
        }
        break;
    }
    }
}

} // namespace

size_t ggml_type_size(GgmlType t) {
    switch (t) {
    case GgmlType::F32: case GgmlType::I32: return 4;
    case GgmlType::F16: case GgmlType::BF16: case GgmlType::I16: return 2;
    case GgmlType::I8: return 1;
    }
    return 0;
}

const char* ggml_type_name(GgmlType t) {
    switch (t) {
    case GgmlType::F32: return "F32"; case GgmlType::F16: return "F16"; case GgmlType::BF16: return "BF16";
    case GgmlType::I8: return "I8"; case GgmlType::I16: return "I16"; case GgmlType::I32: return "I32";
    }
    return "?";
}

uint64_t GgufTensorInfo::elements() const {
    uint64_t n = 1;
    for (auto d : ne) n *= d;
    return n;
}

GgufFile::GgufFile(const std::filesystem::path& path) : file_(path) {
    const std::string name = printable_path(path);
    Cursor c(file_.data(), file_.size(), name);
    if (file_.size() < 4 || std::memcmp(file_.data(), "GGUF", 4) != 0)
        throw Error(ErrorCode::CorruptFile, name + " is not a GGUF file (it does not start with \"GGUF\")");
    c.take(4, "the magic");
    version_ = c.get<uint32_t>("the version");
    // Version 1 used 32-bit counts; 2 and 3 share this layout (3 only added big-endian files,
    // which start with a byte-swapped version and are refused here).
    if (version_ != 2 && version_ != 3)
        throw Error(ErrorCode::CorruptFile, name + " is GGUF version " + std::to_string(version_) +
                                                (version_ > 0xffff ? " (a big-endian file?)" : "") + "; MMfree Studio reads versions 2 and 3");
    const uint64_t n_tensors = c.get<uint64_t>("the tensor count");
    const uint64_t n_kv = c.get<uint64_t>("the metadata count");
    // Each entry takes at least 8 (key/name length) + 4 bytes: refuse absurd counts before looping.
    if (n_kv > c.left() / 12 || n_tensors > c.left() / 24)
        throw Error(ErrorCode::CorruptFile, name + " is truncated or damaged: its header lists " + std::to_string(n_kv) + " metadata entries and " +
                                                std::to_string(n_tensors) + " tensors, but only " + std::to_string(c.left()) + " bytes follow");

    for (uint64_t k = 0; k < n_kv; ++k) {
        const std::string key = c.string("metadata key " + std::to_string(k));
        if (key.empty()) c.fail("metadata key " + std::to_string(k) + " is empty");
        const std::string shown = printable(key, 60);   // keys of a damaged file may be binary
        const GgufType t = checked_type(c, c.get<uint32_t>("the type of metadata " + shown), "metadata " + shown);
        GgufValue v;
        read_value(c, v, t, "metadata " + shown, 0);
        if (!kv_.emplace(key, std::move(v)).second) c.fail("metadata key " + shown + " appears twice");
    }
    if (const GgufValue* a = find("general.alignment")) {
        if (a->type != GgufType::U32) c.fail(std::string("general.alignment must be uint32, found ") + value_type_name(a->type));
        if (a->u == 0 || a->u % 8 != 0 || a->u > (1u << 20)) c.fail("general.alignment = " + std::to_string(a->u) + " is not a multiple of 8 up to 1 MiB");
        alignment_ = uint32_t(a->u);
    }

    std::vector<GgufTensorInfo*> order;
    for (uint64_t k = 0; k < n_tensors; ++k) {
        GgufTensorInfo t;
        t.name = c.string("the name of tensor " + std::to_string(k));
        if (t.name.empty()) c.fail("tensor " + std::to_string(k) + " has an empty name");
        const std::string what = "tensor " + printable(t.name, 60);
        const uint32_t n_dims = c.get<uint32_t>("the rank of " + what);
        if (n_dims < 1 || n_dims > kMaxDims) c.fail(what + " has " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
        uint64_t elems = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const uint64_t n = c.get<uint64_t>("the shape of " + what);
            if (n == 0 || __builtin_mul_overflow(elems, n, &elems) || elems > (uint64_t(1) << 48))
                c.fail(what + " has an impossible shape (dimension " + std::to_string(d) + " = " + std::to_string(n) + ")");
            t.ne.push_back(n);
        }
        const uint32_t type = c.get<uint32_t>("the type of " + what);
        t.type = GgmlType(type);
        const size_t es = ggml_type_size(t.type);
        if (es == 0)
            throw Error(ErrorCode::UnsupportedModel, name + ": " + what + " has ggml type " + std::to_string(type) +
                                                         ", which MMfree Studio does not read (it reads F32, F16, BF16, I8, I16, I32); convert the model with `mmfree convert`");
        t.nbytes = size_t(elems * es);
        t.offset = c.get<uint64_t>("the data offset of " + what);
        if (t.offset % alignment_ != 0)
            c.fail(what + " starts at data offset " + std::to_string(t.offset) + ", not a multiple of the alignment " + std::to_string(alignment_));
        auto [it, fresh] = tensors_.emplace(t.name, std::move(t));
        if (!fresh) c.fail(what + " appears twice");
        order.push_back(&it->second);
    }

    const size_t data_start = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
    const size_t data_size = file_.size() >= data_start ? file_.size() - data_start : 0;
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    uint64_t end_of_previous = 0;
    const GgufTensorInfo* previous = nullptr;
    for (GgufTensorInfo* t : order) {
        if (t->offset < end_of_previous)
            throw Error(ErrorCode::CorruptFile, name + ": tensors " + printable(previous->name, 60) + " and " + printable(t->name, 60) + " overlap; the file is damaged");
        if (t->offset > data_size || t->nbytes > data_size - t->offset)
            throw Error(ErrorCode::CorruptFile, name + " is truncated: tensor " + printable(t->name, 60) + " needs bytes up to " +
                                                    human_bytes(data_start + t->offset + t->nbytes) + " (" +
                                                    std::to_string(data_start + t->offset + t->nbytes) + "), the file has " +
                                                    human_bytes(file_.size()) + " (" + std::to_string(file_.size()) +
                                                    "); copy or convert it again");
        t->data = file_.data() + data_start + t->offset;
        end_of_previous = t->offset + t->nbytes;
        previous = t;
    }
}

const GgufValue* GgufFile::find(const std::string& key) const {
    auto it = kv_.find(key);
    return it == kv_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
}

// ------------------------------------------------------------------------------------------
// Writer

namespace {
template <class T> void put(std::string& out, T v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_string(std::string& out, const std::string& s) {
    put<uint64_t>(out, s.size());
    out += s;
}
} // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
    if (alignment != 32) add_u32("general.alignment", alignment);
}

void GgufWriter::key(const std::string& k, GgufType t) {
    put_string(kv_, k);
    put<uint32_t>(kv_, uint32_t(t));
    ++kv_count_;
}

void GgufWriter::add_u32(const std::string& k, uint32_t v) { key(k, GgufType::U32); put(kv_, v); }
void GgufWriter::add_i32(const std::string& k, int32_t v) { key(k, GgufType::I32); put(kv_, v); }
void GgufWriter::add_f32(const std::string& k, float v) { key(k, GgufType::F32); put(kv_, v); }
void GgufWriter::add_bool(const std::string& k, bool v) { key(k, GgufType::BOOL); put<uint8_t>(kv_, v ? 1 : 0); }
void GgufWriter::add_string(const std::string& k, const std::string& v) { key(k, GgufType::STRING); put_string(kv_, v); }

void GgufWriter::add_u8_array(const std::string& k, const void* data, size_t count) {
    key(k, GgufType::ARRAY);
    put<uint32_t>(kv_, uint32_t(GgufType::U8));
    put<uint64_t>(kv_, count);
    kv_.append(static_cast<const char*>(data), count);
}
void GgufWriter::add_f32_array(const std::string& k, const float* data, size_t count) {
    key(k, GgufType::ARRAY);
    put<uint32_t>(kv_, uint32_t(GgufType::F32));
    put<uint64_t>(kv_, count);
    kv_.append(reinterpret_cast<const char*>(data), count * 4);
}
void GgufWriter::add_i32_array(const std::string& k, const int32_t* data, size_t count) {
    key(k, GgufType::ARRAY);
    put<uint32_t>(kv_, uint32_t(GgufType::I32));
    put<uint64_t>(kv_, count);
    kv_.append(reinterpret_cast<const char*>(data), count * 4);
}
void GgufWriter::add_string_array(const std::string& k, const std::vector<std::string>& v) {
    key(k, GgufType::ARRAY);
    put<uint32_t>(kv_, uint32_t(GgufType::STRING));
    put<uint64_t>(kv_, v.size());
    for (auto& s : v) put_string(kv_, s);
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> ne, const void* data) {
    uint64_t n = 1;
    for (auto d : ne) n *= d;
    tensors_.push_back({name, type, std::move(ne), data, size_t(n * ggml_type_size(type))});
}

void GgufWriter::add_block_tensor(const std::string& name, uint32_t ggml_type, std::vector<uint64_t> ne, const void* data, size_t nbytes) {
    tensors_.push_back({name, GgmlType(ggml_type), std::move(ne), data, nbytes});
}

void GgufWriter::write(const std::filesystem::path& path) const {
    std::string head;
    head += "GGUF";
    put<uint32_t>(head, 3);
    put<uint64_t>(head, tensors_.size());
    put<uint64_t>(head, kv_count_);
    head += kv_;
    auto align = [&](uint64_t x) { return (x + alignment_ - 1) / alignment_ * alignment_; };
    uint64_t offset = 0;
    for (auto& t : tensors_) {
        put_string(head, t.name);
        put<uint32_t>(head, uint32_t(t.ne.size()));
        for (auto d : t.ne) put<uint64_t>(head, d);
        put<uint32_t>(head, uint32_t(t.type));
        put<uint64_t>(head, offset);
        offset = align(offset + t.nbytes);
    }
    head.resize(align(head.size()), '\0');

    const std::filesystem::path tmp = path.string() + ".part";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw Error(ErrorCode::FileNotFound, "cannot create " + tmp.string() + ": " + std::strerror(errno));
    bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();
    static const char zeros[1 << 12] = {};
    for (auto& t : tensors_) {
        if (!ok) break;
        ok = t.nbytes == 0 || std::fwrite(t.data, 1, t.nbytes, f) == t.nbytes;
        const size_t pad = size_t(align(t.nbytes) - t.nbytes);
        ok = ok && (pad == 0 || std::fwrite(zeros, 1, pad, f) == pad);
    }
    const int saved = errno;
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) {
        std::filesystem::remove(tmp);
        throw Error(ErrorCode::Internal, "writing " + path.string() + " failed: " + std::strerror(saved) + " (disk full?)");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp);
        throw Error(ErrorCode::Internal, "cannot move " + tmp.string() + " to " + path.string() + ": " + ec.message());
    }
}

} // namespace mmfree
