// SPDX-License-Identifier: Apache-2.0
#include "vulkan/vk_device.h"

#include <algorithm>
#include <cstring>

#include "mmfree/error.h"

namespace mmfree::vk {

void fail(const std::string& what, VkResult r) {
    std::string msg = "Vulkan: " + what + " failed (" + result_name(r) + ")";
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY) msg += ": the GPU has too little free memory for this model";
    if (r == VK_ERROR_DEVICE_LOST) msg += ": the GPU was lost (driver reset or hang)";
    throw Error(ErrorCode::DeviceError, msg);
}

std::shared_ptr<Instance> Instance::create(std::string* why) {
    const Loader* l = loader(why);
    if (!l) return nullptr;
    uint32_t version = VK_API_VERSION_1_0;
    if (l->vkEnumerateInstanceVersion) l->vkEnumerateInstanceVersion(&version);
    if (version < VK_API_VERSION_1_2) {
        if (why) *why = "the Vulkan loader is older than 1.2";
        return nullptr;
    }
    auto app = make<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
    app.pApplicationName = "mmfree";
    app.pEngineName = "mmfree";
    app.apiVersion = std::min<uint32_t>(version, VK_API_VERSION_1_3);
    auto ci = make<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
    ci.pApplicationInfo = &app;
    auto inst = std::make_shared<Instance>();
    const VkResult r = l->vkCreateInstance(&ci, nullptr, &inst->handle);
    if (r != VK_SUCCESS) {
        if (why) *why = std::string("cannot create a Vulkan instance (") + result_name(r) + "): no working Vulkan driver";
        inst->handle = VK_NULL_HANDLE;
        return nullptr;
    }
    load_instance_fns(inst->handle, inst->fn);
    return inst;
}

Instance::~Instance() {
    if (handle) fn.vkDestroyInstance(handle, nullptr);
}

