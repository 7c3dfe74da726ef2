// SPDX-License-Identifier: Apache-2.0
// The input side of a BitLinear, computed by one workgroup for row t (a decode step's token, a
// prep kernel's token row): build the input vector v from the previous kernels' outputs (MODE),
// apply the layer's RMSNorm, then the BitLinear's own RMSNorm (eps 1e-6) and per-row int8
// quantization (s = 127/max|ŷ|, round half away from zero) for each of NSETS weight sets that
// share the input. Thread `tid` loads the 4 contiguous elements 4p..4p+3 for p = tid + j·WG (one
// 16-byte load per vector where VEC4: K a multiple of 4) and emits q word p, which packs elements
// 16w+s+4b (b = 0..3; p = 4w+s), the order dot_word expects: the four lanes of a group of 4
// exchange their bytes by subgroup shuffles.
// The includer defines PREP and SG_LEAST (fewest threads a subgroup is expected to have) before
// the include, and after it emit_q(set, p, word) and emit_scale(set, s, Σq).
#extension GL_KHR_shader_subgroup_shuffle : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0;
layout(constant_id = 2) const uint PER = 1;    // q words per thread: PER·WG ≥ KW
layout(constant_id = 3) const uint NSETS = 1;
layout(constant_id = 4) const bool VEC4 = false;  // K % 4 == 0: every vector read is 16-byte aligned

const uint WG = gl_WorkGroupSize.x;
void emit_q(uint s, uint p, uint word);
void emit_scale(uint s, float scale, int qsum);
// Per-subgroup partials; at least 128, room for subgroups of 8 in a workgroup of 1024 where a
// device runs smaller subgroups than SG_LEAST.
const uint RED_SGS = WG / SG_LEAST;
const uint RED = RED_SGS > 128u ? RED_SGS : 128u;
shared vec4 red_sum[RED];
shared vec4 red_max[RED];
shared int s_qacc[4];

// One reduction for the whole prologue: sums and maxima, one barrier. The partials are added in
// subgroup order by every thread, so all threads get the same result.
vec4 sums;    // Σv², Σw²
vec4 maxima;  // per set: max|w·γ|
void wg_reduce() {
    const uint nsg = gl_NumSubgroups;
    sums = subgroupAdd(sums);
    maxima = subgroupMax(maxima);
    if (subgroupElect()) {
        red_sum[gl_SubgroupID] = sums;
        red_max[gl_SubgroupID] = maxima;
    }
    barrier();
    sums = vec4(0);
    maxima = vec4(0);
    for (uint i = 0; i < nsg; ++i) {
        sums += red_sum[i];
        maxima = max(maxima, red_max[i]);
    }
}

// Elements base+e0 .. base+e0+3 of the vector at `slot`: one aligned load where VEC4 (e0 is
// then clamped by the caller), else four loads clamped to the row's K elements.
vec4 load4(uint slot, uint base, uint e0, uint K) {
    if (VEC4) return F32x4(addr_of(pc.p[slot])).v[(base + e0) / 4];
    F32 f = f32_at(slot);
    return vec4(f.v[base + min(e0, K - 1)], f.v[base + min(e0 + 1, K - 1)], f.v[base + min(e0 + 2, K - 1)], f.v[base + min(e0 + 3, K - 1)]);
}

// clamp(round_half_away(x), −128, 127) in full-rate float arithmetic: adding and subtracting
// 1.5·2^23 rounds |x| ≤ 2^22 to the nearest integer, ties to even; a tie that went down is moved
// up, which makes ties go away from zero (a − r is exact). Identical to the trunc-based form for
// every such float (checked exhaustively on the host); trunc and float→int conversions issue at a
// sixteenth of the rate of an add, and every workgroup quantizes its whole input.
// `precise` does not survive glslc's loop unrolling, and an optimizer may fold (a + M) − M to a:
// the subtraction uses a copy of M it cannot see through (bit 31 of the flags is never set).
const float ROUND_MAGIC = 12582912.0;  // 1.5·2^23
float round_magic_opaque() { return uintBitsToFloat(floatBitsToUint(ROUND_MAGIC) + (pc.p[P_FLAGS] >> 31)); }
float quantize(float x, float magic_opaque) {
    const float a = abs(x);
    float r = (a + ROUND_MAGIC) - magic_opaque;
    r += a - r == 0.5 ? 1.0 : 0.0;
    return clamp(x < 0.0 ? -r : r, -128.0, 127.0);
}
// The int8 two's-complement byte of a quantized value: the low byte of (q + 1.5·2^23)'s bits.
uint q_byte(float q) { return floatBitsToUint(q + ROUND_MAGIC) & 0xffu; }

