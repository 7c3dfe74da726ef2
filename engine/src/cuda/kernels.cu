// SPDX-License-Identifier: Apache-2.0
// CUDA kernels for the MatMul-free LM (MODEL_SPEC.md). See kernels.h for the data layouts.
#include "cuda/kernels.h"

#include <cuda_runtime.h>

namespace mmfree::cuda {
namespace {

constexpr uint32_t kCodeMask = 0x03030303u;

__device__ __forceinline__ float silu_f(float z) { return z / (1.0f + expf(-z)); }
__device__ __forceinline__ float sigmoid_f(float z) { return 1.0f / (1.0f + expf(-z)); }

// D = A·B + C, int8 tensor cores: A 16×32 (row), B 32×8 (col), C 16×8 int32 (decode and prefill).
__device__ __forceinline__ void mma_s8(int (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// clamp(round_half_away(v), −128, 127): roundf rounds half away from zero, like std::round.
__device__ __forceinline__ int quant_i8(float v) { return int(fminf(fmaxf(roundf(v), -128.f), 127.f)); }

__device__ __forceinline__ unsigned long long ld_acquire(const unsigned long long* p) {
    unsigned long long v;
    asm volatile("ld.acquire.gpu.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
    return v;
}

__device__ __forceinline__ unsigned long long global_ns() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// Per block and phase when profiling: SM clocks after the barrier, the norm reduction, the
// quantization (+ staged weights), the projection, the arrival (+ staging issued); globaltimer
// after the barrier and after the projection (cross-block order).
__device__ __forceinline__ void stamp(unsigned long long* tl, int i) {
    if (tl && threadIdx.x == 0) tl[i] = clock64();
}
__device__ __forceinline__ void stamp_ns(unsigned long long* tl, int i) {
    if (tl && threadIdx.x == 0) tl[i] = global_ns();
}

// Orders (value, index) so that a larger value wins and, on equal values, the smaller index
// (the CPU's argmax keeps the first maximum).
__device__ __forceinline__ unsigned long long argmax_key(float v, int index) {
    uint32_t u = __float_as_uint(v);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return (static_cast<unsigned long long>(u) << 32) | (0xffffffffu - static_cast<uint32_t>(index));
}
// The index a key carries.
__device__ __forceinline__ int argmax_index(unsigned long long key) { return int(0xffffffffu - uint32_t(key & 0xffffffffu)); }
// Butterfly over one warp: every lane ends with the warp's largest key.
__device__ __forceinline__ unsigned long long warp_max_key(unsigned long long best) {
#pragma unroll
    for (int off = 16; off; off >>= 1) {
        const unsigned long long o = __shfl_xor_sync(0xffffffffu, best, off);
        best = o > best ? o : best;
    }
    return best;
}

// ---- block-wide reductions: every thread gets the same result (fixed summation order) -------
// Butterfly over one warp: every lane ends with the same sums and maxima, bit for bit.
template <int NS, int NM>
__device__ __forceinline__ void warp_reduce(float (&s)[NS], float (&m)[NM]) {
#pragma unroll
    for (int off = 16; off; off >>= 1) {
#pragma unroll
        for (int i = 0; i < NS; ++i) s[i] += __shfl_xor_sync(0xffffffffu, s[i], off);
#pragma unroll
        for (int i = 0; i < NM; ++i) m[i] = fmaxf(m[i], __shfl_xor_sync(0xffffffffu, m[i], off));
    }
}
template <int NS, int NM>
__device__ __forceinline__ void store_slot(float* slot, const float (&s)[NS], const float (&m)[NM]) {
#pragma unroll
    for (int i = 0; i < NS; ++i) slot[i] = s[i];
#pragma unroll
    for (int i = 0; i < NM; ++i) slot[NS + i] = m[i];
}
template <int NS, int NM>
__device__ __forceinline__ void load_slot(const float* slot, float (&s)[NS], float (&m)[NM]) {
#pragma unroll
    for (int i = 0; i < NS; ++i) s[i] = slot[i];
#pragma unroll
    for (int i = 0; i < NM; ++i) m[i] = slot[NS + i];
}

// Each warp reduces by butterfly; warp 0 then reduces the warp totals the same way and leaves the
// result for everyone. (Every thread summing the 16 warp totals itself cost 16·(NS + NM) shared
// loads per thread, ~1,300 load wavefronts per block: ~0.65 µs of a decode phase.) A butterfly
// gives every lane the same bits (a + b == b + a), so every block computes the same values.
constexpr int kRedFloats = 256;  // block_reduce's shared scratch (decode and prefill)

template <int NS, int NM>
__device__ __forceinline__ void block_reduce(float (&s)[NS], float (&m)[NM], float* red) {
    constexpr int N = NS + NM;
    static_assert(33 * N <= kRedFloats, "red holds a slot of N floats per warp and the total");
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    warp_reduce(s, m);
    if (lane == 0) store_slot(red + warp * N, s, m);
    __syncthreads();
    if (warp == 0) {
        if (lane < warps) {
            load_slot(red + lane * N, s, m);
        } else {  // the maxima are of absolute values: 0 is their identity, like 0 for the sums
#pragma unroll
            for (int i = 0; i < NS; ++i) s[i] = 0.f;
#pragma unroll
            for (int i = 0; i < NM; ++i) m[i] = 0.f;
        }
        warp_reduce(s, m);
        if (lane == 0) store_slot(red + 32 * N, s, m);
    }
    __syncthreads();
    load_slot(red + 32 * N, s, m);
}

template <int N>
__device__ __forceinline__ void block_sum_int(int (&v)[N], int* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
#pragma unroll
    for (int off = 16; off; off >>= 1)
#pragma unroll
        for (int i = 0; i < N; ++i) v[i] += __shfl_xor_sync(0xffffffffu, v[i], off);
    if (lane == 0)
#pragma unroll
        for (int i = 0; i < N; ++i) red[warp * N + i] = v[i];
    __syncthreads();
#pragma unroll
    for (int i = 0; i < N; ++i) v[i] = 0;
#pragma unroll 4
    for (int w = 0; w < warps; ++w)
#pragma unroll
        for (int i = 0; i < N; ++i) v[i] += red[w * N + i];
}

// ---- BitLinear input: (pre-norm) → norm → int8 -------------------------------------------
struct NormPlan {
    float r0, r1;
    float s[3];
};

// Where activation k goes for the decode dot (dp4a): per 16 weights a 4×4 transpose, and the
// four 16-byte words of each 64-weight chunk rotated by (chunk/2) so that the 8 lanes of a row
// group (reading chunks j ≡ lane mod 8) hit 8 different bank groups.
__device__ __forceinline__ int decode_pos(int k) {
    const int j = k >> 6, w = (k >> 4) & 3, b = (k >> 2) & 3, s = k & 3;
    return (j << 6) + (((w + (j >> 1)) & 3) << 4) + (s << 2) + b;
}

// Where activation k goes for the mma path: logical column L = kk·32 + h·16 + tig·4 + j of a
// 128-block holds physical weight 16·(2·tig + h) + 4·j + kk (see gemm_kernel's B fragments).
__device__ __forceinline__ int mma_pos(int k) {
    const int p = k & 127, word = p >> 4, tig = word >> 1, h = word & 1, j = (p >> 2) & 3, kk = p & 3;
    return (k & ~127) + kk * 32 + h * 16 + tig * 4 + j;
}

__device__ __forceinline__ float comp(const float4& v, int c) { return c == 0 ? v.x : c == 1 ? v.y : c == 2 ? v.z : v.w; }
__device__ __forceinline__ float4 ld4(const float* p) { return *reinterpret_cast<const float4*>(p); }

__device__ __forceinline__ void cp_async16(void* dst, const void* src) {
    const uint32_t d = static_cast<uint32_t>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(d), "l"(src) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }

// Bulk copies (the copy engine), completing on an mbarrier: one thread stages a whole phase.
__device__ __forceinline__ uint32_t smem_u32(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }
__device__ __forceinline__ void mbar_init(unsigned long long* mb) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_u32(mb)) : "memory");
}
__device__ __forceinline__ void mbar_expect_tx(unsigned long long* mb, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_u32(mb)), "r"(bytes) : "memory");
}
__device__ __forceinline__ void bulk_copy(void* dst, const void* src, uint32_t bytes, unsigned long long* mb) {
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(smem_u32(dst)),
                 "l"(src), "r"(bytes), "r"(smem_u32(mb))
                 : "memory");
}
// The same, marked evict-first in L2 (createpolicy): decode's weight rows are read once per token
// and should not push out the activations and norm weights that every block reads right after.
__device__ __forceinline__ void bulk_copy_evict_first(void* dst, const void* src, uint32_t bytes, unsigned long long* mb) {
    asm volatile(
        "{\n .reg .b64 policy;\n createpolicy.fractional.L2::evict_first.b64 policy, 1.0;\n"
        " cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1], %2, [%3], policy;\n}" ::"r"(
            smem_u32(dst)),
        "l"(src), "r"(bytes), "r"(smem_u32(mb))
        : "memory");
}
__device__ __forceinline__ void mbar_wait(unsigned long long* mb, uint32_t parity) {
    uint32_t done = 0;
    while (!done)
        asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}"
                     : "=r"(done)
                     : "r"(smem_u32(mb)), "r"(parity)
                     : "memory");
}

// Decode: the mbarriers of the phase's staged γ and weight rows, the parity of this phase's use
// of them, and where the γ come from. Prefill: none.
struct StageWait {
    unsigned long long* g = nullptr;
    unsigned long long* w = nullptr;
    uint32_t parity = 0;
    const float* const* gsrc = nullptr;  // the γ in global memory (γ0 if any, then each γ1)
};

