// SPDX-License-Identifier: Apache-2.0
// The Vulkan loader, opened at run time: a machine without libvulkan still runs on the CPU.
#pragma once
#include <vulkan/vulkan_core.h>

#include <string>

namespace mmfree::vk {

#define MMFREE_VK_INSTANCE_FUNCS(X)                                                                                    \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties) X(vkGetPhysicalDeviceProperties2) \
    X(vkGetPhysicalDeviceFeatures2) X(vkGetPhysicalDeviceMemoryProperties) X(vkGetPhysicalDeviceMemoryProperties2)       \
    X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)                    \
    X(vkCreateDevice) X(vkGetDeviceProcAddr) X(vkEnumerateDeviceExtensionProperties)

#define MMFREE_VK_DEVICE_FUNCS(X)                                                                                      \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements)        \
    X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory) X(vkUnmapMemory)                           \
    X(vkGetBufferDeviceAddress) X(vkCreateShaderModule) X(vkDestroyShaderModule) X(vkCreatePipelineLayout)              \
    X(vkDestroyPipelineLayout) X(vkCreateComputePipelines) X(vkDestroyPipeline) X(vkCreateCommandPool)                  \
    X(vkDestroyCommandPool) X(vkAllocateCommandBuffers) X(vkFreeCommandBuffers) X(vkBeginCommandBuffer)                 \
    X(vkEndCommandBuffer) X(vkCmdBindPipeline) X(vkCmdPushConstants) X(vkCmdDispatch) X(vkCmdPipelineBarrier)           \
    X(vkCmdCopyBuffer) X(vkCmdFillBuffer) X(vkCmdWriteTimestamp) X(vkCmdResetQueryPool) X(vkCreateQueryPool)            \
    X(vkDestroyQueryPool) X(vkGetQueryPoolResults) X(vkCreateFence) X(vkDestroyFence) X(vkResetFences)                  \
    X(vkWaitForFences) X(vkQueueSubmit) X(vkDeviceWaitIdle) X(vkInvalidateMappedMemoryRanges)

#define MMFREE_VK_DECLARE(name) PFN_##name name = nullptr;
struct InstanceFns { MMFREE_VK_INSTANCE_FUNCS(MMFREE_VK_DECLARE) };
struct DeviceFns { MMFREE_VK_DEVICE_FUNCS(MMFREE_VK_DECLARE) };
#undef MMFREE_VK_DECLARE

struct Loader {
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
    PFN_vkCreateInstance vkCreateInstance = nullptr;
    PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion = nullptr;
};

// The process-wide loader; nullptr with *why set when libvulkan.so.1 cannot be opened.
const Loader* loader(std::string* why);

void load_instance_fns(VkInstance instance, InstanceFns& f);
void load_device_fns(const InstanceFns& inst, VkDevice device, DeviceFns& f);

// "VK_ERROR_DEVICE_LOST" etc., for messages.
const char* result_name(VkResult r);

} // namespace mmfree::vk
