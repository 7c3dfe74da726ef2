// SPDX-License-Identifier: Apache-2.0
// Decode: one BitLinear (or the three that share an input) as a single dispatch. Every
// workgroup first runs the prologue for the step's tokens itself (a few µs of redundant work that
// saves a dispatch and a barrier per BitLinear), keeps the int8 activations in shared memory,
// then streams its block of weight rows: each subgroup takes ROWS rows at once, lanes stride over
// 64-weight chunks (one uvec4 of codes), accumulate in int32 and reduce with subgroupAdd.
// GROUP > 1: the workgroups split N channels, and a channel's rows of every group member are
// taken together (row g·N + c of the codes) so that one lane finishes the channel: GROUP 3 is
// i/f/g with the MLGRU step (h updated in place, ag written), GROUP 2 gate/up with SwiGLU.
// COLS > 1 (MODE_QIN only): P_T columns — a batched step's or a short prefill chunk's tokens —
// whose int8 activations a prep kernel wrote, multiplied COLS at a time (q from memory: COLS ×
// NSETS sets of a long input do not fit in shared memory), so the batch reads every weight once.
// Grouped decode (a dispatch of y > 1 workgroup rows): row y of the grid computes the step's
// token y (sequence in slot P_SLOTS[y]) alone, as a dispatch of that token would; the rows read
// the same weights, mostly from L2. Column y's outputs follow column y − 1's (3N floats apart for
// i/f/g, N otherwise).
#version 460
#include "common.glsl"

const bool PREP = false;
layout(constant_id = 7) const uint SGS = 32;  // the device's subgroup size, so the row loop unrolls
layout(constant_id = 9) const uint COLS = 1;
const uint SG_LEAST = SGS;
#include "prologue.glsl"

layout(constant_id = 5) const uint ROWS = 4;
layout(constant_id = 6) const uint QV4 = 4;   // uvec4 of q per set: KW/4
layout(constant_id = 8) const uint GROUP = 1;
const uint RG = ROWS * GROUP;                 // rows in flight per subgroup pass
const uint CW4 = QV4 / 4;                     // uvec4 of codes per row
const uint UT = (CW4 + SGS - 1) / SGS;        // code chunks per lane and row
// q in shared memory: lane u reads chunk u's 4 uvec4, 64 bytes apart across lanes, so every
// second chunk is shifted by one uvec4 (index w + w/8) to spread 8 lanes over all 32 banks.
const uint QV4P = QV4 + QV4 / 8 + 1;          // padded uvec4 per set
uint q_slot(uint w) { return w + (w >> 3); }

shared uvec4 sq[NSETS * QV4P];                // [set]
shared float s_scale[4];
shared int s_qsum[4];
shared float s_best[128];
shared uint s_best_i[128];

void emit_q(uint s, uint p, uint word) {
    sq[s * QV4P + q_slot(p >> 2)][p & 3] = word;
    if ((pc.p[P_FLAGS] & F_QOUT) != 0 && gl_WorkGroupID.x == 0) u32_at(P_Q).v[s * pc.p[P_KW] + p] = word;
}
void emit_scale(uint s, float scale, int qsum) {
    s_scale[s] = scale;
    s_qsum[s] = qsum;
    if ((pc.p[P_FLAGS] & F_QOUT) != 0 && gl_WorkGroupID.x == 0) {
        f32_at(P_QSCALE).v[s] = scale;
        i32_at(P_QSUM).v[s] = qsum;
    }
}

uvec4 c[RG][UT];

// Row k of a pass is row i = k mod ROWS of group member g = k / ROWS; its q set and weight
// scale: member g's where the members have their own (i/f/g), else the workgroup's set.
uint set_of(uint k, uint set) { return NSETS > 1 && GROUP > 1 ? k / ROWS : set; }

// Issues a pass's weight loads (rows clamped, results ignored past the end): all independent.
void load_codes(U32x4 codes, uint row0, uint r_end, uint N) {
    const uint lane = gl_SubgroupInvocationID;
    [[unroll]] for (uint k = 0; k < RG; ++k) {
        const uint r = min(row0 + k % ROWS, r_end - 1) + (k / ROWS) * N;
        [[unroll]] for (uint j = 0; j < UT; ++j) c[k][j] = codes.v[r * CW4 + min(lane + j * gl_SubgroupSize, CW4 - 1)];
    }
}

