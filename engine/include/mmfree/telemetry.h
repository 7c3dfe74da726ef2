// SPDX-License-Identifier: Apache-2.0
// Memory and power telemetry: probes that read real sensors where they exist and say why not
// otherwise, plus the arithmetic (percentiles, J/token) the CLI and the dashboard share.
//
// Every sysfs/procfs probe takes its root directory ("/sys", "/proc") as a parameter so tests run
// the real parsing code against a fake tree in a temporary directory.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mmfree::telemetry {

// ---------------------------------------------------------------------------------------------
// Power

// One reading. A probe gives watts, a cumulative energy counter, or both; PowerMeter derives the
// missing one (power from Δenergy/Δt, energy by integrating power).
struct PowerReading {
    std::optional<double> watts;
    std::optional<double> energy_j;   // monotonic since the probe was created (wraparound removed)
};

class PowerProbe {
public:
    virtual ~PowerProbe() = default;
    virtual std::string name() const = 0;     // stable id, e.g. "nvml:0", "rapl:package-0", "hwmon:card1", "board"
    virtual std::string device() const = 0;   // person-readable, e.g. "NVIDIA H200", "CPU package 0"
    // "measured" (a sensor) or "modeled" (a simulator's or estimator's figure). Modeled watts are
    // never shown as measured.
    virtual std::string source() const = 0;
    // nullopt when this read failed; error() says why ("needs read permission …").
    virtual std::optional<PowerReading> read() = 0;
    virtual std::string error() const { return error_; }

protected:
    std::string error_;
};

// A probe kind that is not usable here, and why ("libnvidia-ml.so.1 not found: …").
struct UnavailableProbe {
    std::string name;     // "nvml", "rapl", "hwmon", "board"
    std::string reason;
};

struct Probes {
    std::vector<std::unique_ptr<PowerProbe>> available;
    std::vector<UnavailableProbe> unavailable;
};

// NVIDIA GPUs through NVML, loaded at run time with dlopen (no build dependency). One probe per
// device. Uses the total-energy counter when the GPU has one (Volta and newer), else power only.
Probes find_nvml_probes(const std::string& library = "libnvidia-ml.so.1");

// GPUs exposing hwmon power under /sys/class/drm/card*/device/hwmon/hwmon*/power1_average or
// power1_input (microwatts) — amdgpu, and any other driver that follows the hwmon ABI.
Probes find_hwmon_probes(const std::string& sysfs_root = "/sys");

// CPU package energy through powercap RAPL: /sys/class/powercap/intel-rapl:N/energy_uj (also used
// by AMD Zen kernels), with max_energy_range_uj for wraparound. Reading needs permission.
Probes find_rapl_probes(const std::string& sysfs_root = "/sys");

// Board sensors of a plugin executor (the FPGA board), from Executor::extra_metrics():
//   board_power_w       watts
//   board_energy_j      cumulative energy (optional; board_energy_uj is accepted too)
//   board_power_source  0 none, 1 modeled, 2 on-board sensor, 3 host-provided (FPGA register map);
//                       absent → modeled when the backend name contains "sim", else measured.
// `metrics` is called on the sampling thread, so it must be safe to call there (the app passes a
// snapshot published by the engine thread; the CLI reads between tokens).
using MetricsSource = std::function<std::vector<std::pair<std::string, double>>()>;
Probes find_board_probes(MetricsSource metrics, const std::string& backend_name);

struct ProbeOptions {
    std::string sysfs_root = "/sys";
    std::string nvml_library = "libnvidia-ml.so.1";
    MetricsSource board_metrics;        // empty: no plugin board
    std::string backend_name;
};
// All of the above, in a fixed order: NVML, hwmon, RAPL, board.
Probes find_power_probes(const ProbeOptions& options = {});

// ---------------------------------------------------------------------------------------------
// NVML device memory (used / total), for the dashboard when the executor itself cannot say.

struct DeviceMemory {
    std::string device;
    uint64_t used_bytes = 0;
    uint64_t total_bytes = 0;
};
// Keeps NVML open (initializing it costs far more than a query) for repeated reads.
class NvmlMemory {
public:
    explicit NvmlMemory(const std::string& library = "libnvidia-ml.so.1");
    bool available() const { return lib_ != nullptr; }
    const std::string& reason() const { return reason_; }   // why not available
    std::vector<DeviceMemory> read() const;

private:
    std::shared_ptr<void> lib_;
    std::string reason_;
};

// ---------------------------------------------------------------------------------------------
// Process memory

struct ProcessMemory {
    uint64_t rss_bytes = 0;        // resident now (VmRSS)
    uint64_t peak_rss_bytes = 0;   // high-water mark (VmHWM)
};
// Parses <proc_root>/self/status; falls back to statm for the RSS. nullopt when neither reads.
std::optional<ProcessMemory> read_process_memory(const std::string& proc_root = "/proc");

// ---------------------------------------------------------------------------------------------
// Arithmetic

// Linear interpolation between closest ranks (p in [0, 100]); 0 for an empty series.
double percentile(std::vector<double> values, double p);

// Energy per token and its inverse. nullopt when there is nothing to divide by.
std::optional<double> joules_per_token(double delta_energy_j, double delta_tokens);
std::optional<double> tokens_per_joule(double delta_energy_j, double delta_tokens);

// Difference of a wrapping counter: max_range is max_energy_range_uj (the counter runs 0..max_range).
uint64_t counter_delta(uint64_t previous, uint64_t current, uint64_t max_range);

// Follows one probe over time: energy accumulates only between resume() and pause(), so a
// benchmark can count the decode loop and nothing else.
class PowerMeter {
public:
    explicit PowerMeter(std::unique_ptr<PowerProbe> probe);

    PowerProbe& probe() { return *probe_; }
    const PowerProbe& probe() const { return *probe_; }

    // Takes a reading at time t (seconds, any monotonic origin). Returns false when it failed.
    bool sample(double t);
    // Also for tests: feed a reading without touching the probe.
    void add(double t, const PowerReading& r);
    void resume(double t);   // start counting (takes a sample)
    void pause(double t);    // stop counting (takes a sample)

    double energy_j() const { return energy_j_; }                  // counted intervals only
    double counted_s() const { return counted_s_; }
    std::optional<double> last_watts() const { return last_watts_; }
    std::optional<double> average_watts() const;                   // energy / counted time
    int samples() const { return samples_; }

private:
    std::unique_ptr<PowerProbe> probe_;
    bool counting_ = false;
    std::optional<double> prev_t_, prev_energy_, prev_watts_;
    std::optional<double> last_watts_;
    double energy_j_ = 0, counted_s_ = 0;
    int samples_ = 0;
};

// Samples a set of meters on its own thread every `interval_ms`, so a generation loop never waits
// on a sensor. Thread-safe accessors.
class PowerSampler {
public:
    explicit PowerSampler(std::vector<std::unique_ptr<PowerProbe>> probes, int interval_ms = 50);
    ~PowerSampler();
    PowerSampler(const PowerSampler&) = delete;
    PowerSampler& operator=(const PowerSampler&) = delete;

    void resume();   // start counting energy (immediate sample)
    void pause();    // stop counting (immediate sample)

    struct Figures {
        std::string name, device, source, error;
        std::optional<double> last_watts, average_watts;
        double energy_j = 0, counted_s = 0;
        int samples = 0;
    };
    std::vector<Figures> figures() const;

private:
    void run();
    static double now_s();

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<PowerMeter> meters_;
    int interval_ms_;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace mmfree::telemetry
