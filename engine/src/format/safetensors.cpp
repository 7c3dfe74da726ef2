// SPDX-License-Identifier: Apache-2.0
#include "format/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "format/half.h"
#include "format/json_words.h"
#include "mmfree/error.h"

namespace mmfree {
namespace fs = std::filesystem;
using nlohmann::json;

size_t dtype_size(DType t) {
    switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: return 2;
    case DType::I64: return 8;
    case DType::U8: case DType::I8: return 1;
    }
    return 0;
}

const char* dtype_name(DType t) {
    switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
    case DType::I8: return "I8";
    }
    return "?";
}

static bool parse_dtype(const std::string& s, DType& out) {
    static const std::pair<const char*, DType> known[] = {
        {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I32", DType::I32},
        {"I64", DType::I64}, {"U8", DType::U8},   {"I8", DType::I8}};
    for (auto& [name, t] : known)
        if (s == name) { out = t; return true; }
    return false;
}

// The integers of a JSON array. nlohmann's get<> would also take floats and convert them, which
// is undefined behaviour when they are out of range (a header saying 2.2e40): integers only.
static bool integer_array(const json& v, std::vector<int64_t>& out, bool non_negative) {
    if (!v.is_array()) return false;
    for (const json& x : v) {
        if (!x.is_number_integer()) return false;
        if (x.is_number_unsigned() ? x.get<uint64_t>() > uint64_t(INT64_MAX) : non_negative) return false;
        out.push_back(x.get<int64_t>());
    }
    return true;
}

int64_t TensorView::elements() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

void TensorView::to_f32(float* out) const {
    const int64_t n = elements();
    switch (dtype) {
    case DType::F32: std::memcpy(out, data, size_t(n) * 4); return;
    case DType::F16:
        for (int64_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, data + 2 * i, 2); out[i] = f16_to_f32(h); }
        return;
    case DType::BF16:
        for (int64_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, data + 2 * i, 2); out[i] = bf16_to_f32(h); }
        return;
    default:
        throw Error(ErrorCode::CorruptFile, "tensor " + printable(name) + " in " + printable(file.filename().string(), 100) + " has dtype " +
                                                dtype_name(dtype) + "; weights must be F32, F16 or BF16");
    }
}

std::vector<float> TensorView::to_f32() const {
    std::vector<float> v(static_cast<size_t>(elements()));
    to_f32(v.data());
    return v;
}

