// SPDX-License-Identifier: Apache-2.0
// Instance, physical-device survey, logical device, memory and pipelines: the plain Vulkan plumbing
// the executor builds on. Every failure becomes Error(DeviceError) with the VkResult named.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mmfree/backend.h"
#include "vulkan/vk_loader.h"
#include "vulkan/vk_shaders.h"

namespace mmfree::vk {

// A zeroed Vulkan struct with its sType set (aggregate init with only sType warns under -Wextra).
template <class T> T make(VkStructureType type) {
    T v{};
    v.sType = type;
    return v;
}

[[noreturn]] void fail(const std::string& what, VkResult r);
inline void check(VkResult r, const char* what) {
    if (r != VK_SUCCESS) fail(what, r);
}

// What the backend needs to know about one physical device.
struct Candidate {
    VkPhysicalDevice handle = VK_NULL_HANDLE;
    DeviceInfo info;               // as `mmfree info --devices` lists it
    int rank = 0;                  // discrete 4, integrated 3, virtual 2, cpu 1
    uint32_t queue_family = 0;
    uint32_t subgroup_size = 0;
    bool integer_dot = false;      // VK_KHR_shader_integer_dot_product (core 1.3) feature
    bool integer_dot_fast = false; // 4x8 packed signed dot is accelerated
    uint32_t timestamp_bits = 0;
    bool memory_budget = false;    // VK_EXT_memory_budget: the driver reports heap usage and budget
    float timestamp_period_ns = 1;
    uint32_t max_shared = 0;
    uint32_t max_invocations = 0;  // threads per workgroup
    uint32_t api_version = 0;
    // VK_NV_cooperative_matrix with int8 × int8 → int32 16×8×32 per subgroup (the tensor cores),
    // and the features its shaders need (Vulkan memory model, int8 arithmetic).
    bool int8_matrix = false;
};

class Instance {
public:
    // nullptr (and *why) when there is no loader or no instance can be created.
    static std::shared_ptr<Instance> create(std::string* why);
    ~Instance();
    std::vector<Candidate> candidates() const;

    VkInstance handle = VK_NULL_HANDLE;
    InstanceFns fn;
};

enum class MemoryKind { Device, Upload, Readback };

struct Buffer {
    VkBuffer handle = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize size = 0;
    VkDeviceSize allocated = 0;
    VkDeviceAddress address = 0;
    void* mapped = nullptr;
    bool coherent = true;
    bool device_local = false;
};

class Device {
public:
    Device(std::shared_ptr<Instance> instance, const Candidate& c);
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    Buffer create_buffer(VkDeviceSize size, MemoryKind kind);
    void destroy(Buffer& b);
    void invalidate(const Buffer& b);  // before the host reads what the device wrote

    VkPipeline create_pipeline(const Spirv& code, const std::vector<uint32_t>& spec);
    void destroy(VkPipeline p);

    VkCommandBuffer allocate_command_buffer();
    void free(VkCommandBuffer cb);
    // Submits and waits; throws Error(DeviceError) on failure and marks the device lost.
    void submit_and_wait(VkCommandBuffer cb) {
        submit(cb);
        wait();
    }
    // The two halves, for host work that overlaps the device's: one submission at a time.
    void submit(VkCommandBuffer cb);
    void wait();

    const Candidate& info() const { return cand_; }
    size_t device_bytes() const { return device_bytes_; }
    // Usage and budget summed over the device-local heaps; unavailable without VK_EXT_memory_budget.
    DeviceMemoryBudget memory_budget() const;
    bool lost() const { return lost_; }
    void ensure_usable() const;

    DeviceFns fn;
    VkDevice handle = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;   // one push-constant block for every kernel

private:
    uint32_t find_memory(uint32_t type_bits, MemoryKind kind, bool* coherent, bool* device_local) const;

    std::shared_ptr<Instance> instance_;
    Candidate cand_;
    VkPhysicalDeviceMemoryProperties mem_{};
    VkQueue queue_ = VK_NULL_HANDLE;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    bool pending_ = false;   // submitted, not yet waited for
    size_t device_bytes_ = 0;
    bool lost_ = false;
};

} // namespace mmfree::vk
