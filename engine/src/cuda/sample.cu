// SPDX-License-Identifier: Apache-2.0
// Sampling on the device, exactly as sampler.h defines it (the host's Sampler::draw picks the same
// token): the algorithm of shaders/sample.comp, with the same integer arithmetic, laid out for a
// big GPU. One block of 1024 threads per row of logits, the row copied into shared memory first
// when it fits (every pass then reads shared memory, not L2), every search a parallel scan.
// Nothing is sorted: the top-k and top-p cuts are found by selecting on the bits of the ranking
// key, 8 per pass, with shared-memory histograms of counts or masses, and ties of one scaled logit
// are taken in id order. Masses are integers, so every sum is exact in any order. The floats go
// through __fmul_rn / __fadd_rn / __fsub_rn: nvcc contracts a plain a·b + c into a fused
// multiply-add, which the host (-ffp-contract=off) does not do, and these intrinsics are never
// contracted, so the weights have the host's bits.
#include <atomic>
#include <cstddef>

#include <cuda_runtime.h>

#include "cuda/kernels.h"
#include "mmfree/sampler.h"

namespace mmfree::cuda {
namespace {

static_assert(sizeof(sampling::Draw) == 24 && offsetof(sampling::Draw, u) == 16, "the kernel reads sampling::Draw as the host lays it out");

using u64 = unsigned long long;
constexpr uint32_t kThreads = kSampleThreads;
constexpr uint32_t kWarps = kThreads / 32;
static_assert(kWarps == 32, "a block's scans finish in one warp: 32 warps");
constexpr uint32_t kBins = 256;      // a pass selects 8 bits of the key
constexpr uint32_t kSegment = 32;    // the walk sums ids in segments of one warp's width
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
__device__ __forceinline__ u64 nucleus_target(uint32_t top_p, u64 total) {
    const u64 low = (u64)top_p * (total & 0xffffffffull), high = (u64)top_p * (total >> 32);
    const u64 target = (high << 8) + ((low + 0xffffffull) >> 24);
    return target < 1 ? 1 : target > total ? total : target;
}

// floor(u × m / 2^64): the high word of the exact 128-bit product (sample.comp assembles the
// same number from 32-bit halves).
__device__ __forceinline__ u64 scale_draw(u64 u, u64 m) { return __umul64hi(u, m); }

__device__ __forceinline__ u64 warp_sum(u64 v) {
    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(kFullWarp, v, o);
    return v;
}
__device__ __forceinline__ u64 warp_inclusive_sum(u64 v, uint32_t lane) {
    for (int o = 1; o < 32; o *= 2) {
        const u64 n = __shfl_up_sync(kFullWarp, v, o);
        if (lane >= uint32_t(o)) v += n;
    }
    return v;
}

struct SampleShared {
    // A pass's histogram of 256 bins. A mass (≤ 2^30) is added as its low 15 bits and the rest,
    // so both sums fit 32 bits for up to 2^17 − 1 tokens.
    uint32_t lo[kBins], hi[kBins];
    u64 warp_total[kWarps];                     // block sums and scans, one entry per warp
    uint32_t warp_key[kWarps], warp_id[kWarps];  // block reductions of (key, id) pairs
    uint32_t found, segment;
    u64 above, rest;
};

// The walk's segment sums come first in the dynamic shared memory, then the staged row.
__host__ __device__ constexpr size_t segment_bytes(uint32_t V) { return (size_t(V + kSegment - 1) / kSegment * sizeof(u64) + 15) / 16 * 16; }

// What the walk counts at token i: the candidates of one key (their mass, or 1 each), or the
// mass of the kept tokens.
enum class Walk { Ties, Kept };

// One row drawn by one block; every member function is called by all threads of the block alike
// (they hold __syncthreads), with the same arguments.
struct RowSampler {
    SampleShared& sh;
    u64* segment_total;   // [ceil(V / 32)], shared
    const float* row;     // shared when the row was staged, else global
    uint32_t V, tid, lane, warp;
    float inv_t, mx;

    // s = logit × 1/T; NaN ranks as -inf and -0 as +0 (the host compares them equal).
    __device__ float scaled(uint32_t i) const {
        const float s = __fmul_rn(row[i], inv_t);
        if (is_nan(s)) return __uint_as_float(kNegInfBits);
        return __float_as_uint(s) == 0x80000000u ? 0.0f : s;
    }
    __device__ float weight_at(float s) const { return weight_of(__fsub_rn(s, mx)); }

    __device__ u64 sum_all(u64 v) {
        v = warp_sum(v);
        if (lane == 0) sh.warp_total[warp] = v;
        __syncthreads();
        const u64 total = warp_sum(sh.warp_total[lane]);
        __syncthreads();
        return total;
    }

