// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mmfree/metrics.h"
#include "mmfree/model.h"

namespace mmfree {

// One backend's view of a loaded model: weights prepared once (packed, device-resident), plus the
// recurrent state h[l] of ONE sequence (L×D floats). Every backend implements the same math
// (MODEL_SPEC.md); the CPU reference is the readable specification.
class Executor {
public:
    virtual ~Executor() = default;

    virtual std::string backend_name() const = 0;  // "cpu", "cpu-reference", "vulkan", "cuda", "fpga-sim", …
    virtual std::string device_name() const = 0;   // a person-readable device description
    virtual const Model& model() const = 0;

    // Feeds `count` tokens in order, advancing the state. Writes logits for every position
    // (count × V floats) when all_positions, otherwise only for the last token (V floats).
    virtual void forward(const int32_t* tokens, size_t count, float* logits, bool all_positions) = 0;

    // Feeds one token and returns the argmax of its logits. GPU backends override this to
    // reduce on the device and skip the V-float read-back.
    virtual int32_t forward_argmax(int32_t token);

    virtual void reset_state() = 0;                                  // h[l] = 0
    virtual std::vector<float> save_state() const = 0;               // L×D floats
    virtual void load_state(const std::vector<float>& state) = 0;    // throws on a size mismatch

    virtual StageTimes last_stage_times() const { return {}; }
    virtual size_t device_memory_bytes() const { return 0; }         // 0 for host memory
    // Asks the driver now (not free: call it per generation, not per token).
    virtual DeviceMemoryBudget device_memory_budget() const { return {}; }

    // Streaming-read bandwidth of the memory the weights live in (GB/s), measured now; the
    // roofline that `mmfree bench` compares decode against. The default measures host memory.
    virtual double measure_read_bandwidth_gb_s();

    // The synchronization floor under decode (µs): one step of a chain of dependent grid-wide
    // steps in which every workgroup reads the whole `floats`-long vector the previous step
    // wrote, sums it and writes its slice of the next (runtime/step_chain.h) — how one decode
    // BitLinear hands its output to the next, without weights or arithmetic. The result is
    // checked on the host. 0 where the backend has no such hand-over (the CPU).
    virtual double measure_step_floor_us(int floats) { (void)floats; return 0.0; }

    // Backend-specific figures for `mmfree bench` and the dashboard, e.g.
    // {"fpga_cycles_per_token", …}, {"modeled_tok_s", …}. Names carry their unit.
    virtual std::vector<std::pair<std::string, double>> extra_metrics() const { return {}; }
};

struct BackendOptions {
    std::string backend = "auto";  // auto | cpu | cpu-reference | vulkan | cuda | fpga-sim | plugin:PATH
    std::string device;            // index or name substring, backend-specific; empty = best
    int threads = 0;               // CPU threads; 0 = all cores
    bool profile = false;          // collect StageTimes (GPU timestamp queries)
    bool allow_fallback = true;    // if the chosen GPU fails, continue on the CPU
};

// A device a person could choose. Backends that are compiled in but unusable are listed with
// usable=false and the reason ("no Vulkan device", "CUDA driver not found").
struct DeviceInfo {
    std::string backend;     // "cpu", "vulkan", "cuda", "fpga-sim"
    int index = 0;
    std::string name;
    std::string type;        // "cpu", "discrete-gpu", "integrated-gpu", "virtual-gpu", "fpga"
    std::string driver;
    uint64_t memory_bytes = 0;
    std::string features;    // e.g. "int8 dot product, subgroup 32"
    bool usable = true;
    std::string reason;      // why not usable
};

// Creates an executor for `model`. With backend "auto": Vulkan on the best device when one works,
// else the CPU. When the requested GPU backend fails and allow_fallback is set, returns a CPU
// executor and writes the reason to *fallback_note; otherwise throws Error(DeviceError).
std::unique_ptr<Executor> create_executor(std::shared_ptr<const Model> model, const BackendOptions& options,
                                          std::string* fallback_note = nullptr);

std::vector<DeviceInfo> list_devices();

} // namespace mmfree
