// SPDX-License-Identifier: Apache-2.0
// The backends of this build, in one table (backend.cpp): name, description, and either the
// entry points or why they are not compiled in. The optional backends define the entry points
// below in their own sources (vulkan/, cuda/, plugin/); a backend that is compiled in but fails
// throws Error(DeviceError).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "mmfree/backend.h"

namespace mmfree::backends {

struct Backend {
    const char* name;          // as BackendOptions::backend spells it; one ending in ':' is a prefix ("plugin:PATH")
    const char* description;
    // quiet (backend "auto"): return nullptr instead of throwing when no device suits. Null when
    // the backend is not compiled in; then absent_reason says why.
    std::unique_ptr<Executor> (*create)(std::shared_ptr<const Model> model, const BackendOptions& options, bool quiet);
    const char* absent_reason;
    std::vector<DeviceInfo> (*devices)();   // its entries in list_devices() (absent ones: why not usable)
};

const std::vector<Backend>& registered_backends();
// "auto, cpu, cpu-reference, …": what BackendOptions::backend accepts, for messages and help.
std::string backend_choices();

std::unique_ptr<Executor> create_vulkan(std::shared_ptr<const Model> model, const BackendOptions& options, bool quiet);
std::vector<DeviceInfo> vulkan_devices();

std::unique_ptr<Executor> create_cuda(std::shared_ptr<const Model> model, const BackendOptions& options);
std::vector<DeviceInfo> cuda_devices();

std::unique_ptr<Executor> create_plugin(std::shared_ptr<const Model> model, const BackendOptions& options);
std::vector<DeviceInfo> plugin_devices();

} // namespace mmfree::backends
