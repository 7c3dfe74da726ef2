// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace mmfree {

// A read-only memory mapping of a whole file. Throws Error(FileNotFound) when it cannot be opened
// or is not a regular file (a FIFO, a device, a directory are refused before anything is read).
class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

// Opens a regular file for reading without ever blocking: the type is checked with stat before
// the open (a FIFO would block in open()), and the open is non-blocking in case the file was
// swapped in between. Returns the descriptor; throws Error(FileNotFound) naming the file.
int open_regular_file(const std::filesystem::path& path, size_t* size_out = nullptr);

// The whole content of a small regular file (config.json, an index, tokenizer.model). Refuses
// devices, FIFOs, directories and files larger than max_bytes, so /dev/zero as config.json is
// an error and not an endless read.
std::string read_small_file(const std::filesystem::path& path, size_t max_bytes);

// Whether `path` is an existing entry of any type; never throws (an over-long name is "absent").
bool path_exists(const std::filesystem::path& path);

// A value from a file made fit for a one-line message: control bytes and invalid UTF-8 become \xNN,
// and anything past max_chars is cut with "…" (headers may hold 100 KB strings or raw binary).
std::string printable(std::string_view value, size_t max_chars = 80);
// A path for a message: printable, and shortened in the middle when very long.
std::string printable_path(const std::filesystem::path& path);

std::string human_bytes(uint64_t bytes);   // "748 MB"

} // namespace mmfree
