// SPDX-License-Identifier: Apache-2.0
// Sampling on the device, exactly as sampler.h defines it (the host's Sampler::draw picks the same
// token): a port of shaders/sample.comp, the same algorithm and the same integer arithmetic. One
// block of 256 threads per row of logits. Nothing is sorted: the top-k and top-p cuts are found by
// selecting on the bits of the ranking key, 8 per pass, with shared-memory histograms of counts or
// masses, and ties of one scaled logit are taken in id order. Masses are integers, so every sum is
// exact in any order. The floats go through __fmul_rn / __fadd_rn / __fsub_rn: nvcc contracts a
// plain a·b + c into a fused multiply-add, which the host (-ffp-contract=off) does not do, and
// these intrinsics are never contracted, so the weights have the host's bits.
#include <cstddef>

#include <cuda_runtime.h>

#include "cuda/kernels.h"
#include "mmfree/sampler.h"

namespace mmfree::cuda {
namespace {

static_assert(sizeof(sampling::Draw) == 24 && offsetof(sampling::Draw, u) == 16, "the kernel reads sampling::Draw as the host lays it out");

constexpr uint32_t kThreads = kSampleThreads;   // also the histogram's bin count (one bin per thread)
static_assert(kThreads == 256, "a pass selects 8 bits of the key: one histogram bin per thread");
constexpr unsigned kFullWarp = 0xffffffffu;
constexpr uint32_t kNegInfBits = 0xff800000u;
constexpr uint32_t kTopPOne = 1u << 24;
constexpr uint32_t kNone = 0xffffffffu;   // walk(): no token

// A prefix of the ranking by its last token: ranking key and id. key_of orders scaled logits
// descending by unsigned compare; the ranking breaks ties by id ascending.
struct Cut {
    uint32_t key;
    uint32_t id;
};
constexpr Cut kEverything = {0u, 0xffffffffu};   // every key is above 0: the whole ranking

__device__ __forceinline__ bool is_nan(float v) { return (__float_as_uint(v) & 0x7fffffffu) > 0x7f800000u; }

__device__ __forceinline__ uint32_t key_of(float s) {
    const uint32_t b = __float_as_uint(s);
    return (b & 0x80000000u) ? ~b : b | 0x80000000u;
}
__device__ __forceinline__ bool within(uint32_t key, uint32_t id, Cut c) { return key > c.key || (key == c.key && id <= c.id); }
__device__ __forceinline__ bool ranks_higher(Cut a, Cut b) { return a.key > b.key || (a.key == b.key && a.id < b.id); }

// sampling::weight, operation for operation (constants as the host's float bits): 2^n · e^r with
// n = round(x·log2 e) by the 1.5·2^23 trick, r by the Cody-Waite split of ln 2, e^r by Horner.
__device__ __forceinline__ float weight_of(float x) {
    const float xc = x >= -87.0f ? x : -87.0f;   // NaN too
    const float n = __fsub_rn(__fadd_rn(__fmul_rn(xc, __uint_as_float(0x3fb8aa3bu)), 12582912.0f), 12582912.0f);
    const float r = __fsub_rn(__fsub_rn(xc, __fmul_rn(n, __uint_as_float(0x3f317200u))), __fmul_rn(n, __uint_as_float(0x35bfbe8eu)));
    float p = __fmul_rn(r, __uint_as_float(0x3ab60b61u));              // r·(1/720)
    p = __fmul_rn(r, __fadd_rn(__uint_as_float(0x3c088889u), p));      // r·(1/120 + …)
    p = __fmul_rn(r, __fadd_rn(__uint_as_float(0x3d2aaaabu), p));      // r·(1/24 + …)
    p = __fmul_rn(r, __fadd_rn(__uint_as_float(0x3e2aaaabu), p));      // r·(1/6 + …)
    p = __fmul_rn(r, __fadd_rn(0.5f, p));
    p = __fmul_rn(r, __fadd_rn(1.0f, p));
    p = __fadd_rn(1.0f, p);
    const float scale = __uint_as_float(uint32_t(int(n) + 127) << 23);   // n in [-126, 0]: a normal power of two
    return x >= -87.0f ? __fmul_rn(p, scale) : 0.0f;
}
__device__ __forceinline__ uint32_t mass_of(float w) { return uint32_t(int(__fmul_rn(w, 1073741824.0f))); }

// ceil(top_p × total / 2^24) in [1, total], with total < 2^47: the same split of total into
// 32-bit halves as sample.comp, every product exact in 64 bits.
__device__ __forceinline__ unsigned long long nucleus_target(uint32_t top_p, unsigned long long total) {
    const unsigned long long low = (unsigned long long)top_p * (total & 0xffffffffull), high = (unsigned long long)top_p * (total >> 32);
    const unsigned long long target = (high << 8) + ((low + 0xffffffull) >> 24);
    return target < 1 ? 1 : target > total ? total : target;
}

// floor(u × m / 2^64): the high word of the exact 128-bit product (sample.comp assembles the
// same number from 32-bit halves).
__device__ __forceinline__ unsigned long long scale_draw(unsigned long long u, unsigned long long m) { return __umul64hi(u, m); }

struct SampleShared {
    // A pass's histogram of 256 bins. A mass (≤ 2^30) is added as its low 15 bits and the rest,
    // so both sums fit 32 bits for up to 2^17 − 1 tokens.
    uint32_t lo[kThreads], hi[kThreads];
    unsigned long long sum[kThreads];   // per-thread sums: reductions, the walk's running total
    uint32_t key[kThreads], id[kThreads];   // per-thread (key, id): the argmax and min-p reductions
    uint32_t found, owner;
    unsigned long long above, rest;
};

// What the walk counts at token i: the candidates of one key (their mass, or 1 each), or the
// mass of the kept tokens.
enum class Walk { Ties, Kept };

// One row drawn by one block; every member function is called by all threads of the block alike
// (they hold __syncthreads), with the same arguments.
struct RowSampler {
    SampleShared& sh;
    const float* row;
    uint32_t V, tid;
    float inv_t, mx;