    // The sum of v over the threads before this one; total: over all.
    __device__ u64 exclusive_scan(u64 v, u64& total) {
        const u64 inclusive = warp_inclusive_sum(v, lane);
        if (lane == 31) sh.warp_total[warp] = inclusive;
        __syncthreads();
        if (warp == 0) sh.warp_total[lane] = warp_inclusive_sum(sh.warp_total[lane], lane);
        __syncthreads();
        const u64 before = (warp > 0 ? sh.warp_total[warp - 1] : 0ull) + inclusive - v;
        total = sh.warp_total[kWarps - 1];
        __syncthreads();
        return before;
    }

    // The best of every thread's pair by `better`, a strict order on distinct pairs (so any
    // order of reduction finds the same one).
    template <class Better>
    __device__ Cut best_pair(Cut mine, Better better) {
        for (int o = 16; o > 0; o /= 2) {
            const Cut other = {__shfl_xor_sync(kFullWarp, mine.key, o), __shfl_xor_sync(kFullWarp, mine.id, o)};
            if (better(other, mine)) mine = other;
        }
        if (lane == 0) {
            sh.warp_key[warp] = mine.key;
            sh.warp_id[warp] = mine.id;
        }
        __syncthreads();
        mine = {sh.warp_key[lane], sh.warp_id[lane]};
        for (int o = 16; o > 0; o /= 2) {
            const Cut other = {__shfl_xor_sync(kFullWarp, mine.key, o), __shfl_xor_sync(kFullWarp, mine.id, o)};
            if (better(other, mine)) mine = other;
        }
        __syncthreads();
        return mine;
    }

    __device__ u64 walk_weight(uint32_t i, Walk mode, bool by_mass, Cut cand, uint32_t tie_key) const {
        const float s = scaled(i);
        const uint32_t key = key_of(s);
        if (!within(key, i, cand) || (mode == Walk::Ties && key != tie_key)) return 0;
        return mode == Walk::Ties && !by_mass ? 1ull : (u64)mass_of(weight_at(s));
    }

    // The token where the running total of walk_weight in id order first exceeds r. Each warp
    // sums segments of 32 ids, a block scan over the segment sums finds the segment, and one warp
    // scans its 32 ids. With `draw`, r is the draw's u, scaled by the total the segments sum to
    // (the kept mass: no pass of its own); kNone when that total is 0.
    __device__ uint32_t walk(Walk mode, bool by_mass, Cut cand, uint32_t tie_key, u64 r, bool draw) {
        const uint32_t segments = (V + kSegment - 1) / kSegment;
        for (uint32_t g = warp; g < segments; g += kWarps) {
            const uint32_t i = g * kSegment + lane;
            const u64 total = warp_sum(i < V ? walk_weight(i, mode, by_mass, cand, tie_key) : 0ull);
            if (lane == 0) segment_total[g] = total;
        }
        if (tid == 0) sh.segment = kNone;
        __syncthreads();
        const uint32_t per = (segments + kThreads - 1) / kThreads, g0 = min(tid * per, segments), g1 = min(g0 + per, segments);
        u64 mine = 0;
        for (uint32_t g = g0; g < g1; ++g) mine += segment_total[g];
        u64 total;
        const u64 before = exclusive_scan(mine, total);
        if (draw && total == 0) return kNone;   // the same total in every thread
        const u64 target = draw ? scale_draw(r, total) : r;
        if (before <= target && target < before + mine) {   // one thread: the segment is in its range
            u64 acc = before;
            uint32_t g = g0;
            while (g + 1 < g1 && target >= acc + segment_total[g]) acc += segment_total[g++];   // the last one needs no test
            sh.segment = g;
            sh.rest = target - acc;
        }
        __syncthreads();
        if (warp == 0) {
            const uint32_t g = sh.segment;
            uint32_t found = V - 1;   // r at or past the total (callers never ask): the last token
            if (g != kNone) {
                const uint32_t i = g * kSegment + lane;
                const u64 upto = warp_inclusive_sum(i < V ? walk_weight(i, mode, by_mass, cand, tie_key) : 0ull, lane);
                const unsigned past = __ballot_sync(kFullWarp, sh.rest < upto);   // never 0: the segment holds the token
                found = past ? g * kSegment + uint32_t(__ffs(past) - 1) : min(g * kSegment + kSegment - 1, V - 1);
            }
            if (lane == 0) sh.found = found;
        }
        __syncthreads();
        const uint32_t found = sh.found;
        __syncthreads();
        return found;
    }

    // ---- the radix selection: histograms of the key's bits, 8 at a time ----
    struct Radix {
        uint32_t prefix = 0, mask = 0;   // the key's bits chosen so far
        u64 above = 0;                   // total of the tokens ranked above the bins still in play
    };