static std::string type_name(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

static int type_rank(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

std::vector<Candidate> Instance::candidates() const {
    uint32_t n = 0;
    fn.vkEnumeratePhysicalDevices(handle, &n, nullptr);
    std::vector<VkPhysicalDevice> pds(n);
    if (n) fn.vkEnumeratePhysicalDevices(handle, &n, pds.data());
    std::vector<Candidate> out;
    for (uint32_t i = 0; i < n; ++i) {
        Candidate c;
        c.handle = pds[i];
        auto sub = make<VkPhysicalDeviceSubgroupProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES);
        auto drv = make<VkPhysicalDeviceDriverProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES);
        auto dotp = make<VkPhysicalDeviceShaderIntegerDotProductProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES);
        auto props = make<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
        props.pNext = &sub;
        sub.pNext = &drv;
        VkPhysicalDeviceProperties basic{};
        fn.vkGetPhysicalDeviceProperties(c.handle, &basic);
        c.api_version = basic.apiVersion;

        uint32_t next = 0;
        fn.vkEnumerateDeviceExtensionProperties(c.handle, nullptr, &next, nullptr);
        std::vector<VkExtensionProperties> exts(next);
        if (next) fn.vkEnumerateDeviceExtensionProperties(c.handle, nullptr, &next, exts.data());
        auto has_ext = [&](const char* name) {
            return std::any_of(exts.begin(), exts.end(), [&](auto& e) { return std::strcmp(e.extensionName, name) == 0; });
        };
        const bool dot_known = basic.apiVersion >= VK_API_VERSION_1_3 || has_ext(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
        c.memory_budget = has_ext(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
        if (dot_known) drv.pNext = &dotp;
        if (basic.apiVersion >= VK_API_VERSION_1_2) fn.vkGetPhysicalDeviceProperties2(c.handle, &props);

        auto dotf = make<VkPhysicalDeviceShaderIntegerDotProductFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES);
        auto cmf = make<VkPhysicalDeviceCooperativeMatrixFeaturesNV>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV);
        auto f12 = make<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
        auto feats = make<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
        const bool cm_ext = has_ext(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
        feats.pNext = &f12;
        if (dot_known) f12.pNext = &dotf;
        if (cm_ext) {
            cmf.pNext = f12.pNext;
            f12.pNext = &cmf;
        }
        if (basic.apiVersion >= VK_API_VERSION_1_2) fn.vkGetPhysicalDeviceFeatures2(c.handle, &feats);
        if (cm_ext && cmf.cooperativeMatrix && f12.vulkanMemoryModel && f12.shaderInt8 && fn.vkGetPhysicalDeviceCooperativeMatrixPropertiesNV) {
            uint32_t n = 0;
            fn.vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(c.handle, &n, nullptr);
            std::vector<VkCooperativeMatrixPropertiesNV> shapes(n, make<VkCooperativeMatrixPropertiesNV>(VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV));
            if (n) fn.vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(c.handle, &n, shapes.data());
            c.int8_matrix = std::any_of(shapes.begin(), shapes.end(), [](const VkCooperativeMatrixPropertiesNV& p) {
                return p.MSize == 16 && p.NSize == 8 && p.KSize == 32 && p.AType == VK_COMPONENT_TYPE_SINT8_NV &&
                       p.BType == VK_COMPONENT_TYPE_SINT8_NV && p.CType == VK_COMPONENT_TYPE_SINT32_NV &&
                       p.DType == VK_COMPONENT_TYPE_SINT32_NV && p.scope == VK_SCOPE_SUBGROUP_NV;
            });
        }

        uint32_t nq = 0;
        fn.vkGetPhysicalDeviceQueueFamilyProperties(c.handle, &nq, nullptr);
        std::vector<VkQueueFamilyProperties> qs(nq);
        fn.vkGetPhysicalDeviceQueueFamilyProperties(c.handle, &nq, qs.data());
        // Prefer a compute-only family (no graphics work shares it), else any with compute.
        int family = -1;
        for (uint32_t q = 0; q < nq; ++q)
            if ((qs[q].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qs[q].queueFlags & VK_QUEUE_GRAPHICS_BIT)) { family = int(q); break; }
        if (family < 0)
            for (uint32_t q = 0; q < nq; ++q)
                if (qs[q].queueFlags & VK_QUEUE_COMPUTE_BIT) { family = int(q); break; }

        VkPhysicalDeviceMemoryProperties mem{};
        fn.vkGetPhysicalDeviceMemoryProperties(c.handle, &mem);
        uint64_t local = 0;
        for (uint32_t h = 0; h < mem.memoryHeapCount; ++h)
            if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) local = std::max<uint64_t>(local, mem.memoryHeaps[h].size);

        c.queue_family = family < 0 ? 0 : uint32_t(family);
        c.subgroup_size = sub.subgroupSize;
        c.integer_dot = dotf.shaderIntegerDotProduct == VK_TRUE;
        c.integer_dot_fast = dotp.integerDotProduct4x8BitPackedSignedAccelerated == VK_TRUE;
        c.timestamp_bits = family < 0 ? 0 : qs[size_t(family)].timestampValidBits;
        c.timestamp_period_ns = basic.limits.timestampPeriod;
        c.max_shared = basic.limits.maxComputeSharedMemorySize;
        c.max_invocations = basic.limits.maxComputeWorkGroupInvocations;
        c.rank = type_rank(basic.deviceType);

        DeviceInfo& d = c.info;
        d.backend = "vulkan";
        d.index = int(i);
        d.name = basic.deviceName;
        d.type = type_name(basic.deviceType);
        d.driver = std::string(drv.driverName) + (drv.driverInfo[0] ? std::string(" ") + drv.driverInfo : "") + ", Vulkan " +
                   std::to_string(VK_API_VERSION_MAJOR(basic.apiVersion)) + "." + std::to_string(VK_API_VERSION_MINOR(basic.apiVersion)) +
                   "." + std::to_string(VK_API_VERSION_PATCH(basic.apiVersion));
        d.memory_bytes = local;
        d.features = std::string(c.integer_dot ? (c.integer_dot_fast ? "int8 dot product" : "int8 dot product (emulated)")
                                               : "no int8 dot product") +
                     ", subgroup " + std::to_string(sub.subgroupSize) + ", " + std::to_string(c.max_shared / 1024) +
                     " KiB shared, max binding " + std::to_string(basic.limits.maxStorageBufferRange >> 20) + " MiB" +
                     (c.timestamp_bits ? ", timestamps" : "") + (c.memory_budget ? ", memory budget" : "") +
                     (c.int8_matrix ? ", int8 cooperative matrix" : "");

        const uint32_t need_ops = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
        if (basic.apiVersion < VK_API_VERSION_1_2) d.reason = "needs Vulkan 1.2";
        else if (family < 0) d.reason = "no compute queue";
        else if (!f12.bufferDeviceAddress) d.reason = "no buffer device address support";
        else if (!feats.features.shaderInt64) d.reason = "no 64-bit integers in shaders";
        else if ((sub.supportedOperations & need_ops) != need_ops || !(sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT))
            d.reason = "no subgroup arithmetic and shuffles in compute shaders";
        else if (sub.subgroupSize < 4 || sub.subgroupSize > 128) d.reason = "unsupported subgroup size " + std::to_string(sub.subgroupSize);
        else if (basic.limits.maxPushConstantsSize < 128) d.reason = "push constants smaller than 128 bytes";
        d.usable = d.reason.empty();
        out.push_back(c);
    }
    return out;
}