// One input row → NQ int8 vectors in shared memory, by the whole block (decode and prefill).
// Each thread keeps its PER float4 of the input in registers, all loads in flight at once. One
// block reduction gathers Σx², Σ(x·γ0·e)² and max|x·γ0·e·γ1[j]|: the second norm's sum and the
// quantization maxima follow by scaling (RMSNorm output = input · r, r > 0), so one reduction
// replaces three sequential ones. Elements are then computed in the CPU reference's order:
// u = ((x·r0)·γ0)·e, n = (u·r1)·γ1, q = round(n·s), stored at decode_pos(k) or mma_pos(k) with
// K..Kp zero-filled. x2 is `up` (SwiGLU: x·silu → silu(x)·up) or e (Gated). The γ vectors are
// read twice: prefill finds them in L1; decode reads them from L2 first and from the copies it
// staged in shared memory (waiting on `sw`) second.
template <int NQ, int PER, bool MMA>
__device__ NormPlan norm_quant(NqInput mode, const float* __restrict__ x, const float* __restrict__ x2, const float* g0,
                               const float* const (&g1)[3], int K, int Kp, float eps, int8_t* const (&q)[3], int (&qsum)[NQ],
                               float* red, int* ired, StageWait sw, unsigned long long* tl, float* x_seed = nullptr,
                               int seed_lo = 0, int seed_hi = 0) {
    const int tid = threadIdx.x, nt = blockDim.x;
    // The first pass reads the γ from global memory (L2), in flight with the input; decode's
    // staged copies are waited for only before the second pass.
    const float* f0 = g0;
    const float* f1[NQ];
#pragma unroll
    for (int j = 0; j < NQ; ++j) f1[j] = sw.gsrc ? sw.gsrc[j + (g0 ? 1 : 0)] : g1[j];
    if (g0 && sw.gsrc) f0 = sw.gsrc[0];
    float4 xv[PER], ev[PER];
#pragma unroll
    for (int i = 0; i < PER; ++i) {
        const int k4 = tid + i * nt;
        xv[i] = make_float4(0.f, 0.f, 0.f, 0.f);
        ev[i] = make_float4(1.f, 1.f, 1.f, 1.f);
        if (4 * k4 < K) {
            xv[i] = __ldcg(reinterpret_cast<const float4*>(x) + k4);
            if (mode != NqInput::Plain) ev[i] = __ldcg(reinterpret_cast<const float4*>(x2) + k4);
        }
    }
    if (mode == NqInput::SwiGLU) {
#pragma unroll
        for (int i = 0; i < PER; ++i) {
            xv[i] = make_float4(silu_f(xv[i].x) * ev[i].x, silu_f(xv[i].y) * ev[i].y, silu_f(xv[i].z) * ev[i].z,
                                silu_f(xv[i].w) * ev[i].w);
            ev[i] = make_float4(1.f, 1.f, 1.f, 1.f);
        }
    }
    float sums[2] = {0.f, 0.f};
    float mx[NQ];
#pragma unroll
    for (int j = 0; j < NQ; ++j) mx[j] = 0.f;
#pragma unroll
    for (int i = 0; i < PER; ++i) {
        const int k4 = tid + i * nt;
        if (4 * k4 >= K) continue;
        const float4 a0 = f0 ? ld4(f0 + 4 * k4) : make_float4(1.f, 1.f, 1.f, 1.f);
        float4 a1[NQ];
#pragma unroll
        for (int j = 0; j < NQ; ++j) a1[j] = ld4(f1[j] + 4 * k4);
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            const float v = comp(xv[i], c);
            sums[0] += v * v;
            float w = v;
            if (g0) {
                w = v * comp(a0, c) * comp(ev[i], c);
                sums[1] += w * w;
            }
#pragma unroll
            for (int j = 0; j < NQ; ++j) mx[j] = fmaxf(mx[j], fabsf(w * comp(a1[j], c)));
        }
    }
    stamp(tl, 8);
    if (tid < NQ) ired[tid] = 0;  // Σq's accumulators; block_reduce's barrier orders this before the atomics
    block_reduce(sums, mx, red);
    stamp(tl, 9);
    if (sw.g) mbar_wait(sw.g, sw.parity);  // decode: the staged γ; the weights may still stream
    stamp(tl, 1);
    NormPlan p;
    const float fk = float(K);
    float maxscale;
    if (g0) {
        p.r0 = 1.0f / sqrtf(sums[0] / fk + eps);
        p.r1 = 1.0f / sqrtf(p.r0 * p.r0 * sums[1] / fk + eps);
        maxscale = p.r0 * p.r1;
    } else {
        p.r0 = 1.f;
        p.r1 = 1.0f / sqrtf(sums[0] / fk + eps);
        maxscale = p.r1;
    }
#pragma unroll
    for (int j = 0; j < 3; ++j) p.s[j] = j < NQ ? 127.0f / fmaxf(mx[j] * maxscale, 1e-5f) : 1.f;

#pragma unroll
    for (int j = 0; j < NQ; ++j) qsum[j] = 0;
#pragma unroll
    for (int i = 0; i < PER; ++i) {
        const int k4 = tid + i * nt;
        if (4 * k4 >= K) continue;
        const float4 a0 = g0 ? ld4(g0 + 4 * k4) : make_float4(1.f, 1.f, 1.f, 1.f);
        float4 a1[NQ];
#pragma unroll
        for (int j = 0; j < NQ; ++j) a1[j] = ld4(g1[j] + 4 * k4);
        // The four elements of a float4 land 4 (dp4a order) or 32 (mma order) bytes apart.
        const int pos0 = MMA ? mma_pos(4 * k4) : decode_pos(4 * k4);
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            const int k = 4 * k4 + c;
            if (x_seed && k >= seed_lo && k < seed_hi) x_seed[k] = comp(xv[i], c);
            float u = comp(xv[i], c);
            if (g0) {
                u = (u * p.r0) * comp(a0, c);
                if (mode == NqInput::Gated) u = u * comp(ev[i], c);
            }
            const int pos = pos0 + c * (MMA ? 32 : 4);
#pragma unroll
            for (int j = 0; j < NQ; ++j) {
                const int v = quant_i8(((u * p.r1) * comp(a1[j], c)) * p.s[j]);
                q[j][pos] = int8_t(v);
                qsum[j] += v;
            }
        }
    }
    for (int k = K + tid; k < Kp; k += nt)
#pragma unroll
        for (int j = 0; j < NQ; ++j) q[j][MMA ? mma_pos(k) : decode_pos(k)] = 0;
    // Σq: warp sums, then one shared-memory atomic per warp (integers: exact in any order).
#pragma unroll
    for (int off = 16; off; off >>= 1)
#pragma unroll
        for (int j = 0; j < NQ; ++j) qsum[j] += __shfl_xor_sync(0xffffffffu, qsum[j], off);
    if ((tid & 31) == 0)
#pragma unroll
        for (int j = 0; j < NQ; ++j) atomicAdd(&ired[j], qsum[j]);
    if (sw.w) mbar_wait(sw.w, sw.parity);  // decode: the staged weight rows
    __syncthreads();  // also publishes q
#pragma unroll
    for (int j = 0; j < NQ; ++j) qsum[j] = ired[j];
    stamp(tl, 2);
    return p;
}

// ---- decode --------------------------------------------------------------------------------
__device__ __forceinline__ uint32_t word_of(const uint4& v, int t) { return t == 0 ? v.x : t == 1 ? v.y : t == 2 ? v.z : v.w; }

