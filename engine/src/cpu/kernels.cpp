// SPDX-License-Identifier: Apache-2.0
#include "cpu/kernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace mmfree::cpu {
// How far ahead of its loads a streaming kernel asks for its codes. Every one-row kernel, 2 bits
// and 1.6, on all 370M weights with 2 threads, alternated in one process on the 2-core VM
// (AVX2 / AVX-512 2-bit, AVX-512 1.6-bit GB/s): 1 KB 42.8 / – / 35.4, 4 KB 52.0 / 55.9 / 40.1,
// 8 KB 54.4 / 67.5 / 40.3. Hardware prefetchers alone stop at a page; this runs across.
constexpr int kPrefetchAhead = 8192;

// AMX multiplies tiles only; everything else runs on the vector unit of the same CPU.
GemmIsa vector_isa(GemmIsa isa) { return isa == GemmIsa::Amx ? GemmIsa::Avx512Vnni : isa; }

#if defined(__x86_64__)
// AMX needs the CPU's tile and int8 units and, on Linux, the process's request for the tile
// registers' state (which the kernel refuses where it cannot save it, e.g. before 5.16).
static bool os_grants_amx() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 25))) return false;
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}
#endif

// 1 / sqrt(mean(x²) + eps), shared by rms_norm and norm_quantize_permuted so both scale alike.
static float rms_inverse(const float* x, int n, float eps) {
    // Eight float partial sums: vectorizes, and stays as accurate as a double loop for these sizes.
    float part[8] = {};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) part[j] += x[i + j] * x[i + j];
    double ss = 0;
    for (; i < n; ++i) ss += double(x[i]) * x[i];
    for (float p : part) ss += p;
    return 1.0f / std::sqrt(float(ss / n) + eps);
}

void rms_norm(const float* x, const float* gamma, int n, float eps, float* out) {
    const float r = rms_inverse(x, n, eps);
    for (int i = 0; i < n; ++i) out[i] = x[i] * r * gamma[i];
}

void gated_rms_norm(const float* x, const float* gamma, const float* gate, int n, float eps, float* out) {
    const float r = rms_inverse(x, n, eps);
    for (int i = 0; i < n; ++i) out[i] = x[i] * r * gamma[i] * gate[i];
}

// The per-row int8 scale of MODEL_SPEC.md from the row's largest magnitude.
static float int8_scale(float max_abs) { return 127.0f / std::max(max_abs, 1e-5f); }

#if defined(__x86_64__)
// Largest of the eight lanes.
__attribute__((target("avx2"))) static inline float hmax_ps(__m256 m) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, m);
    return *std::max_element(lanes, lanes + 8);
}

__attribute__((target("avx2"))) static inline int32_t hsum_epi32(__m256i v) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
    return _mm_cvtsi128_si32(x);
}

// round_half_away(y·s) of 8 values, clamped to int8's range (as int32 lanes).
__attribute__((target("avx2"))) static inline __m256i round8(const float* p, __m256 vs) {
    const __m256 x = _mm256_mul_ps(_mm256_loadu_ps(p), vs);
    __m256i r = _mm256_cvttps_epi32(x);
    const __m256 d = _mm256_sub_ps(x, _mm256_cvtepi32_ps(r));
    // Comparison masks are −1 where true: r += (d ≥ ½) − (d ≤ −½).
    r = _mm256_sub_epi32(r, _mm256_castps_si256(_mm256_cmp_ps(d, _mm256_set1_ps(0.5f), _CMP_GE_OQ)));
    r = _mm256_add_epi32(r, _mm256_castps_si256(_mm256_cmp_ps(d, _mm256_set1_ps(-0.5f), _CMP_LE_OQ)));
    return _mm256_min_epi32(_mm256_max_epi32(r, _mm256_set1_epi32(-128)), _mm256_set1_epi32(127));
}

// 32 quantized values y[0..32) as bytes, in order.
__attribute__((target("avx2"))) static inline __m256i quantize32(const float* y, __m256 vs) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);   // undoes the per-lane packing
    const __m256i ab = _mm256_packs_epi32(round8(y, vs), round8(y + 8, vs));
    const __m256i cd = _mm256_packs_epi32(round8(y + 16, vs), round8(y + 24, vs));
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), order);
}

// quantize_row's loop, 32 values at a time: the same float operations, then int32 → int8 packing.
// Returns how many values it wrote.
__attribute__((target("avx2"))) static int quantize_avx2(const float* y, int n, float s, int8_t* q) {
    const __m256 vs = _mm256_set1_ps(s);
    int i = 0;
    for (; i + 32 <= n; i += 32) _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), quantize32(y + i, vs));
    return i;
}

// max |y[i]| over the first n/8·8 values (a NaN is skipped, as std::max skips it in the scalar loop).
__attribute__((target("avx2"))) static float max_abs_avx2(const float* y, int n) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i + 8 <= n; i += 8) m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(y + i), magnitude), m);
    return hmax_ps(m);
}
#else
static int quantize_avx2(const float*, int, float, int8_t*) { return 0; }
static float max_abs_avx2(const float*, int) { return 0; }
#endif

// Round half away from zero, exactly (|y·s| ≤ 127, so x − trunc(x) is exact in float).
static int8_t quantize_one(float y, float s) {
    const float x = y * s;
    int r = int(x);
    const float d = x - float(r);
    r += int(d >= 0.5f) - int(d <= -0.5f);
    return int8_t(std::clamp(r, -128, 127));
}

float quantize_row(const float* y, int n, int padded_n, int8_t* q) {
#if defined(__x86_64__)
    static const bool avx2 = cpu_has_avx2();
#else
    constexpr bool avx2 = false;
#endif
    float mx = avx2 ? max_abs_avx2(y, n) : 0.0f;
    for (int i = avx2 ? n / 8 * 8 : 0; i < n; ++i) mx = std::max(mx, std::fabs(y[i]));
    const float s = int8_scale(mx);
    const int done = avx2 ? quantize_avx2(y, n, s, q) : 0;
    for (int i = done; i < n; ++i) q[i] = quantize_one(y[i], s);
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

#if defined(__x86_64__)
// normed[0..padded_n) = x·r·γ (zero beyond n) and the max |normed| that quantize_row would find.
__attribute__((target("avx2"))) static float scale_and_max_avx2(const float* x, const float* gamma, int n, int padded_n,
                                                                 float r, float* normed) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), vr = _mm256_set1_ps(r);
    __m256 m = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vr), _mm256_loadu_ps(gamma + i));
        _mm256_storeu_ps(normed + i, v);
        m = _mm256_max_ps(_mm256_and_ps(v, magnitude), m);
    }
    float mx = hmax_ps(m);
    for (; i < n; ++i) {
        normed[i] = x[i] * r * gamma[i];
        mx = std::max(mx, std::fabs(normed[i]));
    }
    std::fill(normed + n, normed + padded_n, 0.0f);
    return mx;
}

// Quantizes 128-value blocks straight into permute_for_simd's layout and returns Σq. In a block,
// pshufb groups each 16-byte lane by position mod 4, vpermd gathers each group's 8 bytes into one
// qword, and a 4×4 qword transpose puts group s of all four vectors into output vector s.
__attribute__((target("avx2"))) static int32_t quantize_permuted_avx2(const float* normed, int padded_n, float s, int8_t* qp) {
    const __m256 vs = _mm256_set1_ps(s);
    const __m256i by_position = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,
                                                 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m256i lanes_to_qwords = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i ones = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    __m256i sum = _mm256_setzero_si256();
    for (int b = 0; b < padded_n; b += 128) {
        __m256i p[4];
        for (int t = 0; t < 4; ++t) {
            const __m256i q = quantize32(normed + b + 32 * t, vs);
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(ones, q), ones16));
            p[t] = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(q, by_position), lanes_to_qwords);
        }
        const __m256i lo01 = _mm256_unpacklo_epi64(p[0], p[1]), hi01 = _mm256_unpackhi_epi64(p[0], p[1]);
        const __m256i lo23 = _mm256_unpacklo_epi64(p[2], p[3]), hi23 = _mm256_unpackhi_epi64(p[2], p[3]);
        __m256i* out = reinterpret_cast<__m256i*>(qp + b);
        _mm256_storeu_si256(out + 0, _mm256_permute2x128_si256(lo01, lo23, 0x20));
        _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(hi01, hi23, 0x20));
        _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(lo01, lo23, 0x31));
        _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(hi01, hi23, 0x31));
    }
    return hsum_epi32(sum);
}
#endif

float norm_quantize_permuted(const float* x, const float* gamma, int n, float eps, int padded_n, float* scratch,
                             int8_t* qp, int32_t* qsum) {
#if defined(__x86_64__)
    static const bool avx2 = cpu_has_avx2();
    if (avx2) {
        const float mx = scale_and_max_avx2(x, gamma, n, padded_n, rms_inverse(x, n, eps), scratch);
        const float s = int8_scale(mx);
        *qsum = quantize_permuted_avx2(scratch, padded_n, s, qp);
        return s;
    }
#endif
    rms_norm(x, gamma, n, eps, scratch);
    int8_t* plain = reinterpret_cast<int8_t*>(scratch + n);   // scratch holds n + padded_n floats
    const float s = quantize_row(scratch, n, padded_n, plain);
    permute_for_simd(plain, padded_n, qp);
    *qsum = sum_q(plain, padded_n);
    return s;
}

float norm_quantize(const float* x, const float* gamma, int n, float eps, int padded_n, float* scratch, int8_t* q, int32_t* qsum) {
#if defined(__x86_64__)
    static const bool avx2 = cpu_has_avx2();
    if (avx2) {
        // scale_and_max_avx2 zero-fills scratch up to padded_n: give it n only (scratch is n long).
        const float mx = scale_and_max_avx2(x, gamma, n, n, rms_inverse(x, n, eps), scratch);
        const float s = int8_scale(mx);
        const int done = quantize_avx2(scratch, n, s, q);
        for (int i = done; i < n; ++i) q[i] = quantize_one(scratch[i], s);
        std::memset(q + n, 0, size_t(padded_n - n));
        *qsum = sum_q(q, n);
        return s;
    }
#endif
    rms_norm(x, gamma, n, eps, scratch);
    const float s = quantize_row(scratch, n, padded_n, q);
    *qsum = sum_q(q, n);
    return s;
}

