// SPDX-License-Identifier: Apache-2.0
// CPU package energy through the powercap RAPL interface. The counter is in microjoules and wraps
// at max_energy_range_uj; since Linux 5.10 energy_uj is readable by root only, so the common
// failure is a permission error and the message says how to grant it.
#include <cerrno>

#include "mmfree/telemetry.h"
#include "telemetry/sysfs.h"

namespace mmfree::telemetry {
namespace {

std::string permission_hint(const std::string& path) {
    // Kept short for the dashboard. A udev rule that grants it at boot:
    //   SUBSYSTEM=="powercap", ACTION=="add", RUN+="/bin/chmod a+r /sys%p/energy_uj"
    return "needs read permission on " + path + " (root, or a udev rule)";
}

class RaplProbe final : public PowerProbe {
public:
    RaplProbe(std::string zone_dir, std::string zone_name, uint64_t max_range_uj)
        : dir_(std::move(zone_dir)), zone_(std::move(zone_name)), max_range_uj_(max_range_uj) {}

    std::string name() const override { return "rapl:" + zone_; }
    std::string device() const override {
        // "package-0" → "CPU package 0"; other zones (psys, dram) keep their kernel name.
        if (zone_.rfind("package-", 0) == 0) return "CPU package " + zone_.substr(8);
        return "CPU " + zone_;
    }
    std::string source() const override { return "measured"; }

    std::optional<PowerReading> read() override {
        int err = 0;
        const std::string path = dir_ + "/energy_uj";
        const auto uj = sysfs::read_u64(path, &err);
        if (!uj) {
            error_ = (err == EACCES || err == EPERM) ? permission_hint(path) : path + ": " + sysfs::describe_errno(err);
            return std::nullopt;
        }
        if (prev_uj_) total_uj_ += counter_delta(*prev_uj_, *uj, max_range_uj_);
        prev_uj_ = *uj;
        PowerReading r;
        r.energy_j = double(total_uj_) / 1e6;
        return r;
    }

private:
    std::string dir_, zone_;
    uint64_t max_range_uj_;
    std::optional<uint64_t> prev_uj_;
    uint64_t total_uj_ = 0;
};

} // namespace

Probes find_rapl_probes(const std::string& sysfs_root) {
    Probes out;
    const std::string base = sysfs_root + "/class/powercap";
    // Top-level zones only ("intel-rapl:0", not "intel-rapl:0:0"): sub-zones (core, uncore, dram)
    // are parts of their package and would count energy twice.
    std::vector<std::string> zones;
    for (const auto& n : sysfs::list_dir(base, "intel-rapl:"))
        if (n.find(':') == n.rfind(':')) zones.push_back(n);
    if (zones.empty()) {
        out.unavailable.push_back({"rapl", "no RAPL powercap zones under " + base +
                                               "/intel-rapl:* (not an x86 CPU, or the intel_rapl driver is not loaded)"});
        return out;
    }
    for (const auto& z : zones) {
        const std::string dir = base + "/" + z;
        const auto name_text = sysfs::read_text(dir + "/name").text;
        const std::string zone = name_text && !name_text->empty() ? *name_text : z;
        int err = 0;
        const auto max_range = sysfs::read_u64(dir + "/max_energy_range_uj", &err);
        auto probe = std::make_unique<RaplProbe>(dir, zone, max_range.value_or(0));
        // Read once now so a permission problem is reported up front, not as a silent blank graph.
        if (!probe->read()) {
            out.unavailable.push_back({"rapl:" + zone, probe->error()});
            continue;
        }
        out.available.push_back(std::move(probe));
    }
    return out;
}

} // namespace mmfree::telemetry
