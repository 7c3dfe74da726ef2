// SPDX-License-Identifier: Apache-2.0
// Entry points of the optional backends. Each returns nullptr / an empty list when it is not
// compiled in, so backend.cpp needs no #ifdefs. A backend that is compiled in but fails throws
// Error(DeviceError).
#pragma once
#include <memory>
#include <vector>

#include "mmfree/backend.h"

namespace mmfree::backends {

std::unique_ptr<Executor> create_vulkan(std::shared_ptr<const Model> model, const BackendOptions& options, bool quiet);
std::vector<DeviceInfo> vulkan_devices();

std::unique_ptr<Executor> create_cuda(std::shared_ptr<const Model> model, const BackendOptions& options);
std::vector<DeviceInfo> cuda_devices();

std::unique_ptr<Executor> create_plugin(std::shared_ptr<const Model> model, const BackendOptions& options);
std::vector<DeviceInfo> plugin_devices();

} // namespace mmfree::backends
