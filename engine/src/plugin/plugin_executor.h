// SPDX-License-Identifier: Apache-2.0
// Executor for accelerator plugins (today: the MMFA FPGA plugin, simulated or on an XDMA board).
// The plugin is a shared library loaded at run time through a small versioned C ABI
// (fpga/plugin/mmfa_plugin.h); a missing library, a missing board or a hung board all surface
// as Error(DeviceError) so create_executor can fall back to the CPU.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mmfa_plugin.h"
#include "mmfree/backend.h"

namespace mmfree::plugin {

class PluginLibrary;

class PluginExecutor final : public Executor {
public:
    // library: path of the .so (empty = search, see find_plugin); spec: "sim", "xdma:/dev/xdma0", …
    PluginExecutor(std::shared_ptr<const Model> model, const std::string& library, const std::string& spec);
    ~PluginExecutor() override;

    std::string backend_name() const override { return backend_; }
    std::string device_name() const override { return device_; }
    const Model& model() const override { return *model_; }
    void forward(const int32_t* tokens, size_t count, float* logits, bool all_positions) override;
    int32_t forward_argmax(int32_t token) override;
    void reset_state() override;
    std::vector<float> save_state() const override;
    void load_state(const std::vector<float>& state) override;
    size_t device_memory_bytes() const override { return device_bytes_; }
    // Board counters turned into modeled numbers (cycles/token, tok/s, J/token), for bench.
    std::vector<std::pair<std::string, double>> extra_metrics() const override;

    mmfa_metrics accelerator_metrics() const;
    mmfa_device_info device_info() const { return info_; }
    // Tuning and fault injection for tests: "timeout_cycles", "timeout_ms".
    void set_option(const std::string& key, const std::string& value);
    void soft_reset();

private:
    void check(int rc, const char* what) const;
    void embed(const int32_t* tokens, size_t count);

    std::shared_ptr<const Model> model_;
    std::shared_ptr<PluginLibrary> lib_;
    const mmfa_plugin_api* api_ = nullptr;
    void* dev_ = nullptr;
    mmfa_device_info info_{};
    std::string backend_, device_;
    size_t device_bytes_ = 0;
    std::vector<float> rows_;
    mutable char err_[512] = {};
};

// The plugin file: $MMFREE_FPGA_PLUGIN, else next to the executable (., ../lib, ../lib/mmfree),
// else the build tree. Empty when none exists.
std::string find_plugin();

} // namespace mmfree::plugin