// COLS > 1: outputs [t][P_OUTSTRIDE], column set·N + row; y = (Σq·w − Σq)·(m / s), as gemm.comp.
void columns() {
    const uint N = pc.p[P_N], RPW = pc.p[P_RPW], wgset = pc.p[P_WGSET], T = pc.p[P_T], KW = pc.p[P_KW];
    const uint set = gl_WorkGroupID.x / wgset, blk = gl_WorkGroupID.x % wgset;
    const uint r_begin = blk * RPW, r_end = min(N, r_begin + RPW);
    const uint lane = gl_SubgroupInvocationID, SG = gl_SubgroupSize;
    const uint step = gl_NumSubgroups * ROWS;
    U32x4 codes = U32x4(addr_of(pc.p[P_CODES]) + uint64_t(set * N) * CW4 * 16ul);
    U32x4 q = U32x4(addr_of(pc.p[P_Q]));
    F32 qscale = f32_at(P_QSCALE), outp = f32_at(P_OUT);
    I32 qsum = i32_at(P_QSUM);
    const float wscale = f32_at(P_WSCALE).v[set];
    const uint ostride = pc.p[P_OUTSTRIDE];
    const bool raw = (pc.p[P_FLAGS] & F_RAW) != 0;
    uint r0 = r_begin + gl_SubgroupID * ROWS;
    if (r0 < r_end) load_codes(codes, r0, r_end, N);
    for (; r0 < r_end; r0 += step) {
        for (uint t0 = 0; t0 < T; t0 += COLS) {
            int acc[ROWS][COLS];
            [[unroll]] for (uint i = 0; i < ROWS; ++i)
                [[unroll]] for (uint k = 0; k < COLS; ++k) acc[i][k] = 0;
            [[unroll]] for (uint j = 0; j < UT; ++j) {
                const uint u = lane + j * SG;
                if (u < CW4) {
                    [[unroll]] for (uint k = 0; k < COLS; ++k) {
                        const uint qb = ((set * T + min(t0 + k, T - 1)) * KW) / 4 + 4 * u;
                        const uvec4 q0 = q.v[qb], q1 = q.v[qb + 1], q2 = q.v[qb + 2], q3 = q.v[qb + 3];
                        [[unroll]] for (uint i = 0; i < ROWS; ++i)
                            acc[i][k] += dot_word(c[i][j].x, q0) + dot_word(c[i][j].y, q1) + dot_word(c[i][j].z, q2) + dot_word(c[i][j].w, q3);
                    }
                }
            }
            // Only when the device's subgroup is smaller than SGS (never on the devices we know).
            for (uint u = lane + UT * SG; u < CW4; u += SG)
                for (uint k = 0; k < COLS; ++k) {
                    const uint qb = ((set * T + min(t0 + k, T - 1)) * KW) / 4 + 4 * u;
                    for (uint i = 0; i < ROWS; ++i) {
                        const uvec4 cc = codes.v[min(r0 + i, r_end - 1) * CW4 + u];
                        acc[i][k] += dot_word(cc.x, q.v[qb]) + dot_word(cc.y, q.v[qb + 1]) + dot_word(cc.z, q.v[qb + 2]) + dot_word(cc.w, q.v[qb + 3]);
                    }
                }
            // The last column block: the next pass's weights go in flight during the reductions.
            if (t0 + COLS >= T && r0 + step < r_end) load_codes(codes, r0 + step, r_end, N);
            [[unroll]] for (uint k = 0; k < COLS; ++k) {
                const uint t = t0 + k;
                [[unroll]] for (uint i = 0; i < ROWS; ++i) {
                    const int a = subgroupAdd(acc[i][k]);
                    if (lane == 0 && t < T && r0 + i < r_end) {
                        const int v = a - qsum.v[set * T + t];
                        outp.v[t * ostride + set * N + r0 + i] = raw ? intBitsToFloat(v) : float(v) * (wscale / qscale.v[set * T + t]);
                    }
                }
            }
        }
    }
}