SafetensorsFile::SafetensorsFile(const fs::path& path) : file_(path) {
    const std::string fname = printable(path.filename().string(), 100);
    auto corrupt = [&](const std::string& what) {
        return Error(ErrorCode::CorruptFile, fname + " (" + printable_path(path.parent_path()) + ") " + what);
    };
    if (file_.size() < 8)
        throw corrupt("is truncated: " + std::to_string(file_.size()) + " bytes, too short for a safetensors header");
    uint64_t header_len;
    std::memcpy(&header_len, file_.data(), 8);
    if (header_len > file_.size() - 8)
        throw corrupt("is truncated or not a safetensors file: header length " + std::to_string(header_len) +
                      " is larger than the file (" + std::to_string(file_.size()) + " bytes)");
    // The format caps the header at 100 MB; a larger claim is damage, not a model.
    if (header_len > kMaxHeaderBytes)
        throw corrupt("is not a safetensors file: its header length " + std::to_string(header_len) + " is over the format's 100 MB limit");
    const char* hdr = reinterpret_cast<const char*>(file_.data() + 8);
    json j;
    // Duplicate tensor names are legal JSON but ambiguous weights (the last would silently win).
    std::string duplicate;
    std::set<std::string> seen;
    const json::parser_callback_t note_duplicates = [&](int depth, json::parse_event_t event, json& parsed) {
        if (depth == 1 && event == json::parse_event_t::key && parsed.is_string() && duplicate.empty() &&
            !seen.insert(parsed.get<std::string>()).second)
            duplicate = parsed.get<std::string>();
        return true;
    };
    try {
        j = json::parse(hdr, hdr + header_len, note_duplicates);
    } catch (const json::exception& e) {
        throw corrupt("has a damaged header: it " + json_error_words(e));
    }
    if (!j.is_object()) throw corrupt("has a damaged header: not a JSON object");
    if (!duplicate.empty()) throw corrupt("lists tensor " + printable(duplicate) + " twice; the header is damaged");

    const uint64_t data_start = 8 + header_len;
    const uint64_t data_size = file_.size() - data_start;
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        const auto& e = it.value();
        TensorView t;
        t.name = it.key();
        t.file = path;
        const std::string tname = "tensor " + printable(t.name);
        if (!e.is_object()) throw corrupt("has a damaged entry for " + tname + ": not a JSON object");
        try {
            const std::string dt = e.at("dtype").get<std::string>();
            if (!parse_dtype(dt, t.dtype)) throw corrupt(tname + " has unknown dtype \"" + printable(dt, 20) + "\"");
            if (!integer_array(e.at("shape"), t.shape, false)) throw corrupt(tname + " has a shape that is not a list of integers");
            std::vector<int64_t> signed_offs;
            if (!integer_array(e.at("data_offsets"), signed_offs, true) || signed_offs.size() != 2 || signed_offs[0] > signed_offs[1])
                throw corrupt(tname + " has invalid data_offsets");
            const uint64_t offs[2] = {uint64_t(signed_offs[0]), uint64_t(signed_offs[1])};
            if (t.shape.size() > 8) throw corrupt(tname + " has " + std::to_string(t.shape.size()) + " dimensions; at most 8 are plausible");
            uint64_t expect = dtype_size(t.dtype);
            for (auto d : t.shape)
                if (d < 0 || d > (int64_t(1) << 40) || __builtin_mul_overflow(expect, uint64_t(d), &expect))
                    throw corrupt(tname + " has an invalid shape");
            if (offs[1] - offs[0] != expect)
                throw corrupt(tname + ": data_offsets span " + std::to_string(offs[1] - offs[0]) +
                              " bytes but shape and dtype need " + std::to_string(expect));
            if (offs[1] > data_size) {
                throw corrupt("is truncated: " + tname + " ends at byte " + std::to_string(data_start + offs[1]) +
                              " but the file has " + std::to_string(file_.size()) + " bytes (" + human_bytes(data_start + offs[1]) +
                              " expected, " + human_bytes(file_.size()) + " present)");
            }
            t.data = file_.data() + data_start + offs[0];
            t.nbytes = offs[1] - offs[0];
            ranges.push_back({offs[0], offs[1]});
        } catch (const json::exception& ex) {
            throw corrupt("has a damaged entry for " + tname + ": it " + json_error_words(ex));
        }
        tensors_.emplace(t.name, std::move(t));
    }
    std::sort(ranges.begin(), ranges.end());
    for (size_t i = 1; i < ranges.size(); ++i)
        if (ranges[i].first < ranges[i - 1].second) throw corrupt("has overlapping tensor data ranges");
}

TensorSet TensorSet::open_file(const fs::path& file) {
    TensorSet set;
    set.files_.push_back(std::make_shared<SafetensorsFile>(file));
    for (auto& [name, t] : set.files_.back()->tensors()) set.index_[name] = &t;
    set.description_ = printable(file.filename().string(), 100) + " (" + printable_path(file.parent_path()) + ")";
    return set;
}

