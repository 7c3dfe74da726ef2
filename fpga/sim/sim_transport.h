// SPDX-License-Identifier: Apache-2.0
// The simulated board: the Verilated RTL, an AXI4-Lite bus master for register access and an
// AXI4 card-memory slave with latency, on a thread of its own (board_thread.h). Deterministic:
// the clock only advances inside calls, so every test run takes the same cycles.
#pragma once
#include <memory>
#include <string>
#include <thread>

#include "transport.h"

namespace mmfa {

struct SimOptions {
    std::string config = "board";   // "board": 256 lanes, DMAX 8192 (the board-size design); "small": 64 lanes
    unsigned mem_latency = 24;      // cycles from AR to the first R beat (~120 ns DDR4 at 200 MHz)
    double pcie_gb_s = 12.0;        // modeled host<->card DMA rate (PCIe Gen3 x16 effective)
    uint64_t card_bytes = uint64_t(1) << 32;
};

class SimTransport : public Transport {
public:
    // The thread that last ran the Verilated model: the board's own, never the caller's.
    virtual std::thread::id clock_thread() const = 0;
};

std::unique_ptr<SimTransport> make_sim_transport(const SimOptions& options);

} // namespace mmfa