void prefetch_stream_start(const uint8_t* begin, size_t bytes) {
#if defined(__x86_64__)
    const size_t n = std::min(bytes, size_t(kPrefetchAhead));
    for (size_t off = 0; off < n; off += 64) _mm_prefetch(reinterpret_cast<const char*>(begin + off), _MM_HINT_T0);
#else
    (void)begin;
    (void)bytes;
#endif
}

void prefetch_to_l2(const uint8_t* begin, size_t bytes) {
#if defined(__x86_64__)
    for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(begin + off), _MM_HINT_T1);
#else
    (void)begin;
    (void)bytes;
#endif
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
// One 32-byte code block (128 weights) against its permuted activations. One shift serves all four
// bit positions: c0 = v & 3 and c2 = (v >> 4) & 3 go to `even`; 4·c1 = v & 12 and 4·c3 = (v >> 4) & 12
// go to `odd`, whose sums are exact multiples of 4 and are divided by 4 once per row.
// maddubs pair sums: even ≤ 2·2·127 = 508, odd ≤ 2·8·127 = 2032 (|q| ≤ 127): no saturation.
__attribute__((target("avx2"))) static inline void block_dot(const uint8_t* codes, const int8_t* qp, __m256i& even, __m256i& odd) {
    const __m256i low2 = _mm256_set1_epi8(3), high2 = _mm256_set1_epi8(12);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes));
    const __m256i t = _mm256_srli_epi16(v, 4);
    const __m256i* q = reinterpret_cast<const __m256i*>(qp);
    even = _mm256_add_epi16(even, _mm256_maddubs_epi16(_mm256_and_si256(v, low2), _mm256_loadu_si256(q)));
    odd = _mm256_add_epi16(odd, _mm256_maddubs_epi16(_mm256_and_si256(v, high2), _mm256_loadu_si256(q + 1)));
    even = _mm256_add_epi16(even, _mm256_maddubs_epi16(_mm256_and_si256(t, low2), _mm256_loadu_si256(q + 2)));
    odd = _mm256_add_epi16(odd, _mm256_maddubs_epi16(_mm256_and_si256(t, high2), _mm256_loadu_si256(q + 3)));
}