TensorSet TensorSet::open_folder(const fs::path& folder) {
    const fs::path single = folder / "model.safetensors";
    const fs::path index = folder / "model.safetensors.index.json";
    if (path_exists(single)) return open_file(single);
    if (!path_exists(index))
        throw Error(ErrorCode::FileNotFound, "no model.safetensors or model.safetensors.index.json in " + printable_path(folder));
    const std::string iname = "model.safetensors.index.json (" + printable_path(folder) + ")";
    TensorSet set;
    set.index_bytes_ = read_small_file(index, kMaxIndexBytes);
    json j;
    try {
        j = json::parse(set.index_bytes_);
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptFile, iname + " " + json_error_words(e));
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        throw Error(ErrorCode::CorruptFile, iname + " has no \"weight_map\" object");
    if (j["weight_map"].empty()) throw Error(ErrorCode::CorruptFile, iname + " lists no tensors in its weight_map");
    std::map<std::string, std::shared_ptr<SafetensorsFile>> shards;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        if (!it.value().is_string()) throw Error(ErrorCode::CorruptFile, iname + ": weight_map values must be file names");
        const std::string shard = it.value().get<std::string>();
        if (shard.empty() || shard.find('/') != std::string::npos || shard.find("..") != std::string::npos || shard.find('\0') != std::string::npos)
            throw Error(ErrorCode::CorruptFile, iname + " names a shard that is not a file in the folder: \"" + printable(shard, 60) + "\"");
        auto& f = shards[shard];
        if (!f) {
            if (!path_exists(folder / shard))
                throw Error(ErrorCode::FileNotFound, "shard " + printable(shard, 100) + " listed in model.safetensors.index.json is missing from " + printable_path(folder));
            f = std::make_shared<SafetensorsFile>(folder / shard);
        }
        auto t = f->tensors().find(it.key());
        if (t == f->tensors().end())
            throw Error(ErrorCode::CorruptFile, "tensor " + printable(it.key()) + " is listed in model.safetensors.index.json but missing from " + printable(shard, 100));
        set.index_[it.key()] = &t->second;
    }
    // Shards in name order: a fixed order for the fingerprint, whatever order the index lists them in.
    for (auto& [name, f] : shards) set.files_.push_back(f);
    set.description_ = "the shards of model.safetensors.index.json in " + printable_path(folder);
    return set;
}

const TensorView* TensorSet::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second;
}

static std::string shape_str(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size() && i < 8; ++i) r += (i ? "," : "") + std::to_string(s[i]);
    return r + "]";
}

void TensorSet::add_to(WeightFingerprint& fp) const {
    if (!index_bytes_.empty()) fp.add(index_bytes_);
    for (const auto& f : files_) fp.add(f->data(), f->size());
}

const TensorView& TensorSet::require(const std::string& name, std::vector<int64_t> shape) const {
    const TensorView* t = find(name);
    if (!t) throw Error(ErrorCode::CorruptFile, description_ + " has no tensor " + name + " (expected shape " + shape_str(shape) + ")");
    if (t->shape != shape)
        throw Error(ErrorCode::CorruptFile, "tensor " + name + " in " + description_ + " has shape " + shape_str(t->shape) +
                                                " but config.json needs " + shape_str(shape));
    return *t;
}

std::vector<std::string> TensorSet::names() const {
    std::vector<std::string> n;
    for (auto& [k, v] : index_) n.push_back(k);
    return n;
}

void write_safetensors(const fs::path& path, const std::vector<TensorToWrite>& tensors) {
    json header = json::object();
    uint64_t offset = 0;
    for (auto& t : tensors) {
        uint64_t n = dtype_size(t.dtype);
        for (auto d : t.shape) n *= uint64_t(d);
        header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + n}}};
        offset += n;
    }
    std::string h = header.dump();
    while ((h.size() + 8) % 8) h += ' ';
    std::ofstream out(path, std::ios::binary);
    if (!out) throw Error(ErrorCode::FileNotFound, "cannot write " + path.string());
    uint64_t len = h.size();
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(h.data(), std::streamsize(h.size()));
    for (auto& t : tensors) {
        uint64_t n = dtype_size(t.dtype);
        for (auto d : t.shape) n *= uint64_t(d);
        out.write(static_cast<const char*>(t.data), std::streamsize(n));
    }
    if (!out) throw Error(ErrorCode::FileNotFound, "writing " + path.string() + " failed (disk full?)");
}

} // namespace mmfree
