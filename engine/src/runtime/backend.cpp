// SPDX-License-Identifier: Apache-2.0
// Backend choice: one place that knows every compiled-in backend and the fallback rules.
#include "mmfree/backend.h"

#include <fstream>
#include <thread>

#include "cpu/cpu_executor.h"
#include "cpu/kernels.h"
#include "mmfree/error.h"
#include "mmfree/sampler.h"
#include "runtime/backends.h"

namespace mmfree {

void Executor::forward(const int32_t* tokens, size_t count, float* logits, bool all_positions) {
    const int32_t slot = 0;
    if (count == 1) decode(&slot, tokens, 1, logits, nullptr);
    else prefill(slot, tokens, count, logits, all_positions);
}

int32_t Executor::forward_argmax(int32_t token) {
    const int32_t slot = 0;
    int32_t best = 0;
    decode(&slot, &token, 1, nullptr, &best);
    return best;
}

Diagnostics& Executor::diagnostics() {
    static Diagnostics host_only;   // stateless: safe to share
    return host_only;
}

void Executor::check_slot(int slot) const {
    if (slot < 0 || slot >= slot_count())
        throw Error(ErrorCode::InvalidArgument, "sequence slot " + std::to_string(slot) + " does not exist; this executor has " +
                                                    std::to_string(slot_count()) + " (0.." + std::to_string(slot_count() - 1) + ")");
}

void Executor::check_slots(const int32_t* slot_ids, size_t n) const {
    if (n > size_t(slot_count()))
        throw Error(ErrorCode::InvalidArgument, "a decode step of " + std::to_string(n) + " sequences exceeds the " +
                                                    std::to_string(slot_count()) + " slots of this executor");
    std::vector<bool> seen(size_t(slot_count()), false);
    for (size_t b = 0; b < n; ++b) {
        check_slot(slot_ids[b]);
        if (seen[size_t(slot_ids[b])])
            throw Error(ErrorCode::InvalidArgument, "slot " + std::to_string(slot_ids[b]) + " appears twice in one decode step");
        seen[size_t(slot_ids[b])] = true;
    }
}

static std::string cpu_model_name() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            auto p = line.find(':');
            if (p != std::string::npos) return line.substr(p + 2);
        }
    return "CPU";
}

std::vector<DeviceInfo> list_devices() {
    std::vector<DeviceInfo> devices;
    DeviceInfo cpu;
    cpu.backend = "cpu";
    cpu.name = cpu_model_name();
    cpu.type = "cpu";
    cpu.driver = "built-in";
    cpu.features = std::to_string(std::thread::hardware_concurrency()) + " threads" +
                   (cpu::cpu_has_avx2() ? ", AVX2" : ", no AVX2 (scalar kernels)");
    devices.push_back(cpu);
    for (auto& list : {backends::vulkan_devices(), backends::cuda_devices(), backends::plugin_devices()})
        devices.insert(devices.end(), list.begin(), list.end());
    return devices;
}

std::unique_ptr<Executor> create_executor(std::shared_ptr<const Model> model, const BackendOptions& options,
                                          std::string* fallback_note) {
    const std::string& b = options.backend;
    if (b == "cpu") return std::make_unique<cpu::CpuExecutor>(model, false, options.threads, options.slot_count);
    if (b == "cpu-reference") return std::make_unique<cpu::CpuExecutor>(model, true, 1, options.slot_count);

    auto fallback = [&](const std::string& why) -> std::unique_ptr<Executor> {
        if (!options.allow_fallback) throw Error(ErrorCode::DeviceError, why);
        if (fallback_note) *fallback_note = why + "; running on the CPU instead";
        return std::make_unique<cpu::CpuExecutor>(model, false, options.threads, options.slot_count);
    };
    try {
        if (b == "auto") {
            // Vulkan when a device works; quietly the CPU otherwise (auto promises nothing more).
            if (auto e = backends::create_vulkan(model, options, /*quiet=*/true)) return e;
            return std::make_unique<cpu::CpuExecutor>(model, false, options.threads, options.slot_count);
        }
        if (b == "vulkan") {
            if (auto e = backends::create_vulkan(model, options, false)) return e;
            return fallback("this build has no Vulkan backend");
        }
        if (b == "cuda") {
            if (auto e = backends::create_cuda(model, options)) return e;
            return fallback("this build has no CUDA backend");
        }
        if (b == "fpga-sim" || b.rfind("plugin:", 0) == 0) return backends::create_plugin(model, options);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::DeviceError) throw;
        return fallback(e.what());
    }
    throw Error(ErrorCode::InvalidArgument,
                "unknown backend \"" + b + "\"; choose auto, cpu, cpu-reference, vulkan, cuda or fpga-sim");
}

} // namespace mmfree
