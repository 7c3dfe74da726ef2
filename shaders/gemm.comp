// SPDX-License-Identifier: Apache-2.0
// Prefill: Y[t, set·N + n] = (Σ_k q[set,t,k]·T[n,k]) · m / s[set,t] for a chunk of tokens.
// A 256-thread workgroup computes a 64-row × 64-token tile; each thread a 4×4 block. The tile
// loop stages 128 weights per row (8 code words) and the matching int8 activations in shared
// memory, so each code word is unpacked once and used for 4 tokens, each q word for 4 rows.
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;

const uint BKW = 8;                  // code words per step (128 weights)
shared uint s_codes[GEMM_BM][BKW + 1];
shared uvec4 s_q[GEMM_BN][BKW + 1];   // +1: tokens 16 apart fall in different banks

void main() {
    const uint tid = gl_LocalInvocationID.x, tx = tid % 16, ty = tid / 16;
    const uint N = pc.p[P_N], T = pc.p[P_T], KW = pc.p[P_KW], wgset = pc.p[P_WGSET];
    const uint set = gl_WorkGroupID.x / wgset, row0 = (gl_WorkGroupID.x % wgset) * GEMM_BM;
    const uint tok0 = gl_WorkGroupID.y * GEMM_BN;
    const uint cw = KW / 4;          // code words per row
    U32x2 codes = U32x2(addr_of(pc.p[P_CODES]));
    U32x4 q = U32x4(addr_of(pc.p[P_Q]));

    int acc[4][4];
    for (uint i = 0; i < 4; ++i)
        for (uint j = 0; j < 4; ++j) acc[i][j] = 0;

    // Loader roles: 64 rows × 4 uvec2 of codes; 64 tokens × 8 uvec4 of q (two per thread). The
    // next step's tiles are loaded into registers while this step computes (double buffering).
    const uint lr = tid / 4, lc = (tid % 4) * 2;
    const bool row_ok = row0 + lr < N;
    const uint code_base = (set * N + row0 + lr) * cw;
    const uint tk0 = tid / BKW, w0 = tid % BKW, tk1 = (tid + 256) / BKW;
    const bool tok0_ok = tok0 + tk0 < T, tok1_ok = tok0 + tk1 < T;
    const uint q0_base = ((set * T + tok0 + tk0) * KW) / 4 + w0, q1_base = ((set * T + tok0 + tk1) * KW) / 4 + w0;
    uvec2 nc = row_ok ? codes.v[code_base / 2 + lc / 2] : uvec2(0);
    uvec4 nq0 = tok0_ok ? q.v[q0_base] : uvec4(0), nq1 = tok1_ok ? q.v[q1_base] : uvec4(0);
    for (uint k = 0; k < cw; k += BKW) {
        s_codes[lr][lc] = nc.x;
        s_codes[lr][lc + 1] = nc.y;
        s_q[tk0][w0] = nq0;
        s_q[tk1][w0] = nq1;
        barrier();
        const uint kn = k + BKW;
        if (kn < cw) {
            nc = row_ok ? codes.v[(code_base + kn) / 2 + lc / 2] : uvec2(0);
            nq0 = tok0_ok ? q.v[q0_base + kn] : uvec4(0);
            nq1 = tok1_ok ? q.v[q1_base + kn] : uvec4(0);
        }
        [[unroll]] for (uint w = 0; w < BKW; ++w) {
            uvec4 qv[4];
            [[unroll]] for (uint j = 0; j < 4; ++j) qv[j] = s_q[ty + 16 * j][w];
            [[unroll]] for (uint i = 0; i < 4; ++i) {
                const uint c = s_codes[tx + 16 * i][w];
                const uint m = 0x03030303u;
                const uint c0 = c & m, c1 = (c >> 2) & m, c2 = (c >> 4) & m, c3 = (c >> 6) & m;
                [[unroll]] for (uint j = 0; j < 4; ++j)
                    acc[i][j] += dot4(c0, qv[j].x) + dot4(c1, qv[j].y) + dot4(c2, qv[j].z) + dot4(c3, qv[j].w);
            }
        }
        barrier();
    }

    const uint flags = pc.p[P_FLAGS], ostride = pc.p[P_OUTSTRIDE];
    const float wscale = f32_at(P_WSCALE).v[set];
    F32 outp = f32_at(P_OUT);
    for (uint j = 0; j < 4; ++j) {
        const uint t = tok0 + ty + 16 * j;
        if (t >= T) continue;
        const float f = wscale / f32_at(P_QSCALE).v[set * T + t];
        const int qsum = i32_at(P_QSUM).v[set * T + t];
        for (uint i = 0; i < 4; ++i) {
            const uint r = row0 + tx + 16 * i;
            if (r >= N) continue;
            const int a = acc[i][j] - qsum;
            outp.v[t * ostride + set * N + r] = (flags & F_RAW) != 0 ? intBitsToFloat(a) : float(a) * f;
        }
    }
}
