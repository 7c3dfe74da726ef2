// SPDX-License-Identifier: Apache-2.0
// Sampling on the device, exactly as sampler.h defines it (the host's Sampler::draw picks the same
// token): one workgroup per row y of logits [rows][P_N] (IN0), drawn by the row's sampling::Draw
// (IN1: six words per row), the token to OUT[y]. Nothing is sorted: the top-k and top-p cuts are
// found by selecting on the bits of the ranking key, 8 per pass, with histograms of counts or
// masses, and ties of one scaled logit are taken in id order. Masses are integers, so every sum
// is exact in any order; the weight uses plain float arithmetic marked precise (no fused
// multiply-adds), so it has the host's bits. Every search is a parallel scan over the workgroup,
// whose size is specialization constant 0 (VulkanExecutor picks 1024 on GPUs: each thread then
// reads 4× fewer tokens per pass, and the passes are latency-bound).
#version 460
#include "common.glsl"

layout(local_size_x_id = 0) in;
#define WG gl_WorkGroupSize.x   // 256 or more

// A pass's histogram of 256 bins. A mass (< 2^30) is added as its low 15 bits and the rest, so
// both sums fit 32 bits for fewer than 2^17 tokens (the host samples larger vocabularies).
shared uint s_lo[256], s_hi[256];
shared uint64_t s_sum[WG];          // per-thread sums: reductions and scans
shared uint s_key[WG], s_id[WG];    // per-thread (key, id): the argmax and min-p reductions
shared uint s_found;
shared uint64_t s_above;

#define kNegInf uintBitsToFloat(0xff800000u)

F32 row_;
uint V_, tid_;
float inv_t_, mx_;

// A prefix of the ranking by its last token: ranking key and id. key_of orders scaled logits
// descending by unsigned compare; the ranking breaks ties by id ascending.
struct Cut {
    uint key;
    uint id;
};
const Cut kEverything = Cut(0u, 0xffffffffu);   // every key is above 0: the whole ranking

uint key_of(float s) {
    const uint b = floatBitsToUint(s);
    return (b & 0x80000000u) != 0u ? ~b : b | 0x80000000u;
}
bool within(uint key, uint id, Cut c) { return key > c.key || (key == c.key && id <= c.id); }
bool ranks_higher(Cut a, Cut b) { return a.key > b.key || (a.key == b.key && a.id < b.id); }

// s = logit × 1/T; NaN ranks as -inf and -0 as +0 (the host compares them equal).
float scaled(uint i) {
    precise float s = row_.v[i] * inv_t_;
    if ((floatBitsToUint(s) & 0x7fffffffu) > 0x7f800000u) return kNegInf;
    return s == 0.0 ? 0.0 : s;
}

// sampling::weight, operation for operation (constants as the host's float bits).
float weight_of(float x) {
    precise float xc = x >= -87.0 ? x : -87.0;
    precise float n = (xc * uintBitsToFloat(0x3fb8aa3bu) + 12582912.0) - 12582912.0;
    precise float r = (xc - n * uintBitsToFloat(0x3f317200u)) - n * uintBitsToFloat(0x35bfbe8eu);
    precise float p = 1.0 + r * (1.0 + r * (0.5 + r * (uintBitsToFloat(0x3e2aaaabu) + r * (uintBitsToFloat(0x3d2aaaabu) +
                      r * (uintBitsToFloat(0x3c088889u) + r * uintBitsToFloat(0x3ab60b61u))))));
    const float scale = uintBitsToFloat(uint(int(n) + 127) << 23);
    precise float w = p * scale;
    return x >= -87.0 ? w : 0.0;
}
float weight_at(float s) { precise float x = s - mx_; return weight_of(x); }
uint mass_of(float w) { return uint(int(w * 1073741824.0)); }

uint64_t sum_all(uint64_t v) {
    s_sum[tid_] = v;
    barrier();
    for (uint w = WG / 2; w > 0; w /= 2) {
        if (tid_ < w) s_sum[tid_] += s_sum[tid_ + w];
        barrier();
    }
    const uint64_t total = s_sum[0];
    barrier();
    return total;
}

