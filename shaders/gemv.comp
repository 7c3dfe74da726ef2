// SPDX-License-Identifier: Apache-2.0
// Decode: one BitLinear (or the three that share an input) as a single dispatch. Every
// workgroup first runs the prologue for the one token itself (a few µs of redundant work that
// saves a dispatch and a barrier per BitLinear), keeps the int8 activations in shared memory,
// then streams its block of weight rows: each subgroup takes ROWS rows at once, lanes stride over
// 64-weight chunks (one uvec4 of codes), accumulate in int32 and reduce with subgroupAdd.
#version 460
#include "common.glsl"

const bool PREP = false;
#include "prologue.glsl"

layout(constant_id = 5) const uint ROWS = 4;
layout(constant_id = 6) const uint QV4 = 4;   // uvec4 of q per set: KW/4
layout(constant_id = 7) const uint SGS = 32;  // the device's subgroup size, so the row loop unrolls
const uint CW4 = QV4 / 4;                     // uvec4 of codes per row
const uint UT = (CW4 + SGS - 1) / SGS;        // code chunks per lane and row
// q in shared memory: lane u reads chunk u's 4 uvec4, 64 bytes apart across lanes, so every
// second chunk is shifted by one uvec4 (index w + w/8) to spread 8 lanes over all 32 banks.
const uint QV4P = QV4 + QV4 / 8 + 1;          // padded uvec4 per set
uint q_slot(uint w) { return w + (w >> 3); }

shared uvec4 sq[NSETS * QV4P];
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

uvec4 c[ROWS][UT];

// Issues a pass's weight loads (rows clamped, results ignored past the end): all independent.
void load_codes(U32x4 codes, uint row0, uint r_end) {
    const uint lane = gl_SubgroupInvocationID;
    [[unroll]] for (uint i = 0; i < ROWS; ++i) {
        const uint r = min(row0 + i, r_end - 1);
        [[unroll]] for (uint j = 0; j < UT; ++j) c[i][j] = codes.v[r * CW4 + min(lane + j * gl_SubgroupSize, CW4 - 1)];
    }
}

void main() {
    const uint flags = pc.p[P_FLAGS];
    const uint N = pc.p[P_N], RPW = pc.p[P_RPW], wgset = pc.p[P_WGSET];
    const uint set = gl_WorkGroupID.x / wgset, blk = gl_WorkGroupID.x % wgset;
    const uint r_begin = blk * RPW, r_end = min(N, r_begin + RPW);
    const uint lane = gl_SubgroupInvocationID, SG = gl_SubgroupSize;
    const uint step = gl_NumSubgroups * ROWS;
    U32x4 codes = U32x4(addr_of(pc.p[P_CODES]) + uint64_t(set * N) * CW4 * 16ul);
    uint r0 = r_begin + gl_SubgroupID * ROWS;

    // The first pass's weights do not depend on the activations: start streaming them now and
    // let the prologue run in their shadow.
    if (r0 < r_end) load_codes(codes, r0, r_end);
    if ((flags & F_COPY_H) != 0 && gl_WorkGroupID.x == 0)
        for (uint e = gl_LocalInvocationID.x; e < pc.p[P_EMB]; e += WG) f32_at(P_XOUT).v[e] = f32_at(P_IN2).v[e];
    if (MODE == MODE_QIN) {
        U32 qin = u32_at(P_Q);
        for (uint s = 0; s < NSETS; ++s)
            for (uint p = gl_LocalInvocationID.x; p < pc.p[P_KW]; p += WG) sq[s * QV4P + q_slot(p >> 2)][p & 3] = qin.v[s * pc.p[P_KW] + p];
        if (gl_LocalInvocationID.x < NSETS) {
            s_scale[gl_LocalInvocationID.x] = f32_at(P_QSCALE).v[gl_LocalInvocationID.x];
            s_qsum[gl_LocalInvocationID.x] = i32_at(P_QSUM).v[gl_LocalInvocationID.x];
        }
    } else {
        prologue(0);
    }
    barrier();

    F32 outp = f32_at(P_OUT);
    const float f = f32_at(P_WSCALE).v[set] / s_scale[set];
    const int qsum = s_qsum[set];
    const uint qb = set * QV4P;
    float best = -1.0 / 0.0;
    uint best_i = 0xffffffffu;

    for (; r0 < r_end; r0 += step) {
        int acc[ROWS];
        [[unroll]] for (uint i = 0; i < ROWS; ++i) acc[i] = 0;
        [[unroll]] for (uint j = 0; j < UT; ++j) {
            const uint u = lane + j * SG;
            if (u < CW4) {
                const uint qu = qb + q_slot(4 * u);
                const uvec4 q0 = sq[qu], q1 = sq[qu + 1], q2 = sq[qu + 2], q3 = sq[qu + 3];
                [[unroll]] for (uint i = 0; i < ROWS; ++i)
                    acc[i] += dot_word(c[i][j].x, q0) + dot_word(c[i][j].y, q1) + dot_word(c[i][j].z, q2) + dot_word(c[i][j].w, q3);
            }
        }
        // Only when the device's subgroup is smaller than SGS (never on the devices we know).
        for (uint u = lane + UT * SG; u < CW4; u += SG) {
            const uint qu = qb + q_slot(4 * u);
            const uvec4 q0 = sq[qu], q1 = sq[qu + 1], q2 = sq[qu + 2], q3 = sq[qu + 3];
            for (uint i = 0; i < ROWS; ++i) {
                const uvec4 cc = codes.v[min(r0 + i, r_end - 1) * CW4 + u];
                acc[i] += dot_word(cc.x, q0) + dot_word(cc.y, q1) + dot_word(cc.z, q2) + dot_word(cc.w, q3);
            }
        }
        if (r0 + step < r_end) load_codes(codes, r0 + step, r_end);  // next pass, in flight during the reduction
        [[unroll]] for (uint i = 0; i < ROWS; ++i) {
            const int a = subgroupAdd(acc[i]) - qsum;
            const uint r = r0 + i;
            if (r < r_end) {
                const float y = float(a) * f;
                if (lane == 0) outp.v[set * N + r] = (flags & F_RAW) != 0 ? intBitsToFloat(a) : y;
                if (y > best) { best = y; best_i = set * N + r; }  // rows ascend: the first maximum wins
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
