// SPDX-License-Identifier: Apache-2.0
#include <sstream>
#include <unistd.h>

#include "mmfree/telemetry.h"
#include "telemetry/sysfs.h"

namespace mmfree::telemetry {
namespace {

// "VmRSS:\t  123456 kB" → bytes.
std::optional<uint64_t> status_field(const std::string& status, const std::string& key) {
    std::istringstream in(status);
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, key.size() + 1, key + ":") != 0) continue;
        std::istringstream fields(line.substr(key.size() + 1));
        uint64_t value = 0;
        std::string unit;
        if (!(fields >> value)) return std::nullopt;
        fields >> unit;
        return unit == "kB" ? value * 1024 : value;
    }
    return std::nullopt;
}

} // namespace

std::optional<ProcessMemory> read_process_memory(const std::string& proc_root) {
    ProcessMemory m;
    bool have_rss = false;
    if (const auto status = sysfs::read_text(proc_root + "/self/status").text) {
        if (const auto rss = status_field(*status, "VmRSS")) { m.rss_bytes = *rss; have_rss = true; }
        if (const auto hwm = status_field(*status, "VmHWM")) m.peak_rss_bytes = *hwm;
    }
    if (!have_rss) {
        // statm: size resident shared text lib data dt, in pages. Some sandboxes hide status.
        const auto statm = sysfs::read_text(proc_root + "/self/statm").text;
        if (!statm) return std::nullopt;
        std::istringstream in(*statm);
        uint64_t size = 0, resident = 0;
        if (!(in >> size >> resident)) return std::nullopt;
        m.rss_bytes = resident * uint64_t(sysconf(_SC_PAGESIZE));
    }
    if (m.peak_rss_bytes < m.rss_bytes) m.peak_rss_bytes = m.rss_bytes;
    return m;
}

} // namespace mmfree::telemetry