// Σ c·q for NR rows by one team of `lpr` lanes (8, 16 or 32): lane `lt` takes 16-byte chunks lt,
// lt + lpr, …  Rows are generic pointers: staged in shared memory, or global when the stage
// buffer was too small. Row r reads q[r]. SHARED: every row uses q[0], one shared-memory read
// serves all rows. A code word's four fields take one shift: fields 0 and 2, masked in place,
// add to acc; fields 1 and 3, masked as 4·c, to odd (= 4·Σ c·q exactly, so odd >> 2 is exact;
// |odd| ≤ 8·128·K < 2^31 for any K the kernel takes).
template <int NR, bool SHARED>
__device__ __forceinline__ void dot_team(const uint8_t* const (&row)[NR], const int8_t* const (&q)[NR], int chunks, int lt, int lpr,
                                         int (&acc)[NR]) {
    constexpr uint32_t kOddMask = kCodeMask << 2;
    int odd[NR] = {};
#pragma unroll 2
    for (int j = lt; j < chunks; j += lpr) {
        uint4 w[NR];
#pragma unroll
        for (int r = 0; r < NR; ++r) w[r] = *reinterpret_cast<const uint4*>(row[r] + 16 * j);
        const int rot = j >> 1;
#pragma unroll
        for (int t = 0; t < 4; ++t) {
            const int off = (j << 6) + (((t + rot) & 3) << 4);
            int4 qv;
            if (SHARED) qv = *reinterpret_cast<const int4*>(q[0] + off);
#pragma unroll
            for (int r = 0; r < NR; ++r) {
                const uint32_t cw = word_of(w[r], t), hi = cw >> 4;
                if (!SHARED) qv = *reinterpret_cast<const int4*>(q[r] + off);
                acc[r] = __dp4a(int(cw & kCodeMask), qv.x, acc[r]);
                odd[r] = __dp4a(int(cw & kOddMask), qv.y, odd[r]);
                acc[r] = __dp4a(int(hi & kCodeMask), qv.z, acc[r]);
                odd[r] = __dp4a(int(hi & kOddMask), qv.w, odd[r]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < NR; ++r) acc[r] += odd[r] >> 2;
    for (int off = lpr >> 1; off; off >>= 1)
#pragma unroll
        for (int r = 0; r < NR; ++r) acc[r] += __shfl_xor_sync(0xffffffffu, acc[r], off);
}

// Lanes per row: few rows → whole warps per row, many rows → 8 lanes per row (NT threads).
template <int NT>
__device__ __forceinline__ int pick_lanes_per_row(int units, int chunks) {
    int best = 8;
    long long best_cost = 1ll << 62;
    for (int lpr = 8; lpr <= 32; lpr <<= 1) {
        const int teams = NT / lpr;
        const long long cost = (long long)((units + teams - 1) / teams) * ((chunks + lpr - 1) / lpr);
        if (cost < best_cost) { best_cost = cost; best = lpr; }
    }
    return best;
}

__device__ __forceinline__ void block_range(int n, int index, int count, int& u0, int& u1) {
    u0 = int((long long)n * index / count);
    u1 = int((long long)n * (index + 1) / count);
}
__device__ __forceinline__ void block_range(int n, int& u0, int& u1) { block_range(n, blockIdx.x, gridDim.x, u0, u1); }

// The blocks a decode launch's column is computed by: all of them (groups = 1: every block serves
// every column), or, in a grouped launch, the col-th of `groups` contiguous ranges of blocks,
// which run that column alone as a launch of `count` blocks would.
struct BlockGroup {
    int col, index, count;
};
__device__ __forceinline__ BlockGroup block_group(int groups) {
    if (groups <= 1) return {0, int(blockIdx.x), int(gridDim.x)};
    const int n = int(gridDim.x), b = int(blockIdx.x);
    int g = 0;
    while (g + 1 < groups && (g + 1) * n / groups <= b) ++g;
    const int b0 = g * n / groups, b1 = (g + 1) * n / groups;
    return {g, b - b0, b1 - b0};
}

// The weight rows one block reads in one phase: up to three contiguous runs, staged in this
// order into the shared buffer (row rr of the concatenation at wb + rr·row_bytes).
struct PhaseRows {
    const uint8_t* seg[3];
    int seg_rows[3];
    int nseg, row_bytes, units, first, total_rows;
};

__device__ PhaseRows phase_rows(const DecodeArgs& a, int p, const BlockGroup& bg) {
    PhaseRows r{};
    auto pairs = [&](const DevMatrix& w, int n) {  // rows in pairs that share one activation read
        int u0, u1;
        block_range((n + 1) / 2, bg.index, bg.count, u0, u1);
        const int r0 = 2 * u0, r1 = min(2 * u1, n);
        r.nseg = 1; r.seg[0] = w.codes + size_t(r0) * w.stride; r.seg_rows[0] = max(r1 - r0, 0);
        r.row_bytes = w.stride; r.units = u1 - u0; r.first = r0;
    };
    if (p == 4 * a.L) {
        pairs(a.lm_head, a.V);
    } else {
        const DevLayer& ly = a.layers[p >> 2];
        int c0, c1;
        switch (p & 3) {
        case 0:
            block_range(a.D, bg.index, bg.count, c0, c1);
            r.nseg = 3;
            r.seg[0] = ly.i.codes + size_t(c0) * ly.i.stride;
            r.seg[1] = ly.f.codes + size_t(c0) * ly.f.stride;
            r.seg[2] = ly.g.codes + size_t(c0) * ly.g.stride;
            r.seg_rows[0] = r.seg_rows[1] = r.seg_rows[2] = c1 - c0;
            r.row_bytes = ly.i.stride; r.units = c1 - c0; r.first = c0;
            break;
        case 1: pairs(ly.o, a.H); break;
        case 2:
            block_range(a.I, bg.index, bg.count, c0, c1);
            r.nseg = 2;
            r.seg[0] = ly.gate.codes + size_t(c0) * ly.gate.stride;
            r.seg[1] = ly.gate.codes + size_t(a.I + c0) * ly.gate.stride;
            r.seg_rows[0] = r.seg_rows[1] = c1 - c0;
            r.row_bytes = ly.gate.stride; r.units = c1 - c0; r.first = c0;
            break;
        default: pairs(ly.down, a.H); break;
        }
    }
    r.total_rows = 0;
    for (int s = 0; s < r.nseg; ++s) r.total_rows += r.seg_rows[s];
    return r;
}

// The RMSNorm weights a phase reads (γ0 if any, then each γ1), K floats each.
struct PhaseNorms {
    const float* v[4];
    int n, K;
};

__device__ PhaseNorms phase_norms(const DecodeArgs& a, int p) {
    if (p == 4 * a.L) return {{a.final_norm, a.lm_head.norm}, 2, a.H};
    const DevLayer& ly = a.layers[p >> 2];
    switch (p & 3) {
    case 0: return {{ly.attn_norm, ly.i.norm, ly.f.norm, ly.g.norm}, 4, a.H};
    case 1: return {{ly.g_norm, ly.o.norm}, 2, a.D};
    case 2: return {{ly.mlp_norm, ly.gate.norm}, 2, a.H};
    default: return {{ly.down.norm}, 1, a.I};
    }
}

// A block's rows and γ of one phase; the kernel tabulates them for every phase at its start, so
// that no descriptor load from global memory sits between two phases.
struct PhaseDesc {
    PhaseRows rows;
    PhaseNorms norms;
};
__host__ __device__ constexpr size_t desc_bytes(int phases) { return (size_t(phases) * sizeof(PhaseDesc) + 15) & ~size_t(15); }

// The thread that stages: not the barrier thread (0), which would otherwise start waiting late.
constexpr int kStageThread = 32;

// The stage thread starts the copy engine on the phase's γ vectors and weight rows (as many as
// fit), completing on mb[0] and mb[1], which norm_quant waits for in turn. It first waits until
// *go == ticket: thread 0 has arrived at the grid barrier (its release fence measured ~0.8 µs
// longer with copies in flight). So HBM streams while thread 0 waits and the grid synchronizes;
// a handful of bulk copies instead of ~10 cp.async per thread, whose issue stalled. (Staging the
// γ earlier, during the previous projection, measured slower: 2.7B 1027 vs 1094 tok/s.)
__device__ void stage_phase(const DecodeArgs& a, const PhaseDesc& d, uint8_t* wb, float* gn, unsigned long long* mb,
                            const volatile uint32_t* go, uint32_t ticket, bool evict_first) {
    if (threadIdx.x != kStageThread) return;
    while (*go != ticket) {
    }
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");  // the last phase's reads before these writes
    const PhaseRows& pr = d.rows;
    const PhaseNorms& pn = d.norms;
    const uint32_t gbytes = uint32_t(pn.K) * sizeof(float);
    mbar_expect_tx(&mb[0], uint32_t(pn.n) * gbytes);
    for (int v = 0; v < pn.n; ++v) bulk_copy(gn + v * pn.K, pn.v[v], gbytes, &mb[0]);
    const int cap = a.wb_bytes / pr.row_bytes;
    int rows = 0;
    for (int s = 0; s < pr.nseg; ++s) rows += min(pr.seg_rows[s], max(cap - rows, 0));
    mbar_expect_tx(&mb[1], uint32_t(rows) * uint32_t(pr.row_bytes));
    int base = 0;
    for (int s = 0; s < pr.nseg && base < cap; ++s) {
        const int n = min(pr.seg_rows[s], cap - base);
        if (n > 0) {
            uint8_t* const dst = wb + size_t(base) * pr.row_bytes;
            const uint32_t bytes = uint32_t(n) * uint32_t(pr.row_bytes);
            if (evict_first) bulk_copy_evict_first(dst, pr.seg[s], bytes, &mb[1]);
            else bulk_copy(dst, pr.seg[s], bytes, &mb[1]);
        }
        base += pr.seg_rows[s];
    }
}

__device__ __forceinline__ const uint8_t* row_ptr(const PhaseRows& pr, const uint8_t* wb, int wb_bytes, int rr) {
    if ((rr + 1) * pr.row_bytes <= wb_bytes) return wb + size_t(rr) * pr.row_bytes;
    for (int s = 0; s < pr.nseg; ++s) {
        if (rr < pr.seg_rows[s]) return pr.seg[s] + size_t(rr) * pr.row_bytes;
        rr -= pr.seg_rows[s];
    }
    return pr.seg[0];
}

// Optional: start streaming a later phase's rows into L2 (MMFREE_CUDA_PREFETCH phases ahead).
__device__ void prefetch_phase_l2(const DecodeArgs& a, int p, const BlockGroup& bg) {
    const PhaseRows pr = phase_rows(a, p, bg);
    constexpr size_t piece = 16384;
    for (int s = 0; s < pr.nseg; ++s) {
        const size_t bytes = size_t(pr.seg_rows[s]) * pr.row_bytes;
        for (size_t off = size_t(threadIdx.x) * piece; off < bytes; off += size_t(blockDim.x) * piece) {
            const uint32_t n = uint32_t(bytes - off < piece ? bytes - off : piece);
            asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(pr.seg[s] + off), "r"(n) : "memory");
        }
    }
}

// Grid-wide barrier, split so that a block stages its next weights between arriving and
// waiting. The counter only grows; the host passes its value at launch. The arrival is one
// fire-and-forget release add after the block's writes (a __syncthreads orders them before it);
// staging after it keeps the release fence from waiting on those copies.
__device__ __forceinline__ void grid_arrive(unsigned long long* counter) {
    if (threadIdx.x == 0) asm volatile("red.release.gpu.global.add.u64 [%0], 1;" ::"l"(counter) : "memory");
}
__device__ __forceinline__ void grid_wait(const unsigned long long* counter, unsigned long long target) {
    if (threadIdx.x == 0)
        while (ld_acquire(counter) < target) {
        }
    __syncthreads();
}

// The phase's input → NQ int8 vectors at q + j·Kp, its plan and Σq; the input stays in registers
// between norm_quant's two passes (PER float4 per thread).
template <int NQ, int NT>
__device__ NormPlan decode_inputs(NqInput mode, const float* x, const float* e, const float* g0, const float* const (&g1)[3], int K,
                                  int8_t* q, int (&qs)[NQ], float* red, int* ired, StageWait sw, unsigned long long* tl,
                                  float* x_seed = nullptr, int seed_lo = 0, int seed_hi = 0) {
    const int Kp = (K + 127) & ~127;
    int8_t* const qv[3] = {q, q + Kp, q + 2 * Kp};
    if (K <= 4 * NT) return norm_quant<NQ, 1, false>(mode, x, e, g0, g1, K, Kp, 1e-6f, qv, qs, red, ired, sw, tl, x_seed, seed_lo, seed_hi);
    if (K <= 8 * NT) return norm_quant<NQ, 2, false>(mode, x, e, g0, g1, K, Kp, 1e-6f, qv, qs, red, ired, sw, tl, x_seed, seed_lo, seed_hi);
    return norm_quant<NQ, 4, false>(mode, x, e, g0, g1, K, Kp, 1e-6f, qv, qs, red, ired, sw, tl, x_seed, seed_lo, seed_hi);
}

constexpr int kKredCount = 32;  // the argmax keys of every warp

// The three kinds of decode launch (decode_kernel's MODE; kernels.h, DecodeLaunch).
constexpr int kSingle = int(DecodeLaunch::Single);      // one column, every block
constexpr int kGrouped = int(DecodeLaunch::Grouped);    // a group of blocks per column
constexpr int kHandover = int(DecodeLaunch::Handover);  // every block every column, q handed over through L2

struct DecodeSmem {
    int8_t* q;    // the phase's j-th int8 vector at q + j·Kp
    float* red;
    int* ired;
    unsigned long long* kred;
    unsigned long long* mb;  // [2] mbarriers: γ staged, weight rows staged
    volatile uint32_t* go;   // phase + 1 once thread 0 has arrived at the barrier before it (stage_phase)
    PhaseDesc* desc;         // [4L + 1] this block's rows and γ of every phase
    // Hand-over launches only (null otherwise):
    int8_t* qc;   // column c's q vectors at qc + c·handover_q_stride(q_col), copied from block c's hand-over
    float* cs;    // column c's scales s[j] at cs[4c + j]
    int* cq;      // column c's Σq[j] at cq[4c + j]
    unsigned long long* kred8;  // [warps][8] the argmax keys of every warp and column
    int* accs;    // Σ c·q of this block's row rr for column c at accs[8·rr + c]
    float* gn;    // the phase's γ vectors (phase_norms), staged
    uint8_t* wb;  // the phase's weight rows, staged
};


// The BitLinear input of a phase kind (KIND = p & 3 within a layer, kLmHead for phase 4L) of
// column col → sm.q, its plan and Σq (qs[j] for j ≥ NQ: 0). In layer 0's first phase the input
// is the embedding row, and x_seed (the residual stream) gets its elements [seed_lo, seed_hi).
constexpr int kLmHead = 4;
template <int NT, int KIND>
__device__ __forceinline__ NormPlan phase_input(const DecodeArgs& a, const DecodeSmem& sm, int p, int col, int (&qs)[3], StageWait sw,
                                                unsigned long long* tl, float* x_seed = nullptr, int seed_lo = 0, int seed_hi = 0) {
    const float* const x = a.x + size_t(col) * a.H;
    int q1[1] = {0};
    qs[0] = qs[1] = qs[2] = 0;
    NormPlan pl;
    if (KIND == 0) {
        const float* const g1[3] = {sm.gn + a.H, sm.gn + 2 * a.H, sm.gn + 3 * a.H};
        const float* const in = p == 0 ? a.x_in + size_t(col) * a.H : x;
        return decode_inputs<3, NT>(NqInput::Plain, in, nullptr, sm.gn, g1, a.H, sm.q, qs, sm.red, sm.ired, sw, tl, x_seed, seed_lo,
                                    seed_hi);
    } else if (KIND == 1) {
        const float* const g1[3] = {sm.gn + a.D, nullptr, nullptr};
        pl = decode_inputs<1, NT>(NqInput::Gated, a.ag + size_t(col) * a.D, a.sh + size_t(col) * a.D, sm.gn, g1, a.D, sm.q, q1, sm.red,
                                  sm.ired, sw, tl);
    } else if (KIND == 3) {
        const float* const g1[3] = {sm.gn, nullptr, nullptr};
        pl = decode_inputs<1, NT>(NqInput::Plain, a.m + size_t(col) * a.I, nullptr, nullptr, g1, a.I, sm.q, q1, sm.red, sm.ired, sw, tl);
    } else {  // 2 (mlp_norm → gate/up) and kLmHead (final norm → lm_head) both read x
        const float* const g1[3] = {sm.gn + a.H, nullptr, nullptr};
        pl = decode_inputs<1, NT>(NqInput::Plain, x, nullptr, sm.gn, g1, a.H, sm.q, q1, sm.red, sm.ired, sw, tl);
    }
    qs[0] = q1[0];
    return pl;
}

// One MLGRU channel step (MODEL_SPEC) from its i and f projections: the new hidden state.
__device__ __forceinline__ float mlgru_h(float ai, float af, float hold, bool bounded, float lb) {
    float fgate = sigmoid_f(af);
    if (bounded) fgate = lb + (1.0f - lb) * fgate;
    const float in = silu_f(ai) * (1.0f - fgate);
    return fgate * hold + in;
}

// The last block of a token publishes column col's argmax (its key has every block's maximum).
__device__ __forceinline__ void publish_argmax(const DecodeArgs& a, int col) {
    const unsigned long long key = atomicAdd(a.argmax_key + col, 0ull);
    a.result[col] = argmax_index(key);
}

// One phase of this block's column: column bg.col of a grouped launch, else column 0.
template <int NT, int MODE>
__device__ void decode_phase(const DecodeArgs& a, const DecodeSmem& sm, int p, const PhaseRows& pr, StageWait sw,
                             unsigned long long* tl, const BlockGroup& bg) {
    constexpr bool GROUPED = MODE == kGrouped;
    const int lane = threadIdx.x & 31;
    const int L = a.L;
    const int col = GROUPED ? bg.col : 0;
    float* const x = a.x + size_t(col) * a.H;
    const int chunks = pr.row_bytes / 16;
    const int lpr = pick_lanes_per_row<NT>(pr.units, chunks);
    const int teams = NT / lpr, team = threadIdx.x / lpr, lt = threadIdx.x % lpr;
    auto row = [&](int rr) { return row_ptr(pr, sm.wb, a.wb_bytes, rr); };

    if (p == 4 * L) {  // final norm + lm_head + argmax
        int qs[3];
        const NormPlan pl = phase_input<NT, kLmHead>(a, sm, p, col, qs, sw, tl);
        const float f = a.lm_head.scale / pl.s[0];
        float* const logits = a.logits + size_t(col) * a.V;
        unsigned long long best = 0;
        for (int base = 0; base < pr.units; base += teams) {
            const int u = base + team;
            const bool valid = u < pr.units;
            const int rr0 = 2 * u, rr1 = 2 * u + 1 < pr.total_rows ? 2 * u + 1 : 2 * u;
            const uint8_t* const rows[2] = {row(valid ? rr0 : 0), row(valid ? rr1 : 0)};
            const int8_t* const qq[2] = {sm.q, sm.q};
            int acc[2] = {};
            dot_team<2, true>(rows, qq, valid ? chunks : 0, lt, lpr, acc);
            if (valid && lt == 0) {
                const int n0 = pr.first + rr0, n1 = pr.first + rr1;
                const float v0 = float(acc[0] - qs[0]) * f;
                logits[n0] = v0;
                const unsigned long long k0 = argmax_key(v0, n0);
                best = k0 > best ? k0 : best;
                if (rr1 != rr0) {
                    const float v1 = float(acc[1] - qs[0]) * f;
                    logits[n1] = v1;
                    const unsigned long long k1 = argmax_key(v1, n1);
                    best = k1 > best ? k1 : best;
                }
            }
        }
        best = warp_max_key(best);
        if (lane == 0) sm.kred[threadIdx.x >> 5] = best;
        __syncthreads();
        if (threadIdx.x == 0) {
            for (int w = 1; w < NT / 32; ++w) best = sm.kred[w] > best ? sm.kred[w] : best;
            atomicMax(a.argmax_key + col, best);
            __threadfence();
            // The last block of this token publishes the argmax. A group's counters start every
            // launch at zero: its last block resets them (all its blocks are past every barrier).
            unsigned long long* const done = GROUPED ? a.group_counters + kGroupCounterStride * bg.col + 1 : a.done;
            const unsigned long long old = atomicAdd(done, 1ull);
            if (GROUPED ? old + 1 == (unsigned long long)bg.count : (old + 1) % gridDim.x == 0) {
                publish_argmax(a, col);
                if (GROUPED) {
                    done[-1] = 0;
                    *done = 0;
                }
            }
        }
        return;
    }

    const int l = p >> 2;
    const DevLayer& ly = a.layers[l];
    float* const state = a.col_state[col] + size_t(l) * a.D;
    // The epilogues' own loads (state, lower bound, residual) are issued before each dot so
    // that their latency hides behind it.
    switch (p & 3) {
    case 0: {  // attn_norm → i/f/g projections → MLGRU step (fused per channel)
        int qs[3];
        NormPlan pl;
        if (l == 0) {
            // The residual stream starts as the embedding row: each block seeds the rows it
            // owns in phase 1 (o_proj) from the copy it holds in registers.
            int v0, v1;
            block_range((a.H + 1) / 2, bg.index, bg.count, v0, v1);
            pl = phase_input<NT, 0>(a, sm, p, col, qs, sw, tl, x, 2 * v0, min(2 * v1, a.H));
            if (bg.index == 0 && threadIdx.x == 0) a.argmax_key[col] = 0;
        } else {
            pl = phase_input<NT, 0>(a, sm, p, col, qs, sw, tl);
        }
        const float fi = ly.i.scale / pl.s[0], ff = ly.f.scale / pl.s[1], fg = ly.g.scale / pl.s[2];
        const int R = pr.units;
        for (int base = 0; base < R; base += teams) {
            const int u = base + team;
            const bool valid = u < R;
            const int uu = valid ? u : 0;
            const int ch = pr.first + uu;
            float hold = 0.f, lb = 0.f;
            if (valid && lt == 0) {
                hold = __ldcg(state + ch);
                if (ly.lower_bound) lb = __ldg(ly.lower_bound + ch);
            }
            const uint8_t* const rows[3] = {row(uu), row(R + uu), row(2 * R + uu)};
            const int kp = pr.row_bytes * 4;  // H padded to 128: the i/f/g vectors follow each other
            const int8_t* const qq[3] = {sm.q, sm.q + kp, sm.q + 2 * kp};
            int acc[3] = {};
            dot_team<3, false>(rows, qq, valid ? chunks : 0, lt, lpr, acc);
            if (valid && lt == 0) {
                const float ai = float(acc[0] - qs[0]) * fi, af = float(acc[1] - qs[1]) * ff, ag = float(acc[2] - qs[2]) * fg;
                const float hn = mlgru_h(ai, af, hold, ly.lower_bound != nullptr, lb);
                state[ch] = hn;
                a.ag[size_t(col) * a.D + ch] = ag;
                a.sh[size_t(col) * a.D + ch] = silu_f(hn);
            }
        }
        break;
    }
    case 2: {  // mlp_norm → gate_proj (gate and up rows of a channel together) → SwiGLU
        int qs[3];
        const NormPlan pl = phase_input<NT, 2>(a, sm, p, col, qs, sw, tl);
        const float f = ly.gate.scale / pl.s[0];
        const int R = pr.units;
        for (int base = 0; base < R; base += teams) {
            const int u = base + team;
            const bool valid = u < R;
            const int uu = valid ? u : 0;
            const uint8_t* const rows[2] = {row(uu), row(R + uu)};
            const int8_t* const qq[2] = {sm.q, sm.q};
            int acc[2] = {};
            dot_team<2, true>(rows, qq, valid ? chunks : 0, lt, lpr, acc);
            if (valid && lt == 0) {
                const float gate = float(acc[0] - qs[0]) * f, up = float(acc[1] - qs[0]) * f;
                a.m[size_t(col) * a.I + pr.first + u] = silu_f(gate) * up;
            }
        }
        break;
    }
    default: {  // 1: z = RMSNorm(ag; g_norm)·silu(h) → o_proj; 3: down_proj. Both add to x.
        const DevMatrix& w = (p & 3) == 1 ? ly.o : ly.down;
        int qs[3];
        const NormPlan pl = (p & 3) == 1 ? phase_input<NT, 1>(a, sm, p, col, qs, sw, tl) : phase_input<NT, 3>(a, sm, p, col, qs, sw, tl);
        const float f = w.scale / pl.s[0];
        for (int base = 0; base < pr.units; base += teams) {
            const int u = base + team;
            const bool valid = u < pr.units;
            const int rr0 = 2 * u, rr1 = 2 * u + 1 < pr.total_rows ? 2 * u + 1 : 2 * u;
            const int n0 = pr.first + rr0, n1 = pr.first + rr1;
            float x0 = 0.f, x1 = 0.f;
            if (valid && lt == 0) {
                x0 = __ldcg(x + n0);
                x1 = __ldcg(x + n1);
            }
            const uint8_t* const rows[2] = {row(valid ? rr0 : 0), row(valid ? rr1 : 0)};
            const int8_t* const qq[2] = {sm.q, sm.q};
            int acc[2] = {};
            dot_team<2, true>(rows, qq, valid ? chunks : 0, lt, lpr, acc);
            if (valid && lt == 0) {
                x[n0] = x0 + float(acc[0] - qs[0]) * f;
                if (rr1 != rr0) x[n1] = x1 + float(acc[1] - qs[0]) * f;
            }
        }
        break;
    }
    }
}

// Σ c·q of this block's rows for every column of a hand-over launch, into sm.accs (zeroed before).
// int8 mma m16n8k32: A = 16 rows of one segment × 32 codes, B = the same 32 positions of the 8
// columns' q (sm.qc). The warps split the (tile, group of 4 chunks) units evenly, tile by tile,
// so a warp may start or end inside a tile (2.7B's i/f/g at 132 blocks: 6 tiles × 10 groups, 3
// or 4 units per warp, where halves of tiles gave 12 warps 5 units each and 4 warps none); in a group of 4 chunks, lane tig reads chunk 4g + tig of rows gid
// and gid + 8, so its A registers hold the fields of that chunk's words. The fields are split as
// in dot_team: 0 and 2 masked in place, 1 and 3 masked as 4·c into a second accumulator, which is
// exactly 4 × its sum. Segment s of the i/f/g phase reads q vector s, every other phase vector 0.
template <int NT>
__device__ void columns_dot(const DecodeArgs& a, const DecodeSmem& sm, const PhaseRows& pr, bool vector_per_segment) {
    constexpr int kWarps = NT / 32;
    constexpr uint32_t kOddMask = kCodeMask << 2;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gid = lane >> 2, tig = lane & 3;
    const int chunks = pr.row_bytes / 16, groups = (chunks + 3) / 4, kp = pr.row_bytes * 4;
    int tiles = 0;
    for (int s = 0; s < pr.nseg; ++s) tiles += (pr.seg_rows[s] + 15) / 16;
    const int8_t* const q_lane = sm.qc + size_t(gid) * handover_q_stride(a.q_col);
    int u0, u1;
    block_range(tiles * groups, warp, kWarps, u0, u1);
    for (int u = u0; u < u1;) {
        int t = u / groups, s = 0, seg_base = 0;
        const int g0 = u - t * groups, g1 = min(groups, g0 + (u1 - u));
        u += g1 - g0;
        while (t >= (pr.seg_rows[s] + 15) / 16) {
            t -= (pr.seg_rows[s] + 15) / 16;
            seg_base += pr.seg_rows[s];
            ++s;
        }
        const int r0 = 16 * t + gid, r1 = r0 + 8;
        const bool ok0 = r0 < pr.seg_rows[s], ok1 = r1 < pr.seg_rows[s];
        const uint8_t* const row0 = row_ptr(pr, sm.wb, a.wb_bytes, seg_base + (ok0 ? r0 : 0));
        const uint8_t* const row1 = row_ptr(pr, sm.wb, a.wb_bytes, seg_base + (ok1 ? r1 : 0));
        const int8_t* const qb = q_lane + (vector_per_segment ? s * kp : 0);
        int even[4] = {}, odd[4] = {};
        for (int g = g0; g < g1; ++g) {
            const int ch = 4 * g + tig;
            const bool okc = ch < chunks;
            const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
            const uint4 w0 = ok0 && okc ? *reinterpret_cast<const uint4*>(row0 + 16 * ch) : zero;
            const uint4 w1 = ok1 && okc ? *reinterpret_cast<const uint4*>(row1 + 16 * ch) : zero;
            const int cq = okc ? ch : 0;
            const int rot = cq >> 1;
#pragma unroll
            for (int t2 = 0; t2 < 4; ++t2) {
                // q of word t2's positions in decode_pos order: field f at bytes 4f..4f + 3.
                const int4 qv = *reinterpret_cast<const int4*>(qb + (cq << 6) + (((t2 + rot) & 3) << 4));
                const uint32_t c0 = word_of(w0, t2), c1 = word_of(w1, t2), h0 = c0 >> 4, h1 = c1 >> 4;
                const uint32_t ae[4] = {c0 & kCodeMask, c1 & kCodeMask, h0 & kCodeMask, h1 & kCodeMask};
                const uint32_t ao[4] = {c0 & kOddMask, c1 & kOddMask, h0 & kOddMask, h1 & kOddMask};
                mma_s8(even, ae, uint32_t(qv.x), uint32_t(qv.z));
                mma_s8(odd, ao, uint32_t(qv.y), uint32_t(qv.w));
            }
        }
        // C fragment: [0], [1] row r0, columns 2·tig and 2·tig + 1; [2], [3] row r1.
        int* const acc0 = sm.accs + kDecodeMaxCols * (seg_base + r0) + 2 * tig;
        int* const acc1 = sm.accs + kDecodeMaxCols * (seg_base + r1) + 2 * tig;
        if (ok0) {
            atomicAdd(acc0, even[0] + (odd[0] >> 2));
            atomicAdd(acc0 + 1, even[1] + (odd[1] >> 2));
        }
        if (ok1) {
            atomicAdd(acc1, even[2] + (odd[2] >> 2));
            atomicAdd(acc1 + 1, even[3] + (odd[3] >> 2));
        }
    }
}

// One phase of a hand-over launch: block r < n normalizes and quantizes column r and hands it over
// through L2 (handover_q, then its flag); every block waits for the n flags, copies the columns'
// q into shared memory, runs its rows for all n columns (columns_dot) and their epilogues, which
// are the single column's expressions per (row, column). The next phase's hand-over is written
// only after the grid barrier, when every block has copied this one.
template <int NT>
__device__ void handover_phase(const DecodeArgs& a, const DecodeSmem& sm, int p, const PhaseRows& pr, StageWait sw,
                               unsigned long long* tl) {
    const int n = a.groups, tid = threadIdx.x, owner = int(blockIdx.x);
    const int L = a.L;
    for (int i = tid; i < kDecodeMaxCols * pr.total_rows; i += NT) sm.accs[i] = 0;
    // The epilogue's first item of this thread (almost always its only one): its slot state and
    // lower bound or its residual element are loaded now, their latency hidden by norm and dot.
    float pre_a = 0.f, pre_b = 0.f;
    if (p != 4 * L && (p & 3) != 2) {
        const int l = p >> 2, R = (p & 3) == 0 ? pr.units : pr.total_rows;
        if (tid < n * R) {
            const int c = tid / R, k = pr.first + tid % R;
            if ((p & 3) == 0) {
                pre_a = __ldcg(a.col_state[c] + size_t(l) * a.D + k);
                if (a.layers[l].lower_bound) pre_b = __ldg(a.layers[l].lower_bound + k);
            } else {
                pre_a = __ldcg(a.x + size_t(c) * a.H + k);
            }
        }
    }
    if (p == 0) {  // the residual stream starts as the embedding rows: seed the rows o_proj adds to
        int v0, v1;
        block_range((a.H + 1) / 2, v0, v1);
        const int k0 = 2 * v0, k1 = min(2 * v1, a.H);
        for (int i = tid; i < n * (k1 - k0); i += NT) {
            const int c = i / (k1 - k0), k = k0 + i % (k1 - k0);
            a.x[size_t(c) * a.H + k] = a.x_in[size_t(c) * a.H + k];
        }
        if (blockIdx.x == 0 && tid < n) a.argmax_key[tid] = 0;
    }
    const int nq = p != 4 * L && (p & 3) == 0 ? 3 : 1;
    const int words = nq * pr.row_bytes / 4;  // 16-byte words of the NQ vectors (Kp bytes each)
    const int area_words = handover_area_words(a.q_col);
    const unsigned long long ticket = a.handover_epoch + unsigned(p) + 1;
    if (owner < n) {
        int qs[3];
        const int kind = p == 4 * L ? kLmHead : p & 3;
        const NormPlan pl = kind == 0   ? phase_input<NT, 0>(a, sm, p, owner, qs, sw, tl)
                            : kind == 1 ? phase_input<NT, 1>(a, sm, p, owner, qs, sw, tl)
                            : kind == 3 ? phase_input<NT, 3>(a, sm, p, owner, qs, sw, tl)
                                        : phase_input<NT, 2>(a, sm, p, owner, qs, sw, tl);
        uint4* const area = a.handover_q + size_t(owner) * area_words;
        for (int w = tid; w < words; w += NT) __stcg(area + w, reinterpret_cast<const uint4*>(sm.q)[w]);
        if (tid == 0) {
            __stcg(area + area_words - 2, make_uint4(__float_as_uint(pl.s[0]), __float_as_uint(pl.s[1]), __float_as_uint(pl.s[2]), 0u));
            __stcg(area + area_words - 1, make_uint4(uint32_t(qs[0]), uint32_t(qs[1]), uint32_t(qs[2]), 0u));
        }
        __syncthreads();  // as in grid_arrive: the block's stores, then one release by thread 0
        if (tid == 0) asm volatile("st.release.gpu.global.u64 [%0], %1;" ::"l"(a.handover_flags + owner), "l"(ticket) : "memory");
    } else {  // no column to normalize: only wait for the staged rows (and γ, to keep the parity)
        mbar_wait(sw.g, sw.parity);
        mbar_wait(sw.w, sw.parity);
        stamp(tl, 8);  // the profile's norm segments of this block: empty
        stamp(tl, 9);
        stamp(tl, 1);
    }
    if (tid < n) {
        unsigned long long seen;
        do asm volatile("ld.acquire.gpu.global.u64 %0, [%1];" : "=l"(seen) : "l"(a.handover_flags + tid) : "memory");
        while (seen < ticket);
    }
    __syncthreads();
    const int total = n * words;
    for (int base = 0; base < total; base += 4 * NT) {  // all loads of a round in flight at once
        uint4 v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) {
            const int i = base + u * NT + tid, c = i / words;
            if (i < total) v[u] = __ldcg(a.handover_q + size_t(c) * area_words + (i - c * words));
        }
#pragma unroll
        for (int u = 0; u < 4; ++u) {
            const int i = base + u * NT + tid, c = i / words;
            if (i < total) reinterpret_cast<uint4*>(sm.qc + size_t(c) * handover_q_stride(a.q_col))[i - c * words] = v[u];
        }
    }
    if (tid < 2 * n) {  // s (even threads) and Σq (odd) of column tid / 2
        const uint4 v = __ldcg(a.handover_q + size_t(tid >> 1) * area_words + area_words - 2 + (tid & 1));
        int* const to = tid & 1 ? sm.cq : reinterpret_cast<int*>(sm.cs);
        to[4 * (tid >> 1)] = int(v.x);
        to[4 * (tid >> 1) + 1] = int(v.y);
        to[4 * (tid >> 1) + 2] = int(v.z);
    }
    __syncthreads();
    stamp(tl, 2);
    columns_dot<NT>(a, sm, pr, nq == 3);
    __syncthreads();
    const int* const acc = sm.accs;

    if (p == 4 * L) {  // lm_head + argmax of every column
        const int lane = tid & 31;
        unsigned long long best[kDecodeMaxCols] = {};
        for (int i = tid; i < n * pr.total_rows; i += NT) {
            const int c = i / pr.total_rows, rr = i % pr.total_rows, row = pr.first + rr;
            const float v = float(acc[kDecodeMaxCols * rr + c] - sm.cq[4 * c]) * (a.lm_head.scale / sm.cs[4 * c]);
            a.logits[size_t(c) * a.V + row] = v;
            const unsigned long long k = argmax_key(v, row);
#pragma unroll
            for (int cc = 0; cc < kDecodeMaxCols; ++cc)
                if (cc == c) best[cc] = k > best[cc] ? k : best[cc];
        }
#pragma unroll
        for (int c = 0; c < kDecodeMaxCols; ++c) {
            best[c] = warp_max_key(best[c]);
            if (lane == 0) sm.kred8[(tid >> 5) * kDecodeMaxCols + c] = best[c];
        }
        __syncthreads();
        if (tid < n) {
            unsigned long long b = 0;
            for (int w = 0; w < NT / 32; ++w) b = sm.kred8[w * kDecodeMaxCols + tid] > b ? sm.kred8[w * kDecodeMaxCols + tid] : b;
            atomicMax(a.argmax_key + tid, b);
            __threadfence();
        }
        __syncthreads();
        if (tid == 0) {
            // The last block publishes every column's argmax and resets the counters for the next launch.
            unsigned long long* const done = a.group_counters + 1;
            if (atomicAdd(done, 1ull) + 1 == (unsigned long long)gridDim.x) {
                for (int c = 0; c < n; ++c) publish_argmax(a, c);
                done[-1] = 0;
                *done = 0;
            }
        }
        return;
    }

    const int l = p >> 2;
    const DevLayer& ly = a.layers[l];
    switch (p & 3) {
    case 0: {  // MLGRU step per (channel, column)
        const int R = pr.units;
        for (int i = tid; i < n * R; i += NT) {
            const int c = i / R, u = i % R, ch = pr.first + u;
            float* const state = a.col_state[c] + size_t(l) * a.D;
            const float fi = ly.i.scale / sm.cs[4 * c], ff = ly.f.scale / sm.cs[4 * c + 1], fg = ly.g.scale / sm.cs[4 * c + 2];
            const float ai = float(acc[kDecodeMaxCols * u + c] - sm.cq[4 * c]) * fi;
            const float af = float(acc[kDecodeMaxCols * (R + u) + c] - sm.cq[4 * c + 1]) * ff;
            const float ag = float(acc[kDecodeMaxCols * (2 * R + u) + c] - sm.cq[4 * c + 2]) * fg;
            const float hold = i == tid ? pre_a : __ldcg(state + ch);
            const float lb = !ly.lower_bound ? 0.f : i == tid ? pre_b : __ldg(ly.lower_bound + ch);
            const float hn = mlgru_h(ai, af, hold, ly.lower_bound != nullptr, lb);
            state[ch] = hn;
            a.ag[size_t(c) * a.D + ch] = ag;
            a.sh[size_t(c) * a.D + ch] = silu_f(hn);
        }
        break;
    }
    case 2: {  // SwiGLU per (channel, column)
        const int R = pr.units;
        for (int i = tid; i < n * R; i += NT) {
            const int c = i / R, u = i % R;
            const float f = ly.gate.scale / sm.cs[4 * c];
            const float gate = float(acc[kDecodeMaxCols * u + c] - sm.cq[4 * c]) * f, up = float(acc[kDecodeMaxCols * (R + u) + c] - sm.cq[4 * c]) * f;
            a.m[size_t(c) * a.I + pr.first + u] = silu_f(gate) * up;
        }
        break;
    }
    default: {  // o_proj or down_proj, added to x
        const DevMatrix& w = (p & 3) == 1 ? ly.o : ly.down;
        for (int i = tid; i < n * pr.total_rows; i += NT) {
            const int c = i / pr.total_rows, rr = i % pr.total_rows;
            float* const x = a.x + size_t(c) * a.H + pr.first + rr;
            *x = (i == tid ? pre_a : __ldcg(x)) + float(acc[kDecodeMaxCols * rr + c] - sm.cq[4 * c]) * (w.scale / sm.cs[4 * c]);
        }
        break;
    }
    }
}

__device__ DecodeSmem carve_decode_smem(unsigned char* base, int q_col, int gn_floats, int phases, int handover_bytes, int threads) {
    DecodeSmem sm{};
    sm.q = reinterpret_cast<int8_t*>(base);
    sm.red = reinterpret_cast<float*>(base + q_col);
    sm.ired = reinterpret_cast<int*>(sm.red + kRedFloats);
    sm.kred = reinterpret_cast<unsigned long long*>(sm.ired + 32 * 4);
    sm.mb = sm.kred + kKredCount;
    sm.go = reinterpret_cast<volatile uint32_t*>(sm.mb + 2);
    sm.desc = reinterpret_cast<PhaseDesc*>(sm.mb + 4);
    unsigned char* next = reinterpret_cast<unsigned char*>(sm.desc) + desc_bytes(phases);
    if (handover_bytes > 0) {
        sm.qc = reinterpret_cast<int8_t*>(next);
        sm.cs = reinterpret_cast<float*>(sm.qc + size_t(kDecodeMaxCols) * handover_q_stride(q_col));
        sm.cq = reinterpret_cast<int*>(sm.cs + 4 * kDecodeMaxCols);
        sm.kred8 = reinterpret_cast<unsigned long long*>(sm.cq + 4 * kDecodeMaxCols);
        sm.accs = reinterpret_cast<int*>(sm.kred8 + (threads / 32) * kDecodeMaxCols);
        next += handover_bytes;
    }
    sm.gn = reinterpret_cast<float*>(next);
    sm.wb = reinterpret_cast<uint8_t*>(sm.gn + gn_floats);
    return sm;
}

// One token of one sequence, or of a.groups in a grouped or hand-over launch: phases 0..4L−1 are the four stages of each layer, phase 4L is
// lm_head. A grid-wide barrier separates phases (each needs the whole previous vector); every
// block recomputes the norm statistics of its input itself instead of waiting for another
// barrier. Between arriving and waiting a block starts the copy engine on its rows and γ of the
// NEXT phase, so HBM streams while the grid synchronizes and normalizes.
// GROUPED (a.groups columns): the blocks split into a.groups ranges, each of which runs one
// column as a launch of its own would, with its own barrier; the groups read the same weight rows
// at about the same time, so the rows are staged without the evict-first mark and come from L2
// for all but the first group. HANDOVER: see DecodeLaunch; one barrier (group 0's counters).
template <int NT, int MODE>
__global__ void __launch_bounds__(NT, 1) decode_kernel(DecodeArgs a) {
    constexpr bool GROUPED = MODE == kGrouped, HANDOVER = MODE == kHandover;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    const int phases = 4 * a.L + 1;
    const DecodeSmem sm = carve_decode_smem(smem_raw, a.q_col, a.gn_floats, phases, HANDOVER ? a.handover_bytes : 0, NT);
    const BlockGroup bg = block_group(GROUPED ? a.groups : 1);
    unsigned long long* const tl_block = a.prof ? a.prof + size_t(blockIdx.x) * phases * kDecodeStamps : nullptr;
    for (int p = threadIdx.x; p < phases; p += NT) sm.desc[p] = {phase_rows(a, p, bg), phase_norms(a, p)};
    if (threadIdx.x == kStageThread) {
        mbar_init(&sm.mb[0]);
        mbar_init(&sm.mb[1]);
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
        *sm.go = uint32_t(a.phase_begin);
    }
    __syncthreads();
    stage_phase(a, sm.desc[a.phase_begin], sm.wb, sm.gn, sm.mb, sm.go, uint32_t(a.phase_begin), !GROUPED);
    unsigned long long* const barrier =
        GROUPED ? a.group_counters + kGroupCounterStride * bg.col : HANDOVER ? a.group_counters : a.barrier;
    unsigned long long target = MODE == kSingle ? a.barrier_base : 0;
    for (int p = a.phase_begin; p < a.phase_end; ++p) {
        unsigned long long* const tl = tl_block ? tl_block + size_t(p) * kDecodeStamps : nullptr;
        if (p != a.phase_begin) {
            target += bg.count;
            grid_wait(barrier, target);
        }
        stamp(tl, 0);
        stamp_ns(tl, 5);
        if (a.prefetch_distance > 0) prefetch_phase_l2(a, (p + a.prefetch_distance) % phases, bg);
        const StageWait sw{&sm.mb[0], &sm.mb[1], uint32_t(p - a.phase_begin) & 1u, sm.desc[p].norms.v};
        if (HANDOVER) handover_phase<NT>(a, sm, p, sm.desc[p].rows, sw, tl);
        else decode_phase<NT, MODE>(a, sm, p, sm.desc[p].rows, sw, tl, bg);
        __syncthreads();  // this phase's writes are done; the stage buffers and q are free again
        stamp(tl, 3);
        stamp_ns(tl, 6);
        if (p + 1 < a.phase_end) {
            grid_arrive(barrier);
            stamp(tl, 7);
            if (threadIdx.x == 0) *sm.go = uint32_t(p + 1);
            stage_phase(a, sm.desc[p + 1], sm.wb, sm.gn, sm.mb, sm.go, uint32_t(p + 1), !GROUPED);
        }
        stamp(tl, 4);
    }
}

// ---- prefill ------------------------------------------------------------------------------
constexpr int kNqThreads = 256;

// One token row per block: q is built in shared memory, then copied out in 16-byte stores.
template <int NQ, int PER>
__device__ void nq_row(const NqArgs& a, int8_t* const (&qs)[3], float* red, int* ired) {
    const int t = blockIdx.x, row = a.row0 + t;
    const float* x = a.x + size_t(row) * a.x_stride;
    const float* x2 = a.mode == NqInput::SwiGLU ? x + a.K : a.mode == NqInput::Gated ? a.e + size_t(row) * a.e_stride : nullptr;
    const float* const g1[3] = {a.g1[0], a.g1[1], a.g1[2]};
    int qsum[NQ];
    const NormPlan p = norm_quant<NQ, PER, true>(a.mode, x, x2, a.g0, g1, a.K, a.Kp, a.eps, qs, qsum, red, ired, StageWait{}, nullptr);
#pragma unroll
    for (int j = 0; j < NQ; ++j) {
        int4* dst = reinterpret_cast<int4*>(a.q[j] + size_t(t) * a.q_stride);
        const int4* src = reinterpret_cast<const int4*>(qs[j]);
        for (int c = threadIdx.x; c < a.Kp / 16; c += kNqThreads) dst[c] = src[c];
    }
    if (threadIdx.x == 0)
#pragma unroll
        for (int j = 0; j < NQ; ++j) { a.s[j][t] = p.s[j]; a.qsum[j][t] = qsum[j]; }
}

// One kernel per shape so that each gets the registers it needs (PER float4 of input per thread).
template <int NQ, int PER>
__global__ void __launch_bounds__(kNqThreads) nq_kernel(NqArgs a) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    int8_t* const qs[3] = {reinterpret_cast<int8_t*>(smem_raw), reinterpret_cast<int8_t*>(smem_raw) + a.Kp,
                           reinterpret_cast<int8_t*>(smem_raw) + 2 * a.Kp};
    float* red = reinterpret_cast<float*>(smem_raw + size_t(NQ) * a.Kp);
    nq_row<NQ, PER>(a, qs, red, reinterpret_cast<int*>(red + kRedFloats));
}

