// SPDX-License-Identifier: Apache-2.0
// GGUF (version 3) container: a validating memory-mapped reader and a writer.
//
// File layout (little-endian), as in the GGUF specification:
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count,
//   kv_count × (string key, u32 value_type, value),
//   tensor_count × (string name, u32 n_dims, u64 ne[n_dims] (ne[0] innermost), u32 ggml_type, u64 offset),
//   padding to general.alignment (default 32), then the tensor data; every offset is relative to
//   the start of the data section and a multiple of the alignment.
// Strings are u64 length + bytes (no terminator). Arrays are u32 element type + u64 count + items.
//
// How MMfree Studio stores an HGRNBit model in it is described in gguf_model.h.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "format/mapped_file.h"

namespace mmfree {

enum class GgufType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

// The ggml tensor types this project reads and writes (ids from ggml.h).
enum class GgmlType : uint32_t { F32 = 0, F16 = 1, I8 = 24, I16 = 25, I32 = 26, BF16 = 30 };
size_t ggml_type_size(GgmlType t);     // bytes per element; 0 for a type we do not handle
const char* ggml_type_name(GgmlType t);

// One metadata value. Scalars are widened into the matching field; arrays of numbers keep a
// pointer into the mapping (no copy: the tokenizer model can be megabytes), arrays of strings
// are copied.
struct GgufValue {
    GgufType type = GgufType::U8;
    uint64_t u = 0;        // unsigned integers and bool
    int64_t i = 0;         // signed integers
    double f = 0;          // F32 / F64
    std::string str;
    GgufType elem_type = GgufType::U8;       // ARRAY only
    uint64_t count = 0;                      // ARRAY only
    const uint8_t* array_data = nullptr;     // ARRAY of fixed-size elements: raw little-endian items
    std::vector<std::string> strings;        // ARRAY of STRING
};

struct GgufTensorInfo {
    std::string name;
    std::vector<uint64_t> ne;   // ne[0] is the innermost (contiguous) dimension
    GgmlType type = GgmlType::F32;
    uint64_t offset = 0;        // relative to the data section
    const uint8_t* data = nullptr;
    size_t nbytes = 0;
    uint64_t elements() const;
};

// A .gguf file, memory-mapped; the constructor validates the whole header (bounds of every
// string, array and tensor, alignment, overlaps) and throws Error(CorruptFile) with a message
// that names what is wrong.
class GgufFile {
public:
    explicit GgufFile(const std::filesystem::path& path);

    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    const std::map<std::string, GgufValue>& metadata() const { return kv_; }
    const std::map<std::string, GgufTensorInfo>& tensors() const { return tensors_; }
    const std::filesystem::path& path() const { return file_.path(); }
    const uint8_t* file_data() const { return file_.data(); }
    size_t file_size() const { return file_.size(); }

    const GgufValue* find(const std::string& key) const;
    const GgufTensorInfo* find_tensor(const std::string& name) const;

private:
    MappedFile file_;
    uint32_t version_ = 0;
    uint32_t alignment_ = 32;
    std::map<std::string, GgufValue> kv_;
    std::map<std::string, GgufTensorInfo> tensors_;
};

// Builds a GGUF file in the order of the calls and writes it in one pass.
class GgufWriter {
public:
    explicit GgufWriter(uint32_t alignment = 32);

    void add_u32(const std::string& key, uint32_t v);
    void add_i32(const std::string& key, int32_t v);
    void add_f32(const std::string& key, float v);
    void add_bool(const std::string& key, bool v);
    void add_string(const std::string& key, const std::string& v);
    void add_u8_array(const std::string& key, const void* data, size_t count);
    void add_f32_array(const std::string& key, const float* data, size_t count);
    void add_i32_array(const std::string& key, const int32_t* data, size_t count);
    void add_string_array(const std::string& key, const std::vector<std::string>& v);

    // `ne` innermost first. The data must stay valid until write().
    void add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> ne, const void* data);
    // A tensor of a block-quantized ggml type the engine does not compute with (e.g. TQ2_0 for a
    // llama.cpp model): `ggml_type` is ggml's type id and `nbytes` the size of the data.
    void add_block_tensor(const std::string& name, uint32_t ggml_type, std::vector<uint64_t> ne, const void* data, size_t nbytes);

    // Writes to a temporary file beside `path` and renames it, so a failed or interrupted
    // conversion never leaves a half-written model behind. Throws Error.
    void write(const std::filesystem::path& path) const;

private:
    struct Tensor {
        std::string name;
        GgmlType type;
        std::vector<uint64_t> ne;
        const void* data;
        size_t nbytes;
    };
    void key(const std::string& k, GgufType t);
    uint32_t alignment_;
    uint64_t kv_count_ = 0;
    std::string kv_;   // serialized metadata
    std::vector<Tensor> tensors_;
};

} // namespace mmfree