    // s = logit × 1/T; NaN ranks as -inf and -0 as +0 (the host compares them equal).
    __device__ float scaled(uint32_t i) const {
        const float s = __fmul_rn(row[i], inv_t);
        if (is_nan(s)) return __uint_as_float(kNegInfBits);
        return __float_as_uint(s) == 0x80000000u ? 0.0f : s;
    }
    __device__ float weight_at(float s) const { return weight_of(__fsub_rn(s, mx)); }

    __device__ unsigned long long sum_all(unsigned long long v) {
        sh.sum[tid] = v;
        __syncthreads();
        for (uint32_t w = kThreads / 2; w > 0; w /= 2) {
            if (tid < w) sh.sum[tid] += sh.sum[tid + w];
            __syncthreads();
        }
        const unsigned long long total = sh.sum[0];
        __syncthreads();
        return total;
    }

    __device__ unsigned long long walk_weight(uint32_t i, Walk mode, bool by_mass, Cut cand, uint32_t tie_key) const {
        const float s = scaled(i);
        const uint32_t key = key_of(s);
        if (!within(key, i, cand) || (mode == Walk::Ties && key != tie_key)) return 0;
        return mode == Walk::Ties && !by_mass ? 1ull : (unsigned long long)mass_of(weight_at(s));
    }

    // The token where the running total of walk_weight in id order first exceeds r: each thread
    // sums a contiguous range, one thread finds the range, its owner walks it. With `draw`, r is
    // the draw's u, scaled by the total the ranges sum to (the kept mass: no pass of its own);
    // kNone when that total is 0.
    __device__ uint32_t walk(Walk mode, bool by_mass, Cut cand, uint32_t tie_key, unsigned long long r, bool draw) {
        const uint32_t chunk = (V + kThreads - 1) / kThreads, begin = min(tid * chunk, V), end = min(begin + chunk, V);
        unsigned long long mine = 0;
        for (uint32_t i = begin; i < end; ++i) mine += walk_weight(i, mode, by_mass, cand, tie_key);
        sh.sum[tid] = mine;
        __syncthreads();
        if (tid == 0) {
            unsigned long long target = r, total = 1;
            if (draw) {
                total = 0;
                for (uint32_t t = 0; t < kThreads; ++t) total += sh.sum[t];
                target = scale_draw(r, total);
            }
            unsigned long long acc = 0;
            uint32_t t = 0;
            while (t + 1 < kThreads && target >= acc + sh.sum[t]) acc += sh.sum[t++];
            sh.owner = total == 0 ? kThreads : t;   // nothing to walk: no owner
            sh.found = kNone;
            sh.rest = target - acc;
        }
        __syncthreads();
        if (tid == sh.owner) {
            unsigned long long rest = sh.rest;
            uint32_t found = end > begin ? end - 1 : 0;   // not reached: r is below the total
            for (uint32_t i = begin; i < end; ++i) {
                const unsigned long long w = walk_weight(i, mode, by_mass, cand, tie_key);
                if (rest < w) {
                    found = i;
                    break;
                }
                rest -= w;
            }
            sh.found = found;
        }
        __syncthreads();
        const uint32_t found = sh.found;
        __syncthreads();
        return found;
    }

