// SPDX-License-Identifier: Apache-2.0
// Shared by the libFuzzer targets: a private scratch folder and "refusing is fine, anything else
// is a finding". An mmfree::Error is the expected answer to a damaged file; any other exception
// escaping, a crash, or a sanitizer report is a bug.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "mmfree/error.h"

namespace fuzz {

// A folder of its own per process (tmpfs when there is one: a file is written per input).
inline const std::filesystem::path& scratch() {
    static const std::filesystem::path dir = [] {
        const char* base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
        std::string t = std::string(base) + "/mmfree-fuzz-XXXXXX";
        if (!::mkdtemp(t.data())) std::abort();
        return std::filesystem::path(t);
    }();
    return dir;
}

inline void write_file(const std::filesystem::path& p, const uint8_t* data, size_t size) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    if (!out) std::abort();
}

// A refusal must be one line of words: a newline or a control byte in it is a finding too.
inline void check_message(const mmfree::Error& e) {
    for (const char* p = e.what(); *p; ++p)
        if (static_cast<unsigned char>(*p) < 0x20) std::abort();
}

template <class F> void refuse_or_accept(F&& body) {
    try {
        body();
    } catch (const mmfree::Error& e) {
        check_message(e);
    }
}

} // namespace fuzz