__attribute__((target("avx2"))) static void matvec_codes_avx2(const TernaryMatrix& w, const int8_t* qp, int32_t qsum,
                                                               int32_t* acc, int r0, int r1) {
    const int blocks = w.row_stride / 32;
    const __m256i ones = _mm256_set1_epi16(1);
    int r = r0;
    // Two rows at a time share the activation loads.
    for (; r + 1 < r1; r += 2) {
        const uint8_t* a = &w.codes[size_t(r) * w.row_stride];
        const uint8_t* b = a + w.row_stride;
        __m256i even_a = _mm256_setzero_si256(), odd_a = even_a, even_b = even_a, odd_b = even_a;
        for (int blk = 0; blk < blocks;) {
            // int16 lanes grow by ≤ 2·2032 per block: flush to int32 every 8 blocks (≤ 32512).
            __m256i ea = _mm256_setzero_si256(), oa = ea, eb = ea, ob = ea;
            const int end = std::min(blocks, blk + 8);
            for (; blk < end; ++blk) {
                _mm_prefetch(reinterpret_cast<const char*>(a + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(b + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
                block_dot(a + blk * 32, qp + blk * 128, ea, oa);
                block_dot(b + blk * 32, qp + blk * 128, eb, ob);
            }
            even_a = _mm256_add_epi32(even_a, _mm256_madd_epi16(ea, ones));
            odd_a = _mm256_add_epi32(odd_a, _mm256_madd_epi16(oa, ones));
            even_b = _mm256_add_epi32(even_b, _mm256_madd_epi16(eb, ones));
            odd_b = _mm256_add_epi32(odd_b, _mm256_madd_epi16(ob, ones));
        }
        acc[r] = hsum_epi32(even_a) + hsum_epi32(odd_a) / 4 - qsum;
        acc[r + 1] = hsum_epi32(even_b) + hsum_epi32(odd_b) / 4 - qsum;
    }
    if (r < r1) matvec_codes_scalar(w, qp, qsum, acc, r, r1);
}
#endif

// --- 1.6-bit layout ----------------------------------------------------------------------

namespace {
// Digit i of a stored byte b: x = 3^i·b mod 256, c = floor(3x/256) = [x ≥ 86] + [x ≥ 171]. SIMD
// has only signed byte compares: biased by 128 (x ^ 0x80, as int8) they are x' > −43 and x' > 42,
// and tripling commutes with the bias (3·(x + 128) ≡ 3x + 128 mod 256), so the biased byte is
// tripled directly.
constexpr int8_t kTritLow = -43, kTritHigh = 42;
constexpr int kGemmRows = 4;         // weight rows per tile: 4 row vectors + accumulators fit the registers

// The byte of every v = Σ c_i·3^(4−i) < 243, and the codes of every stored byte.
struct TritTables {
    uint8_t encode[243];
    TritTables() {
        for (int v = 0; v < 243; ++v) encode[v] = uint8_t((v * 256 + 242) / 243);
    }
};
const TritTables& trit_tables() {
    static const TritTables t;
    return t;
}
} // namespace

uint8_t encode_trits(const int (&c)[5]) {
    int v = 0;
    for (int i = 0; i < 5; ++i) v = v * 3 + c[i];
    return trit_tables().encode[v];
}

int decode_trit(uint8_t byte, int i) {
    uint8_t x = byte;
    for (int s = 0; s < i; ++s) x = uint8_t(x * 3);
    return 3 * x / 256;
}

int TritMatrix::code(int r, int k) const {
    const int f = full_blocks(cols);
    const int p = k < 160 * f ? k / 160 * 32 + k % 32 : 32 * f + (k - 160 * f) % 16;
    const int i = k < 160 * f ? k % 160 / 32 : (k - 160 * f) / 16;
    return decode_trit(codes[size_t(r) * row_stride + size_t(p)], i);
}

TritMatrix pack_trits_shape(const TernaryMatrix& w) {
    TritMatrix t;
    t.rows = w.rows;
    t.cols = w.cols;
    t.row_stride = TritMatrix::stride_for(w.cols);
    t.code_sums.assign(size_t(w.rows), 0);
    t.codes.assign(size_t(w.rows) * t.row_stride, 0);
    return t;
}

void pack_trits_rows(const TernaryMatrix& w, TritMatrix& out, int row_begin, int row_end) {
    const int f = TritMatrix::full_blocks(w.cols);
    const size_t n = size_t(out.row_stride) * 5;
    std::vector<uint8_t> c((n + 15) / 16 * 16);   // the row's n codes (padding = 1, weight 0), room for whole source words
    static const auto expand = [] {
        std::array<uint32_t, 256> t{};
        for (int v = 0; v < 256; ++v) {
            const uint8_t four[4] = {uint8_t(v & 3), uint8_t(v >> 2 & 3), uint8_t(v >> 4 & 3), uint8_t(v >> 6 & 3)};
            std::memcpy(&t[size_t(v)], four, 4);
        }
        return t;
    }();
    static const auto four_sum = [] {   // the sum of a source byte's four codes
        std::array<uint8_t, 256> t{};
        for (int v = 0; v < 256; ++v) t[size_t(v)] = uint8_t((v & 3) + (v >> 2 & 3) + (v >> 4 & 3) + (v >> 6 & 3));
        return t;
    }();
    for (int r = row_begin; r < row_end; ++r) {
        const uint8_t* src = &w.codes[size_t(r) * w.row_stride];
        // Four codes per source byte through a table, sixteen stored at once: the encoder's
        // 16-byte loads then forward from the stores (after 4-byte stores they stalled, and a
        // variable-size copy was a byte loop: most of a 2.7B model's load). The 2-bit row's own
        // padding is code 1 too.
        const int whole = std::min(w.row_stride, int(c.size() / 4));
        int b = 0;
        for (; b + 4 <= whole; b += 4) {
            const uint32_t sixteen[4] = {expand[src[b]], expand[src[b + 1]], expand[src[b + 2]], expand[src[b + 3]]};
            std::memcpy(&c[size_t(b) * 4], sixteen, 16);
        }
        for (; b < whole; ++b) std::memcpy(&c[size_t(b) * 4], &expand[src[b]], 4);
        std::fill(c.begin() + w.cols, c.begin() + std::ptrdiff_t(n), uint8_t(1));
        // The codes' sum from the source bytes (reading c back right after its narrow stores
        // stalls on store forwarding): whole bytes below cols, the codes of a split byte, padding.
        int32_t sum = int32_t(n) - w.cols;
        for (int b = 0; b < w.cols / 4; ++b) sum += four_sum[src[b]];
        for (int k = w.cols / 4 * 4; k < w.cols; ++k) sum += src[k / 4] >> (2 * (k % 4)) & 3;
        uint8_t* dst = &out.codes[size_t(r) * out.row_stride];
        // 32-byte blocks of 160 weights, then the 16-byte half block; plain loops the compiler
        // vectorizes (encode_trits' arithmetic, without the table).
        auto encode_block = [&](const uint8_t* k, uint8_t* d, int width) {
            for (int j = 0; j < width; ++j) {
                const uint32_t v = (((k[j] * 3u + k[width + j]) * 3u + k[2 * width + j]) * 3u + k[3 * width + j]) * 3u + k[4 * width + j];
                d[j] = uint8_t((v * 256u + 242u) / 243u);
            }
        };
        for (int b = 0; b < f; ++b) encode_block(&c[size_t(b) * 160], dst + b * 32, 32);
        if (out.row_stride > 32 * f) encode_block(&c[size_t(f) * 160], dst + f * 32, 16);
        out.code_sums[size_t(r)] = sum;
    }
}

TritMatrix pack_trits(const TernaryMatrix& w) {
    TritMatrix t = pack_trits_shape(w);
    pack_trits_rows(w, t, 0, w.rows);
    return t;
}

// acc = Σ c·q − Σ q (c = w + 1), digit by digit.
static void matvec_trits_scalar(const TritMatrix& w, const int8_t* q, int32_t qsum, int32_t* acc, int r0, int r1) {
    for (int r = r0; r < r1; ++r) {
        const uint8_t* row = &w.codes[size_t(r) * w.row_stride];
        int32_t a = 0;
        for (int p = 0; p < w.row_stride; ++p)
            for (int i = 0; i < 5; ++i) a += decode_trit(row[p], i) * int32_t(q[TritMatrix::weight_index(w.cols, p, i)]);
        acc[r] = a - qsum;
    }
}

// Rows [r, r + kGemmRows) as codes c in the activations' natural order, kp bytes each (zeros past
// the row's padded length, and for rows at or past row_end).
static void unpack_trits_scalar(const TritMatrix& w, int r, int row_end, int kp, uint8_t* u) {
    for (int i = 0; i < kGemmRows; ++i, u += kp) {
        std::memset(u, 0, size_t(kp));
        if (r + i >= row_end) continue;
        const uint8_t* row = &w.codes[size_t(r + i) * w.row_stride];
        for (int p = 0; p < w.row_stride; ++p)
            for (int d = 0; d < 5; ++d) u[TritMatrix::weight_index(w.cols, p, d)] = uint8_t(decode_trit(row[p], d));
    }
}

#if defined(__x86_64__)
// −c of 32 digits (0, −1 or −2 per byte) from their biased, tripled bytes x' = x ^ 0x80.
__attribute__((target("avx2"))) static inline __m256i neg_codes(__m256i x) {
    return _mm256_add_epi8(_mm256_cmpgt_epi8(x, _mm256_set1_epi8(kTritLow)), _mm256_cmpgt_epi8(x, _mm256_set1_epi8(kTritHigh)));
}
__attribute__((target("avx2"))) static inline __m256i triple(__m256i x) { return _mm256_add_epi8(_mm256_add_epi8(x, x), x); }
__attribute__((target("avx2"))) static inline __m256i load_biased(const void* p) {
    return _mm256_xor_si256(_mm256_loadu_si256(static_cast<const __m256i*>(p)), _mm256_set1_epi8(char(0x80)));
}
__attribute__((target("avx2"))) static inline __m128i load_biased128(const void* p) {
    return _mm_xor_si128(_mm_loadu_si128(static_cast<const __m128i*>(p)), _mm_set1_epi8(char(0x80)));
}

// One 32-byte block (160 weights) against u = q + 128 (unsigned): maddubs(u, −c) pair sums are
// ≤ 2·255·2 = 1020 in magnitude, five per block, so int16 lanes take 6 blocks (30600) before
// they are widened. Σ c·q = Σ c·u − 128·Σ c.
__attribute__((target("avx2"))) static inline __m256i trit_block(const uint8_t* codes, const __m256i (&u)[5], __m256i part) {
    __m256i x = load_biased(codes);
    for (int i = 0; i < 5; ++i) {
        part = _mm256_add_epi16(part, _mm256_maddubs_epi16(u[i], neg_codes(x)));
        if (i < 4) x = triple(x);
    }
    return part;
}

// The 16-byte half block at the end of a row (80 weights): the same steps on 128-bit vectors,
// widened to int32 at once (five pair sums ≤ 5100).
__attribute__((target("avx2"))) static inline __m128i trit_half_block(const uint8_t* codes, const int8_t* q) {
    const __m128i low = _mm_set1_epi8(kTritLow), high = _mm_set1_epi8(kTritHigh);
    __m128i x = load_biased128(codes), part = _mm_setzero_si128();
    for (int i = 0; i < 5; ++i) {
        const __m128i neg = _mm_add_epi8(_mm_cmpgt_epi8(x, low), _mm_cmpgt_epi8(x, high));
        part = _mm_add_epi16(part, _mm_maddubs_epi16(load_biased128(q + 16 * i), neg));
        x = _mm_add_epi8(_mm_add_epi8(x, x), x);
    }
    return _mm_madd_epi16(part, _mm_set1_epi16(1));
}

__attribute__((target("avx2"))) static void matvec_trits_avx2(const TritMatrix& w, const int8_t* q, int32_t qsum, int32_t* acc, int r0,
                                                               int r1) {
    const int blocks = TritMatrix::full_blocks(w.cols);
    const bool half = TritMatrix::half_block(w.cols);
    const __m256i ones = _mm256_set1_epi16(1);
    int r = r0;
    // Two rows at a time share the activation loads.
    for (; r + 1 < r1; r += 2) {
        const uint8_t* a = &w.codes[size_t(r) * w.row_stride];
        const uint8_t* b = a + w.row_stride;
        __m256i sum_a = _mm256_setzero_si256(), sum_b = sum_a;
        for (int blk = 0; blk < blocks;) {
            __m256i pa = _mm256_setzero_si256(), pb = pa;
            const int end = std::min(blocks, blk + 6);
            for (; blk < end; ++blk) {
                _mm_prefetch(reinterpret_cast<const char*>(a + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(b + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
                __m256i u[5];
                for (int i = 0; i < 5; ++i) u[i] = load_biased(q + blk * 160 + 32 * i);
                pa = trit_block(a + blk * 32, u, pa);
                pb = trit_block(b + blk * 32, u, pb);
            }
            sum_a = _mm256_add_epi32(sum_a, _mm256_madd_epi16(pa, ones));
            sum_b = _mm256_add_epi32(sum_b, _mm256_madd_epi16(pb, ones));
        }
        if (half) {
            sum_a = _mm256_add_epi32(sum_a, _mm256_castsi128_si256(trit_half_block(a + blocks * 32, q + blocks * 160)));
            sum_b = _mm256_add_epi32(sum_b, _mm256_castsi128_si256(trit_half_block(b + blocks * 32, q + blocks * 160)));
        }
        acc[r] = -hsum_epi32(sum_a) - 128 * w.code_sums[size_t(r)] - qsum;
        acc[r + 1] = -hsum_epi32(sum_b) - 128 * w.code_sums[size_t(r + 1)] - qsum;
    }
    if (r < r1) matvec_trits_scalar(w, q, qsum, acc, r, r1);
}

// unpack_trits_scalar with AVX2: c = −neg_codes, 32 digits per instruction group. Also asks for
// the codes kPrefetchAhead bytes on, as unpack_tile_avx2 does.
__attribute__((target("avx2"))) static void unpack_trits_avx2(const TritMatrix& w, int r, int row_end, int kp, uint8_t* u) {
    const int blocks = TritMatrix::full_blocks(w.cols);
    const bool half = TritMatrix::half_block(w.cols);
    const int used = blocks * 160 + (half ? 80 : 0);
    for (int i = 0; i < kGemmRows; ++i, u += kp) {
        if (r + i >= row_end) { std::memset(u, 0, size_t(kp)); continue; }
        const uint8_t* row = &w.codes[size_t(r + i) * w.row_stride];
        for (int b = 0; b < w.row_stride; b += 64) _mm_prefetch(reinterpret_cast<const char*>(row + kPrefetchAhead + b), _MM_HINT_T0);
        for (int b = 0; b < blocks; ++b) {
            __m256i x = load_biased(row + b * 32);
            __m256i* out = reinterpret_cast<__m256i*>(u + b * 160);
            for (int d = 0; d < 5; ++d) {
                _mm256_storeu_si256(out + d, _mm256_sub_epi8(_mm256_setzero_si256(), neg_codes(x)));
                if (d < 4) x = triple(x);
            }
        }
        if (half) {
            const __m128i low = _mm_set1_epi8(kTritLow), high = _mm_set1_epi8(kTritHigh);
            __m128i x = load_biased128(row + blocks * 32);
            for (int d = 0; d < 5; ++d) {
                const __m128i neg = _mm_add_epi8(_mm_cmpgt_epi8(x, low), _mm_cmpgt_epi8(x, high));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(u + blocks * 160 + 16 * d), _mm_sub_epi8(_mm_setzero_si128(), neg));
                x = _mm_add_epi8(_mm_add_epi8(x, x), x);
            }
        }
        std::memset(u + used, 0, size_t(kp - used));
    }
}
#else
static void unpack_trits_avx2(const TritMatrix& w, int r, int row_end, int kp, uint8_t* u) { unpack_trits_scalar(w, r, row_end, kp, u); }
#endif

// --- batched kernel (GEMM over tokens) ---------------------------------------------------
//
// A tile of kGemmRows weight rows is unpacked once into codes c ∈ {0, 1, 2} (one byte each, in
// permute_for_simd's order), then a micro-kernel dots the tile with a few tokens at a time,
// reading the unpacked bytes from L1 instead of re-extracting bits per token. As in the one-row
// kernel, acc = Σ c·q − Σ q (c = w + 1: unsigned, as the u8 × s8 dot products want).

namespace {

constexpr int kMaxGemmTokens = 4;    // widest micro-kernel (AVX-512: 4 rows × 4 tokens = 16 accumulators)

// Where a micro-kernel writes: token t's accumulator of tile row i goes to out[t·stride + i]
// (Σ c·q − qsum[t]), for the first `rows` rows of the tile (the others are zero padding).
struct TileOut {
    int32_t* out;
    size_t stride;
    const int32_t* qsum;
    int rows;
};
using MicroKernel = void (*)(const uint8_t* u, int kp, const int8_t* const* q, const TileOut& o);

// Rows [r, r + kGemmRows) of w into u (kGemmRows × kp bytes); rows at or past row_end become zeros.
void unpack_tile_scalar(const TernaryMatrix& w, int r, int row_end, uint8_t* u) {
    const int kp = w.row_stride * 4;
    for (int i = 0; i < kGemmRows; ++i, u += kp) {
        if (r + i >= row_end) { std::memset(u, 0, size_t(kp)); continue; }
        const uint8_t* row = &w.codes[size_t(r + i) * w.row_stride];
        for (int b = 0; b < w.row_stride / 32; ++b)
            for (int s = 0; s < 4; ++s)
                for (int j = 0; j < 32; ++j) u[b * 128 + s * 32 + j] = uint8_t((row[b * 32 + j] >> (2 * s)) & 3);
    }
}

template <int NT> void micro_scalar(const uint8_t* u, int kp, const int8_t* const* q, const TileOut& o) {
    for (int i = 0; i < o.rows; ++i)
        for (int t = 0; t < NT; ++t) {
            int32_t a = 0;
            for (int k = 0; k < kp; ++k) a += int32_t(u[size_t(i) * kp + k]) * q[t][k];
            o.out[size_t(t) * o.stride + size_t(i)] = a - o.qsum[t];
        }
}

#if defined(__x86_64__)
// Also asks for the codes kPrefetchAhead bytes further on: the weights stream from memory once
// per step, and one tile of micro-kernels (~0.2 µs for 16 tokens) is too short to hide a miss.
__attribute__((target("avx2"))) void unpack_tile_avx2(const TernaryMatrix& w, int r, int row_end, uint8_t* u) {
    const int kp = w.row_stride * 4;
    const __m256i low2 = _mm256_set1_epi8(3);
    for (int i = 0; i < kGemmRows; ++i, u += kp) {
        if (r + i >= row_end) { std::memset(u, 0, size_t(kp)); continue; }
        const uint8_t* row = &w.codes[size_t(r + i) * w.row_stride];
        for (int b = 0; b < w.row_stride; b += 64) _mm_prefetch(reinterpret_cast<const char*>(row + kPrefetchAhead + b), _MM_HINT_T0);
        for (int b = 0; b < w.row_stride / 32; ++b) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + b * 32));
            __m256i* out = reinterpret_cast<__m256i*>(u + b * 128);
            _mm256_storeu_si256(out + 0, _mm256_and_si256(v, low2));
            _mm256_storeu_si256(out + 1, _mm256_and_si256(_mm256_srli_epi16(v, 2), low2));
            _mm256_storeu_si256(out + 2, _mm256_and_si256(_mm256_srli_epi16(v, 4), low2));
            _mm256_storeu_si256(out + 3, _mm256_and_si256(_mm256_srli_epi16(v, 6), low2));
        }
    }
}

template <int NT> __attribute__((target("avx2"))) inline void write_tile(const __m256i (&acc)[kGemmRows][NT], const TileOut& o) {
    for (int i = 0; i < o.rows; ++i)
        for (int t = 0; t < NT; ++t) o.out[size_t(t) * o.stride + size_t(i)] = hsum_epi32(acc[i][t]) - o.qsum[t];
}

// maddubs pair sums are ≤ 2·2·128 = 512 in magnitude, so int16 lanes take 32 steps (≤ 16384)
// before they are widened to int32.
template <int NT> __attribute__((target("avx2"))) void micro_avx2(const uint8_t* u, int kp, const int8_t* const* q, const TileOut& o) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[kGemmRows][NT];
    for (auto& row : acc) for (auto& a : row) a = _mm256_setzero_si256();
    for (int k0 = 0; k0 < kp; k0 += 32 * 32) {
        __m256i part[kGemmRows][NT];
        for (auto& row : part) for (auto& a : row) a = _mm256_setzero_si256();
        const int k1 = std::min(kp, k0 + 32 * 32);
        for (int k = k0; k < k1; k += 32) {
            __m256i c[kGemmRows];
            for (int i = 0; i < kGemmRows; ++i) c[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u + size_t(i) * kp + k));
            for (int t = 0; t < NT; ++t) {
                const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q[t] + k));
                for (int i = 0; i < kGemmRows; ++i) part[i][t] = _mm256_add_epi16(part[i][t], _mm256_maddubs_epi16(c[i], x));
            }
        }
        for (int i = 0; i < kGemmRows; ++i)
            for (int t = 0; t < NT; ++t) acc[i][t] = _mm256_add_epi32(acc[i][t], _mm256_madd_epi16(part[i][t], ones));
    }
    write_tile<NT>(acc, o);
}