Device::Device(std::shared_ptr<Instance> instance, const Candidate& c) : instance_(std::move(instance)), cand_(c) {
    const InstanceFns& ifn = instance_->fn;
    ifn.vkGetPhysicalDeviceMemoryProperties(c.handle, &mem_);
    const float priority = 1.0f;
    auto qci = make<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
    qci.queueFamilyIndex = c.queue_family;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;

    auto dotf = make<VkPhysicalDeviceShaderIntegerDotProductFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES);
    dotf.shaderIntegerDotProduct = VK_TRUE;
    auto f12 = make<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
    f12.bufferDeviceAddress = VK_TRUE;
    if (c.integer_dot) f12.pNext = &dotf;
    auto cmf = make<VkPhysicalDeviceCooperativeMatrixFeaturesNV>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV);
    if (c.int8_matrix) {
        cmf.cooperativeMatrix = VK_TRUE;
        cmf.pNext = f12.pNext;
        f12.pNext = &cmf;
        f12.vulkanMemoryModel = VK_TRUE;
        f12.shaderInt8 = VK_TRUE;
    }
    auto feats = make<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
    feats.features.shaderInt64 = VK_TRUE;
    feats.pNext = &f12;
    std::vector<const char*> exts;
    if (c.integer_dot && c.api_version < VK_API_VERSION_1_3) exts.push_back(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
    if (c.memory_budget) exts.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    if (c.int8_matrix) exts.push_back(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);

    auto dci = make<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
    dci.pNext = &feats;
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    dci.enabledExtensionCount = uint32_t(exts.size());
    dci.ppEnabledExtensionNames = exts.data();
    check(ifn.vkCreateDevice(c.handle, &dci, nullptr, &handle), "creating the logical device");
    load_device_fns(ifn, handle, fn);
    fn.vkGetDeviceQueue(handle, c.queue_family, 0, &queue_);

    auto pci = make<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = c.queue_family;
    check(fn.vkCreateCommandPool(handle, &pci, nullptr, &pool_), "creating a command pool");
    auto fci = make<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
    check(fn.vkCreateFence(handle, &fci, nullptr, &fence_), "creating a fence");

    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, 128};
    auto lci = make<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
    lci.pushConstantRangeCount = 1;
    lci.pPushConstantRanges = &range;
    check(fn.vkCreatePipelineLayout(handle, &lci, nullptr, &layout), "creating the pipeline layout");
}

Device::~Device() {
    if (!handle) return;
    fn.vkDeviceWaitIdle(handle);
    if (layout) fn.vkDestroyPipelineLayout(handle, layout, nullptr);
    if (fence_) fn.vkDestroyFence(handle, fence_, nullptr);
    if (pool_) fn.vkDestroyCommandPool(handle, pool_, nullptr);
    fn.vkDestroyDevice(handle, nullptr);
}