// MLGRU over T steps: h_t = f_t·h_{t−1} + i_t is linear in h, so it is scanned in chunks. A block
// owns 32 channels (one per lane, coalesced rows) and kScanChunks warps, warp w the steps
// [w·len, (w+1)·len). Each warp runs its chunk from h = 0, keeping f_t and i_t in registers and
// the chunk's gate product; one warp then walks the chunks' (Πf, h) pairs to give every chunk its
// incoming state; each warp re-runs its chunk from that state and writes silu(h_t). Only the
// incoming states are rounded differently from the sequential order, and only by the piece's own
// length: a piece scans the same beside other prompts' pieces (blockIdx.y) as alone.
constexpr int kScanChunks = 16, kScanMaxLen = 32;  // T ≤ 512

__global__ void __launch_bounds__(32 * kScanChunks) scan_kernel(ScanArgs a) {
    const ScanPiece piece = a.pieces[blockIdx.y];
    const int T = piece.rows, D = a.D;
    const float* __restrict__ ai = a.ai + size_t(piece.row0) * D;
    const float* __restrict__ af = a.af + size_t(piece.row0) * D;
    const float* __restrict__ lbp = a.lb;
    float* __restrict__ sh = a.sh + size_t(piece.row0) * D;
    float* __restrict__ hp = a.state + size_t(piece.slot) * a.slot_stride;
    __shared__ float prod[kScanChunks][32], part[kScanChunks][32];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const int c = blockIdx.x * 32 + lane;
    const bool active = c < D;
    const int len = (T + kScanChunks - 1) / kScanChunks, t0 = w * len;
    const float lb = lbp && active ? lbp[c] : 0.f;
    float f[kScanMaxLen], in[kScanMaxLen];
#pragma unroll
    for (int u = 0; u < kScanMaxLen; ++u) {
        const bool on = active && u < len && t0 + u < T;
        f[u] = on ? __ldg(af + size_t(t0 + u) * D + c) : 0.f;
        in[u] = on ? __ldg(ai + size_t(t0 + u) * D + c) : 0.f;
    }
    float A = 1.f, B = 0.f;
#pragma unroll
    for (int u = 0; u < kScanMaxLen; ++u) {
        if (active && u < len && t0 + u < T) {
            float fg = sigmoid_f(f[u]);
            if (lbp) fg = lb + (1.0f - lb) * fg;
            in[u] = silu_f(in[u]) * (1.0f - fg);
            f[u] = fg;
        } else {  // the identity step
            f[u] = 1.f;
            in[u] = 0.f;
        }
        B = f[u] * B + in[u];
        A *= f[u];
    }
    prod[w][lane] = A;
    part[w][lane] = B;
    __syncthreads();
    if (w == 0) {
        float h = active ? hp[c] : 0.f;
        for (int k = 0; k < kScanChunks; ++k) {
            const float next = prod[k][lane] * h + part[k][lane];
            part[k][lane] = h;  // now the chunk's incoming state
            h = next;
        }
    }
    __syncthreads();
    float h = part[w][lane];
#pragma unroll
    for (int u = 0; u < kScanMaxLen; ++u) {
        if (active && u < len && t0 + u < T) {
            h = f[u] * h + in[u];
            sh[size_t(t0 + u) * D + c] = silu_f(h);
        }
    }
    if (active && t0 < T && T <= t0 + len) hp[c] = h;
}

