// SPDX-License-Identifier: Apache-2.0
// AccelDriver: everything the host does with an MMFA board, independent of the transport:
// identify it, load a model image, ring one doorbell per token (or per prompt chunk), wait with
// a budget, read results and telemetry, recover with a soft reset.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "isa.h"
#include "mmfa_plugin.h"
#include "model_image.h"
#include "transport.h"

namespace mmfa {

class AccelDriver {
public:
    explicit AccelDriver(std::unique_ptr<Transport> transport);

    // Reads MAGIC / VERSION / CAPS; throws DriverError(NoDevice) on a foreign or newer device.
    void probe();
    const DeviceConfig& config() const { return cfg_; }
    Transport& transport() { return *t_; }

    void load_model(const mmfa_model_desc& model);
    bool loaded() const { return loaded_; }
    const ModelImage& image() const { return img_; }

    // Feeds count embedding rows (H floats each). logits: count*V floats when all_positions,
    // else V floats for the last row; may be null. Returns the last row's argmax.
    int32_t forward(const float* x, size_t count, float* logits, bool all_positions);
    void reset_state();
    std::vector<float> get_state();
    void set_state(const std::vector<float>& s);

    // Raw ring access for tests: writes descriptors, rings once, waits for all of them.
    void submit(const std::vector<Descriptor>& descs);
    void soft_reset();

    struct Metrics {
        std::vector<uint64_t> counters;
        double clk_hz = 0, last_token_cycles = 0, cycles_per_token = 0, tok_s = 0, tok_s_with_io = 0;
        double joules_per_token = 0, watts = 0, sim_cycles_per_s = 0;
        int power_source = 0;
        uint64_t tokens = 0;
    };
    Metrics metrics();
    std::vector<uint64_t> read_counters();   // snapshot + read of every telemetry counter

    // Budget for one wait: simulated cycles (sim) and wall-clock milliseconds (hardware).
    uint64_t timeout_cycles = 200'000'000;
    double timeout_ms = 10'000;

private:
    void wait_head(uint32_t target);
    void write_blob(uint32_t addr, const void* p, size_t n) { t_->write_mem(addr, p, n); }

    std::unique_ptr<Transport> t_;
    DeviceConfig cfg_;
    uint32_t beat_bytes_ = 0;
    ModelImage img_;
    bool loaded_ = false;
    uint32_t tail_ = 0;
    uint16_t seq_ = 0;
    // telemetry baseline at load, so metrics describe this model's tokens only
    std::vector<uint64_t> base_;
    double io_base_ = 0;
};

} // namespace mmfa