    // The cut where the running total over the candidates in ranking order (their count, or
    // mass) reaches need >= 1: the key's bits 8 at a time, each from a histogram of the tokens
    // whose higher bits match so far, then the key's ties in id order.
    __device__ Cut select_cut(bool by_mass, unsigned long long need, Cut cand) {
        const uint32_t lane = tid % 32;
        uint32_t prefix = 0, mask = 0;
        unsigned long long above = 0;   // total of the tokens ranked above the bins still in play
        for (int shift = 24; shift >= 0; shift -= 8) {
            sh.lo[tid] = 0;
            sh.hi[tid] = 0;
            __syncthreads();
            // Every thread runs the same rounds, so each warp is whole for its reductions.
            for (uint32_t base = 0; base < V; base += kThreads) {
                const uint32_t i = base + tid;
                const bool valid = i < V;
                uint32_t m = 0, bin = 0;
                if (valid) {
                    const float s = scaled(i);
                    const uint32_t key = key_of(s);
                    if ((key & mask) == prefix && within(key, i, cand)) m = by_mass ? mass_of(weight_at(s)) : 1u;
                    bin = (key >> shift) & 255u;
                }
                // A flat row puts most tokens in one bin of the first passes: a warp adds up first.
                const uint32_t least = __reduce_min_sync(kFullWarp, valid ? bin : 0xffffffffu);
                const uint32_t most = __reduce_max_sync(kFullWarp, valid ? bin : 0u);
                if (least == most) {
                    const uint32_t lo = __reduce_add_sync(kFullWarp, m & 0x7fffu), hi = __reduce_add_sync(kFullWarp, m >> 15);
                    if (lane == 0) {
                        if (lo != 0) atomicAdd(&sh.lo[least], lo);
                        if (hi != 0) atomicAdd(&sh.hi[least], hi);
                    }
                } else if (m != 0) {
                    atomicAdd(&sh.lo[bin], m & 0x7fffu);
                    atomicAdd(&sh.hi[bin], m >> 15);
                }
            }
            __syncthreads();
            if (tid == 0) {
                uint32_t b = 255;
                for (;; --b) {
                    const unsigned long long t = ((unsigned long long)sh.hi[b] << 15) + (unsigned long long)sh.lo[b];
                    if (above + t >= need || b == 0) break;
                    above += t;
                }
                sh.found = b;
                sh.above = above;
            }
            __syncthreads();
            prefix |= sh.found << shift;
            mask |= 255u << shift;
            above = sh.above;
            __syncthreads();
        }
        return Cut{prefix, walk(Walk::Ties, by_mass, cand, prefix, need - above - 1, false)};
    }

    // mmfree::argmax of the raw row: the first largest value; NaN never wins, except that a NaN
    // first value is kept (the host starts from index 0 and no compare beats NaN).
    __device__ uint32_t first_max() {
        float best = __uint_as_float(kNegInfBits);
        uint32_t id = 0xffffffffu;
        for (uint32_t i = tid; i < V; i += kThreads) {
            const float v = row[i];
            if (!is_nan(v) && (v > best || (v == best && i < id))) {
                best = v;
                id = i;
            }
        }
        sh.key[tid] = __float_as_uint(best);
        sh.id[tid] = id;
        __syncthreads();
        for (uint32_t w = kThreads / 2; w > 0; w /= 2) {
            if (tid < w) {
                const float a = __uint_as_float(sh.key[tid]), b = __uint_as_float(sh.key[tid + w]);
                if (b > a || (b == a && sh.id[tid + w] < sh.id[tid])) {   // float compares: -0 equals +0, as on the host
                    sh.key[tid] = sh.key[tid + w];
                    sh.id[tid] = sh.id[tid + w];
                }
            }
            __syncthreads();
        }
        const uint32_t found = is_nan(row[0]) || sh.id[0] == 0xffffffffu ? 0u : sh.id[0];
        __syncthreads();
        return found;
    }

