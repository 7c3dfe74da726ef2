// SPDX-License-Identifier: Apache-2.0
// The narrow interface between AccelDriver (all protocol logic) and a board: registers, card
// memory, and time. The simulated board and a real XDMA board differ only below this line.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace mmfa {

class DriverError : public std::runtime_error {
public:
    enum Kind { NoDevice, Timeout, Device, Invalid, Internal };
    DriverError(Kind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual std::string name() const = 0;          // "sim", "xdma"
    virtual std::string description() const = 0;  // for the device list
    virtual bool modeled() const = 0;              // simulated: every number is modeled
    virtual uint32_t read32(uint32_t offset) = 0;
    virtual void write32(uint32_t offset, uint32_t value) = 0;
    virtual void write_mem(uint64_t card_addr, const void* src, size_t bytes) = 0;
    virtual void read_mem(uint64_t card_addr, void* dst, size_t bytes) = 0;
    virtual uint64_t card_memory_bytes() const = 0;
    // Lets time pass while the host waits. The simulator runs `cycles` clock cycles; a real
    // board sleeps about `cycles` nominal clock periods (at least a few microseconds).
    virtual void advance(uint64_t cycles) = 0;
    // Host<->card transfer time charged so far, seconds (modeled PCIe for the simulator).
    virtual double io_seconds() const { return 0; }
    // Simulator speed for the dashboard; 0 for hardware.
    virtual double sim_cycles_per_second() const { return 0; }
};

} // namespace mmfa
