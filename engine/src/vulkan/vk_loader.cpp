// SPDX-License-Identifier: Apache-2.0
#include "vulkan/vk_loader.h"

#include <dlfcn.h>

#include <mutex>

namespace mmfree::vk {

const Loader* loader(std::string* why) {
    static Loader l;
    static std::string error;
    static std::once_flag once;
    std::call_once(once, [] {
        void* lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib) lib = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            error = "the Vulkan loader (libvulkan.so.1) is not installed";
            return;
        }
        l.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
        if (!l.vkGetInstanceProcAddr) {
            error = "libvulkan.so.1 has no vkGetInstanceProcAddr";
            return;
        }
        l.vkCreateInstance = reinterpret_cast<PFN_vkCreateInstance>(l.vkGetInstanceProcAddr(nullptr, "vkCreateInstance"));
        l.vkEnumerateInstanceVersion =
            reinterpret_cast<PFN_vkEnumerateInstanceVersion>(l.vkGetInstanceProcAddr(nullptr, "vkEnumerateInstanceVersion"));
    });
    if (!l.vkCreateInstance) {
        if (why) *why = error.empty() ? "the Vulkan loader is unusable" : error;
        return nullptr;
    }
    return &l;
}

void load_instance_fns(VkInstance instance, InstanceFns& f) {
    const Loader* l = loader(nullptr);
#define MMFREE_VK_LOAD(name) f.name = reinterpret_cast<PFN_##name>(l->vkGetInstanceProcAddr(instance, #name));
    MMFREE_VK_INSTANCE_FUNCS(MMFREE_VK_LOAD)
#undef MMFREE_VK_LOAD
}

void load_device_fns(const InstanceFns& inst, VkDevice device, DeviceFns& f) {
#define MMFREE_VK_LOAD(name) f.name = reinterpret_cast<PFN_##name>(inst.vkGetDeviceProcAddr(device, #name));
    MMFREE_VK_DEVICE_FUNCS(MMFREE_VK_LOAD)
#undef MMFREE_VK_LOAD
}

const char* result_name(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    default: return "VkResult error";
    }
}

} // namespace mmfree::vk
