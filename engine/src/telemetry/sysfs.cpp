// SPDX-License-Identifier: Apache-2.0
#include "telemetry/sysfs.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mmfree::telemetry::sysfs {

ReadResult read_text(const std::string& path) {
    // Plain open/read rather than streams: sysfs attributes report their size as 4096 and some
    // return errors only from read(), which we want to see as errno.
    ReadResult r;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) { r.error = errno; return r; }
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            r.error = errno;
            ::close(fd);
            return r;
        }
        if (n == 0) break;
        out.append(buf, size_t(n));
    }
    ::close(fd);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\t' || out.back() == '\r')) out.pop_back();
    r.text = std::move(out);
    return r;
}

std::optional<uint64_t> read_u64(const std::string& path, int* error) {
    const ReadResult r = read_text(path);
    if (!r.text) {
        if (error) *error = r.error;
        return std::nullopt;
    }
    const std::string& s = *r.text;
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (error) *error = EINVAL;
        return std::nullopt;
    }
    uint64_t v = 0;
    for (char c : s) v = v * 10 + uint64_t(c - '0');
    if (error) *error = 0;
    return v;
}

namespace {
// "card10" after "card2": compare the digit runs as numbers.
bool natural_less(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
            size_t ie = i, je = j;
            while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
            while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
            const std::string na = a.substr(i, ie - i), nb = b.substr(j, je - j);
            if (na.size() != nb.size()) return na.size() < nb.size();
            if (na != nb) return na < nb;
            i = ie; j = je;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i; ++j;
        }
    }
    return a.size() - i < b.size() - j;
}
} // namespace

std::vector<std::string> list_dir(const std::string& dir, const std::string& prefix) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return names;
    while (const dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        if (n.compare(0, prefix.size(), prefix) == 0) names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end(), natural_less);
    return names;
}

bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

std::string describe_errno(int error) { return std::strerror(error); }

} // namespace mmfree::telemetry::sysfs
