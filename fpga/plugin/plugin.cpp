// SPDX-License-Identifier: Apache-2.0
// The plugin's C ABI over AccelDriver. Every entry point catches everything: an exception must
// never cross into the engine, which may have been built by another compiler.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "accel_driver.h"
#include "mmfa_plugin.h"
#include "mmfa_regs.h"
#include "sim_transport.h"
#include "xdma_transport.h"

namespace {

using mmfa::AccelDriver;
using mmfa::DriverError;

struct Device {
    std::unique_ptr<AccelDriver> drv;
};

void set_err(char* err, size_t len, const std::string& msg) {
    if (err && len) std::snprintf(err, len, "%s", msg.c_str());
}

int code_of(const DriverError& e) {
    switch (e.kind()) {
    case DriverError::NoDevice: return MMFA_ERR_NO_DEVICE;
    case DriverError::Timeout: return MMFA_ERR_TIMEOUT;
    case DriverError::Device: return MMFA_ERR_DEVICE;
    case DriverError::Invalid: return MMFA_ERR_INVALID;
    default: return MMFA_ERR_INTERNAL;
    }
}

template <class F> int guarded(char* err, size_t len, F&& f) {
    try {
        f();
        return MMFA_OK;
    } catch (const DriverError& e) {
        set_err(err, len, e.what());
        return code_of(e);
    } catch (const std::exception& e) {
        set_err(err, len, e.what());
        return MMFA_ERR_INTERNAL;
    } catch (...) {
        set_err(err, len, "unknown error in the FPGA plugin");
        return MMFA_ERR_INTERNAL;
    }
}

Device* dev_of(void* p) {
    if (!p) throw DriverError(DriverError::Invalid, "null device handle");
    return static_cast<Device*>(p);
}

// "sim", "sim:small", "sim:board,latency=40", "xdma", "xdma:/dev/xdma1"
void* p_open(const char* spec_c, char* err, size_t len) {
    Device* out = nullptr;
    guarded(err, len, [&] {
        const std::string spec = spec_c ? spec_c : "sim";
        const auto colon = spec.find(':');
        const std::string kind = spec.substr(0, colon);
        const std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
        std::unique_ptr<mmfa::Transport> t;
        if (kind == "sim") {
            mmfa::SimOptions o;
            size_t p = 0;
            while (p < rest.size()) {
                size_t e = rest.find(',', p);
                if (e == std::string::npos) e = rest.size();
                const std::string item = rest.substr(p, e - p);
                const auto eq = item.find('=');
                if (eq == std::string::npos) o.config = item;
                else if (item.substr(0, eq) == "latency") o.mem_latency = unsigned(std::stoul(item.substr(eq + 1)));
                else if (item.substr(0, eq) == "pcie_gb_s") o.pcie_gb_s = std::stod(item.substr(eq + 1));
                else throw DriverError(DriverError::Invalid, "unknown sim option " + item);
                p = e + 1;
            }
            t = mmfa::make_sim_transport(o);
        } else if (kind == "xdma") {
            t = mmfa::make_xdma_transport(rest.empty() ? "/dev/xdma0" : rest);
        } else {
            throw DriverError(DriverError::Invalid, "unknown FPGA transport \"" + kind + "\" (sim or xdma)");
        }
        auto d = std::make_unique<Device>();
        d->drv = std::make_unique<AccelDriver>(std::move(t));
        d->drv->probe();
        out = d.release();
    });
    return out;
}

void p_close(void* p) { delete static_cast<Device*>(p); }

int p_device_info(void* p, mmfa_device_info* out) {
    return guarded(nullptr, 0, [&] {
        Device* d = dev_of(p);
        const auto& c = d->drv->config();
        mmfa_device_info info{};
        info.struct_size = sizeof info;
        std::snprintf(info.name, sizeof info.name, "%s", d->drv->transport().description().c_str());
        std::snprintf(info.transport, sizeof info.transport, "%s", d->drv->transport().name().c_str());
        info.modeled = d->drv->transport().modeled();
        info.version = d->drv->transport().read32(mmfa::regs::REG_VERSION);
        info.lanes = uint32_t(c.lanes);
        info.vregs = uint32_t(c.vregs);
        info.dmax = uint32_t(c.dmax);
        info.prog_depth = uint32_t(c.prog_depth);
        info.beat_bytes = uint32_t(c.beat_bytes());
        info.clk_hz = c.clk_hz;
        info.card_memory_bytes = d->drv->transport().card_memory_bytes();
        std::memcpy(out, &info, std::min<size_t>(sizeof info, out->struct_size ? out->struct_size : sizeof info));
    });
}

int p_set_option(void* p, const char* key, const char* value, char* err, size_t len) {
    return guarded(err, len, [&] {
        Device* d = dev_of(p);
        const std::string k = key ? key : "";
        const std::string v = value ? value : "";
        if (k == "timeout_cycles") d->drv->timeout_cycles = std::stoull(v);
        else if (k == "timeout_ms") d->drv->timeout_ms = std::stod(v);
        else throw DriverError(DriverError::Invalid, "unknown option " + k);
    });
}

int p_load_model(void* p, const mmfa_model_desc* m, char* err, size_t len) {
    return guarded(err, len, [&] {
        if (!m || m->struct_size < sizeof(mmfa_model_desc)) throw DriverError(DriverError::Invalid, "bad model description");
        dev_of(p)->drv->load_model(*m);
    });
}

int p_forward(void* p, const float* x, size_t count, float* logits, int all, int32_t* argmax, char* err, size_t len) {
    return guarded(err, len, [&] {
        if (!x || count == 0) throw DriverError(DriverError::Invalid, "forward needs at least one row");
        const int32_t a = dev_of(p)->drv->forward(x, count, logits, all != 0);
        if (argmax) *argmax = a;
    });
}

int p_reset_state(void* p, char* err, size_t len) {
    return guarded(err, len, [&] { dev_of(p)->drv->reset_state(); });
}

int p_get_state(void* p, float* out, size_t n, char* err, size_t len) {
    return guarded(err, len, [&] {
        const auto s = dev_of(p)->drv->get_state();
        if (n != s.size()) throw DriverError(DriverError::Invalid, "state size mismatch");
        std::memcpy(out, s.data(), n * sizeof(float));
    });
}

int p_set_state(void* p, const float* in, size_t n, char* err, size_t len) {
    return guarded(err, len, [&] { dev_of(p)->drv->set_state(std::vector<float>(in, in + n)); });
}

int p_metrics(void* p, mmfa_metrics* out) {
    return guarded(nullptr, 0, [&] {
        const auto m = dev_of(p)->drv->metrics();
        mmfa_metrics r{};
        r.struct_size = sizeof r;
        r.num_counters = uint32_t(std::min<size_t>(m.counters.size(), 32));
        for (uint32_t i = 0; i < r.num_counters; ++i) r.counters[i] = m.counters[i];
        r.clk_hz = m.clk_hz;
        r.last_token_cycles = m.last_token_cycles;
        r.cycles_per_token = m.cycles_per_token;
        r.modeled_tok_s = m.tok_s;
        r.modeled_tok_s_with_io = m.tok_s_with_io;
        r.joules_per_token = m.joules_per_token;
        r.watts = m.watts;
        r.power_source = m.power_source;
        r.sim_cycles_per_s = m.sim_cycles_per_s;
        std::memcpy(out, &r, std::min<size_t>(sizeof r, out->struct_size ? out->struct_size : sizeof r));
    });
}

int p_soft_reset(void* p, char* err, size_t len) {
    return guarded(err, len, [&] { dev_of(p)->drv->soft_reset(); });
}

const mmfa_plugin_api kApi = {
    MMFA_PLUGIN_ABI_VERSION, sizeof(mmfa_plugin_api), p_open, p_close, p_device_info, p_set_option, p_load_model,
    p_forward, p_reset_state, p_get_state, p_set_state, p_metrics, p_soft_reset,
};

} // namespace

extern "C" __attribute__((visibility("default"))) const mmfa_plugin_api* mmfa_plugin_entry(uint32_t abi_version) {
    return abi_version == MMFA_PLUGIN_ABI_VERSION ? &kApi : nullptr;
}
