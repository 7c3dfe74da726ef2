// SPDX-License-Identifier: Apache-2.0
// Backend choice: one place that knows every compiled-in backend and the fallback rules.
#include "mmfree/backend.h"

#include <fstream>
#include <string_view>
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

void Executor::prefill_many(const std::vector<PromptPiece>& pieces) {
    for (const PromptPiece& p : pieces)
        if (p.count) prefill(p.slot, p.tokens, p.count, nullptr, false);
}

const float* Executor::decode_logits(const int32_t* slot_ids, const int32_t* tokens, size_t n) {
    decoded_logits_.resize(n * size_t(model().config.vocab_size));
    decode(slot_ids, tokens, n, decoded_logits_.data(), nullptr);
    return decoded_logits_.data();
}

void Executor::begin_decode_sample(const int32_t* slot_ids, const int32_t* tokens, size_t n, const sampling::Draw* draws) {
    sampled_.clear();
    const float* logits = decode_logits(slot_ids, tokens, n);
    const size_t V = size_t(model().config.vocab_size);
    Sampler host(SamplingParams{});
    for (size_t b = 0; b < n; ++b) sampled_.push_back(host.draw(logits + b * V, V, draws[b]));
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

namespace backends {
namespace {

std::vector<DeviceInfo> cpu_devices() {
    DeviceInfo cpu;
    cpu.backend = "cpu";
    cpu.name = cpu_model_name();
    cpu.type = "cpu";
    cpu.driver = "built-in";
    cpu.features = std::to_string(std::thread::hardware_concurrency()) + " threads" +
                   (cpu::cpu_has_avx2() ? ", AVX2" : ", no AVX2 (scalar kernels)");
    return {cpu};
}

std::unique_ptr<Executor> create_cpu(std::shared_ptr<const Model> model, const BackendOptions& options, bool) {
    const auto weights = cpu::parse_cpu_weights(options.cpu_weights);
    if (!weights) throw Error(ErrorCode::InvalidArgument, "--cpu-weights " + options.cpu_weights + " is not a layout; use auto, 2bit or 1.6bit");
    return std::make_unique<cpu::CpuExecutor>(std::move(model), false, options.threads, options.slot_count, *weights);
}

// An absent backend's device entry: listed, not usable, with the reason.
template <const char* Backend, const char* Name, const char* Reason> std::vector<DeviceInfo> absent_device() {
    return {DeviceInfo{Backend, 0, Name, "", "", 0, "", false, Reason}};
}
[[maybe_unused]] constexpr char kVulkan[] = "vulkan", kVulkanName[] = "Vulkan", kCuda[] = "cuda", kCudaName[] = "CUDA";
[[maybe_unused]] constexpr char kNoVulkan[] = "this build has no Vulkan backend (MMFREE_VULKAN=OFF)";
[[maybe_unused]] constexpr char kNoCuda[] = "this build has no CUDA backend (CUDA Toolkit not found at build time)";
[[maybe_unused]] constexpr char kNoPlugin[] = "this build has no plugin support";
std::vector<DeviceInfo> no_devices() { return {}; }

} // namespace

const std::vector<Backend>& registered_backends() {
    static const std::vector<Backend> table = {
        {"cpu", "all cores, SIMD kernels", create_cpu, nullptr, cpu_devices},
        {"cpu-reference", "the readable scalar specification, one thread",
         [](std::shared_ptr<const Model> model, const BackendOptions& options, bool) -> std::unique_ptr<Executor> {
             return std::make_unique<cpu::CpuExecutor>(std::move(model), true, 1, options.slot_count);
         },
         nullptr, no_devices},   // the cpu entry lists the processor
#ifdef MMFREE_HAVE_VULKAN
        {"vulkan", "GPU compute through Vulkan", create_vulkan, nullptr, vulkan_devices},
#else
        {"vulkan", "GPU compute through Vulkan", nullptr, kNoVulkan, absent_device<kVulkan, kVulkanName, kNoVulkan>},
#endif
#ifdef MMFREE_HAVE_CUDA
        {"cuda", "NVIDIA GPUs through CUDA",
         [](std::shared_ptr<const Model> model, const BackendOptions& options, bool) { return create_cuda(std::move(model), options); },
         nullptr, cuda_devices},
#else
        {"cuda", "NVIDIA GPUs through CUDA", nullptr, kNoCuda, absent_device<kCuda, kCudaName, kNoCuda>},
#endif
#ifdef MMFREE_HAVE_PLUGIN
        {"fpga-sim", "the FPGA accelerator, simulated (MMFA plugin)",
         [](std::shared_ptr<const Model> model, const BackendOptions& options, bool) { return create_plugin(std::move(model), options); },
         nullptr, plugin_devices},
        {"plugin:", "an accelerator plugin library: plugin:PATH[#DEVICE]",
         [](std::shared_ptr<const Model> model, const BackendOptions& options, bool) { return create_plugin(std::move(model), options); },
         nullptr, no_devices},   // the fpga-sim entry lists the plugin
#else
        {"fpga-sim", "the FPGA accelerator, simulated (MMFA plugin)", nullptr, kNoPlugin, no_devices},
        {"plugin:", "an accelerator plugin library: plugin:PATH[#DEVICE]", nullptr, kNoPlugin, no_devices},
#endif
    };
    return table;
}

std::string backend_choices() {
    std::string s = "auto";
    for (const Backend& b : registered_backends()) {
        const std::string name = b.name;
        s += ", " + (name.back() == ':' ? name + "PATH" : name);
        if (!b.create) s += " (not in this build)";
    }
    return s;
}

} // namespace backends

namespace {

const backends::Backend* find_backend(const std::string& name) {
    for (const auto& b : backends::registered_backends()) {
        const std::string_view n = b.name;
        if (n.back() == ':' ? name.rfind(n, 0) == 0 : name == n) return &b;
    }
    return nullptr;
}

} // namespace

std::vector<DeviceInfo> list_devices() {
    std::vector<DeviceInfo> devices;
    for (const auto& b : backends::registered_backends()) {
        auto list = b.devices();
        devices.insert(devices.end(), list.begin(), list.end());
    }
    return devices;
}

std::unique_ptr<Executor> create_executor(std::shared_ptr<const Model> model, const BackendOptions& options,
                                          std::string* fallback_note) {
    const std::string& name = options.backend;
    const backends::Backend* cpu = find_backend("cpu");
    if (name == "auto") {
        // Vulkan when a device works; quietly the CPU otherwise (auto promises nothing more).
        const backends::Backend* vulkan = find_backend("vulkan");
        try {
            if (vulkan->create)
                if (auto e = vulkan->create(model, options, /*quiet=*/true)) return e;
        } catch (const Error& e) {
            if (e.code() != ErrorCode::DeviceError) throw;
            if (!options.allow_fallback) throw;
            if (fallback_note) *fallback_note = std::string(e.what()) + "; running on the CPU instead";
        }
        return cpu->create(model, options, false);
    }
    const backends::Backend* chosen = find_backend(name);
    if (!chosen)
        throw Error(ErrorCode::InvalidArgument, "unknown backend \"" + name + "\"; choose " + backends::backend_choices());

    auto fallback = [&](const std::string& why) -> std::unique_ptr<Executor> {
        if (!options.allow_fallback) throw Error(ErrorCode::DeviceError, why);
        if (fallback_note) *fallback_note = why + "; running on the CPU instead";
        return cpu->create(model, options, false);
    };
    if (!chosen->create) return fallback("backend " + name + " is not available: " + chosen->absent_reason);
    try {
        if (auto e = chosen->create(model, options, false)) return e;
        return fallback("backend " + name + " found no usable device");
    } catch (const Error& e) {
        if (e.code() != ErrorCode::DeviceError) throw;
        return fallback(e.what());
    }
}

} // namespace mmfree
