// SPDX-License-Identifier: Apache-2.0
// NVIDIA power and memory through NVML. The library is opened with dlopen at run time so the
// engine builds and runs on machines without the NVIDIA driver; there it is simply "not available".
#include <dlfcn.h>

#include <memory>
#include <string>

#include "mmfree/telemetry.h"

namespace mmfree::telemetry {
namespace {

// The few NVML declarations we need, written from the documented C ABI: every call returns an
// int status (0 = success) and devices are opaque pointers.
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlMemory_t {
    unsigned long long total, free, used;
};
constexpr nvmlReturn_t NVML_SUCCESS = 0;

struct NvmlLibrary {
    void* handle = nullptr;
    nvmlReturn_t (*init)() = nullptr;
    nvmlReturn_t (*shutdown)() = nullptr;
    const char* (*error_string)(nvmlReturn_t) = nullptr;
    nvmlReturn_t (*device_count)(unsigned int*) = nullptr;
    nvmlReturn_t (*device_by_index)(unsigned int, nvmlDevice_t*) = nullptr;
    nvmlReturn_t (*device_name)(nvmlDevice_t, char*, unsigned int) = nullptr;
    nvmlReturn_t (*power_usage)(nvmlDevice_t, unsigned int*) = nullptr;                  // milliwatts
    nvmlReturn_t (*total_energy)(nvmlDevice_t, unsigned long long*) = nullptr;           // millijoules
    nvmlReturn_t (*memory_info)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
    bool initialized = false;

    ~NvmlLibrary() {
        if (initialized && shutdown) shutdown();
        if (handle) dlclose(handle);
    }
    std::string describe(nvmlReturn_t r) const {
        const char* s = error_string ? error_string(r) : nullptr;
        return s ? std::string(s) : "NVML error " + std::to_string(r);
    }
};

template <class F>
bool bind(void* handle, const char* name, F& out) {
    out = reinterpret_cast<F>(dlsym(handle, name));
    return out != nullptr;
}

// Opens and initializes NVML, or returns null with *reason saying why.
std::shared_ptr<NvmlLibrary> open_nvml(const std::string& library, std::string* reason) {
    auto lib = std::make_shared<NvmlLibrary>();
    lib->handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib->handle) {
        const char* e = dlerror();
        *reason = library + " not found (no NVIDIA driver): " + (e ? e : "dlopen failed");
        return nullptr;
    }
    bind(lib->handle, "nvmlErrorString", lib->error_string);
    // Prefer the _v2 entry points (current ABI), fall back to the original names.
    const bool ok = (bind(lib->handle, "nvmlInit_v2", lib->init) || bind(lib->handle, "nvmlInit", lib->init)) &&
                    bind(lib->handle, "nvmlShutdown", lib->shutdown) &&
                    (bind(lib->handle, "nvmlDeviceGetCount_v2", lib->device_count) ||
                     bind(lib->handle, "nvmlDeviceGetCount", lib->device_count)) &&
                    (bind(lib->handle, "nvmlDeviceGetHandleByIndex_v2", lib->device_by_index) ||
                     bind(lib->handle, "nvmlDeviceGetHandleByIndex", lib->device_by_index)) &&
                    bind(lib->handle, "nvmlDeviceGetName", lib->device_name);
    if (!ok) {
        *reason = library + " lacks the basic NVML entry points (nvmlInit_v2, nvmlDeviceGetCount_v2, …)";
        return nullptr;
    }
    bind(lib->handle, "nvmlDeviceGetPowerUsage", lib->power_usage);
    bind(lib->handle, "nvmlDeviceGetTotalEnergyConsumption", lib->total_energy);
    bind(lib->handle, "nvmlDeviceGetMemoryInfo", lib->memory_info);
    const nvmlReturn_t r = lib->init();
    if (r != NVML_SUCCESS) {
        *reason = "nvmlInit failed: " + lib->describe(r) + " (driver not loaded, or no permission on /dev/nvidia*)";
        return nullptr;
    }
    lib->initialized = true;
    return lib;
}

class NvmlProbe final : public PowerProbe {
public:
    NvmlProbe(std::shared_ptr<NvmlLibrary> lib, nvmlDevice_t dev, unsigned index, std::string device_name, bool use_energy)
        : lib_(std::move(lib)), dev_(dev), index_(index), device_(std::move(device_name)), use_energy_(use_energy) {}

    std::string name() const override { return "nvml:" + std::to_string(index_); }
    std::string device() const override { return device_; }
    std::string source() const override { return "measured"; }