// vpdpbusd adds four u8 × s8 products into each int32 lane without saturating: one instruction.
// In inline assembly because GCC 12 copies the accumulator around each dpbusd intrinsic (a dozen
// register moves per step); here the accumulators stay put. "x": VEX encodes only ymm0–15.
__attribute__((target("avxvnni,avx2"))) inline __m256i dpbusd(__m256i acc, __m256i u, __m256i q) {
    asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u), "xm"(q));
    return acc;
}

template <int NT> __attribute__((target("avxvnni,avx2"))) void micro_avxvnni(const uint8_t* u, int kp, const int8_t* const* q, const TileOut& o) {
    __m256i acc[kGemmRows][NT];
    for (auto& row : acc) for (auto& a : row) a = _mm256_setzero_si256();
    for (int k = 0; k < kp; k += 32) {
        __m256i c[kGemmRows];
        for (int i = 0; i < kGemmRows; ++i) c[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u + size_t(i) * kp + k));
        for (int t = 0; t < NT; ++t) {
            const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q[t] + k));
            for (int i = 0; i < kGemmRows; ++i) acc[i][t] = dpbusd(acc[i][t], c[i], x);
        }
    }
    write_tile<NT>(acc, o);
}

// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized on their own "undefined vector" idiom
// when inlined (GCC bug 105593); the pragmas cover only these functions.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512vnni,avx512bw,avx512f"))) inline __m512i dpbusd(__m512i acc, __m512i u, __m512i q) {
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "vm"(q));
    return acc;
}

__attribute__((target("avx512f"))) inline int32_t hsum512_epi32(__m512i v) {
    return hsum_epi32(_mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)));
}

// Lane j of the result = the sum of v[j]'s 16 lanes, for 16 vectors at once (~40 instructions
// instead of a horizontal sum each: as many as the dot products themselves for a 1024-long row).
// Within each 128-bit lane, unpack-and-add pairs then quads: u[g] holds, per 128-bit lane,
// partial sums of v[4g..4g+3]; two 128-bit-lane shuffles then add the four lanes of each u[g].
__attribute__((target("avx512f"))) inline __m512i sum_each_of_16(const __m512i* v) {
    __m512i u[4];
    for (int g = 0; g < 4; ++g) {
        const __m512i* w = v + 4 * g;
        const __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(w[0], w[1]), _mm512_unpackhi_epi32(w[0], w[1]));
        const __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(w[2], w[3]), _mm512_unpackhi_epi32(w[2], w[3]));
        u[g] = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
    }
    const __m512i s01 = _mm512_add_epi32(_mm512_shuffle_i32x4(u[0], u[1], 0x88), _mm512_shuffle_i32x4(u[0], u[1], 0xdd));
    const __m512i s23 = _mm512_add_epi32(_mm512_shuffle_i32x4(u[2], u[3], 0x88), _mm512_shuffle_i32x4(u[2], u[3], 0xdd));
    return _mm512_add_epi32(_mm512_shuffle_i32x4(s01, s23, 0x88), _mm512_shuffle_i32x4(s01, s23, 0xdd));
}

// kp is a multiple of 128, so 64-byte steps cover it exactly. Accumulators token-major, so a
// full 4×4 tile reduces to one vector whose 128-bit lane t is token t's four rows.
template <int NT> __attribute__((target("avx512vnni,avx512bw,avx512f"))) void micro_avx512(const uint8_t* u, int kp, const int8_t* const* q,
                                                                                            const TileOut& o) {
    __m512i acc[NT][kGemmRows];
    for (auto& row : acc) for (auto& a : row) a = _mm512_setzero_si512();
    for (int k = 0; k < kp; k += 64) {
        __m512i c[kGemmRows];
        for (int i = 0; i < kGemmRows; ++i) c[i] = _mm512_loadu_si512(u + size_t(i) * kp + k);
        for (int t = 0; t < NT; ++t) {
            const __m512i x = _mm512_loadu_si512(q[t] + k);
            for (int i = 0; i < kGemmRows; ++i) acc[t][i] = dpbusd(acc[t][i], c[i], x);
        }
    }
    if constexpr (NT == 4 && kGemmRows == 4) {
        if (o.rows == 4) {
            const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
            const __m512i qs = _mm512_permutexvar_epi32(spread, _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(o.qsum))));
            const __m512i v = _mm512_sub_epi32(sum_each_of_16(&acc[0][0]), qs);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o.out), _mm512_extracti32x4_epi32(v, 0));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o.out + o.stride), _mm512_extracti32x4_epi32(v, 1));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o.out + 2 * o.stride), _mm512_extracti32x4_epi32(v, 2));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o.out + 3 * o.stride), _mm512_extracti32x4_epi32(v, 3));
            return;
        }
    }
    for (int i = 0; i < o.rows; ++i)
        for (int t = 0; t < NT; ++t) o.out[size_t(t) * o.stride + size_t(i)] = hsum512_epi32(acc[t][i]) - o.qsum[t];
}
// --- 1.6-bit one-row kernels with dot-product instructions ---------------------------------
// P = Σ x_i·q_i and N = Σ x_{i+1}·q_i over the row's digits (x_0 the stored bytes, x_{i+1} =
// 3·x_i mod 256); Σ c·q = (3P − N)/256 exactly. |3P|, |N| ≤ 3·255·128·K < 2^31 for K < 21,000:
// longer rows take the AVX2 kernel. A block narrower than the vector (the last full block, the
// half block) is zero-extended: zero bytes add nothing to P or N.
constexpr int kVnniTritMaxCols = 21000;

