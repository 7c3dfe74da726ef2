// SPDX-License-Identifier: Apache-2.0
// Stand-ins compiled only for backends that this build leaves out (see engine/CMakeLists.txt):
// they report the backend as unavailable, with the reason.
#include "mmfree/error.h"
#include "runtime/backends.h"

namespace mmfree::backends {

#ifndef MMFREE_HAVE_VULKAN
std::unique_ptr<Executor> create_vulkan(std::shared_ptr<const Model>, const BackendOptions&, bool) { return nullptr; }
std::vector<DeviceInfo> vulkan_devices() {
    return {DeviceInfo{"vulkan", 0, "Vulkan", "", "", 0, "", false, "this build has no Vulkan backend (MMFREE_VULKAN=OFF)"}};
}
#endif

#ifndef MMFREE_HAVE_CUDA
std::unique_ptr<Executor> create_cuda(std::shared_ptr<const Model>, const BackendOptions&) { return nullptr; }
std::vector<DeviceInfo> cuda_devices() {
    return {DeviceInfo{"cuda", 0, "CUDA", "", "", 0, "", false, "this build has no CUDA backend (CUDA Toolkit not found at build time)"}};
}
#endif

#ifndef MMFREE_HAVE_PLUGIN
std::unique_ptr<Executor> create_plugin(std::shared_ptr<const Model>, const BackendOptions& options) {
    throw Error(ErrorCode::DeviceError, "backend " + options.backend + " is not available: this build has no plugin support");
}
std::vector<DeviceInfo> plugin_devices() { return {}; }
#endif

} // namespace mmfree::backends
