// SPDX-License-Identifier: Apache-2.0
#include "format/mapped_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmfree/error.h"

namespace mmfree {

namespace {

const char* file_type_words(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a pipe (FIFO)";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

[[noreturn]] void not_regular(const std::filesystem::path& path, mode_t mode) {
    throw Error(ErrorCode::FileNotFound, printable_path(path) + " is " + file_type_words(mode) + ", not a regular file");
}

} // namespace

int open_regular_file(const std::filesystem::path& path, size_t* size_out) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        throw Error(ErrorCode::FileNotFound, "cannot open " + printable_path(path) + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) not_regular(path, st.st_mode);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw Error(ErrorCode::FileNotFound, "cannot open " + printable_path(path) + ": " + std::strerror(errno));
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        not_regular(path, st.st_mode);
    }
    if (size_out) *size_out = size_t(st.st_size);
    return fd;
}

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
    const int fd = open_regular_file(path, &size_);
    if (size_ > 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error(ErrorCode::FileNotFound, "cannot map " + printable_path(path) + ": " + std::strerror(err));
        }
        data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

std::string read_small_file(const std::filesystem::path& path, size_t max_bytes) {
    size_t size = 0;
    const int fd = open_regular_file(path, &size);
    if (size > max_bytes) {
        ::close(fd);
        throw Error(ErrorCode::CorruptFile, printable_path(path) + " is " + human_bytes(size) + ", far larger than such a file can be (at most " +
                                                human_bytes(max_bytes) + "); it is not the right file");
    }
    std::string text(size, '\0');
    size_t got = 0;
    while (got < size) {
        const ssize_t n = ::read(fd, text.data() + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : 0;
            ::close(fd);
            throw Error(ErrorCode::FileNotFound, "cannot read " + printable_path(path) + ": " + (err ? std::strerror(err) : "the file shrank while reading"));
        }
        got += size_t(n);
    }
    ::close(fd);
    return text;
}

bool path_exists(const std::filesystem::path& path) {
    struct stat st{};
    return ::lstat(path.c_str(), &st) == 0 && (!S_ISLNK(st.st_mode) || ::stat(path.c_str(), &st) == 0);
}

// Length of the valid UTF-8 character at the start of `s` (2-4 bytes, no C1 controls), or 0.
static size_t utf8_char(std::string_view s) {
    const unsigned char c = static_cast<unsigned char>(s[0]);
    const size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || s.size() < n) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[k]) & 0xC0) != 0x80) return 0;
    if (c == 0xC2 && static_cast<unsigned char>(s[1]) < 0xA0) return 0;   // U+0080…U+009F: controls
    return n;
}

std::string printable(std::string_view value, size_t max_chars) {
    std::string out;
    size_t i = 0, shown = 0;
    while (i < value.size() && shown < max_chars) {
        const unsigned char c = static_cast<unsigned char>(value[i]);
        ++shown;
        if (c >= 0x20 && c < 0x7f) {
            out += char(c);
            ++i;
        } else if (const size_t n = c >= 0x80 ? utf8_char(value.substr(i)) : 0) {
            out.append(value.substr(i, n));   // "Modèles" stays readable
            i += n;
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
            ++i;
        }
    }
    if (i < value.size()) out += "\xE2\x80\xA6";   // "…"
    return out;
}

std::string printable_path(const std::filesystem::path& path) {
    const std::string s = path.string();
    constexpr size_t kMax = 160;
    if (s.size() <= kMax) return printable(s, kMax);
    // The start says where, the end says which file: keep both.
    return printable(s.substr(0, kMax / 2 - 2), kMax) + "\xE2\x80\xA6" + printable(s.substr(s.size() - kMax / 2), kMax);
}

std::string human_bytes(uint64_t bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1000.0 && u < 4) { v /= 1000.0; ++u; }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

} // namespace mmfree
