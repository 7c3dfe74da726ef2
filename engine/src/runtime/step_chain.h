// SPDX-License-Identifier: Apache-2.0
// The synchronization-floor probe (Executor::measure_step_floor_us): a chain of dependent
// grid-wide steps, each out[i] = in[i]/2 + mean(in)/2 + 1, starting from in[i] = i mod 7. Every
// workgroup of a step reads the whole input vector, as a decode BitLinear reads the previous
// one's output; the arithmetic is negligible. A wrong hand-over (a stale read) shifts the mean,
// which the chain never forgets, so the host check below catches it.
#pragma once
#include <cstddef>
#include <vector>

namespace mmfree {

inline float step_chain_initial(size_t i) { return float(i % 7); }

// Throws Error(DeviceError) naming `backend` unless `device` (n floats) matches `applications`
// steps of the chain computed on the host.
void check_step_chain(const std::vector<float>& device, int applications, const char* backend);

} // namespace mmfree