void Device::ensure_usable() const {
    if (lost_) throw Error(ErrorCode::DeviceError, "Vulkan: the GPU was lost earlier; continue on the CPU");
}

uint32_t Device::find_memory(uint32_t bits, MemoryKind kind, bool* coherent, bool* device_local) const {
    using F = VkMemoryPropertyFlags;
    const F local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, visible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
            coh = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, cached = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    std::vector<F> wanted;
    switch (kind) {
    case MemoryKind::Device: wanted = {local}; break;
    // Uploads are small and read by shaders every token: device-local when the host can map it.
    case MemoryKind::Upload: wanted = {local | visible | coh, visible | coh}; break;
    // Read-back must be cached, or the host reads it at a crawl.
    case MemoryKind::Readback: wanted = {visible | cached | coh, visible | cached, visible | coh}; break;
    }
    for (F w : wanted)
        for (uint32_t i = 0; i < mem_.memoryTypeCount; ++i)
            if ((bits & (1u << i)) && (mem_.memoryTypes[i].propertyFlags & w) == w) {
                *coherent = (mem_.memoryTypes[i].propertyFlags & coh) != 0;
                *device_local = (mem_.memoryTypes[i].propertyFlags & local) != 0;
                return i;
            }
    throw Error(ErrorCode::DeviceError, "Vulkan: the device has no suitable memory type");
}

Buffer Device::create_buffer(VkDeviceSize size, MemoryKind kind) {
    ensure_usable();
    Buffer b;
    b.size = size;
    auto bci = make<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
    bci.size = std::max<VkDeviceSize>(size, 256);
    bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
    bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(fn.vkCreateBuffer(handle, &bci, nullptr, &b.handle), "creating a buffer");
    VkMemoryRequirements req{};
    fn.vkGetBufferMemoryRequirements(handle, b.handle, &req);
    uint32_t type = 0;
    try {
        type = find_memory(req.memoryTypeBits, kind, &b.coherent, &b.device_local);
    } catch (...) {
        fn.vkDestroyBuffer(handle, b.handle, nullptr);
        throw;
    }
    auto flags = make<VkMemoryAllocateFlagsInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO);
    flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
    auto ai = make<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
    ai.pNext = &flags;
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = type;
    VkResult r = fn.vkAllocateMemory(handle, &ai, nullptr, &b.memory);
    if (r != VK_SUCCESS) {
        fn.vkDestroyBuffer(handle, b.handle, nullptr);
        fail("allocating " + std::to_string(size >> 20) + " MiB of GPU memory", r);
    }
    r = fn.vkBindBufferMemory(handle, b.handle, b.memory, 0);
    if (r == VK_SUCCESS && kind != MemoryKind::Device) r = fn.vkMapMemory(handle, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped);
    if (r != VK_SUCCESS) {
        fn.vkFreeMemory(handle, b.memory, nullptr);
        fn.vkDestroyBuffer(handle, b.handle, nullptr);
        fail("binding or mapping a buffer", r);
    }
    auto bai = make<VkBufferDeviceAddressInfo>(VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO);
    bai.buffer = b.handle;
    b.address = fn.vkGetBufferDeviceAddress(handle, &bai);
    b.allocated = req.size;
    if (b.device_local) device_bytes_ += req.size;
    return b;
}

void Device::destroy(Buffer& b) {
    if (b.handle) fn.vkDestroyBuffer(handle, b.handle, nullptr);
    if (b.memory) fn.vkFreeMemory(handle, b.memory, nullptr);
    if (b.device_local && b.memory) device_bytes_ -= std::min<size_t>(device_bytes_, size_t(b.allocated));
    b = Buffer{};
}

