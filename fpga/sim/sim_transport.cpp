// SPDX-License-Identifier: Apache-2.0
#include "sim_transport.h"

#include "Vmmfa_board.h"
#include "Vmmfa_small.h"
#include "sim_board.h"

namespace mmfa {

std::unique_ptr<SimTransport> make_sim_transport(const SimOptions& o) {
    if (o.config == "small") return std::make_unique<SimBoard<Vmmfa_small>>(o, "FPGA (simulated), MMFA 64 lanes");
    if (o.config == "board") return std::make_unique<SimBoard<Vmmfa_board>>(o, "FPGA (simulated), MMFA 256 lanes");
    throw DriverError(DriverError::Invalid, "unknown simulated configuration \"" + o.config + "\" (board or small)");
}

} // namespace mmfa
