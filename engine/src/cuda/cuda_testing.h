// SPDX-License-Identifier: Apache-2.0
// Hooks for tests/cuda: the raw int32 accumulators of the CUDA integer paths, to compare bit for
// bit with cpu::ternary_matvec_ref. Plain C++; implemented in testing.cu.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mmfree/model.h"

namespace mmfree::cuda_testing {

// Empty when a CUDA device can run this build's kernels, else why not.
std::string unavailable_reason();

// acc[n] = Σ_k q[k]·T[n,k] through the decode kernel's dp4a path; q has w.cols values.
std::vector<int32_t> decode_matvec(const TernaryMatrix& w, const std::vector<int8_t>& q);

// acc[t·N + n] for `rows` activation rows (rows × w.cols values) through the prefill int8
// tensor-core GEMM.
std::vector<int32_t> prefill_gemm(const TernaryMatrix& w, const std::vector<int8_t>& q, int rows);

} // namespace mmfree::cuda_testing