// Sums of two rows: P and N of row a, then of row b (the 256-bit kernel's accumulators).
enum { kPa, kNa, kPb, kNb };

__attribute__((target("avx512f"))) inline __m512i zext_load32(const void* p) {
    return _mm512_zextsi256_si512(_mm256_loadu_si256(static_cast<const __m256i*>(p)));
}
__attribute__((target("avx512f"))) inline __m512i zext_load16(const void* p) {
    return _mm512_zextsi128_si512(_mm_loadu_si128(static_cast<const __m128i*>(p)));
}

// One block of two rows: x holds row a's bytes in its low 256 bits and row b's in the high ones,
// so each digit's activations are one broadcast from memory (a load, no shuffle port). Even and
// odd digits go to separate sums: shorter dependency chains.
__attribute__((target("avx512vnni,avx512bw,avx512f"))) inline void trit_pair_step(__m512i x, const int8_t* q, int width, __m512i (&s)[4]) {
    for (int i = 0; i < 5; ++i) {
        const __m256i qi = width == 32 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * i))
                                       : _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16 * i)));
        const __m512i qv = _mm512_broadcast_i64x4(qi);
        __m512i* t = s + 2 * (i & 1);
        t[0] = dpbusd(t[0], x, qv);
        x = _mm512_add_epi8(_mm512_add_epi8(x, x), x);
        t[1] = dpbusd(t[1], x, qv);
    }
}

// One 32-byte block (or the 16-byte half block, zero-extended) of rows a and b as one vector.
__attribute__((target("avx512f"))) inline __m512i pair32(const uint8_t* a, const uint8_t* b) {
    return _mm512_inserti64x4(zext_load32(a), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), 1);
}
__attribute__((target("avx512f"))) inline __m512i pair16(const uint8_t* a, const uint8_t* b) {
    return _mm512_inserti64x4(zext_load16(a), _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b))), 1);
}

// Two rows at a time, two blocks per iteration with their own sums (eight chains in flight).
// 2-core VM, one thread, one pass over every 1.6-bit matrix of a synthetic 370M (62.7 MB):
// 3,636–3,690 µs (17.0–17.3 GB/s) against 4,657–4,707 µs for two blocks of one row per vector
// (the previous kernel: five cross-lane inserts per step for the activations).
__attribute__((target("avx512vnni,avx512bw,avx512f"))) void matvec_trits_avx512(const TritMatrix& w, const int8_t* q, int32_t qsum, int32_t* acc,
                                                                                 int r0, int r1) {
    const int blocks = TritMatrix::full_blocks(w.cols);
    const bool half = TritMatrix::half_block(w.cols);
    int r = r0;
    for (; r + 1 < r1; r += 2) {
        const uint8_t* a = &w.codes[size_t(r) * w.row_stride];
        const uint8_t* b = a + w.row_stride;
        __m512i s[2][4];  // [block parity][P even, N even, P odd, N odd]
        for (auto& set : s)
            for (auto& v : set) v = _mm512_setzero_si512();
        int blk = 0;
        for (; blk + 1 < blocks; blk += 2) {
            _mm_prefetch(reinterpret_cast<const char*>(a + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(b + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
            trit_pair_step(pair32(a + blk * 32, b + blk * 32), q + blk * 160, 32, s[0]);
            trit_pair_step(pair32(a + blk * 32 + 32, b + blk * 32 + 32), q + blk * 160 + 160, 32, s[1]);
        }
        if (blk < blocks) trit_pair_step(pair32(a + blk * 32, b + blk * 32), q + blk * 160, 32, s[0]);
        if (half) trit_pair_step(pair16(a + blocks * 32, b + blocks * 32), q + blocks * 160, 16, s[1]);
        const __m512i p = _mm512_add_epi32(_mm512_add_epi32(s[0][0], s[0][2]), _mm512_add_epi32(s[1][0], s[1][2]));
        const __m512i n = _mm512_add_epi32(_mm512_add_epi32(s[0][1], s[0][3]), _mm512_add_epi32(s[1][1], s[1][3]));
        const __m512i d = _mm512_sub_epi32(_mm512_add_epi32(_mm512_add_epi32(p, p), p), n);  // 3P − N, row a low, row b high
        acc[r] = hsum_epi32(_mm512_castsi512_si256(d)) / 256 - qsum;
        acc[r + 1] = hsum_epi32(_mm512_extracti64x4_epi64(d, 1)) / 256 - qsum;
    }
    if (r < r1) matvec_trits_scalar(w, q, qsum, acc, r, r1);
}

// Even and odd digits into separate sums (s[0..4), s[4..8)): chains of three dot products per
// block instead of five.
__attribute__((target("avxvnni,avx2"))) inline void trit_step(__m256i xa, __m256i xb, const int8_t* q, int width, __m256i (&s)[8]) {
    for (int i = 0; i < 5; ++i) {
        const __m256i qv = width == 32 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * i))
                                       : _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16 * i)));
        __m256i* t = s + 4 * (i & 1);
        t[kPa] = dpbusd(t[kPa], xa, qv);
        t[kPb] = dpbusd(t[kPb], xb, qv);
        xa = triple(xa);
        xb = triple(xb);
        t[kNa] = dpbusd(t[kNa], xa, qv);
        t[kNb] = dpbusd(t[kNb], xb, qv);
    }
}

__attribute__((target("avxvnni,avx2"))) void matvec_trits_avxvnni(const TritMatrix& w, const int8_t* q, int32_t qsum, int32_t* acc, int r0,
                                                                   int r1) {
    const int blocks = TritMatrix::full_blocks(w.cols);
    const bool half = TritMatrix::half_block(w.cols);
    int r = r0;
    for (; r + 1 < r1; r += 2) {
        const uint8_t* a = &w.codes[size_t(r) * w.row_stride];
        const uint8_t* b = a + w.row_stride;
        __m256i s[8];
        for (auto& v : s) v = _mm256_setzero_si256();
        for (int blk = 0; blk < blocks; ++blk) {
            _mm_prefetch(reinterpret_cast<const char*>(a + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(b + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
            trit_step(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + blk * 32)),
                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + blk * 32)), q + blk * 160, 32, s);
        }
        if (half)
            trit_step(_mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + blocks * 32))),
                      _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + blocks * 32))), q + blocks * 160, 16, s);
        for (int k = 0; k < 4; ++k) s[k] = _mm256_add_epi32(s[k], s[k + 4]);
        acc[r] = (3 * hsum_epi32(s[kPa]) - hsum_epi32(s[kNa])) / 256 - qsum;
        acc[r + 1] = (3 * hsum_epi32(s[kPb]) - hsum_epi32(s[kNb])) / 256 - qsum;
    }
    if (r < r1) matvec_trits_scalar(w, q, qsum, acc, r, r1);
}
// --- 2-bit one-row kernels with dot-product instructions -----------------------------------
// The AVX2 kernel's split, with vpdpbusd instead of maddubs + int16 sums: one shift per code
// vector serves all four fields; c0 = v & 3 and c2 = (v >> 4) & 3 go to `even`, 4·c1 = v & 12 and
// 4·c3 = (v >> 4) & 12 to `odd`, whose int32 lanes are multiples of 4 and divide exactly by a
// shift. |odd| ≤ 8·128·K/2 < 2^31 for K < 2^21. Two rows at a time: on the 2-core VM that beat
// four rows, and four separate masked fields per row, by 6–9 % per token (A/B in one process).
constexpr int kVnniCodesMaxCols = 1 << 20;

template <int R>
__attribute__((target("avx512vnni,avx512bw,avx512f"))) void matvec_codes_rows_avx512(const TernaryMatrix& w, const int8_t* qp, int32_t qsum,
                                                                                      int32_t* acc, int r) {
    const int blocks = w.row_stride / 32;
    const __m512i low2 = _mm512_set1_epi8(3), high2 = _mm512_set1_epi8(12);
    const uint8_t* row[R];
    __m512i even[R], odd[R];
    for (int i = 0; i < R; ++i) {
        row[i] = &w.codes[size_t(r + i) * w.row_stride];
        even[i] = odd[i] = _mm512_setzero_si512();
    }
    // Two blocks per vector: field f's activations of both blocks side by side. An odd last
    // block is zero-extended: zero codes add nothing.
    for (int blk = 0; blk < blocks; blk += 2) {
        const bool pair = blk + 1 < blocks;
        __m512i q[4];
        for (int f = 0; f < 4; ++f) {
            q[f] = zext_load32(qp + blk * 128 + 32 * f);
            if (pair) q[f] = _mm512_inserti64x4(q[f], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qp + blk * 128 + 128 + 32 * f)), 1);
        }
        for (int i = 0; i < R; ++i) {
            _mm_prefetch(reinterpret_cast<const char*>(row[i] + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
            const __m512i v = pair ? _mm512_loadu_si512(row[i] + blk * 32) : zext_load32(row[i] + blk * 32);
            const __m512i t = _mm512_srli_epi16(v, 4);
            even[i] = dpbusd(even[i], _mm512_and_si512(v, low2), q[0]);
            odd[i] = dpbusd(odd[i], _mm512_and_si512(v, high2), q[1]);
            even[i] = dpbusd(even[i], _mm512_and_si512(t, low2), q[2]);
            odd[i] = dpbusd(odd[i], _mm512_and_si512(t, high2), q[3]);
        }
    }
    for (int i = 0; i < R; ++i) acc[r + i] = hsum512_epi32(_mm512_add_epi32(even[i], _mm512_srai_epi32(odd[i], 2))) - qsum;
}