    std::optional<PowerReading> read() override {
        PowerReading r;
        if (lib_->power_usage) {
            unsigned int mw = 0;
            const nvmlReturn_t e = lib_->power_usage(dev_, &mw);
            if (e == NVML_SUCCESS) r.watts = mw / 1000.0;
            else error_ = "nvmlDeviceGetPowerUsage: " + lib_->describe(e);
        }
        if (use_energy_) {
            unsigned long long mj = 0;
            const nvmlReturn_t e = lib_->total_energy(dev_, &mj);
            if (e == NVML_SUCCESS) {
                // The driver's counter starts at driver load; report it relative to our first read
                // so the value stays exact in a double.
                if (!base_mj_) base_mj_ = mj;
                r.energy_j = double(mj - *base_mj_) / 1000.0;
            } else {
                error_ = "nvmlDeviceGetTotalEnergyConsumption: " + lib_->describe(e);
            }
        }
        if (!r.watts && !r.energy_j) return std::nullopt;
        return r;
    }

private:
    std::shared_ptr<NvmlLibrary> lib_;
    nvmlDevice_t dev_;
    unsigned index_;
    std::string device_;
    bool use_energy_;
    std::optional<unsigned long long> base_mj_;
};

std::string device_name_of(const NvmlLibrary& lib, nvmlDevice_t dev, unsigned index) {
    char buf[96] = {};
    if (lib.device_name(dev, buf, sizeof buf) == NVML_SUCCESS && buf[0]) return buf;
    return "NVIDIA GPU " + std::to_string(index);
}

} // namespace

Probes find_nvml_probes(const std::string& library) {
    Probes out;
    std::string reason;
    auto lib = open_nvml(library, &reason);
    if (!lib) {
        out.unavailable.push_back({"nvml", reason});
        return out;
    }
    unsigned count = 0;
    if (const nvmlReturn_t e = lib->device_count(&count); e != NVML_SUCCESS || count == 0) {
        out.unavailable.push_back({"nvml", e != NVML_SUCCESS ? "nvmlDeviceGetCount: " + lib->describe(e) : "NVML reports no GPU"});
        return out;
    }
    for (unsigned i = 0; i < count; ++i) {
        const std::string id = "nvml:" + std::to_string(i);
        nvmlDevice_t dev = nullptr;
        if (const nvmlReturn_t e = lib->device_by_index(i, &dev); e != NVML_SUCCESS) {
            out.unavailable.push_back({id, "nvmlDeviceGetHandleByIndex: " + lib->describe(e)});
            continue;
        }
        // Decide once which readings this GPU supports: the energy counter exists from Volta on,
        // power usage on almost every board except some consumer parts.
        bool has_power = false, has_energy = false;
        if (lib->power_usage) {
            unsigned int mw = 0;
            has_power = lib->power_usage(dev, &mw) == NVML_SUCCESS;
        }
        if (lib->total_energy) {
            unsigned long long mj = 0;
            has_energy = lib->total_energy(dev, &mj) == NVML_SUCCESS;
        }
        const std::string name = device_name_of(*lib, dev, i);
        if (!has_power && !has_energy) {
            out.unavailable.push_back({id, name + " reports neither power usage nor total energy (not supported on this board)"});
            continue;
        }
        out.available.push_back(std::make_unique<NvmlProbe>(lib, dev, i, name, has_energy));
    }
    return out;
}

NvmlMemory::NvmlMemory(const std::string& library) {
    auto lib = open_nvml(library, &reason_);
    if (lib && !lib->memory_info) {
        reason_ = library + " has no nvmlDeviceGetMemoryInfo";
        lib.reset();
    }
    lib_ = lib;
}

std::vector<DeviceMemory> NvmlMemory::read() const {
    std::vector<DeviceMemory> out;
    const auto* lib = static_cast<const NvmlLibrary*>(lib_.get());
    if (!lib) return out;
    unsigned count = 0;
    if (lib->device_count(&count) != NVML_SUCCESS) return out;
    for (unsigned i = 0; i < count; ++i) {
        nvmlDevice_t dev = nullptr;
        nvmlMemory_t m{};
        if (lib->device_by_index(i, &dev) != NVML_SUCCESS || lib->memory_info(dev, &m) != NVML_SUCCESS) continue;
        out.push_back({device_name_of(*lib, dev, i), m.used, m.total});
    }
    return out;
}

} // namespace mmfree::telemetry