// Batched decode's MLGRU: one thread per (row, channel), each row on its own slot's state.
__global__ void __launch_bounds__(256) mlgru_step_kernel(StepArgs a) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x, t = blockIdx.y;
    if (c >= a.D) return;
    float* h = a.state + size_t(a.row_slot[t]) * a.slot_stride + c;
    const size_t at = size_t(t) * a.D + c;
    float fgate = sigmoid_f(a.af[at]);
    if (a.lb) {
        const float lb = a.lb[c];
        fgate = lb + (1.0f - lb) * fgate;
    }
    const float in = silu_f(a.ai[at]) * (1.0f - fgate);
    const float hn = fgate * *h + in;
    *h = hn;
    a.sh[at] = silu_f(hn);
}

// One block per row: the largest (value, first index) key (argmax_key) of V logits.
constexpr int kArgmaxThreads = 256;
__global__ void __launch_bounds__(kArgmaxThreads) row_argmax_kernel(const float* __restrict__ logits, int V, int* out) {
    __shared__ unsigned long long warp_best[kArgmaxThreads / 32];
    const float* row = logits + size_t(blockIdx.x) * V;
    unsigned long long best = 0;
    for (int n = threadIdx.x; n < V; n += kArgmaxThreads) {
        const unsigned long long k = argmax_key(row[n], n);
        best = k > best ? k : best;
    }
    best = warp_max_key(best);
    if ((threadIdx.x & 31) == 0) warp_best[threadIdx.x >> 5] = best;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < kArgmaxThreads / 32; ++w) best = warp_best[w] > best ? warp_best[w] : best;
        out[blockIdx.x] = argmax_index(best);
    }
}

