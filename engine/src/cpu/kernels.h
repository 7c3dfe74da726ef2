// SPDX-License-Identifier: Apache-2.0
// BitLinear building blocks on the CPU. The scalar functions are the readable specification
// (MODEL_SPEC.md); other backends test their integer accumulators against ternary_matvec_ref.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mmfree/model.h"

namespace mmfree::cpu {

// out = x / sqrt(mean(x²) + eps) ⊙ gamma
void rms_norm(const float* x, const float* gamma, int n, float eps, float* out);

// Per-row int8 quantization: s = 127 / max(max|y|, 1e-5); q = clamp(round_half_away(y·s), −128, 127).
// Writes q[0..n) and zero padding q[n..padded_n); returns s.
float quantize_row(const float* y, int n, int padded_n, int8_t* q);

// acc[r] = Σ_k q[k] · T[r,k] for rows [row_begin, row_end) — the exact int32 accumulators.
void ternary_matvec_ref(const TernaryMatrix& w, const int8_t* q, int32_t* acc, int row_begin, int row_end);

// Fast path: q must be permuted by permute_for_simd (padded_n = row_stride·4 values).
// Computes the same accumulators as ternary_matvec_ref, bit for bit.
void permute_for_simd(const int8_t* q, int padded_n, int8_t* qp);
int32_t sum_q(const int8_t* q, int padded_n);
void ternary_matvec_fast(const TernaryMatrix& w, const int8_t* qp, int32_t qsum, int32_t* acc, int row_begin, int row_end);
bool cpu_has_avx2();

// The instruction sets of the batched kernel below, narrowest first.
enum class GemmIsa { Scalar, Avx2, AvxVnni, Avx512Vnni };
const char* gemm_isa_name(GemmIsa isa);                     // "scalar", "avx2", "avxvnni", "avx512vnni"
std::optional<GemmIsa> parse_gemm_isa(const std::string& name);
std::vector<GemmIsa> supported_gemm_isas();                 // what this CPU (and OS) runs, Scalar first
GemmIsa best_gemm_isa();                                    // the widest of those

// ternary_matvec_fast for many rows of activations at once (a prompt chunk or a decode batch):
// token t's permuted activations start at qp + t·q_stride, its Σq is qsum[t], and
// acc[t·acc_stride + (r − row_begin)] receives its accumulator of weight row r. Each weight row's
// codes are unpacked to bytes once and dotted with every token's activations; same int32 results
// as ternary_matvec_ref, bit for bit, on every instruction set.
void ternary_gemm_fast(const TernaryMatrix& w, const int8_t* qp, size_t q_stride, const int32_t* qsum, int tokens,
                       int32_t* acc, size_t acc_stride, int row_begin, int row_end, GemmIsa isa);

// The fast path's BitLinear input in one step: rms_norm(x; γ, eps) → quantize_row →
// permute_for_simd, with Σq in *qsum; the same bytes and scale as those calls, bit for bit.
// scratch holds n + padded_n floats. Returns the scale s.
float norm_quantize_permuted(const float* x, const float* gamma, int n, float eps, int padded_n, float* scratch,
                             int8_t* qp, int32_t* qsum);

// e^x as 2^n · p(r), r = x − n·ln2, p a degree-6 Taylor polynomial (error < 1 ulp of float over
// |r| ≤ ln2/2); x is clamped to [−87, 88] so 2^n stays a normal float. The AVX2 element-wise
// loops run the same operations in the same order (this file is compiled without FMA
// contraction), so the fast and reference executors stay identical bit for bit.
float exp_approx(float x);
inline float sigmoid(float z) { return 1.0f / (1.0f + exp_approx(-z)); }
inline float silu(float z) { return z / (1.0f + exp_approx(-z)); }

// The element-wise stages of one token (SIMD when available, same results as the scalar loop).
// MLGRU: f = σ(f_pre), lifted to lb + (1 − lb)·f when lb is given; h = f·h + silu(i_pre)·(1 − f);
// out = h (out may alias i_pre).
void mlgru_step(const float* i_pre, const float* f_pre, const float* lb, float* h, float* out, int n);
void mul_silu(float* z, const float* gate, int n);                     // z ·= silu(gate)
void swiglu(const float* gate, const float* up, float* out, int n);    // out = silu(gate)·up

} // namespace mmfree::cpu
