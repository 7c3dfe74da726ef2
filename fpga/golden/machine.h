// SPDX-License-Identifier: Apache-2.0
// Golden model of the whole accelerator: executes descriptors and microcode on a CardMemory
// with exactly the RTL's integer results (not its timing). The tests compare the Verilated RTL
// against it bit for bit, and compare it against the float reference within MODEL_SPEC tolerance.
#pragma once
#include <cstdint>
#include <vector>

#include "card_memory.h"
#include "isa.h"
#include "numerics.h"

namespace mmfa::golden {

class Machine {
public:
    Machine(const DeviceConfig& cfg, CardMemory& mem);

    // Executes one 16-byte descriptor; returns an regs::ERR_* code (0 = success).
    uint32_t execute(const Descriptor& d);
    uint32_t load_program(uint32_t addr, uint32_t count);
    uint32_t run(uint32_t pc, uint32_t arg);

    uint32_t argmax_index() const { return argmax_idx_; }
    vec_t argmax_value() const { return argmax_val_; }
    uint32_t error_pc() const { return pc_; }
    const std::vector<vec_t>& vreg(int i) const { return v_[size_t(i)]; }
    // Work counters, for cross-checking the RTL's telemetry.
    uint64_t weight_bytes() const { return weight_bytes_; }
    uint64_t nonzero_weights() const { return nonzero_; }

private:
    uint32_t step(const Instr& in, uint32_t arg);
    void write(int reg, uint32_t idx, vec_t value, bool track);

    DeviceConfig cfg_;
    CardMemory& mem_;
    std::vector<Instr> prog_;
    std::vector<std::vector<vec_t>> v_;
    std::vector<int8_t> act_;
    uint32_t pc_ = 0;
    uint64_t amax_ = 0, qm_ = 1;
    uint32_t mq_ = 0, mq_shift_ = 0;
    uint64_t qrecip_ = 0;
    uint32_t argmax_idx_ = 0;
    vec_t argmax_val_ = 0, best_ = 0;
    uint64_t weight_bytes_ = 0, nonzero_ = 0;
};

} // namespace mmfa::golden
