// SPDX-License-Identifier: Apache-2.0
// A real board behind Xilinx's XDMA driver: registers through mmap of /dev/xdmaN_user (the
// AXI4-Lite slave sits at offset 0 of the user BAR), card memory through pwrite/pread on the
// host-to-card / card-to-host DMA character devices at the card address.
#pragma once
#include <memory>
#include <string>

#include "transport.h"

namespace mmfa {

// base: "/dev/xdma0". Throws DriverError(NoDevice) when the device nodes are missing.
std::unique_ptr<Transport> make_xdma_transport(const std::string& base, uint64_t card_bytes = uint64_t(1) << 32);

} // namespace mmfa
