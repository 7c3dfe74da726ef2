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

int32_t Executor::forward_argmax(int32_t token) {
    std::vector<float> logits(size_t(model().config.vocab_size));
    forward(&token, 1, logits.data(), false);
    return argmax(logits.data(), logits.size());
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
    if (b == "cpu") return std::make_unique<cpu::CpuExecutor>(model, false, options.threads);
    if (b == "cpu-reference") return std::make_unique<cpu::CpuExecutor>(model, true, 1);

    auto fallback = [&](const std::string& why) -> std::unique_ptr<Executor> {
        if (!options.allow_fallback) throw Error(ErrorCode::DeviceError, why);
        if (fallback_note) *fallback_note = why + "; running on the CPU instead";
        return std::make_unique<cpu::CpuExecutor>(model, false, options.threads);
    };
    try {
        if (b == "auto") {
            // Vulkan when a device works; quietly the CPU otherwise (auto promises nothing more).
            if (auto e = backends::create_vulkan(model, options, /*quiet=*/true)) return e;
            return std::make_unique<cpu::CpuExecutor>(model, false, options.threads);
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