// int8 tensor-core GEMM: out[t, n] = (Σ_k Q[t,k]·c[n,k] − Σ_k Q[t,k]) · scale / s[t].
// Block: 4 warps, tile 64 tokens × 128 weight rows, K in blocks of 128 (32 code bytes per row);
// A (activations) and B (codes) stream through a 4-stage cp.async ring in shared memory.
// MI row groups of 16 per tile: 4 (64 rows), or 1 where a pass has at most 16 rows (a small
// decode batch), so that padding rows cost no tensor-core or shared-memory work.
constexpr int kBN = kGemmTileN, kStages = 4;
template <int BM>
struct __align__(16) GemmSmem {
    int8_t a[kStages][BM * 128];
    uint8_t b[kStages][kBN * 32];
};


__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
    const uint32_t a = static_cast<uint32_t>(__cvta_generic_to_shared(p));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

template <int MI>
__global__ void __launch_bounds__(128) gemm_kernel(GemmBatch batch) {
    constexpr int kBM = 16 * MI;
    const int split = batch.k_split, prob = blockIdx.z / split, part = blockIdx.z % split;
    const GemmProblem& P = batch.p[prob];
    const int n_block = blockIdx.x * kBN;
    if (n_block >= P.N) return;
    const int m0 = blockIdx.y * kBM;
    __shared__ GemmSmem<kBM> sm;
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, tig = lane & 3;
    // This block's K blocks: [kb_first, kb_first + nkb).
    const int kb_first = batch.k_blocks * part / split, nkb = batch.k_blocks * (part + 1) / split - kb_first;

    auto load_stage = [&](int stage, int kb) {
#pragma unroll
        for (int i = 0; i < MI; ++i) {
            const int c = tid + i * 128, r = c >> 3, ch = c & 7;
            // Rows past M only feed output rows that are never written: not loaded.
            if (m0 + r < batch.M)
                cp_async16(sm.a[stage] + r * 128 + ((ch ^ (r & 7)) << 4), P.q + size_t(m0 + r) * P.q_stride + kb * 128 + ch * 16);
        }
#pragma unroll
        for (int i = 0; i < 2; ++i) {
            const int c = tid + i * 128, r = c >> 1, ch = c & 1;
            const int row = min(n_block + r, P.N - 1);
            cp_async16(sm.b[stage] + r * 32 + ch * 16, P.codes + size_t(row) * P.stride + kb * 32 + ch * 16);
        }
    };

    int acc[MI][4][4];
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
        for (int f = 0; f < 4; ++f)
#pragma unroll
            for (int e = 0; e < 4; ++e) acc[mi][f][e] = 0;

#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
        if (s < nkb) load_stage(s, kb_first + s);
        cp_async_commit();
    }
    for (int kb = 0; kb < nkb; ++kb) {
        cp_async_wait<kStages - 2>();
        __syncthreads();
        const int next = kb + kStages - 1;
        if (next < nkb) load_stage(next % kStages, kb_first + next);
        cp_async_commit();

        const int st = kb % kStages;
        uint32_t bw[4][2];
#pragma unroll
        for (int f = 0; f < 4; ++f) {
            const uint2 v = *reinterpret_cast<const uint2*>(sm.b[st] + (warp * 32 + f * 8 + g) * 32 + tig * 8);
            bw[f][0] = v.x;
            bw[f][1] = v.y;
        }
#pragma unroll
        for (int kk = 0; kk < 4; ++kk) {
            uint32_t af[MI][4];
#pragma unroll
            for (int mi = 0; mi < MI; ++mi) {
                const int r = mi * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
                const int ch = kk * 2 + (lane >> 4);
                ldmatrix_x4(af[mi], sm.a[st] + r * 128 + ((ch ^ (r & 7)) << 4));
            }
#pragma unroll
            for (int f = 0; f < 4; ++f) {
                const uint32_t b0 = (bw[f][0] >> (2 * kk)) & kCodeMask, b1 = (bw[f][1] >> (2 * kk)) & kCodeMask;
#pragma unroll
                for (int mi = 0; mi < MI; ++mi) mma_s8(acc[mi][f], af[mi], b0, b1);
            }
        }
    }
    cp_async_wait<0>();

    auto emit = [&](int row, int col, int v, float fs) {
        float* o = P.out + size_t(row) * P.out_stride + col;
        if (P.mode == GemmOut::Store) *o = float(v) * fs;
        else if (P.mode == GemmOut::Add) *o = *o + float(v) * fs;
        else *reinterpret_cast<int*>(o) = v;
    };
    if (split == 1) {
#pragma unroll
        for (int mi = 0; mi < MI; ++mi)
#pragma unroll
            for (int half = 0; half < 2; ++half) {
                const int row = m0 + mi * 16 + g + half * 8;
                if (row >= batch.M) continue;
                const int qs = P.qsum[row];
                const float fs = P.scale / P.s[row];
#pragma unroll
                for (int f = 0; f < 4; ++f)
#pragma unroll
                    for (int e = 0; e < 2; ++e) {
                        const int col = n_block + warp * 32 + f * 8 + tig * 2 + e;
                        if (col < P.N) emit(row, col, acc[mi][f][half * 2 + e] - qs, fs);
                    }
            }
        return;
    }
    // Split-K: add to the tile's partial sums; the last of its `split` blocks finishes it.
    int* const partial = batch.partial[prob];
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
            const int row = m0 + mi * 16 + g + half * 8;
            if (row >= batch.M) continue;