// The same with VEX dot products on 256-bit vectors, one block per step.
template <int R>
__attribute__((target("avxvnni,avx2"))) void matvec_codes_rows_avxvnni(const TernaryMatrix& w, const int8_t* qp, int32_t qsum, int32_t* acc,
                                                                       int r) {
    const int blocks = w.row_stride / 32;
    const __m256i low2 = _mm256_set1_epi8(3), high2 = _mm256_set1_epi8(12);
    const uint8_t* row[R];
    __m256i even[R], odd[R];
    for (int i = 0; i < R; ++i) {
        row[i] = &w.codes[size_t(r + i) * w.row_stride];
        even[i] = odd[i] = _mm256_setzero_si256();
    }
    for (int blk = 0; blk < blocks; ++blk) {
        const __m256i* q = reinterpret_cast<const __m256i*>(qp + blk * 128);
        for (int i = 0; i < R; ++i) {
            _mm_prefetch(reinterpret_cast<const char*>(row[i] + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[i] + blk * 32));
            const __m256i t = _mm256_srli_epi16(v, 4);
            even[i] = dpbusd(even[i], _mm256_and_si256(v, low2), _mm256_loadu_si256(q));
            odd[i] = dpbusd(odd[i], _mm256_and_si256(v, high2), _mm256_loadu_si256(q + 1));
            even[i] = dpbusd(even[i], _mm256_and_si256(t, low2), _mm256_loadu_si256(q + 2));
            odd[i] = dpbusd(odd[i], _mm256_and_si256(t, high2), _mm256_loadu_si256(q + 3));
        }
    }
    for (int i = 0; i < R; ++i) acc[r + i] = hsum_epi32(_mm256_add_epi32(even[i], _mm256_srai_epi32(odd[i], 2))) - qsum;
}

__attribute__((target("avx512vnni,avx512bw,avx512f"))) void matvec_codes_avx512(const TernaryMatrix& w, const int8_t* qp, int32_t qsum,
                                                                                int32_t* acc, int r0, int r1) {
    int r = r0;
    for (; r + 2 <= r1; r += 2) matvec_codes_rows_avx512<2>(w, qp, qsum, acc, r);
    if (r < r1) matvec_codes_rows_avx512<1>(w, qp, qsum, acc, r);
}

__attribute__((target("avxvnni,avx2"))) void matvec_codes_avxvnni(const TernaryMatrix& w, const int8_t* qp, int32_t qsum, int32_t* acc, int r0,
                                                                   int r1) {
    int r = r0;
    for (; r + 2 <= r1; r += 2) matvec_codes_rows_avxvnni<2>(w, qp, qsum, acc, r);
    if (r < r1) matvec_codes_rows_avxvnni<1>(w, qp, qsum, acc, r);
}

// --- 2-bit batched kernel with the fields masked in registers (AVX-512) --------------------
// Instead of the tile unpack (every code stored as a byte and read back), a block's 32 code bytes
// are broadcast to both halves of a vector and one variable shift puts field 2g in the low half
// and field 2g + 1 in the high half: the activations of those two fields are 64 contiguous bytes
// of permute_for_simd's order. Per block and row that is two shifts and two masks, shared by the
// T tokens' dot products. |acc| ≤ 2·128·K < 2^31 for K < 2^20 (kVnniCodesMaxCols).
template <int R, int T>
__attribute__((target("avx512vnni,avx512bw,avx512f"))) void gemm_codes_rows_avx512(const TernaryMatrix& w, const int8_t* const* q,
                                                                                    const int32_t* qsum, int32_t* out, size_t stride, int r) {
    const int blocks = w.row_stride / 32;
    const __m512i low2 = _mm512_set1_epi8(3);
    const __m512i shift[2] = {_mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1),
                              _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1)};
    const uint8_t* row[R];
    for (int i = 0; i < R; ++i) row[i] = &w.codes[size_t(r + i) * w.row_stride];
    __m512i acc[T * R];
    for (auto& a : acc) a = _mm512_setzero_si512();
    for (int blk = 0; blk < blocks; ++blk) {
        __m512i v[R];
        for (int i = 0; i < R; ++i) {
            if (blk % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(row[i] + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
            v[i] = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[i] + blk * 32)));
        }
        for (int g = 0; g < 2; ++g) {
            __m512i c[R];
            for (int i = 0; i < R; ++i) c[i] = _mm512_and_si512(_mm512_srlv_epi16(v[i], shift[g]), low2);
            for (int t = 0; t < T; ++t) {
                const __m512i x = _mm512_loadu_si512(q[t] + blk * 128 + 64 * g);
                for (int i = 0; i < R; ++i) acc[t * R + i] = dpbusd(acc[t * R + i], c[i], x);
            }
        }
    }
    if constexpr (T * R == 16) {
        alignas(64) int32_t sums[16];
        _mm512_store_si512(sums, sum_each_of_16(acc));
        for (int t = 0; t < T; ++t)
            for (int i = 0; i < R; ++i) out[size_t(t) * stride + size_t(i)] = sums[t * R + i] - qsum[t];
    } else {
        for (int t = 0; t < T; ++t)
            for (int i = 0; i < R; ++i) out[size_t(t) * stride + size_t(i)] = hsum512_epi32(acc[t * R + i]) - qsum[t];
    }
}

template <int T>
__attribute__((target("avx512vnni,avx512bw,avx512f"))) void gemm_codes_tokens_avx512(const TernaryMatrix& w, const int8_t* const* q,
                                                                                      const int32_t* qsum, int32_t* out, size_t stride,
                                                                                      int r0, int r1) {
    int r = r0;
    for (; r + 4 <= r1; r += 4) gemm_codes_rows_avx512<4, T>(w, q, qsum, out + (r - r0), stride, r);
    switch (r1 - r) {
    case 3: gemm_codes_rows_avx512<3, T>(w, q, qsum, out + (r - r0), stride, r); break;
    case 2: gemm_codes_rows_avx512<2, T>(w, q, qsum, out + (r - r0), stride, r); break;
    case 1: gemm_codes_rows_avx512<1, T>(w, q, qsum, out + (r - r0), stride, r); break;
    }
}

// Four rows × four tokens: 16 accumulators, and per block and field pair four activation loads
// and four broadcast code loads for 16 dot products. On the 2-core VM (Zen 4), one thread over
// 2816 × 1024 and 1024 × 2816 matrices, against the tile unpack: 4 tokens 1.8× / 2.0×, 16 tokens
// 1.17× / 1.47×, 64 tokens 1.23× / 1.27×; 2 × 8, 4 × 5 and 8 × 2 were slower (loads per product).
// With 256-bit vectors (AVX-VNNI: four masks per block, 16 registers) it lost to the unpack at 16
// and 64 tokens (0.7–0.9×), so AVX-VNNI and AVX2 keep the tiles.
// Each token group walks every row of the range, so its activations stay in L1 while codes stream.
__attribute__((target("avx512vnni,avx512bw,avx512f"))) void gemm_codes_avx512(const TernaryMatrix& w, const int8_t* qp, size_t q_stride,
                                                                              const int32_t* qsum, int tokens, int32_t* acc,
                                                                              size_t acc_stride, int r0, int r1) {
    using Group = void (*)(const TernaryMatrix&, const int8_t* const*, const int32_t*, int32_t*, size_t, int, int);
    static constexpr Group by_width[5] = {nullptr, gemm_codes_tokens_avx512<1>, gemm_codes_tokens_avx512<2>, gemm_codes_tokens_avx512<3>,
                                          gemm_codes_tokens_avx512<4>};
    const int8_t* q[4];
    for (int t0 = 0; t0 < tokens; t0 += 4) {
        const int n = std::min(4, tokens - t0);
        for (int t = 0; t < n; ++t) q[t] = qp + size_t(t0 + t) * q_stride;
        by_width[n](w, q, qsum + t0, acc + size_t(t0) * acc_stride, acc_stride, r0, r1);
    }
}

// --- 2-bit batched kernel on AMX tiles -----------------------------------------------------
// One tdpbsud multiplies a tile of up to 16 tokens × 64 activations (A, signed, read straight
// from permute_for_simd's rows) with 64 codes of 16 weight rows (B, unsigned, in the tile's
// pairing: row kk holds, for each weight row n, the codes that meet activations 4kk..4kk+3):
// 16,384 products, where a vpdpbusd makes 64. So the work left is the unpack into B tiles, done
// once per 16 weight rows and up to 64 tokens. In permute_for_simd's order, position
// 64h + 4kk + i of a 128-weight block is field 2h + kk / 8 of code byte 4·(kk mod 8) + i: B's row
// kk is dword kk mod 8 of each row's 32-byte block, shifted by that field and masked. A 16 × 8
// dword transpose (two 8 × 8 in the halves of 512-bit vectors) gathers those dwords.
constexpr int kAmxRows = 16;      // weight rows per B tile (its 16 int32 columns of C)
constexpr int kAmxTokens = 16;    // tokens per A and C tile
constexpr int kAmxSegmentBlocks = 4;   // blocks unpacked at a time: 8 KB of B tiles

struct alignas(64) TileConfig {
    uint8_t palette = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};

// Tiles 0–3 (C: m tokens × 16 int32), 4–5 (A: m tokens × 64 bytes) and 6–7 (B: 16 × 64 bytes).
// The configuration stays loaded on the thread between calls and is reloaded only when m changes
// (loading it for every call cost 10–15 %); nothing else in the process configures tiles.
__attribute__((target("amx-tile"))) void configure_tiles(int m) {
    thread_local int configured = 0;
    if (configured == m) return;
    TileConfig c;
    for (int i = 0; i < 8; ++i) {
        c.colsb[i] = 64;
        c.rows[i] = uint8_t(i < 6 ? m : 16);
    }
    asm volatile("" ::: "memory");   // the whole struct is written before ldtilecfg reads it
    _tile_loadconfig(&c);
    configured = m;
}

// 32 code bytes of a row (zeros past the matrix), asking for the row's bytes a stretch ahead.
__attribute__((target("avx2"))) inline __m256i code_block(const uint8_t* row, int blk) {
    if (!row) return _mm256_setzero_si256();
    if (blk % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(row + blk * 32 + kPrefetchAhead), _MM_HINT_T0);
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + blk * 32));
}

