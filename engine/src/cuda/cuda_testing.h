// SPDX-License-Identifier: Apache-2.0
// Hooks for tests/cuda: the raw int32 accumulators of the CUDA integer paths, to compare bit for
// bit with cpu::ternary_matvec_ref, and the sample kernel on given rows, to compare with
// Sampler::draw. Plain C++; implemented in testing.cu.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mmfree/model.h"
#include "mmfree/sampler.h"

namespace mmfree::cuda_testing {

// Empty when a CUDA device can run this build's kernels, else why not.
std::string unavailable_reason();

// acc[n] = Σ_k q[k]·T[n,k] through the decode kernel's dp4a path; q has w.cols values.
std::vector<int32_t> decode_matvec(const TernaryMatrix& w, const std::vector<int8_t>& q);

// acc[t·N + n] for `rows` activation rows (rows × w.cols values) through the prefill int8
// tensor-core GEMM; k_split > 1 (rows ≤ 64) shares each tile's K among that many blocks.
std::vector<int32_t> prefill_gemm(const TernaryMatrix& w, const std::vector<int8_t>& q, int rows, int k_split = 1);

// The prefill MLGRU scan of one pass of T rows of D channels: ai, af [T, D], lb [D] or empty.
// Piece p is rows first[p] .. first[p] + rows[p] − 1 on state p of `states` [pieces, D] (the
// incoming states, which come back updated); returns silu(h_t) [T, D].
std::vector<float> mlgru_scan(const std::vector<float>& ai, const std::vector<float>& af, const std::vector<float>& lb,
                              std::vector<float>& states, const std::vector<int>& first, const std::vector<int>& rows, int T, int D);

// The prefill norm + quantization of `rows` rows x [rows, K] (Plain input): RMSNorm with g0,
// then one vector per g1[j]. q[j] [rows, Kp] in natural order (Kp = K padded to 128), with the
// row scales s[j] and the Σq the kernel reports.
struct NormQuant {
    int Kp = 0;
    std::vector<int8_t> q[3];
    std::vector<float> s[3];
    std::vector<int32_t> qsum[3];
};
NormQuant prefill_norm_quant(const std::vector<float>& x, int rows, int K, const std::vector<float>& g0,
                             const std::vector<std::vector<float>>& g1);

// The sample kernel (sample.cu) on rows of V logits given here (draws.size() rows, V below 2^17),
// one draw per row: the token of each row.
std::vector<int32_t> sample_rows(const std::vector<float>& logits, const std::vector<sampling::Draw>& draws);

} // namespace mmfree::cuda_testing
