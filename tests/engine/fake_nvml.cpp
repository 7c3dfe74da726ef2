// SPDX-License-Identifier: Apache-2.0
// A stand-in libnvidia-ml for test_telemetry: the real NVML probe dlopens this file and runs its
// real loading and parsing code against two fake GPUs. Device 0 has an energy counter (Volta and
// newer), device 1 only reports power. FAKE_NVML_INIT_FAIL=1 makes nvmlInit fail like a machine
// whose driver is not loaded.
#include <cstdlib>
#include <cstring>

namespace {
struct FakeDevice {
    const char* name;
    unsigned power_mw;
    bool has_energy;
    unsigned long long energy_mj;
};
FakeDevice devices[2] = {{"Fake GPU A", 150000, true, 1000000000ull}, {"Fake GPU B", 75500, false, 0}};
bool initialized = false;
} // namespace

extern "C" {
struct nvmlMemory_t {
    unsigned long long total, free, used;
};

int nvmlInit_v2() {
    const char* fail = std::getenv("FAKE_NVML_INIT_FAIL");
    if (fail && std::strcmp(fail, "1") == 0) return 9;  // NVML_ERROR_DRIVER_NOT_LOADED
    initialized = true;
    return 0;
}
int nvmlShutdown() {
    initialized = false;
    return 0;
}
const char* nvmlErrorString(int r) { return r == 9 ? "Driver Not Loaded" : r == 3 ? "Not Supported" : "Unknown Error"; }
int nvmlDeviceGetCount_v2(unsigned* count) {
    if (!initialized) return 1;
    *count = 2;
    return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned index, void** dev) {
    if (index >= 2) return 2;
    *dev = &devices[index];
    return 0;
}
int nvmlDeviceGetName(void* dev, char* name, unsigned length) {
    std::strncpy(name, static_cast<FakeDevice*>(dev)->name, length - 1);
    name[length - 1] = 0;
    return 0;
}
int nvmlDeviceGetPowerUsage(void* dev, unsigned* mw) {
    *mw = static_cast<FakeDevice*>(dev)->power_mw;
    return 0;
}
// Every call advances the counter by 2.5 J, so a test sees exact deltas.
int nvmlDeviceGetTotalEnergyConsumption(void* dev, unsigned long long* mj) {
    auto* d = static_cast<FakeDevice*>(dev);
    if (!d->has_energy) return 3;  // NVML_ERROR_NOT_SUPPORTED
    d->energy_mj += 2500;
    *mj = d->energy_mj;
    return 0;
}
int nvmlDeviceGetMemoryInfo(void* dev, nvmlMemory_t* m) {
    const bool a = dev == &devices[0];
    m->total = a ? 80ull << 30 : 24ull << 30;
    m->used = a ? 3ull << 30 : 1ull << 30;
    m->free = m->total - m->used;
    return 0;
}
}
