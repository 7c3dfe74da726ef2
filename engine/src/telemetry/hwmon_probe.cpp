// SPDX-License-Identifier: Apache-2.0
// GPU power through hwmon under the DRM device: amdgpu exposes power1_average (or power1_input on
// newer chips) in microwatts; Intel discrete GPUs expose energy1_input in microjoules.
#include <cerrno>

#include "mmfree/telemetry.h"
#include "telemetry/sysfs.h"

namespace mmfree::telemetry {
namespace {

class HwmonProbe final : public PowerProbe {
public:
    HwmonProbe(std::string card, std::string hwmon_dir, std::string driver, std::string power_file, bool has_energy)
        : card_(std::move(card)), dir_(std::move(hwmon_dir)), driver_(std::move(driver)), power_file_(std::move(power_file)),
          has_energy_(has_energy) {}

    std::string name() const override { return "hwmon:" + card_; }
    std::string device() const override { return driver_.empty() ? card_ : driver_ + " " + card_; }
    std::string source() const override { return "measured"; }

    std::optional<PowerReading> read() override {
        PowerReading r;
        int err = 0;
        if (!power_file_.empty()) {
            if (const auto uw = sysfs::read_u64(dir_ + "/" + power_file_, &err)) r.watts = double(*uw) / 1e6;
            else error_ = dir_ + "/" + power_file_ + ": " + sysfs::describe_errno(err);
        }
        if (has_energy_) {
            if (const auto uj = sysfs::read_u64(dir_ + "/energy1_input", &err)) {
                if (!base_uj_) base_uj_ = *uj;
                r.energy_j = double(*uj - *base_uj_) / 1e6;
            } else {
                error_ = dir_ + "/energy1_input: " + sysfs::describe_errno(err);
            }
        }
        if (!r.watts && !r.energy_j) return std::nullopt;
        return r;
    }

private:
    std::string card_, dir_, driver_, power_file_;
    bool has_energy_;
    std::optional<uint64_t> base_uj_;
};

} // namespace

Probes find_hwmon_probes(const std::string& sysfs_root) {
    Probes out;
    const std::string drm = sysfs_root + "/class/drm";
    bool any_card = false;
    for (const auto& card : sysfs::list_dir(drm, "card")) {
        if (card.find('-') != std::string::npos) continue;   // connectors: card0-DP-1
        any_card = true;
        const std::string hw_base = drm + "/" + card + "/device/hwmon";
        for (const auto& hw : sysfs::list_dir(hw_base, "hwmon")) {
            const std::string dir = hw_base + "/" + hw;
            const std::string driver = sysfs::read_text(dir + "/name").text.value_or("");
            // Prefer the driver's averaged power: power1_input on some amdgpu chips is a raw sample.
            std::string power_file;
            for (const char* f : {"power1_average", "power1_input"})
                if (sysfs::exists(dir + "/" + f)) { power_file = f; break; }
            const bool has_energy = sysfs::exists(dir + "/energy1_input");
            if (power_file.empty() && !has_energy) continue;
            auto probe = std::make_unique<HwmonProbe>(card, dir, driver, power_file, has_energy);
            if (!probe->read()) {
                const std::string e = probe->error();
                out.unavailable.push_back({"hwmon:" + card, (e.find(sysfs::describe_errno(EACCES)) != std::string::npos)
                                                                 ? e + " (needs read permission: root, or a udev rule)"
                                                                 : e});
                continue;
            }
            out.available.push_back(std::move(probe));
            break;   // one sensor per card
        }
    }
    if (out.available.empty() && out.unavailable.empty())
        out.unavailable.push_back({"hwmon", any_card ? "no GPU under " + drm + " exposes hwmon power1_average/power1_input or energy1_input"
                                                     : "no GPU under " + drm + "/card*"});
    return out;
}

} // namespace mmfree::telemetry