// Blocks [blk0, blk1) of rows [r, r + kAmxRows) of w as B tiles: tile c (64 positions of
// permute_for_simd's order, counted from block blk0) at b + 1024·c; rows at or past row_end are zeros.
__attribute__((target("avx512f,avx512bw"))) void unpack_b_tiles(const TernaryMatrix& w, int r, int row_end, int blk0, int blk1, uint8_t* b) {
    const uint8_t* row[kAmxRows];
    for (int n = 0; n < kAmxRows; ++n) row[n] = r + n < row_end ? &w.codes[size_t(r + n) * w.row_stride] : nullptr;
    const __m512i low2 = _mm512_set1_epi8(3);
    const __m512i lanes_lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), lanes_hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    for (int blk = blk0; blk < blk1; ++blk, b += 2048) {
        __m512i z[8], a[8], t[8];
        for (int i = 0; i < 8; ++i) z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(code_block(row[i], blk)), code_block(row[i + 8], blk), 1);
        // Per 128-bit lane: a[2j] / a[2j+1] interleave rows 2j and 2j+1; t[x] then holds dword x
        // of four rows per lane (rows 0–3 from t[x], 4–7 from t[4 + x]; the upper half 8–15).
        for (int j = 0; j < 4; ++j) {
            a[2 * j] = _mm512_unpacklo_epi32(z[2 * j], z[2 * j + 1]);
            a[2 * j + 1] = _mm512_unpackhi_epi32(z[2 * j], z[2 * j + 1]);
        }
        for (int h = 0; h < 2; ++h) {
            __m512i* at = a + 4 * h;
            t[4 * h + 0] = _mm512_unpacklo_epi64(at[0], at[2]);
            t[4 * h + 1] = _mm512_unpackhi_epi64(at[0], at[2]);
            t[4 * h + 2] = _mm512_unpacklo_epi64(at[1], at[3]);
            t[4 * h + 3] = _mm512_unpackhi_epi64(at[1], at[3]);
        }
        for (int x = 0; x < 4; ++x) {
            // d[m]: dword m of rows 0..15 in order.
            const __m512i d_lo = _mm512_permutex2var_epi64(t[x], lanes_lo, t[4 + x]);
            const __m512i d_hi = _mm512_permutex2var_epi64(t[x], lanes_hi, t[4 + x]);
            for (int s = 0; s < 4; ++s) {
                const int h = s / 2, kk = 8 * (s % 2);
                _mm512_store_si512(b + 1024 * h + 64 * (kk + x), _mm512_and_si512(_mm512_srli_epi32(d_lo, unsigned(2 * s)), low2));
                _mm512_store_si512(b + 1024 * h + 64 * (kk + x + 4), _mm512_and_si512(_mm512_srli_epi32(d_hi, unsigned(2 * s)), low2));
            }
        }
    }
}

// Adds chunks [0, chunks) of B tiles b times the activations a (one group, chunk 0 at a) into
// C tiles 0–3, chunk k into tile k mod 4, so that consecutive tdpbsud do not wait for each
// other's sums. chunks is even.
__attribute__((target("amx-tile,amx-int8"))) inline void dot_one_group(const int8_t* a, size_t q_stride, const uint8_t* b, int chunks) {
    for (int k = 0; k < chunks; k += 2) {
        const int8_t* ak = a + 64 * k;
        const uint8_t* bk = b + 1024 * size_t(k);
        const bool first = k % 4 == 0;   // chunks k, k + 1 into tiles 0, 1 or 2, 3
        _tile_loadd(4, ak, q_stride);
        _tile_loadd(6, bk, 64);
        if (first) _tile_dpbsud(0, 4, 6);
        else _tile_dpbsud(2, 4, 6);
        _tile_loadd(5, ak + 64, q_stride);
        _tile_loadd(7, bk + 1024, 64);
        if (first) _tile_dpbsud(1, 5, 7);
        else _tile_dpbsud(3, 5, 7);
    }
}

// Two to four full groups of 16 tokens (group g at a + g·group_stride) share each B tile of the
// segment: group g's sums in C tile g. (Tile numbers are part of the instruction, hence the switch.)
__attribute__((target("amx-tile,amx-int8"))) inline void dot_groups(const int8_t* a, size_t q_stride, size_t group_stride, int groups,
                                                                     const uint8_t* b, int chunks) {
    for (int k = 0; k < chunks; ++k) {
        const int8_t* ak = a + 64 * k;
        if (k % 2 == 0) _tile_loadd(6, b + 1024 * size_t(k), 64);
        else _tile_loadd(7, b + 1024 * size_t(k), 64);
        for (int g = 0; g < groups; ++g) {
            if (g % 2 == 0) _tile_loadd(4, ak + g * group_stride, q_stride);
            else _tile_loadd(5, ak + g * group_stride, q_stride);
            switch (g + 4 * (k % 2)) {
            case 0: _tile_dpbsud(0, 4, 6); break;
            case 1: _tile_dpbsud(1, 5, 6); break;
            case 2: _tile_dpbsud(2, 4, 6); break;
            case 3: _tile_dpbsud(3, 5, 6); break;
            case 4: _tile_dpbsud(0, 4, 7); break;
            case 5: _tile_dpbsud(1, 5, 7); break;
            case 6: _tile_dpbsud(2, 4, 7); break;
            case 7: _tile_dpbsud(3, 5, 7); break;
            }
        }
    }
}

// Per 16 weight rows, a few blocks are unpacked at a time, so that the B tiles stay in L1 beside
// the activations, and multiplied with up to 64 tokens while they are there: two to four full
// groups of 16 (one C tile each), else one group (four C tiles). At 64 tokens that is 1.2–1.8×
// a group at a time (2-core VM, Xeon); keeping a row's tiles for every group instead (all blocks
// unpacked once) was slower on 1,024-wide rows.
__attribute__((target("amx-tile,amx-int8,avx512f,avx512bw"))) void gemm_codes_amx(const TernaryMatrix& w, const int8_t* qp, size_t q_stride,
                                                                                 const int32_t* qsum, int tokens, int32_t* acc,
                                                                                 size_t acc_stride, int r0, int r1) {
    const int blocks = w.row_stride / 32;   // two 64-position chunks each
    struct alignas(64) Line { uint8_t bytes[64]; };
    thread_local std::vector<Line> tiles(kAmxSegmentBlocks * 32);   // 64-byte aligned, for whole-line stores
    uint8_t* b = reinterpret_cast<uint8_t*>(tiles.data());
    alignas(64) int32_t c[4][kAmxTokens * kAmxRows];
    for (int r = r0; r < r1; r += kAmxRows) {
        const int rows = std::min(kAmxRows, r1 - r);
        for (int t0 = 0; t0 < tokens;) {
            const int groups = std::min(4, (tokens - t0) / kAmxTokens);
            const int m = groups >= 2 ? kAmxTokens : std::min(kAmxTokens, tokens - t0);   // rows of A and C
            const int8_t* a = qp + size_t(t0) * q_stride;
            configure_tiles(m);
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int blk = 0; blk < blocks; blk += kAmxSegmentBlocks) {
                const int end = std::min(blocks, blk + kAmxSegmentBlocks);
                unpack_b_tiles(w, r, r1, blk, end, b);
                asm volatile("" ::: "memory");   // the tiles are stored before tileloadd reads them
                if (groups >= 2) dot_groups(a + 128 * size_t(blk), q_stride, kAmxTokens * q_stride, groups, b, 2 * (end - blk));
                else dot_one_group(a + 128 * size_t(blk), q_stride, b, 2 * (end - blk));
            }
            _tile_stored(0, c[0], 64);
            _tile_stored(1, c[1], 64);
            _tile_stored(2, c[2], 64);
            _tile_stored(3, c[3], 64);
            // Token t0 + t's sum: C tile t / 16 of several groups, all four tiles of one group.
            const int n = groups >= 2 ? groups * kAmxTokens : m;
            for (int t = 0; t < n; ++t)
                for (int i = 0; i < rows; ++i) {
                    const int e = t % kAmxTokens * kAmxRows + i;
                    const int32_t sum = groups >= 2 ? c[t / kAmxTokens][e] : c[0][e] + c[1][e] + c[2][e] + c[3][e];
                    acc[size_t(t0 + t) * acc_stride + size_t(r - r0 + i)] = sum - qsum[t0 + t];
                }
            t0 += n;
        }
    }
}
#pragma GCC diagnostic pop
#endif

// One instruction set's kernels: micro[n] handles n tokens (1 ≤ n ≤ width).
struct GemmKernels {
    void (*unpack)(const TernaryMatrix&, int, int, uint8_t*);
    int width;
    MicroKernel micro[kMaxGemmTokens + 1];
};

const GemmKernels& kernels_for(GemmIsa isa) {
    static const GemmKernels scalar{unpack_tile_scalar, 2, {nullptr, micro_scalar<1>, micro_scalar<2>}};
#if defined(__x86_64__)
    static const GemmKernels avx2{unpack_tile_avx2, 2, {nullptr, micro_avx2<1>, micro_avx2<2>}};
    static const GemmKernels avxvnni{unpack_tile_avx2, 2, {nullptr, micro_avxvnni<1>, micro_avxvnni<2>}};
    static const GemmKernels avx512{unpack_tile_avx2, 4, {nullptr, micro_avx512<1>, micro_avx512<2>, micro_avx512<3>, micro_avx512<4>}};
    switch (isa) {
    case GemmIsa::Avx2: return avx2;
    case GemmIsa::AvxVnni: return avxvnni;
    case GemmIsa::Avx512Vnni:
    case GemmIsa::Amx: return avx512;   // the tiles take 2-bit codes only; these are the 1.6-bit GEMM's
    case GemmIsa::Scalar: break;
    }
#else
    (void)isa;
#endif
    return scalar;
}

} // namespace

