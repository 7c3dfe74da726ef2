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

// The board holds one sequence's state; slots beyond it live on the host and are swapped in when
// their turn comes (a decode step runs its slots one after another: correct, not faster).
class PluginExecutor final : public Executor, public Diagnostics {
public:
    // library: path of the .so (empty = search, see find_plugin); spec: "sim", "xdma:/dev/xdma0", …
    PluginExecutor(std::shared_ptr<const Model> model, const std::string& library, const std::string& spec, int num_slots = 1);
    ~PluginExecutor() override;

    std::string backend_name() const override { return backend_; }
    std::string device_name() const override { return device_; }
    const Model& model() const override { return *model_; }
    int slot_count() const override { return int(slots_.size()); }
    void prefill(int slot, const int32_t* tokens, size_t count, float* logits, bool all_positions) override;
    void decode(const int32_t* slot_ids, const int32_t* tokens, size_t n, float* logits, int32_t* argmax) override;
    void reset_slot(int slot) override;
    std::vector<float> save_slot(int slot) const override;
    void load_slot(int slot, const std::vector<float>& state) override;
    Diagnostics& diagnostics() override { return *this; }
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
    void make_resident(int slot);   // the board's state becomes `slot`'s; the previous one saved on the host
    size_t state_floats() const { return size_t(model_->config.num_layers) * size_t(model_->config.state_dim()); }

    std::shared_ptr<const Model> model_;
    std::shared_ptr<PluginLibrary> lib_;
    const mmfa_plugin_api* api_ = nullptr;
    void* dev_ = nullptr;
    mmfa_device_info info_{};
    std::string backend_, device_;
    size_t device_bytes_ = 0;
    std::vector<float> rows_;
    // Host copies of the slots' states; the resident slot's copy is stale (the board has it).
    mutable std::vector<std::vector<float>> slots_;
    int resident_ = 0;
    mutable char err_[512] = {};
};

// The plugin file: $MMFREE_FPGA_PLUGIN, else next to the executable (., ../lib, ../lib/mmfree),
// else the build tree. Empty when none exists.
std::string find_plugin();

} // namespace mmfree::plugin
