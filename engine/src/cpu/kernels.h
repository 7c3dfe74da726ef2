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
bool cpu_has_avx2();

// The instruction sets of the integer kernels, narrowest first. Amx is AVX-512 VNNI plus the
// tile unit: the batched 2-bit kernel runs on tiles, every other kernel as on Avx512Vnni.
enum class GemmIsa { Scalar, Avx2, AvxVnni, Avx512Vnni, Amx };
const char* gemm_isa_name(GemmIsa isa);                     // "scalar", "avx2", "avxvnni", "avx512vnni", "amx"
std::optional<GemmIsa> parse_gemm_isa(const std::string& name);
std::vector<GemmIsa> supported_gemm_isas();                 // what this CPU (and OS) runs, Scalar first
GemmIsa best_gemm_isa();                                    // the widest of those
GemmIsa vector_isa(GemmIsa isa);                            // the vector kernels' set: Amx → Avx512Vnni

// The one-row kernel on instruction set `isa` (one the CPU runs): every set splits each code
// byte into its four fields with one shift and masks; AVX2 sums them in int16 pairs, the VNNI
// sets add each field in int32 with one dot-product instruction.
void ternary_matvec_fast(const TernaryMatrix& w, const int8_t* qp, int32_t qsum, int32_t* acc, int row_begin, int row_end,
                         GemmIsa isa);

// The kernels prefetch a fixed distance ahead of their loads; this asks for the first stretch of
// a stream (its first `bytes`, at most that distance), which nothing has prefetched yet. A part of
// a parallel region starts cold otherwise: ~100 regions per token, one cold start each per thread.
void prefetch_stream_start(const uint8_t* begin, size_t bytes);
// Asks for `bytes` from begin into this core's L2 (not L1: it is for a later loop).
void prefetch_to_l2(const uint8_t* begin, size_t bytes);

// ternary_matvec_fast for many rows of activations at once (a prompt chunk or a decode batch):
// token t's permuted activations start at qp + t·q_stride, its Σq is qsum[t], and
// acc[t·acc_stride + (r − row_begin)] receives its accumulator of weight row r. AMX (from 5 tokens)
// unpacks 16 rows into B tiles and multiplies 16 tokens at a time; AVX-512 masks each code field in
// registers for four rows × four tokens at a time; the others unpack a tile of rows to bytes once
// and dot it with every token's activations. Same int32 results as ternary_matvec_ref, bit for
// bit, on every instruction set. isa must come from supported_gemm_isas(), which also asks the OS
// for the AMX tile state.
void ternary_gemm_fast(const TernaryMatrix& w, const int8_t* qp, size_t q_stride, const int32_t* qsum, int tokens,
                       int32_t* acc, size_t acc_stride, int row_begin, int row_end, GemmIsa isa);

// --- 1.6-bit layout: five weights per byte (3^5 = 243) ------------------------------------
//
// A CPU-side copy of a TernaryMatrix, ~20 % fewer bytes to stream per token. A row is full
// 32-byte blocks of 160 weights, then (when the rest fits) one 16-byte half block of 80:
// digit i (0..4) of byte j in a block of width W (32 or 16) holds the code c = w + 1 of weight
// start + W·i + j, so each digit's activations are W consecutive values of the row in its natural
// order (no permutation). A byte stores ceil(v·256/243), v = Σ c_i·3^(4−i): digit i is then
// c_i = floor(3·x_i / 256) with x_i = 3^i·byte mod 256, i.e. [x_i ≥ 86] + [x_i ≥ 171]. The
// half block keeps the padding small: K = 1024 takes 208 bytes, not 224.
struct TritMatrix {
    int rows = 0;
    int cols = 0;
    int row_stride = 0;                 // bytes per row
    std::vector<int32_t> code_sums;     // Σ_k c_k of each row, padding included (the AVX2 kernel's offset)
    StreamedBytes codes;

    static int full_blocks(int cols) { return cols / 160 + (cols % 160 > 80 ? 1 : 0); }
    static bool half_block(int cols) { return cols % 160 > 0 && cols % 160 <= 80; }
    static int stride_for(int cols) { return 32 * full_blocks(cols) + (half_block(cols) ? 16 : 0); }
    // Activations the kernels read per row: zero-padded to a multiple of 128 (the GEMM's step).
    static int activation_length(int cols) { return 128 * ((stride_for(cols) * 5 + 127) / 128); }
    // The weight index of digit i of row byte p.
    static int weight_index(int cols, int p, int i) {
        const int f = full_blocks(cols);
        return p < 32 * f ? p / 32 * 160 + 32 * i + p % 32 : 160 * f + 16 * i + (p - 32 * f);
    }
    int code(int r, int k) const;       // c ∈ {0, 1, 2} of weight (r, k), for tests
    size_t packed_bytes() const { return codes.size() + code_sums.size() * sizeof(int32_t); }
};

uint8_t encode_trits(const int (&c)[5]);   // the stored byte of five codes c ∈ {0, 1, 2}
int decode_trit(uint8_t byte, int i);      // code i of a stored byte
// The same weights in the 1.6-bit layout. pack_trits_shape allocates (zeros), pack_trits_rows
// fills rows [row_begin, row_end): several threads can convert one large matrix.
TritMatrix pack_trits_shape(const TernaryMatrix& w);
void pack_trits_rows(const TernaryMatrix& w, TritMatrix& out, int row_begin, int row_end);
TritMatrix pack_trits(const TernaryMatrix& w);

// acc[r] = Σ_k q[k]·T[r,k] from the 1.6-bit codes; q in natural order, activation_length(cols)
// long, zero-padded; qsum = Σ q. Bit-exact with ternary_matvec_ref on every instruction set:
// AVX2 decodes the digits (compares); the VNNI sets skip decoding: with x_{i+1} = 3·x_i mod 256,
// c_i = (3·x_i − x_{i+1}) / 256, so Σ c_i·q_i = (3·Σ x_i·q_i − Σ x_{i+1}·q_i) / 256: two
// u8 × s8 dot products per digit and nothing else.
void ternary_matvec_trits(const TritMatrix& w, const int8_t* q, int32_t qsum, int32_t* acc, int row_begin, int row_end, GemmIsa isa);
// ternary_gemm_fast on the 1.6-bit codes: q rows in natural order (not permuted),
// activation_length(cols) long; the same micro-kernels, so the same instruction sets.
void ternary_gemm_trits(const TritMatrix& w, const int8_t* q, size_t q_stride, const int32_t* qsum, int tokens, int32_t* acc,
                        size_t acc_stride, int row_begin, int row_end, GemmIsa isa);

// rms_norm → quantize_row in natural order (the 1.6-bit layout's input), with Σq in *qsum;
// scratch holds n floats. Returns the scale s.
float norm_quantize(const float* x, const float* gamma, int n, float eps, int padded_n, float* scratch, int8_t* q, int32_t* qsum);

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
// out = silu(h), the factor of the output gate (out may alias i_pre).
void mlgru_step(const float* i_pre, const float* f_pre, const float* lb, float* h, float* out, int n);
// out = rms_norm(x; gamma) ⊙ gate, rounded as rms_norm followed by the product.
void gated_rms_norm(const float* x, const float* gamma, const float* gate, int n, float eps, float* out);
void swiglu(const float* gate, const float* up, float* out, int n);    // out = silu(gate)·up

} // namespace mmfree::cpu