#pragma unroll
            for (int f = 0; f < 4; ++f)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const int col = n_block + warp * 32 + f * 8 + tig * 2 + e;
                    if (col < P.N) atomicAdd(partial + size_t(row) * P.N + col, acc[mi][f][half * 2 + e]);
                }
        }
    __threadfence();
    __syncthreads();
    unsigned* const count = batch.tile_count + size_t(prob) * gridDim.x + blockIdx.x;
    int& finishing = *reinterpret_cast<int*>(sm.b[0]);  // the stages are no longer read (barrier above)
    if (tid == 0) finishing = atomicAdd(count, 1u) == unsigned(split - 1);
    __syncthreads();
    if (!finishing) return;
    __threadfence();
    const int rows = min(kBM, batch.M - m0), cols = min(kBN, P.N - n_block);
    for (int i = tid; i < rows * cols; i += 128) {
        const int row = m0 + i / cols, col = n_block + i % cols;
        int* const sum = partial + size_t(row) * P.N + col;
        const int v = __ldcg(sum);
        *sum = 0;
        emit(row, col, v - P.qsum[row], P.scale / P.s[row]);
    }
    if (tid == 0) *count = 0;
}

// ---- misc ---------------------------------------------------------------------------------
__global__ void read_bandwidth_kernel(const uint4* p, size_t n, unsigned* sink) {
    unsigned x = 0;
    const size_t stride = size_t(gridDim.x) * blockDim.x;
    size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
    for (; i + 3 * stride < n; i += 4 * stride) {
        const uint4 a = __ldcs(p + i), b = __ldcs(p + i + stride), c = __ldcs(p + i + 2 * stride), d = __ldcs(p + i + 3 * stride);
        x ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w ^ c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^ d.w;
    }
    for (; i < n; i += stride) {
        const uint4 a = __ldcs(p + i);
        x ^= a.x ^ a.y ^ a.z ^ a.w;
    }
    if (x == 0x9e3779b9u) *sink = x;  // keeps the loads; practically never true
}

template <int NT>
__global__ void __launch_bounds__(NT, 1) step_chain_kernel(float* buf, int n, int steps, unsigned long long* counter) {
    __shared__ float part[NT / 32];
    const int tid = threadIdx.x, n4 = n / 4;
    const int per = (n + gridDim.x - 1) / gridDim.x, b = blockIdx.x * per, e = min(n, b + per);
    unsigned long long target = 0;
    for (int k = 0; k <= steps; ++k) {
        const float* in = buf + size_t((k + 1) & 1) * n;
        float* out = buf + size_t(k & 1) * n;
        float s = 0;
        if (k == 0) {
            for (int i = tid; i < n; i += NT) s += float(i % 7);
        } else {
            // L2 reads (another block wrote them), four in flight per round like the decode loads.
            const float4* in4 = reinterpret_cast<const float4*>(in);
            int i = tid;
            for (; i + 3 * NT < n4; i += 4 * NT) {
                const float4 v0 = __ldcg(in4 + i), v1 = __ldcg(in4 + i + NT), v2 = __ldcg(in4 + i + 2 * NT),
                             v3 = __ldcg(in4 + i + 3 * NT);
                s += (v0.x + v0.y + v0.z + v0.w) + (v1.x + v1.y + v1.z + v1.w) + (v2.x + v2.y + v2.z + v2.w) + (v3.x + v3.y + v3.z + v3.w);
            }
            for (; i < n4; i += NT) {
                const float4 v = __ldcg(in4 + i);
                s += v.x + v.y + v.z + v.w;
            }
        }
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (tid % 32 == 0) part[tid / 32] = s;
        __syncthreads();
        float total = 0;
        for (int w = 0; w < NT / 32; ++w) total += part[w];
        const float mean = total / float(n);
        for (int j = b + tid; j < e; j += NT) out[j] = 0.5f * (k == 0 ? float(j % 7) : __ldcg(in + j)) + 0.5f * mean + 1.0f;
        __syncthreads();  // this step's writes are done and part[] is free again
        if (k < steps) {
            target += gridDim.x;
            grid_arrive(counter);
            grid_wait(counter, target);
        }
    }
}