    __device__ float max_scaled() {
        float m = __uint_as_float(kNegInfBits);
        for (uint32_t i = tid; i < V; i += kThreads) m = fmaxf(m, scaled(i));   // no NaN here
        sh.key[tid] = __float_as_uint(m);
        __syncthreads();
        for (uint32_t w = kThreads / 2; w > 0; w /= 2) {
            if (tid < w) sh.key[tid] = __float_as_uint(fmaxf(__uint_as_float(sh.key[tid]), __uint_as_float(sh.key[tid + w])));
            __syncthreads();
        }
        const float found = __uint_as_float(sh.key[0]);
        __syncthreads();
        return found;
    }

    // The lowest-ranked of the candidates each thread proposes (smallest key, then largest id).
    __device__ Cut lowest(Cut mine) {
        sh.key[tid] = mine.key;
        sh.id[tid] = mine.id;
        __syncthreads();
        for (uint32_t w = kThreads / 2; w > 0; w /= 2) {
            if (tid < w && (sh.key[tid + w] < sh.key[tid] || (sh.key[tid + w] == sh.key[tid] && sh.id[tid + w] > sh.id[tid]))) {
                sh.key[tid] = sh.key[tid + w];
                sh.id[tid] = sh.id[tid + w];
            }
            __syncthreads();
        }
        const Cut found = {sh.key[0], sh.id[0]};
        __syncthreads();
        return found;
    }

    __device__ uint32_t draw_token(uint32_t top_k, uint32_t top_p, float min_p, unsigned long long u) {
        const Cut cand = top_k > 0 && top_k < V ? select_cut(false, top_k, kEverything) : kEverything;
        unsigned long long mine = 0;
        Cut low = {0xffffffffu, 0u};   // the lowest-ranked candidate of weight >= min_p (the top one has 1)
        for (uint32_t i = tid; i < V; i += kThreads) {
            const float s = scaled(i);
            const uint32_t key = key_of(s);
            if (!within(key, i, cand)) continue;
            const float w = weight_at(s);
            mine += mass_of(w);
            if (w >= min_p && (key < low.key || (key == low.key && i > low.id))) low = {key, i};
        }
        const unsigned long long total = sum_all(mine);
        Cut kept = cand;
        if (min_p > 0.0f) {
            const Cut m = lowest(low);
            if (ranks_higher(m, kept)) kept = m;
        }
        if (top_p < kTopPOne) {
            const Cut n = select_cut(true, nucleus_target(top_p, total), cand);
            if (ranks_higher(n, kept)) kept = n;
        }
        // Nothing kept (only min_p > 1 does that: no token weighs more than the top one's 1): the
        // host's draw then falls back on the argmax, as sample.comp does.
        const uint32_t token = walk(Walk::Kept, true, kept, 0u, u, true);
        return token == kNone ? first_max() : token;
    }
};

__global__ void __launch_bounds__(kThreads) sample_kernel(const float* __restrict__ logits, int V, const sampling::Draw* __restrict__ draws,
                                                          int* __restrict__ tokens) {
    __shared__ SampleShared sh;
    const uint32_t y = blockIdx.x;
    const sampling::Draw d = draws[y];
    RowSampler rs{sh, logits + size_t(y) * uint32_t(V), uint32_t(V), threadIdx.x, d.inv_temperature, 0.0f};
    uint32_t token;
    if (!(d.inv_temperature > 0.0f)) {
        token = rs.first_max();
    } else {
        rs.mx = rs.max_scaled();
        if (isinf(rs.mx)) token = rs.first_max();   // nothing usable (-inf), or an infinite logit
        else token = rs.draw_token(d.top_k, d.top_p, d.min_p, d.u);
    }
    if (threadIdx.x == 0) tokens[y] = int(token);
}

} // namespace

cudaError_t launch_sample(const float* logits, int rows, int V, const sampling::Draw* draws, int* tokens, cudaStream_t stream) {
    if (rows <= 0) return cudaSuccess;
    if (V < 1 || V >= kSampleMaxVocab) return cudaErrorInvalidValue;
    sample_kernel<<<rows, kThreads, 0, stream>>>(logits, V, draws, tokens);
    return cudaGetLastError();
}

} // namespace mmfree::cuda
