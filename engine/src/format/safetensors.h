// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "format/fingerprint.h"
#include "format/mapped_file.h"

namespace mmfree {

enum class DType { F32, F16, BF16, I32, I64, U8, I8 };
size_t dtype_size(DType t);
const char* dtype_name(DType t);

struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;   // inside the mapping
    size_t nbytes = 0;
    std::filesystem::path file;      // for messages

    int64_t elements() const;
    // Converts to fp32 (f32/f16/bf16 only); throws for other dtypes.
    std::vector<float> to_f32() const;
    void to_f32(float* out) const;
};

// One .safetensors file, memory-mapped and validated (header bounds, JSON, dtypes, offsets inside
// the data section and not overlapping).
class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::filesystem::path& path);
    const std::map<std::string, TensorView>& tensors() const { return tensors_; }
    const uint8_t* data() const { return file_.data(); }
    size_t size() const { return file_.size(); }
    static constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;

private:
    MappedFile file_;
    std::map<std::string, TensorView> tensors_;
};

// All tensors of a checkpoint: one model.safetensors, or the shards listed by
// model.safetensors.index.json.
class TensorSet {
public:
    static TensorSet open_folder(const std::filesystem::path& folder);
    static TensorSet open_file(const std::filesystem::path& file);

    const TensorView* find(const std::string& name) const;
    // The tensor with exactly this shape; throws Error(CorruptFile) naming it when missing or wrong.
    const TensorView& require(const std::string& name, std::vector<int64_t> shape) const;
    std::vector<std::string> names() const;
    // Every byte of the checkpoint (the index, then each file in name order) into `fp`.
    void add_to(WeightFingerprint& fp) const;
    static constexpr size_t kMaxIndexBytes = size_t(64) << 20;

private:
    std::vector<std::shared_ptr<SafetensorsFile>> files_;
    std::map<std::string, const TensorView*> index_;
    std::string index_bytes_;    // model.safetensors.index.json as read (sharded checkpoints)
    std::string description_;    // where the tensors come from, for messages
};

// Writes a safetensors file (used by `mmfree logits` and by tests).
struct TensorToWrite {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    const void* data;
};
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors);

} // namespace mmfree