__global__ void __launch_bounds__(kDecodeMaxThreads) test_matvec_kernel(DevMatrix w, const int8_t* qn, int* acc) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    int8_t* q = reinterpret_cast<int8_t*>(smem_raw);
    const int Kp = w.stride * 4;
    for (int k = threadIdx.x; k < Kp; k += blockDim.x) q[decode_pos(k)] = k < w.cols ? qn[k] : 0;
    int qsum[1] = {0};
    for (int k = threadIdx.x; k < w.cols; k += blockDim.x) qsum[0] += qn[k];
    block_sum_int(qsum, reinterpret_cast<int*>(q + Kp));  // also orders the q writes
    // Every team width the decode kernel may pick: blocks use 8, 16 and 32 lanes per row.
    const int lpr = 8 << (blockIdx.x % 3), teams = kDecodeMaxThreads / lpr, team = threadIdx.x / lpr, lt = threadIdx.x % lpr;
    int u0, u1;
    block_range((w.rows + 1) / 2, u0, u1);
    for (int base = u0; base < u1; base += teams) {
        const int u = base + team;
        const bool valid = u < u1;
        const int r0 = 2 * u, r1 = (2 * u + 1 < w.rows) ? 2 * u + 1 : 2 * u;
        const uint8_t* const rows[2] = {w.codes + size_t(valid ? r0 : 0) * w.stride, w.codes + size_t(valid ? r1 : 0) * w.stride};
        const int8_t* const qq[2] = {q, q};
        int a2[2] = {};
        dot_team<2, true>(rows, qq, valid ? w.stride / 16 : 0, lt, lpr, a2);
        if (valid && lt == 0) {
            acc[r0] = a2[0] - qsum[0];
            acc[r1] = a2[1] - qsum[0];
        }
    }
}

__global__ void test_permute_mma_kernel(const int8_t* qn, int Kp, int8_t* qm, int* qsum) {
    const int t = blockIdx.x;
    int s[1] = {0};
    for (int k = threadIdx.x; k < Kp; k += blockDim.x) {
        const int8_t v = qn[size_t(t) * Kp + k];
        qm[size_t(t) * Kp + mma_pos(k)] = v;
        s[0] += v;
    }
    __shared__ int red[32];
    block_sum_int(s, red);
    if (threadIdx.x == 0) qsum[t] = s[0];
}

} // namespace

int decode_phase_count(int layers) { return 4 * layers + 1; }

size_t decode_smem_fixed_bytes(int q_col, int gn_floats, int layers) {
    return size_t(q_col) + kRedFloats * sizeof(float) + 32 * 4 * sizeof(int) + (kKredCount + 4) * sizeof(unsigned long long) +
           desc_bytes(decode_phase_count(layers)) + size_t(gn_floats) * sizeof(float);
}

// The decode kernels by block width (decode_threads) and launch kind (kSingle, kGrouped,
// kHandover): compile-time constants; the width measured 2-5 % faster than blockDim.x in the loops
// and divisions.
template <int NT>
const void* decode_kernel_of(int mode) {
    if (mode == kHandover) return reinterpret_cast<const void*>(decode_kernel<NT, kHandover>);
    if (mode == kGrouped) return reinterpret_cast<const void*>(decode_kernel<NT, kGrouped>);
    return reinterpret_cast<const void*>(decode_kernel<NT, kSingle>);
}
const void* decode_kernel_for(int threads, int mode) { return threads == 256 ? decode_kernel_of<256>(mode) : decode_kernel_of<512>(mode); }

cudaError_t decode_max_blocks_per_sm(size_t smem, int threads, DecodeLaunch launch, int* blocks) {
    const void* kernel = decode_kernel_for(threads, int(launch));
    cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
    if (e != cudaSuccess) return e;
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks, kernel, threads, smem);
}

size_t decode_handover_bytes(int q_col, int threads, int acc_rows) {
    const size_t bytes = size_t(kDecodeMaxCols) * size_t(handover_q_stride(q_col)) + 4 * kDecodeMaxCols * (sizeof(float) + sizeof(int)) +
                         size_t(threads / 32) * kDecodeMaxCols * sizeof(unsigned long long) +
                         size_t(acc_rows) * kDecodeMaxCols * sizeof(int);
    return (bytes + 15) & ~size_t(15);
}

// 256 threads where H ≤ 1,024 and no input exceeds 16 elements per thread. H200, same run, two
// rounds, tg128, 256 against 512 threads: 370M +5 % (2,388 / 2,384 → 2,509 / 2,504); 256 for
// all sizes cost 1.3B 1 % and 2.7B 5 % in an earlier run. MMFREE_CUDA_THREADS overrides it (256 or 512).
int decode_threads(int H, int k_max) { return H <= 4 * 256 && k_max <= 16 * 256 ? 256 : 512; }

cudaError_t launch_decode(const DecodeArgs& args, int blocks, int threads, size_t smem, cudaStream_t stream) {
    const bool grouped = args.groups > 1;
    if (args.groups < 1 || args.groups > kDecodeMaxCols || args.groups > blocks ||
        (grouped && (args.phase_begin != 0 || args.phase_end != decode_phase_count(args.L))) ||
        (args.handover && (args.handover_bytes <= 0 || !args.handover_q || !args.handover_flags)))
        return cudaErrorInvalidValue;
    DecodeArgs a = args;
    void* params[] = {&a};
    const int mode = args.handover ? kHandover : grouped ? kGrouped : kSingle;
    return cudaLaunchCooperativeKernel(decode_kernel_for(threads, mode), dim3(blocks), dim3(threads), params, smem, stream);
}

cudaError_t launch_step_chain(float* buf, int n, int steps, unsigned long long* counter, int blocks, int threads,
                              cudaStream_t stream) {
    if (n % 4 != 0) return cudaErrorInvalidValue;
    void* params[] = {&buf, &n, &steps, &counter};
    const void* kernel = threads == 256 ? reinterpret_cast<const void*>(step_chain_kernel<256>)
                                        : reinterpret_cast<const void*>(step_chain_kernel<512>);
    return cudaLaunchCooperativeKernel(kernel, dim3(blocks), dim3(threads), params, 0, stream);
}

const void* decode_kernel_symbol() { return decode_kernel_for(kDecodeMaxThreads, kSingle); }

template <int NQ>
void launch_nq_shape(const NqArgs& args, int rows, size_t smem, cudaStream_t stream) {
    const int per = (args.K + 4 * kNqThreads - 1) / (4 * kNqThreads);
    if (per <= 1) nq_kernel<NQ, 1><<<rows, kNqThreads, smem, stream>>>(args);
    else if (per <= 2) nq_kernel<NQ, 2><<<rows, kNqThreads, smem, stream>>>(args);
    else if (per <= 3) nq_kernel<NQ, 3><<<rows, kNqThreads, smem, stream>>>(args);
    else if (per <= 4) nq_kernel<NQ, 4><<<rows, kNqThreads, smem, stream>>>(args);
    else if (per <= 6) nq_kernel<NQ, 6><<<rows, kNqThreads, smem, stream>>>(args);
    else nq_kernel<NQ, 8><<<rows, kNqThreads, smem, stream>>>(args);
}

cudaError_t launch_nq(const NqArgs& args, int rows, cudaStream_t stream) {
    if (args.K > 32 * kNqThreads) return cudaErrorInvalidValue;  // PER ≤ 8
    const size_t smem = size_t(args.nq) * args.Kp + kRedFloats * sizeof(float) + 32 * 4 * sizeof(int);
    if (args.nq == 3) launch_nq_shape<3>(args, rows, smem, stream);
    else launch_nq_shape<1>(args, rows, smem, stream);
    return cudaGetLastError();
}

cudaError_t launch_gemm(const GemmBatch& batch, cudaStream_t stream) {
    int max_n = 0;
    for (int i = 0; i < batch.count; ++i) max_n = batch.p[i].N > max_n ? batch.p[i].N : max_n;
    if (batch.k_split > 1 && (batch.M > kGemmRowAlign || !batch.tile_count || batch.k_split > batch.k_blocks)) return cudaErrorInvalidValue;
    const bool small = batch.M <= kGemmSmallRows;
    const int bm = small ? kGemmSmallRows : kGemmRowAlign;
    const dim3 grid((max_n + kBN - 1) / kBN, (batch.M + bm - 1) / bm, batch.count * batch.k_split);
    if (small) gemm_kernel<1><<<grid, 128, 0, stream>>>(batch);
    else gemm_kernel<4><<<grid, 128, 0, stream>>>(batch);
    return cudaGetLastError();
}

cudaError_t launch_scan(const ScanArgs& args, cudaStream_t stream) {
    if (args.T > kScanChunks * kScanMaxLen || args.piece_count < 1) return cudaErrorInvalidValue;   // a piece has at most T rows
    scan_kernel<<<dim3((args.D + 31) / 32, args.piece_count), 32 * kScanChunks, 0, stream>>>(args);
    return cudaGetLastError();
}

cudaError_t launch_mlgru_step(const StepArgs& args, cudaStream_t stream) {
    if (args.T <= 0) return cudaSuccess;
    mlgru_step_kernel<<<dim3((args.D + 255) / 256, args.T), 256, 0, stream>>>(args);
    return cudaGetLastError();
}

cudaError_t launch_row_argmax(const float* logits, int rows, int V, int* out, cudaStream_t stream) {
    if (rows <= 0) return cudaSuccess;
    row_argmax_kernel<<<rows, kArgmaxThreads, 0, stream>>>(logits, V, out);
    return cudaGetLastError();
}

cudaError_t launch_read_bandwidth(const void* buffer, size_t bytes, unsigned* sink, int blocks, cudaStream_t stream) {
    read_bandwidth_kernel<<<blocks, 512, 0, stream>>>(static_cast<const uint4*>(buffer), bytes / 16, sink);
    return cudaGetLastError();
}

cudaError_t test_decode_matvec(const DevMatrix& w, const int8_t* q_natural, int* acc, cudaStream_t stream) {
    const size_t smem = size_t(w.stride) * 4 + 32 * sizeof(int);
    if (smem > 48 * 1024)
        if (cudaError_t e = cudaFuncSetAttribute(test_matvec_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
            e != cudaSuccess)
            return e;
    test_matvec_kernel<<<8, kDecodeMaxThreads, smem, stream>>>(w, q_natural, acc);
    return cudaGetLastError();
}

cudaError_t test_permute_mma(const int8_t* q_natural, int rows, int Kp, int8_t* q_mma, int* qsum, cudaStream_t stream) {
    test_permute_mma_kernel<<<rows, 256, 0, stream>>>(q_natural, Kp, q_mma, qsum);
    return cudaGetLastError();
}

} // namespace mmfree::cuda