    __device__ void clear_bins() {
        if (tid < kBins) {
            sh.lo[tid] = 0;
            sh.hi[tid] = 0;
        }
    }

    // Adds m to `bin`; every thread of the block calls it in the same rounds, so each warp is
    // whole for its reductions (valid: the thread has a token this round).
    __device__ void add_to_bin(bool valid, uint32_t bin, uint32_t m) {
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

    // After a histogram at `shift`: the bin where the running total from bin 255 down reaches
    // need (bin 0 at the latest), joined to the prefix. One warp: lane l sums bins 255 − 8l down
    // to 248 − 8l, a scan over the lanes finds the lane, and that lane walks its 8 bins.
    __device__ void take_bin(Radix& r, int shift, u64 need) {
        __syncthreads();   // the histogram is complete
        if (warp == 0) {
            auto bin_total = [&](uint32_t b) { return ((u64)sh.hi[b] << 15) + (u64)sh.lo[b]; };
            u64 mine = 0;
            for (uint32_t j = 0; j < 8; ++j) mine += bin_total(255 - 8 * lane - j);
            const u64 upto = r.above + warp_inclusive_sum(mine, lane);
            const unsigned reached = __ballot_sync(kFullWarp, upto >= need);
            if (lane == (reached ? uint32_t(__ffs(reached) - 1) : 31u)) {
                u64 acc = upto - mine;
                uint32_t b = 255 - 8 * lane;
                for (;; --b) {
                    const u64 t = bin_total(b);
                    if (acc + t >= need || b == 0) break;
                    acc += t;
                }
                sh.found = b;
                sh.above = acc;
            }
        }
        __syncthreads();
        r.prefix |= sh.found << shift;
        r.mask |= 255u << shift;
        r.above = sh.above;
        __syncthreads();
    }

    // The cut where the running total over the candidates in ranking order (their count, or
    // mass) reaches need >= 1: the key's bits from `shift` down (the ones above are in r), each
    // 8 from a histogram of the tokens whose higher bits match so far, then the key's ties in id
    // order.
    __device__ Cut select_cut(bool by_mass, u64 need, Cut cand, Radix r, int shift) {
        for (; shift >= 0; shift -= 8) {
            clear_bins();
            __syncthreads();
            for (uint32_t base = 0; base < V; base += kThreads) {
                const uint32_t i = base + tid;
                const bool valid = i < V;
                uint32_t m = 0, bin = 0;
                if (valid) {
                    const float s = scaled(i);
                    const uint32_t key = key_of(s);
                    if ((key & r.mask) == r.prefix && within(key, i, cand)) m = by_mass ? mass_of(weight_at(s)) : 1u;
                    bin = (key >> shift) & 255u;
                }
                add_to_bin(valid, bin, m);
            }
            take_bin(r, shift, need);
        }
        return Cut{r.prefix, walk(Walk::Ties, by_mass, cand, r.prefix, need - r.above - 1, false)};
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
        // float compares: -0 equals +0, as on the host
        const Cut top = best_pair(Cut{__float_as_uint(best), id}, [](Cut a, Cut b) {
            const float x = __uint_as_float(a.key), y = __uint_as_float(b.key);
            return x > y || (x == y && a.id < b.id);
        });
        return is_nan(row[0]) || top.id == 0xffffffffu ? 0u : top.id;
    }

    __device__ float max_scaled() {
        float m = __uint_as_float(kNegInfBits);
        for (uint32_t i = tid; i < V; i += kThreads) m = fmaxf(m, scaled(i));   // no NaN here
        for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(kFullWarp, m, o));
        if (lane == 0) sh.warp_key[warp] = __float_as_uint(m);
        __syncthreads();
        m = __uint_as_float(sh.warp_key[lane]);
        for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(kFullWarp, m, o));
        __syncthreads();
        return m;
    }

