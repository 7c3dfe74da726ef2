// SPDX-License-Identifier: Apache-2.0
// The Vulkan backend's entry points (runtime/backends.h): device survey and choice.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "mmfree/error.h"
#include "runtime/backends.h"
#include "vulkan/vk_executor.h"

namespace mmfree::backends {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

DeviceInfo unavailable(const std::string& why) { return DeviceInfo{"vulkan", 0, "Vulkan", "", "", 0, "", false, why}; }

} // namespace

std::vector<DeviceInfo> vulkan_devices() {
    std::string why;
    auto instance = vk::Instance::create(&why);
    if (!instance) return {unavailable(why)};
    std::vector<DeviceInfo> out;
    for (const auto& c : instance->candidates()) out.push_back(c.info);
    if (out.empty()) return {unavailable("no Vulkan device found")};
    return out;
}

// quiet (backend "auto"): return nullptr rather than throw, and leave CPU-emulated Vulkan devices
// (lavapipe) alone: the CPU backend is faster on the same cores.
std::unique_ptr<Executor> create_vulkan(std::shared_ptr<const Model> model, const BackendOptions& options, bool quiet) {
    std::string why;
    auto instance = vk::Instance::create(&why);
    if (!instance) {
        if (quiet) return nullptr;
        throw Error(ErrorCode::DeviceError, "Vulkan is not available: " + why);
    }
    const auto candidates = instance->candidates();
    const vk::Candidate* chosen = nullptr;
    const std::string& want = options.device;
    if (!want.empty()) {
        const bool numeric = std::all_of(want.begin(), want.end(), [](unsigned char c) { return std::isdigit(c); });
        for (const auto& c : candidates)
            if (numeric ? c.info.index == std::atoi(want.c_str()) : lower(c.info.name).find(lower(want)) != std::string::npos) {
                chosen = &c;
                break;
            }
        if (!chosen) {
            if (quiet) return nullptr;
            throw Error(ErrorCode::DeviceError, "no Vulkan device matches \"" + want + "\"; `mmfree info --devices` lists them");
        }
    } else {
        for (const auto& c : candidates) {
            if (!c.info.usable || (quiet && c.rank <= 1)) continue;
            if (!chosen || c.rank > chosen->rank || (c.rank == chosen->rank && c.info.memory_bytes > chosen->info.memory_bytes)) chosen = &c;
        }
        if (!chosen) {
            if (quiet) return nullptr;
            throw Error(ErrorCode::DeviceError, candidates.empty() ? "no Vulkan device found"
                                                                   : "no usable Vulkan device: " + candidates.front().info.name + " " +
                                                                         candidates.front().info.reason);
        }
    }
    if (!chosen->info.usable) {
        if (quiet) return nullptr;
        throw Error(ErrorCode::DeviceError, "Vulkan device " + chosen->info.name + " cannot run the engine: " + chosen->info.reason);
    }
    vk::VulkanOptions vo;
    vo.device = want;
    vo.profile = options.profile;
    vo.slot_count = options.slot_count;
    vo.force_portable = std::getenv("MMFREE_VULKAN_PORTABLE") != nullptr;
    if (const char* c = std::getenv("MMFREE_VULKAN_CHUNK")) vo.chunk = std::max(2, std::atoi(c));
    if (const char* r = std::getenv("MMFREE_VULKAN_GEMM_ROWS")) vo.gemm_rows = std::atoi(r);
    try {
        return std::make_unique<vk::VulkanExecutor>(std::move(model), instance, *chosen, vo);
    } catch (const Error& e) {
        if (quiet && e.code() == ErrorCode::DeviceError) return nullptr;
        throw;
    }
}

} // namespace mmfree::backends