void main() {
    if (MODE == MODE_QIN && COLS > 1) {
        columns();
        return;
    }
    const uint flags = pc.p[P_FLAGS];
    const uint N = pc.p[P_N], RPW = pc.p[P_RPW], wgset = pc.p[P_WGSET];
    const uint set = gl_WorkGroupID.x / wgset, blk = gl_WorkGroupID.x % wgset;
    const uint t0 = gl_WorkGroupID.y;  // this workgroup's column (grouped decode; else 0)
    const uint r_begin = blk * RPW, r_end = min(N, r_begin + RPW);
    const uint lane = gl_SubgroupInvocationID, SG = gl_SubgroupSize;
    const uint step = gl_NumSubgroups * ROWS;
    U32x4 codes = U32x4(addr_of(pc.p[P_CODES]) + uint64_t(set * N) * CW4 * 16ul);
    uint r0 = r_begin + gl_SubgroupID * ROWS;

    // The first pass's weights do not depend on the activations: start streaming them now and
    // let the prologue run in their shadow.
    if (r0 < r_end) load_codes(codes, r0, r_end, N);
    if (MODE == MODE_QIN) {
        U32 qin = u32_at(P_Q);
        for (uint s = 0; s < NSETS; ++s)
            for (uint p = gl_LocalInvocationID.x; p < pc.p[P_KW]; p += WG) sq[s * QV4P + q_slot(p >> 2)][p & 3] = qin.v[s * pc.p[P_KW] + p];
        if (gl_LocalInvocationID.x < NSETS) {
            s_scale[gl_LocalInvocationID.x] = f32_at(P_QSCALE).v[gl_LocalInvocationID.x];
            s_qsum[gl_LocalInvocationID.x] = i32_at(P_QSUM).v[gl_LocalInvocationID.x];
        }
    } else {
        prologue(t0);
    }
    barrier();

    F32 outp = f32_at(P_OUT);
    const uint ostride = GROUP == 3 ? 3 * N : N;   // between columns' outputs
    float f[GROUP];
    [[unroll]] for (uint g = 0; g < GROUP; ++g) f[g] = f32_at(P_WSCALE).v[set_of(g * ROWS, set)] / s_scale[set_of(g * ROWS, set)];
    // i/f/g: column t0's state is that of the sequence in slot P_SLOTS[t0].
    const uint state_at = GROUP == 3 ? u32_at(P_SLOTS).v[t0] * pc.p[P_SSTRIDE] : 0;
    F32 state = f32_at(P_STATE);
    F32 lbound = f32_at(P_LB);
    const bool lb_on = (flags & F_LB) != 0;
    float best = -1.0 / 0.0;
    uint best_i = 0xffffffffu;

    for (; r0 < r_end; r0 += step) {
        // The recurrence's own loads, issued before the dot products so that they hide behind them.
        float h_old[ROWS], lb[ROWS];
        if (GROUP == 3)
            [[unroll]] for (uint i = 0; i < ROWS; ++i) {
                const uint ch = min(r0 + i, r_end - 1);
                h_old[i] = state.v[state_at + ch];
                lb[i] = lb_on ? lbound.v[ch] : 0.0;
            }
        int acc[RG];
        [[unroll]] for (uint k = 0; k < RG; ++k) acc[k] = 0;
        [[unroll]] for (uint j = 0; j < UT; ++j) {
            const uint u = lane + j * SG;
            if (u < CW4) {
                [[unroll]] for (uint g = 0; g < GROUP; ++g) {
                    const uint qu = set_of(g * ROWS, set) * QV4P + q_slot(4 * u);
                    const uvec4 q0 = sq[qu], q1 = sq[qu + 1], q2 = sq[qu + 2], q3 = sq[qu + 3];
                    [[unroll]] for (uint i = 0; i < ROWS; ++i) {
                        const uint k = g * ROWS + i;
                        acc[k] += dot_word(c[k][j].x, q0) + dot_word(c[k][j].y, q1) + dot_word(c[k][j].z, q2) + dot_word(c[k][j].w, q3);
                    }
                }
            }
        }
        // Only when the device's subgroup is smaller than SGS (never on the devices we know).
        for (uint u = lane + UT * SG; u < CW4; u += SG) {
            for (uint k = 0; k < RG; ++k) {
                const uvec4 cc = codes.v[(min(r0 + k % ROWS, r_end - 1) + (k / ROWS) * N) * CW4 + u];
                const uint qu = set_of(k, set) * QV4P + q_slot(4 * u);
                acc[k] += dot_word(cc.x, sq[qu]) + dot_word(cc.y, sq[qu + 1]) + dot_word(cc.z, sq[qu + 2]) + dot_word(cc.w, sq[qu + 3]);
            }
        }
        if (r0 + step < r_end) load_codes(codes, r0 + step, r_end, N);  // next pass, in flight during the reduction
        float y[RG];
        int a[RG];
        [[unroll]] for (uint k = 0; k < RG; ++k) {
            a[k] = subgroupAdd(acc[k]) - s_qsum[set_of(k, set)];
            y[k] = float(a[k]) * f[k / ROWS];
        }
        [[unroll]] for (uint i = 0; i < ROWS; ++i) {
            const uint r = r0 + i;
            if (r >= r_end) continue;
            if (GROUP == 3) {
                // The MLGRU step for channel r: the same expressions as the CPU reference.
                if (lane == 0) {
                    const float fg = lb[i] + (1.0 - lb[i]) * sigmoid(y[ROWS + i]);
                    state.v[state_at + r] = fg * h_old[i] + silu(y[i]) * (1.0 - fg);
                    outp.v[t0 * ostride + 2 * N + r] = y[2 * ROWS + i];
                }
            } else if (GROUP == 2) {
                if (lane == 0) outp.v[t0 * ostride + r] = silu(y[i]) * y[ROWS + i];  // SwiGLU
            } else {
                if (lane == 0) outp.v[t0 * ostride + set * N + r] = (flags & F_RAW) != 0 ? intBitsToFloat(a[i]) : y[i];
                if (y[i] > best) { best = y[i]; best_i = set * N + r; }  // rows ascend: the first maximum wins
            }
        }
    }

    if ((flags & F_ARGMAX) != 0) {
        // Subgroup-uniform values: lane 0 publishes, one thread picks the workgroup's best.
        if (subgroupElect()) { s_best[gl_SubgroupID] = best; s_best_i[gl_SubgroupID] = best_i; }
        barrier();
        if (gl_LocalInvocationID.x == 0) {
            float b = -1.0 / 0.0;
            uint bi = 0xffffffffu;
            for (uint i = 0; i < gl_NumSubgroups; ++i)
                if (s_best[i] > b || (s_best[i] == b && s_best_i[i] < bi)) { b = s_best[i]; bi = s_best_i[i]; }
            U32 part = u32_at(P_TOK);
            part.v[2 * gl_WorkGroupID.x] = floatBitsToUint(b);
            part.v[2 * gl_WorkGroupID.x + 1] = bi;
        }
    }
}
