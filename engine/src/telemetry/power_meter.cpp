// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <chrono>
#include <cmath>

#include "mmfree/telemetry.h"

namespace mmfree::telemetry {

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    p = std::clamp(p, 0.0, 100.0);
    const double h = (values.size() - 1) * p / 100.0;
    const size_t lo = size_t(std::floor(h));
    const size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (h - double(lo)) * (values[hi] - values[lo]);
}

std::optional<double> joules_per_token(double delta_energy_j, double delta_tokens) {
    if (!(delta_tokens > 0) || !(delta_energy_j >= 0)) return std::nullopt;
    return delta_energy_j / delta_tokens;
}

std::optional<double> tokens_per_joule(double delta_energy_j, double delta_tokens) {
    if (!(delta_energy_j > 0) || !(delta_tokens >= 0)) return std::nullopt;
    return delta_tokens / delta_energy_j;
}

uint64_t counter_delta(uint64_t previous, uint64_t current, uint64_t max_range) {
    if (current >= previous) return current - previous;
    // Wrapped: the counter ran from `previous` up to max_range, restarted at 0 and reached
    // `current`. Without a known range a decrease is a reset, and we count nothing rather than
    // an absurd amount.
    if (max_range == 0 || previous > max_range) return 0;
    return (max_range - previous) + current;
}

// ---------------------------------------------------------------------------------------------

PowerMeter::PowerMeter(std::unique_ptr<PowerProbe> probe) : probe_(std::move(probe)) {}

bool PowerMeter::sample(double t) {
    const auto r = probe_->read();
    if (!r) return false;
    add(t, *r);
    return true;
}

void PowerMeter::add(double t, const PowerReading& r) {
    ++samples_;
    if (prev_t_ && t > *prev_t_) {
        const double dt = t - *prev_t_;
        std::optional<double> de;
        if (r.energy_j && prev_energy_) {
            de = std::max(0.0, *r.energy_j - *prev_energy_);
        } else if (r.watts || prev_watts_) {
            // Trapezoid; with only one end known, hold that value across the interval.
            const double a = prev_watts_ ? *prev_watts_ : *r.watts;
            const double b = r.watts ? *r.watts : *prev_watts_;
            de = 0.5 * (a + b) * dt;
        }
        if (counting_ && de) {
            energy_j_ += *de;
            counted_s_ += dt;
        }
        if (!r.watts && r.energy_j && prev_energy_) last_watts_ = *de / dt;
    }
    if (r.watts) last_watts_ = r.watts;
    prev_t_ = t;
    prev_watts_ = r.watts;
    prev_energy_ = r.energy_j;   // a reading without energy breaks the chain: no double counting
}

void PowerMeter::resume(double t) {
    // Forget the reading before the pause: the paused interval must not be counted.
    counting_ = false;
    prev_t_.reset();
    prev_watts_.reset();
    prev_energy_.reset();
    sample(t);
    counting_ = true;
}

void PowerMeter::pause(double t) {
    sample(t);
    counting_ = false;
}

std::optional<double> PowerMeter::average_watts() const {
    if (counted_s_ > 0) return energy_j_ / counted_s_;
    return last_watts_;
}

// ---------------------------------------------------------------------------------------------

PowerSampler::PowerSampler(std::vector<std::unique_ptr<PowerProbe>> probes, int interval_ms)
    : interval_ms_(std::max(1, interval_ms)) {
    for (auto& p : probes) meters_.emplace_back(std::move(p));
    if (!meters_.empty()) thread_ = std::thread([this] { run(); });
}

PowerSampler::~PowerSampler() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

double PowerSampler::now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void PowerSampler::run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stop_; });
        if (stop_) break;
        const double t = now_s();
        for (auto& m : meters_) m.sample(t);
    }
}

void PowerSampler::resume() {
    std::lock_guard lock(mutex_);
    const double t = now_s();
    for (auto& m : meters_) m.resume(t);
}

void PowerSampler::pause() {
    std::lock_guard lock(mutex_);
    const double t = now_s();
    for (auto& m : meters_) m.pause(t);
}

std::vector<PowerSampler::Figures> PowerSampler::figures() const {
    std::lock_guard lock(mutex_);
    std::vector<Figures> out;
    for (const auto& m : meters_) {
        Figures f;
        f.name = m.probe().name();
        f.device = m.probe().device();
        f.source = m.probe().source();
        f.error = m.probe().error();
        f.last_watts = m.last_watts();
        f.average_watts = m.average_watts();
        f.energy_j = m.energy_j();
        f.counted_s = m.counted_s();
        f.samples = m.samples();
        out.push_back(std::move(f));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

Probes find_power_probes(const ProbeOptions& o) {
    Probes all;
    auto take = [&all](Probes p) {
        for (auto& a : p.available) all.available.push_back(std::move(a));
        for (auto& u : p.unavailable) all.unavailable.push_back(std::move(u));
    };
    take(find_nvml_probes(o.nvml_library));
    take(find_hwmon_probes(o.sysfs_root));
    take(find_rapl_probes(o.sysfs_root));
    take(find_board_probes(o.board_metrics, o.backend_name));
    return all;
}

} // namespace mmfree::telemetry