float pv[4 * PER];          // v, then w (see step 2)
float ph[4 * PER];          // MODE_O: h
float pn[4 * PER];          // the layer norm's weight
float pg[NSETS][4 * PER];   // the BitLinear norm weights

// Every global load is issued in one unrolled, branch-free pass (indices clamped, results masked):
// loads inside conditionals or interleaved with stores are serialized, and at ~0.5 µs per round
// trip that made this prologue the slowest part of a decode step.
void prologue(uint t) {
    const uint tid = gl_LocalInvocationID.x;
    const uint K = pc.p[P_K], KW = pc.p[P_KW], flags = pc.p[P_FLAGS];
    const uint S = pc.p[P_STRIDE_IN];
    const bool owner = PREP || gl_WorkGroupID.x == 0;
    const float eps = uintBitsToFloat(pc.p[P_EPS]);
    F32 xout = f32_at(P_XOUT);
    const bool first = MODE == MODE_IFG && (flags & F_FIRST) != 0;

    // 1. Loads, and the input vectors v.
    if (tid < 4) s_qacc[tid] = 0;  // ordered before the Σq atomics by wg_reduce's barrier
    [[unroll]] for (uint j = 0; j < PER; ++j) {
        const uint p = tid + j * WG;
        const uint e0 = VEC4 ? 4 * min(p, K / 4 - 1) : 4 * p;
        const vec4 n = MODE != MODE_DOWN && MODE != MODE_RAW ? load4(P_NORM, 0, e0, K) : vec4(1);
        vec4 g[NSETS];
        [[unroll]] for (uint s = 0; s < NSETS; ++s) g[s] = load4(P_GAMMA, s * K, e0, K);
        const uint tok = first ? u32_at(P_TOK).v[t] : 0;
        // MODE_O reads h from the sequence's state (decode: F_SLOTS) or from row t of the scan's output.
        const uint h_row = MODE == MODE_O && (flags & F_SLOTS) != 0 ? u32_at(P_SLOTS).v[t] * pc.p[P_SSTRIDE] : t * K;
        vec4 v = vec4(0), h = vec4(0);
        if (MODE == MODE_IFG) {
            v = first ? load4(P_EMB, tok * K, e0, K) : load4(P_IN0, t * K, e0, K) + load4(P_IN1, t * K, e0, K) + load4(P_IN2, t * K, e0, K);
        } else if (MODE == MODE_O) {
            v = load4(P_IN0, t * S, e0, K);
            h = load4(P_IN2, h_row, e0, K);
        } else if (MODE == MODE_GATE) {
            v = load4(P_IN0, t * K, e0, K) + load4(P_IN1, t * K, e0, K);
        } else if (MODE == MODE_DOWN) {
            v = silu(load4(P_IN0, t * S, e0, K)) * load4(P_IN0, t * S + K, e0, K);
        } else if (MODE == MODE_HEAD) {
            v = load4(P_IN0, t * K, e0, K) + load4(P_IN1, t * K, e0, K) + load4(P_IN2, t * K, e0, K);
        } else {
            v = load4(P_IN0, t * K, e0, K);
        }
        [[unroll]] for (uint b = 0; b < 4; ++b) {
            const bool valid = p < KW && 4 * p + b < K;
            pv[4 * j + b] = valid ? v[b] : 0.0;
            ph[4 * j + b] = valid ? h[b] : 0.0;
            pn[4 * j + b] = n[b];
            [[unroll]] for (uint s = 0; s < NSETS; ++s) pg[s][4 * j + b] = g[s][b];
        }
    }
    // Stores after every load: a store between loads would order them.
    if (owner && MODE == MODE_IFG) {
        [[unroll]] for (uint j = 0; j < PER; ++j) {
            const uint p = tid + j * WG;
            [[unroll]] for (uint b = 0; b < 4; ++b) {
                const uint e = 4 * p + b;
                if (p < KW && e < K) xout.v[t * K + e] = pv[4 * j + b];
            }
        }
    }

    // 2. Both RMSNorms and the quantization maxima from one reduction. With w = v·n (n: the layer
    // norm's weight, times silu(h) in MODE_O; 1 without a layer norm), u = r·w and ŷ = r2·u,
    // Σu² = r²·Σw² and max|ŷ·γ| = r·r2·max|w·γ|: the positive scalars factor out of the sums
    // and maxima (rounding may differ from the step-by-step chain by an ulp, which moves a q by one
    // step rarely; MODEL_SPEC's tolerance covers it and the kernel tests count such flips).
    const bool layer_norm = MODE != MODE_DOWN && MODE != MODE_RAW;
    sums = vec4(0);
    maxima = vec4(0);
    [[unroll]] for (uint i = 0; i < 4 * PER; ++i) {
        float w = pv[i];
        if (layer_norm) w *= pn[i];
        if (MODE == MODE_O) w *= silu(ph[i]);
        sums.x += pv[i] * pv[i];
        sums.y += w * w;
        pv[i] = w;  // padding stays 0: pv was 0 there
        [[unroll]] for (uint s = 0; s < NSETS; ++s) maxima[s] = max(maxima[s], abs(w * pg[s][i]));
    }
    wg_reduce();

    // 3. Quantize and pack.
    // Lane offset o of a group of 4 holds elements 4(4w+o)+b; word 4w+o takes byte o of each
    // lane's packed quad: q of element 16w+o+4c at byte c.
    const uint group = gl_SubgroupInvocationID & ~3u, o = gl_SubgroupInvocationID & 3u;
    const float magic = round_magic_opaque();
    const float r = layer_norm ? 1.0 / sqrt(sums.x / float(K) + eps) : 1.0;
    const float r2 = 1.0 / sqrt(r * r * sums.y / float(K) + 1e-6);
    const float rr = r * r2;
    vec4 qsum = vec4(0);  // integers far below 2^24: exact in float
    vec4 scale = vec4(1);
    vec4 step = vec4(1);  // ŷ·γ·s = w·γ·(r·r2·s)
    [[unroll]] for (uint s = 0; s < NSETS; ++s) {
        scale[s] = 127.0 / max(rr * maxima[s], 1e-5);
        step[s] = rr * scale[s];
    }
    [[unroll]] for (uint s = 0; s < NSETS; ++s) {
        [[unroll]] for (uint j = 0; j < PER; ++j) {
            const uint p = tid + j * WG;
            uint quad = 0;
            [[unroll]] for (uint b = 0; b < 4; ++b) {
                const float q = quantize(pv[4 * j + b] * pg[s][4 * j + b] * step[s], magic);
                qsum[s] += q;
                quad |= q_byte(q) << (8 * b);
            }
            uint word = 0;
            [[unroll]] for (uint k = 0; k < 4; ++k) word |= ((subgroupShuffle(quad, group + k) >> (8 * o)) & 0xffu) << (8 * k);
            if (p < KW) emit_q(s, p, word);
        }
    }
    // Σq: integer adds in any order give the same sum.
    [[unroll]] for (uint s = 0; s < NSETS; ++s) {
        const int part = subgroupAdd(int(qsum[s]));
        if (subgroupElect()) atomicAdd(s_qacc[s], part);
    }
    barrier();
    if (tid == 0)
        [[unroll]] for (uint s = 0; s < NSETS; ++s) emit_scale(s, scale[s], s_qacc[s]);
}