// The sum of v over this thread and the ones before it, of the first n (the others add 0).
// s_sum[WG - 1] holds the total until the caller's next barrier.
uint64_t inclusive_scan(uint64_t v, uint n) {
    s_sum[tid_] = tid_ < n ? v : 0ul;
    barrier();
    for (uint o = 1; o < n; o *= 2) {
        const uint64_t add = tid_ >= o ? s_sum[tid_ - o] : 0ul;
        barrier();
        s_sum[tid_] += add;
        barrier();
    }
    return s_sum[tid_];
}

// floor(u × m / 2^64).
uint64_t scale_draw(uint64_t u, uint64_t m) {
    const uint64_t ul = u & 0xffffffffu, uh = u >> 32, ml = m & 0xffffffffu, mh = m >> 32;
    const uint64_t ll = ul * ml, lh = ul * mh, hl = uh * ml;
    const uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    return uh * mh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

// What the walk counts at token i: WALK_TIES the candidates of one key (their mass or 1 each),
// WALK_KEPT the mass of the kept tokens.
#define WALK_TIES 0u
#define WALK_KEPT 1u
uint64_t walk_weight(uint i, uint mode, bool by_mass, Cut cand, uint tie_key) {
    const float s = scaled(i);
    const uint key = key_of(s);
    if (!within(key, i, cand) || (mode == WALK_TIES && key != tie_key)) return 0;
    return mode == WALK_TIES && !by_mass ? 1ul : uint64_t(mass_of(weight_at(s)));
}

// The token where the running total of walk_weight in id order first exceeds r: each thread sums
// a contiguous range, a scan over the threads finds the range, its owner walks it. With `draw`, r
// is the draw's u, scaled by the total the ranges sum to (the kept mass: no pass of its own);
// kNone when that total is 0.
#define kNone 0xffffffffu
uint walk(uint mode, bool by_mass, Cut cand, uint tie_key, uint64_t r, bool draw) {
    const uint chunk = (V_ + WG - 1) / WG, begin = min(tid_ * chunk, V_), end = min(begin + chunk, V_);
    uint64_t mine = 0;
    for (uint i = begin; i < end; ++i) mine += walk_weight(i, mode, by_mass, cand, tie_key);
    const uint64_t upto = inclusive_scan(mine, WG), total = s_sum[WG - 1];
    if (tid_ == 0) s_found = V_ - 1;   // r at or past the total (callers never ask): the last token
    barrier();
    if (draw && total == 0) return kNone;   // the same total in every thread
    const uint64_t target = draw ? scale_draw(r, total) : r;
    if (upto - mine <= target && target < upto) {   // one thread: the token is in its range
        uint64_t rest = target - (upto - mine);
        uint i = begin;
        for (; i + 1 < end; ++i) {   // the range holds the token: its last one needs no test
            const uint64_t w = walk_weight(i, mode, by_mass, cand, tie_key);
            if (rest < w) break;
            rest -= w;
        }
        s_found = i;
    }
    barrier();
    const uint found = s_found;
    barrier();
    return found;
}

// After a histogram at `shift`: the bin where the running total from bin 255 down reaches need
// (bin 0 at the latest), joined to the prefix; thread t holds bin 255 − t in a scan.
void take_bin(inout uint prefix, inout uint mask, inout uint64_t above, int shift, uint64_t need) {
    barrier();   // the histogram is complete
    const uint b = 255u - min(tid_, 255u);
    const uint64_t t = tid_ < 256u ? (uint64_t(s_hi[b]) << 15) + uint64_t(s_lo[b]) : 0ul;
    const uint64_t upto = above + inclusive_scan(t, 256u);
    if (tid_ < 256u && (upto >= need ? upto - t < need : tid_ == 255u)) {
        s_found = b;
        s_above = upto - t;
    }
    barrier();
    prefix |= s_found << shift;
    mask |= 255u << shift;
    above = s_above;
    barrier();
}

// Adds m to `bin`; every thread calls it in the same rounds, so each subgroup is whole for its
// reductions (valid: the thread has a token this round).
void add_to_bin(bool valid, uint bin, uint m) {
    // A flat row puts most tokens in one bin of the first passes: a subgroup adds up first.
    const uint least = subgroupMin(valid ? bin : 0xffffffffu);
    if (least == subgroupMax(valid ? bin : 0u)) {
        const uint lo = subgroupAdd(m & 0x7fffu), hi = subgroupAdd(m >> 15);
        if (subgroupElect()) {
            if (lo != 0) atomicAdd(s_lo[least], lo);
            if (hi != 0) atomicAdd(s_hi[least], hi);
        }
    } else if (m != 0) {
        atomicAdd(s_lo[bin], m & 0x7fffu);
        atomicAdd(s_hi[bin], m >> 15);
    }
}

void clear_bins() {
    if (tid_ < 256u) {
        s_lo[tid_] = 0;
        s_hi[tid_] = 0;
    }
}

// The cut where the running total over the candidates in ranking order (their count, or mass)
// reaches need >= 1: the key's bits from `shift` down (the ones above are in prefix/mask, the
// total ranked above them in `above`), each 8 from a histogram of the tokens whose higher bits
// match so far, then the key's ties in id order.
Cut select_cut(bool by_mass, uint64_t need, Cut cand, uint prefix, uint mask, uint64_t above, int shift) {
    for (; shift >= 0; shift -= 8) {
        clear_bins();
        barrier();
        for (uint base = 0; base < V_; base += WG) {
            const uint i = base + tid_;
            const bool valid = i < V_;
            uint m = 0, bin = 0;
            if (valid) {
                const float s = scaled(i);
                const uint key = key_of(s);
                if ((key & mask) == prefix && within(key, i, cand)) m = by_mass ? mass_of(weight_at(s)) : 1u;
                bin = (key >> shift) & 255u;
            }
            add_to_bin(valid, bin, m);
        }
        take_bin(prefix, mask, above, shift, need);
    }
    return Cut(prefix, walk(WALK_TIES, by_mass, cand, prefix, need - above - 1, false));
}

// mmfree::argmax of the raw row: the first largest value; NaN never wins, except that a NaN first
// value is kept (the host starts from index 0 and no compare beats NaN).
uint first_max() {
    float best = kNegInf;
    uint id = 0xffffffffu;
    for (uint i = tid_; i < V_; i += WG) {
        const float v = row_.v[i];
        if ((floatBitsToUint(v) & 0x7fffffffu) <= 0x7f800000u && (v > best || (v == best && i < id))) { best = v; id = i; }
    }
    s_key[tid_] = floatBitsToUint(best);
    s_id[tid_] = id;
    barrier();
    for (uint w = WG / 2; w > 0; w /= 2) {
        if (tid_ < w) {
            const float a = uintBitsToFloat(s_key[tid_]), b = uintBitsToFloat(s_key[tid_ + w]);
            if (b > a || (b == a && s_id[tid_ + w] < s_id[tid_])) { s_key[tid_] = s_key[tid_ + w]; s_id[tid_] = s_id[tid_ + w]; }
        }
        barrier();
    }
    const float first = row_.v[0];
    const uint found = (floatBitsToUint(first) & 0x7fffffffu) > 0x7f800000u || s_id[0] == 0xffffffffu ? 0u : s_id[0];
    barrier();
    return found;
}

float max_scaled() {
    float m = kNegInf;
    for (uint i = tid_; i < V_; i += WG) m = max(m, scaled(i));
    s_key[tid_] = floatBitsToUint(m);
    barrier();
    for (uint w = WG / 2; w > 0; w /= 2) {
        if (tid_ < w) s_key[tid_] = floatBitsToUint(max(uintBitsToFloat(s_key[tid_]), uintBitsToFloat(s_key[tid_ + w])));
        barrier();
    }
    const float found = uintBitsToFloat(s_key[0]);
    barrier();
    return found;
}

// The lowest-ranked of the candidates each thread proposes (smallest key, then largest id).
Cut lowest(Cut mine) {
    s_key[tid_] = mine.key;
    s_id[tid_] = mine.id;
    barrier();
    for (uint w = WG / 2; w > 0; w /= 2) {
        if (tid_ < w && (s_key[tid_ + w] < s_key[tid_] || (s_key[tid_ + w] == s_key[tid_] && s_id[tid_ + w] > s_id[tid_]))) {
            s_key[tid_] = s_key[tid_ + w];
            s_id[tid_] = s_id[tid_ + w];
        }
        barrier();
    }
    const Cut found = Cut(s_key[0], s_id[0]);
    barrier();
    return found;
}

// ceil(top_p × total / 2^24) in [1, total], with total < 2^47.
uint64_t nucleus_target(uint top_p, uint64_t total) {
    const uint64_t low = uint64_t(top_p) * (total & 0xffffffffu), high = uint64_t(top_p) * (total >> 32);
    const uint64_t target = (high << 8) + ((low + 0xffffffu) >> 24);
    return clamp(target, 1ul, total);
}

uint draw_token(uint top_k, uint top_p, float min_p, uint64_t u) {
    const Cut cand = top_k > 0 && top_k < V_ ? select_cut(false, uint64_t(top_k), kEverything, 0u, 0u, 0ul, 24) : kEverything;
    // One pass: the candidates' mass, min-p's last candidate, and top-p's first histogram.
    const bool nucleus = top_p < (1u << 24);
    if (nucleus) clear_bins();
    barrier();
    uint64_t mine = 0;
    Cut low = Cut(0xffffffffu, 0u);   // the lowest-ranked candidate of weight >= min_p (the top one has 1)
    for (uint base = 0; base < V_; base += WG) {
        const uint i = base + tid_;
        const bool valid = i < V_;
        uint m = 0, bin = 0;
        if (valid) {
            const float s = scaled(i);
            const uint key = key_of(s);
            bin = key >> 24;
            if (within(key, i, cand)) {
                const float w = weight_at(s);
                m = mass_of(w);
                if (w >= min_p && (key < low.key || (key == low.key && i > low.id))) low = Cut(key, i);
            }
        }
        mine += m;
        if (nucleus) add_to_bin(valid, bin, m);
    }
    const uint64_t total = sum_all(mine);
    Cut kept = cand;
    if (min_p > 0.0) {
        const Cut m = lowest(low);
        if (ranks_higher(m, kept)) kept = m;
    }
    if (nucleus) {
        const uint64_t need = nucleus_target(top_p, total);
        uint prefix = 0, mask = 0;
        uint64_t above = 0;
        take_bin(prefix, mask, above, 24, need);
        const Cut n = select_cut(true, need, cand, prefix, mask, above, 16);
        if (ranks_higher(n, kept)) kept = n;
    }
    const uint token = walk(WALK_KEPT, true, kept, 0u, u, true);
    return token == kNone ? first_max() : token;   // min_p > 1 keeps nothing: the host takes the argmax too
}

void main() {
    tid_ = gl_LocalInvocationID.x;
    V_ = pc.p[P_N];
    const uint y = gl_WorkGroupID.y;
    row_ = F32(addr_of(pc.p[P_IN0]) + uint64_t(y) * V_ * 4ul);
    U32 draw = u32_at(P_IN1);
    const uint d = 6 * y;
    inv_t_ = uintBitsToFloat(draw.v[d]);
    uint token;
    if (!(inv_t_ > 0.0)) {
        token = first_max();
    } else {
        mx_ = max_scaled();
        if (mx_ == kNegInf || mx_ == -kNegInf) token = first_max();   // nothing usable, or an infinite logit
        else token = draw_token(draw.v[d + 1], draw.v[d + 2], uintBitsToFloat(draw.v[d + 3]),
                                uint64_t(draw.v[d + 4]) | (uint64_t(draw.v[d + 5]) << 32));
    }
    if (tid_ == 0) u32_at(P_OUT).v[y] = token;
}
