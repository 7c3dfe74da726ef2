// SPDX-License-Identifier: Apache-2.0
// Board power of a plugin executor (the FPGA card), read from Diagnostics::extra_metrics(). The
// source code follows the accelerator's POWER_SOURCE register, so a simulator's activity model is
// always labelled "modeled" and never mistaken for a sensor.
#include <map>

#include "mmfree/telemetry.h"

namespace mmfree::telemetry {
namespace {

std::map<std::string, double> to_map(const std::vector<std::pair<std::string, double>>& v) {
    return std::map<std::string, double>(v.begin(), v.end());
}

class BoardProbe final : public PowerProbe {
public:
    BoardProbe(MetricsSource metrics, std::string backend) : metrics_(std::move(metrics)), backend_(std::move(backend)) {}

    std::string name() const override { return "board"; }
    std::string device() const override { return backend_ + " board"; }
    std::string source() const override { return source_; }

    std::optional<PowerReading> read() override {
        const auto m = to_map(metrics_());
        if (auto it = m.find("board_power_source"); it != m.end()) {
            const int code = int(it->second);
            if (code == 0) {
                error_ = "the board reports no power sensor (board_power_source = 0)";
                return std::nullopt;
            }
            source_ = code == 1 ? "modeled" : "measured";
        } else {
            source_ = backend_.find("sim") != std::string::npos ? "modeled" : "measured";
        }
        PowerReading r;
        if (auto it = m.find("board_power_w"); it != m.end()) r.watts = it->second;
        if (auto it = m.find("board_energy_j"); it != m.end()) r.energy_j = it->second;
        else if (auto it2 = m.find("board_energy_uj"); it2 != m.end()) r.energy_j = it2->second / 1e6;
        if (r.energy_j) {
            // Counted from our first read, like the other probes.
            if (!base_j_) base_j_ = *r.energy_j;
            *r.energy_j -= *base_j_;
        }
        if (!r.watts && !r.energy_j) {
            error_ = "the " + backend_ + " backend reports no board_power_w or board_energy_j";
            return std::nullopt;
        }
        return r;
    }

private:
    MetricsSource metrics_;
    std::string backend_;
    std::string source_ = "modeled";
    std::optional<double> base_j_;
};

} // namespace

Probes find_board_probes(MetricsSource metrics, const std::string& backend_name) {
    Probes out;
    if (!metrics) return out;
    auto probe = std::make_unique<BoardProbe>(std::move(metrics), backend_name);
    if (!probe->read()) out.unavailable.push_back({"board", probe->error()});
    else out.available.push_back(std::move(probe));
    return out;
}

} // namespace mmfree::telemetry
