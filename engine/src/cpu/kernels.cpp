// SPDX-License-Identifier: Apache-2.0
#include "cpu/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mmfree::cpu {

void rms_norm(const float* x, const float* gamma, int n, float eps, float* out) {
    // Eight float partial sums: vectorizes, and stays as accurate as a double loop for these sizes.
    float part[8] = {};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) part[j] += x[i + j] * x[i + j];
    double ss = 0;
    for (; i < n; ++i) ss += double(x[i]) * x[i];
    for (float p : part) ss += p;
    const float r = 1.0f / std::sqrt(float(ss / n) + eps);
    for (i = 0; i < n; ++i) out[i] = x[i] * r * gamma[i];
}

float quantize_row(const float* y, int n, int padded_n, int8_t* q) {
    float mx = 0;
    for (int i = 0; i < n; ++i) mx = std::max(mx, std::fabs(y[i]));
    const float s = 127.0f / std::max(mx, 1e-5f);
    for (int i = 0; i < n; ++i) {
        // Round half away from zero, exactly (|y·s| ≤ 127, so x − trunc(x) is exact in float);
        // written without std::round so the loop vectorizes.
        const float x = y[i] * s;
        int r = int(x);
        const float d = x - float(r);
        r += int(d >= 0.5f) - int(d <= -0.5f);
        q[i] = int8_t(std::clamp(r, -128, 127));
    }
    std::memset(q + n, 0, size_t(padded_n - n));
    return s;
}

void ternary_matvec_ref(const TernaryMatrix& w, const int8_t* q, int32_t* acc, int row_begin, int row_end) {
    for (int r = row_begin; r < row_end; ++r) {
        int32_t a = 0;
        for (int k = 0; k < w.cols; ++k) a += int32_t(q[k]) * w.weight(r, k);
        acc[r] = a;
    }
}

// Codes byte j of a 128-weight block holds weights 4j..4j+3 (2 bits each). The SIMD kernel splits
// a 32-byte block into four 32-lane vectors by bit position s, so lane j of vector s is weight
// 4j+s; the activations are permuted the same way once per row, not once per weight row.
void permute_for_simd(const int8_t* q, int padded_n, int8_t* qp) {
    for (int b = 0; b < padded_n; b += 128)
        for (int s = 0; s < 4; ++s)
            for (int j = 0; j < 32; ++j) qp[b + s * 32 + j] = q[b + 4 * j + s];
}

int32_t sum_q(const int8_t* q, int padded_n) {
    int32_t s = 0;
    for (int i = 0; i < padded_n; ++i) s += q[i];
    return s;
}

bool cpu_has_avx2() {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

// Scalar version of the fast kernel: same data layout, same identity Σ c·q − Σ q (c = w + 1).
static void matvec_codes_scalar(const TernaryMatrix& w, const int8_t* qp, int32_t qsum, int32_t* acc, int r0, int r1) {
    const int blocks = w.row_stride / 32;
    for (int r = r0; r < r1; ++r) {
        const uint8_t* row = &w.codes[size_t(r) * w.row_stride];
        int32_t a = 0;
        for (int b = 0; b < blocks; ++b)
            for (int s = 0; s < 4; ++s)
                for (int j = 0; j < 32; ++j) a += int32_t((row[b * 32 + j] >> (2 * s)) & 3) * qp[b * 128 + s * 32 + j];
        acc[r] = a - qsum;
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static inline __m256i block_dot(const uint8_t* codes, const int8_t* qp, __m256i mask) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes));
    const __m256i c0 = _mm256_and_si256(v, mask);
    const __m256i c1 = _mm256_and_si256(_mm256_srli_epi16(v, 2), mask);
    const __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
    const __m256i c3 = _mm256_and_si256(_mm256_srli_epi16(v, 6), mask);
    // maddubs: unsigned codes (0..2) × signed q → int16 pair sums, at most 2·2·128 = 512: no saturation.
    __m256i s = _mm256_maddubs_epi16(c0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qp)));
    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(c1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qp + 32))));
    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(c2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qp + 64))));
    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(c3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qp + 96))));
    return s; // each int16 lane ≤ 4·512 = 2048
}

__attribute__((target("avx2"))) static inline int32_t hsum32(__m256i v) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
    return _mm_cvtsi128_si32(x);
}

__attribute__((target("avx2"))) static void matvec_codes_avx2(const TernaryMatrix& w, const int8_t* qp, int32_t qsum,
                                                               int32_t* acc, int r0, int r1) {
    const int blocks = w.row_stride / 32;
    const __m256i mask = _mm256_set1_epi8(3);
    const __m256i ones = _mm256_set1_epi16(1);
    int r = r0;
    // Two rows at a time share the activation loads.
    for (; r + 1 < r1; r += 2) {
        const uint8_t* a = &w.codes[size_t(r) * w.row_stride];
        const uint8_t* b = a + w.row_stride;
        __m256i acc_a = _mm256_setzero_si256(), acc_b = _mm256_setzero_si256();
        for (int blk = 0; blk < blocks;) {
            // int16 partial sums stay below 2048·8 = 16384 for 8 blocks: flush to int32 after that.
            __m256i pa = _mm256_setzero_si256(), pb = _mm256_setzero_si256();
            const int end = std::min(blocks, blk + 8);
            for (; blk < end; ++blk) {
                _mm_prefetch(reinterpret_cast<const char*>(a + blk * 32 + 512), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(b + blk * 32 + 512), _MM_HINT_T0);
                pa = _mm256_add_epi16(pa, block_dot(a + blk * 32, qp + blk * 128, mask));
                pb = _mm256_add_epi16(pb, block_dot(b + blk * 32, qp + blk * 128, mask));
            }
            acc_a = _mm256_add_epi32(acc_a, _mm256_madd_epi16(pa, ones));
            acc_b = _mm256_add_epi32(acc_b, _mm256_madd_epi16(pb, ones));
        }
        acc[r] = hsum32(acc_a) - qsum;
        acc[r + 1] = hsum32(acc_b) - qsum;
    }
    if (r < r1) matvec_codes_scalar(w, qp, qsum, acc, r, r1);
}
#endif

void ternary_matvec_fast(const TernaryMatrix& w, const int8_t* qp, int32_t qsum, int32_t* acc, int r0, int r1) {
#if defined(__x86_64__)
    static const bool avx2 = cpu_has_avx2();
    if (avx2) return matvec_codes_avx2(w, qp, qsum, acc, r0, r1);
#endif
    matvec_codes_scalar(w, qp, qsum, acc, r0, r1);
}

} // namespace mmfree::cpu