DeviceMemoryBudget Device::memory_budget() const {
    DeviceMemoryBudget out;
    if (!cand_.memory_budget) return out;
    auto budget = make<VkPhysicalDeviceMemoryBudgetPropertiesEXT>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT);
    auto props = make<VkPhysicalDeviceMemoryProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2);
    props.pNext = &budget;
    instance_->fn.vkGetPhysicalDeviceMemoryProperties2(cand_.handle, &props);
    for (uint32_t h = 0; h < props.memoryProperties.memoryHeapCount; ++h)
        if (props.memoryProperties.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
            out.used_bytes += budget.heapUsage[h];
            out.budget_bytes += budget.heapBudget[h];
        }
    // A driver that enables the extension but leaves the budget at zero has not really answered.
    out.available = out.budget_bytes > 0;
    return out;
}

void Device::invalidate(const Buffer& b) {
    if (b.coherent || !b.mapped) return;
    auto range = make<VkMappedMemoryRange>(VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE);
    range.memory = b.memory;
    range.size = VK_WHOLE_SIZE;
    fn.vkInvalidateMappedMemoryRanges(handle, 1, &range);
}

VkPipeline Device::create_pipeline(const Spirv& code, const std::vector<uint32_t>& spec) {
    ensure_usable();
    auto mci = make<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
    mci.codeSize = code.bytes;
    mci.pCode = code.code;
    VkShaderModule module = VK_NULL_HANDLE;
    check(fn.vkCreateShaderModule(handle, &mci, nullptr, &module), "loading a shader");
    std::vector<VkSpecializationMapEntry> entries(spec.size());
    for (size_t i = 0; i < spec.size(); ++i) entries[i] = {uint32_t(i), uint32_t(i * 4), 4};
    VkSpecializationInfo si{uint32_t(entries.size()), entries.data(), spec.size() * 4, spec.data()};
    auto pci = make<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
    pci.stage = make<VkPipelineShaderStageCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
    pci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    pci.stage.module = module;
    pci.stage.pName = "main";
    pci.stage.pSpecializationInfo = spec.empty() ? nullptr : &si;
    pci.layout = layout;
    VkPipeline p = VK_NULL_HANDLE;
    const VkResult r = fn.vkCreateComputePipelines(handle, VK_NULL_HANDLE, 1, &pci, nullptr, &p);
    fn.vkDestroyShaderModule(handle, module, nullptr);
    check(r, "creating a compute pipeline");
    return p;
}

void Device::destroy(VkPipeline p) {
    if (p) fn.vkDestroyPipeline(handle, p, nullptr);
}

VkCommandBuffer Device::allocate_command_buffer() {
    auto ai = make<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    ai.commandPool = pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VkCommandBuffer cb = VK_NULL_HANDLE;
    check(fn.vkAllocateCommandBuffers(handle, &ai, &cb), "allocating a command buffer");
    return cb;
}

void Device::free(VkCommandBuffer cb) {
    if (cb) fn.vkFreeCommandBuffers(handle, pool_, 1, &cb);
}

void Device::submit(VkCommandBuffer cb) {
    ensure_usable();
    if (pending_) throw Error(ErrorCode::DeviceError, "a Vulkan submission was made before the previous one was waited for");
    auto si = make<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cb;
    const VkResult r = fn.vkQueueSubmit(queue_, 1, &si, fence_);
    pending_ = r == VK_SUCCESS;
    if (r != VK_SUCCESS) {
        lost_ = true;
        fail("running a command buffer", r);
    }
}

void Device::wait() {
    if (!pending_) return;
    pending_ = false;
    // A generous timeout: a hung GPU becomes an error the caller can handle, not a frozen app.
    // CPU-emulated devices (lavapipe) get far longer: a big prefill there takes minutes.
    const uint64_t seconds = cand_.rank <= 1 ? 3600 : 300;
    const VkResult r = fn.vkWaitForFences(handle, 1, &fence_, VK_TRUE, seconds * 1000 * 1000 * 1000);
    fn.vkResetFences(handle, 1, &fence_);
    if (r != VK_SUCCESS) {
        lost_ = true;
        fail("running a command buffer", r);
    }
}

} // namespace mmfree::vk