void ternary_matvec_trits(const TritMatrix& w, const int8_t* q, int32_t qsum, int32_t* acc, int r0, int r1, GemmIsa isa) {
    isa = vector_isa(isa);
#if defined(__x86_64__)
    if (isa == GemmIsa::Avx512Vnni && w.cols < kVnniTritMaxCols) return matvec_trits_avx512(w, q, qsum, acc, r0, r1);
    if (isa == GemmIsa::AvxVnni && w.cols < kVnniTritMaxCols) return matvec_trits_avxvnni(w, q, qsum, acc, r0, r1);
    if (isa != GemmIsa::Scalar) return matvec_trits_avx2(w, q, qsum, acc, r0, r1);
#else
    (void)isa;
#endif
    matvec_trits_scalar(w, q, qsum, acc, r0, r1);
}

const char* gemm_isa_name(GemmIsa isa) {
    switch (isa) {
    case GemmIsa::Scalar: return "scalar";
    case GemmIsa::Avx2: return "avx2";
    case GemmIsa::AvxVnni: return "avxvnni";
    case GemmIsa::Avx512Vnni: return "avx512vnni";
    case GemmIsa::Amx: return "amx";
    }
    return "scalar";
}

std::optional<GemmIsa> parse_gemm_isa(const std::string& name) {
    for (GemmIsa isa : {GemmIsa::Scalar, GemmIsa::Avx2, GemmIsa::AvxVnni, GemmIsa::Avx512Vnni, GemmIsa::Amx})
        if (name == gemm_isa_name(isa)) return isa;
    return std::nullopt;
}

std::vector<GemmIsa> supported_gemm_isas() {
    std::vector<GemmIsa> isas{GemmIsa::Scalar};
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0).
    if (__builtin_cpu_supports("avx2")) isas.push_back(GemmIsa::Avx2);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("avxvnni")) isas.push_back(GemmIsa::AvxVnni);
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"))
        isas.push_back(GemmIsa::Avx512Vnni);
    if (isas.back() == GemmIsa::Avx512Vnni && os_grants_amx()) isas.push_back(GemmIsa::Amx);
#endif
    return isas;
}

GemmIsa best_gemm_isa() {
    static const GemmIsa best = supported_gemm_isas().back();
    return best;
}

namespace {
// The batched loop over tiles of either layout: unpack(r, tile) fills rows [r, r + kGemmRows) as
// kp code bytes each, in the order of the activations.
template <class Unpack>
void gemm_tiles(const GemmKernels& k, Unpack&& unpack, int kp, const int8_t* qp, size_t q_stride, const int32_t* qsum, int tokens,
                int32_t* acc, size_t acc_stride, int row_begin, int row_end) {
    thread_local std::vector<uint8_t> tile;   // kGemmRows unpacked rows: L1-resident across the tokens
    tile.resize(size_t(kGemmRows) * kp);
    const int8_t* q[kMaxGemmTokens];
    for (int r = row_begin; r < row_end; r += kGemmRows) {
        unpack(r, tile.data());
        const int rows = std::min(kGemmRows, row_end - r);
        for (int t0 = 0; t0 < tokens; t0 += k.width) {
            const int nt = std::min(k.width, tokens - t0);
            for (int t = 0; t < nt; ++t) q[t] = qp + size_t(t0 + t) * q_stride;
            k.micro[nt](tile.data(), kp, q, TileOut{acc + size_t(t0) * acc_stride + size_t(r - row_begin), acc_stride, qsum + t0, rows});
        }
    }
}
} // namespace

void ternary_gemm_fast(const TernaryMatrix& w, const int8_t* qp, size_t q_stride, const int32_t* qsum, int tokens,
                       int32_t* acc, size_t acc_stride, int row_begin, int row_end, GemmIsa isa) {
#if defined(__x86_64__)
    // Up to 4 tokens, one pass of the AVX-512 kernel is as fast as the tiles' unpack (2-core VM).
    if (isa == GemmIsa::Amx && tokens > 4 && w.cols < kVnniCodesMaxCols)
        return gemm_codes_amx(w, qp, q_stride, qsum, tokens, acc, acc_stride, row_begin, row_end);
    isa = vector_isa(isa);
    if (isa == GemmIsa::Avx512Vnni && w.cols < kVnniCodesMaxCols)
        return gemm_codes_avx512(w, qp, q_stride, qsum, tokens, acc, acc_stride, row_begin, row_end);
#endif
    const GemmKernels& k = kernels_for(isa);
    gemm_tiles(k, [&](int r, uint8_t* tile) { k.unpack(w, r, row_end, tile); }, w.row_stride * 4, qp, q_stride, qsum, tokens, acc,
               acc_stride, row_begin, row_end);
}

void ternary_gemm_trits(const TritMatrix& w, const int8_t* q, size_t q_stride, const int32_t* qsum, int tokens, int32_t* acc,
                        size_t acc_stride, int row_begin, int row_end, GemmIsa isa) {
    const GemmKernels& k = kernels_for(isa);
    const int kp = TritMatrix::activation_length(w.cols);
    const bool simd = isa != GemmIsa::Scalar;
    gemm_tiles(k, [&](int r, uint8_t* tile) { simd ? unpack_trits_avx2(w, r, row_end, kp, tile) : unpack_trits_scalar(w, r, row_end, kp, tile); },
               kp, q, q_stride, qsum, tokens, acc, acc_stride, row_begin, row_end);
}

// --- element-wise stages ---------------------------------------------------------------

namespace {
constexpr float kLog2e = 1.44269504f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kExpMin = -87.0f, kExpMax = 88.0f;
constexpr float kC6 = 1.0f / 720, kC5 = 1.0f / 120, kC4 = 1.0f / 24, kC3 = 1.0f / 6, kC2 = 0.5f;
} // namespace

float exp_approx(float x) {
    x = std::min(std::max(x, kExpMin), kExpMax);
    const float n = std::nearbyint(x * kLog2e);
    float r = x - n * kLn2Hi;
    r = r - n * kLn2Lo;
    float p = kC6;
    p = p * r + kC5;
    p = p * r + kC4;
    p = p * r + kC3;
    p = p * r + kC2;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const uint32_t bits = uint32_t(int32_t(n) + 127) << 23;
    float two_n;
    std::memcpy(&two_n, &bits, 4);
    return p * two_n;
}

#if defined(__x86_64__)
namespace {
__attribute__((target("avx2"))) inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kExpMin)), _mm256_set1_ps(kExpMax));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(kLn2Hi)));
    r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(kLn2Lo)));
    __m256 p = _mm256_set1_ps(kC6);
    for (float c : {kC5, kC4, kC3, kC2, 1.0f, 1.0f}) p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(c));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}
// 1 / (1 + e^−z) and z / (1 + e^−z), as sigmoid() and silu().
__attribute__((target("avx2"))) inline __m256 sigmoid8(__m256 z) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), z))));
}
__attribute__((target("avx2"))) inline __m256 silu8(__m256 z) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(z, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), z))));
}

__attribute__((target("avx2"))) int mlgru_step_avx2(const float* i_pre, const float* f_pre, const float* lb, float* h, float* out, int n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 f = sigmoid8(_mm256_loadu_ps(f_pre + k));
        if (lb) {
            const __m256 b = _mm256_loadu_ps(lb + k);
            f = _mm256_add_ps(b, _mm256_mul_ps(_mm256_sub_ps(one, b), f));
        }
        const __m256 i = _mm256_mul_ps(silu8(_mm256_loadu_ps(i_pre + k)), _mm256_sub_ps(one, f));
        const __m256 hn = _mm256_add_ps(_mm256_mul_ps(f, _mm256_loadu_ps(h + k)), i);
        _mm256_storeu_ps(h + k, hn);
        _mm256_storeu_ps(out + k, silu8(hn));
    }
    return k;
}
__attribute__((target("avx2"))) int swiglu_avx2(const float* gate, const float* up, float* out, int n) {
    int k = 0;
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(out + k, _mm256_mul_ps(silu8(_mm256_loadu_ps(gate + k)), _mm256_loadu_ps(up + k)));
    return k;
}
} // namespace
#endif

// Each function: the SIMD loop covers what it can, the scalar loop the rest (or all of it).
void mlgru_step(const float* i_pre, const float* f_pre, const float* lb, float* h, float* out, int n) {
    int k = 0;
#if defined(__x86_64__)
    static const bool avx2 = cpu_has_avx2();
    if (avx2) k = mlgru_step_avx2(i_pre, f_pre, lb, h, out, n);
#endif
    for (; k < n; ++k) {
        float f = sigmoid(f_pre[k]);
        if (lb) f = lb[k] + (1.0f - lb[k]) * f;
        const float i = silu(i_pre[k]) * (1.0f - f);
        h[k] = f * h[k] + i;
        out[k] = silu(h[k]);
    }
}

void swiglu(const float* gate, const float* up, float* out, int n) {
    int k = 0;
#if defined(__x86_64__)
    static const bool avx2 = cpu_has_avx2();
    if (avx2) k = swiglu_avx2(gate, up, out, n);
#endif
    for (; k < n; ++k) out[k] = silu(gate[k]) * up[k];
}

void ternary_matvec_fast(const TernaryMatrix& w, const int8_t* qp, int32_t qsum, int32_t* acc, int r0, int r1, GemmIsa isa) {
    isa = vector_isa(isa);
#if defined(__x86_64__)
    if (isa == GemmIsa::Avx512Vnni && w.cols < kVnniCodesMaxCols) return matvec_codes_avx512(w, qp, qsum, acc, r0, r1);
    if (isa == GemmIsa::AvxVnni && w.cols < kVnniCodesMaxCols) return matvec_codes_avxvnni(w, qp, qsum, acc, r0, r1);
    if (isa != GemmIsa::Scalar) return matvec_codes_avx2(w, qp, qsum, acc, r0, r1);
#else
    (void)isa;
#endif
    matvec_codes_scalar(w, qp, qsum, acc, r0, r1);
}

} // namespace mmfree::cpu