    __device__ uint32_t draw_token(uint32_t top_k, uint32_t top_p, float min_p, u64 u) {
        const Cut cand = top_k > 0 && top_k < V ? select_cut(false, top_k, kEverything, Radix{}, 24) : kEverything;
        // One pass: the candidates' mass, min-p's last candidate, and top-p's first histogram.
        const bool nucleus = top_p < kTopPOne;
        if (nucleus) clear_bins();
        __syncthreads();
        u64 mine = 0;
        Cut low = {0xffffffffu, 0u};   // the lowest-ranked candidate of weight >= min_p (the top one has 1)
        for (uint32_t base = 0; base < V; base += kThreads) {
            const uint32_t i = base + tid;
            const bool valid = i < V;
            uint32_t m = 0, bin = 0;
            if (valid) {
                const float s = scaled(i);
                const uint32_t key = key_of(s);
                bin = key >> 24;
                if (within(key, i, cand)) {
                    const float w = weight_at(s);
                    m = mass_of(w);
                    if (w >= min_p && (key < low.key || (key == low.key && i > low.id))) low = {key, i};
                }
            }
            mine += m;
            if (nucleus) add_to_bin(valid, bin, m);
        }
        const u64 total = sum_all(mine);
        Cut kept = cand;
        if (min_p > 0.0f) {
            const Cut m = best_pair(low, [](Cut a, Cut b) { return a.key < b.key || (a.key == b.key && a.id > b.id); });
            if (ranks_higher(m, kept)) kept = m;
        }
        if (nucleus) {
            const u64 need = nucleus_target(top_p, total);
            Radix r;
            take_bin(r, 24, need);
            const Cut n = select_cut(true, need, cand, r, 16);
            if (ranks_higher(n, kept)) kept = n;
        }
        // Nothing kept (only min_p > 1 does that: no token weighs more than the top one's 1): the
        // host's draw then falls back on the argmax, as sample.comp does.
        const uint32_t token = walk(Walk::Kept, true, kept, 0u, u, true);
        return token == kNone ? first_max() : token;
    }
};

extern __shared__ __align__(16) unsigned char sample_dynamic[];

// staged: copy the row into shared memory first (after the segment sums).
__global__ void __launch_bounds__(kThreads, 1) sample_kernel(const float* __restrict__ logits, int V, const sampling::Draw* __restrict__ draws,
                                                             int* __restrict__ tokens, bool staged) {
    __shared__ SampleShared sh;
    const uint32_t y = blockIdx.x, tid = threadIdx.x;
    const sampling::Draw d = draws[y];
    const float* row = logits + size_t(y) * uint32_t(V);
    if (staged) {
        float* copy = reinterpret_cast<float*>(sample_dynamic + segment_bytes(uint32_t(V)));
#pragma unroll 8
        for (uint32_t i = tid; i < uint32_t(V); i += kThreads) copy[i] = __ldcs(row + i);   // read once: stream past L1
        __syncthreads();
        row = copy;
    }
    RowSampler rs{sh, reinterpret_cast<u64*>(sample_dynamic), row, uint32_t(V), tid, tid % 32, tid / 32, d.inv_temperature, 0.0f};
    uint32_t token;
    if (!(d.inv_temperature > 0.0f)) {
        token = rs.first_max();
    } else {
        rs.mx = rs.max_scaled();
        if (isinf(rs.mx)) token = rs.first_max();   // nothing usable (-inf), or an infinite logit
        else token = rs.draw_token(d.top_k, d.top_p, d.min_p, d.u);
    }
    if (tid == 0) tokens[y] = int(token);
}

// Per device: the dynamic shared memory prepare_sample() allowed the kernel (0: not prepared,
// the default 48 KiB less the static part then).
constexpr int kMaxDevices = 64;
std::atomic<int> g_dynamic_limit[kMaxDevices];

} // namespace

cudaError_t prepare_sample() {
    int device = 0, optin = 0;
    cudaFuncAttributes attributes{};
    cudaError_t e = cudaGetDevice(&device);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (e == cudaSuccess) e = cudaFuncGetAttributes(&attributes, sample_kernel);
    if (e != cudaSuccess) return e;
    const int limit = optin - int(attributes.sharedSizeBytes);
    if (limit <= 0) return cudaErrorInvalidValue;
    e = cudaFuncSetAttribute(sample_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, limit);
    if (e == cudaSuccess && device >= 0 && device < kMaxDevices) g_dynamic_limit[device].store(limit);
    return e;
}

cudaError_t launch_sample(const float* logits, int rows, int V, const sampling::Draw* draws, int* tokens, cudaStream_t stream) {
    if (rows <= 0) return cudaSuccess;
    if (V < 1 || V >= kSampleMaxVocab) return cudaErrorInvalidValue;
    int device = 0;
    if (const cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) return e;
    const int prepared = device >= 0 && device < kMaxDevices ? g_dynamic_limit[device].load() : 0;
    const size_t limit = prepared > 0 ? size_t(prepared) : 48 * 1024 - sizeof(SampleShared);
    const size_t segments = segment_bytes(uint32_t(V)), staged = segments + sizeof(float) * size_t(V);
    const bool stage = staged <= limit;
    if (!stage && segments > limit) return cudaErrorInvalidValue;
    sample_kernel<<<rows, kThreads, stage ? staged : segments, stream>>>(logits, V, draws, tokens, stage);
    return cudaGetLastError();
}

} // namespace mmfree::cuda
