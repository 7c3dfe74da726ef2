// SPDX-License-Identifier: Apache-2.0
// Prefill on the tensor cores (VK_NV_cooperative_matrix, int8 × int8 → int32, 16×8×32 per
// subgroup operation): the same tile and result as gemm.comp, Y[t, set·N + n] = (Σ_k q·w)·m / s.
// Per step of 64 weights the workgroup unpacks its 64 rows' codes to int8 weights w = c − 1 in
// shared memory (in the permuted order the activations have, see prologue.glsl, so the sum over k
// pairs the right elements) and stages the 64 tokens' activations; each of the 8 subgroups
// multiplies one 16-row band by 4 blocks of 8 tokens. The sum is Σ w·q directly (no Σq term).
#version 460
#extension GL_NV_cooperative_matrix : require
#extension GL_NV_integer_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int32 : require
#include "common.glsl"

layout(local_size_x = 256) in;

const uint BKW = 4;                              // code words (16 weights each) per step
shared uvec4 s_w[GEMM_BM * BKW];                 // [row][word]: 16 int8 weights each
shared uvec4 s_q[64 * BKW];                      // [token][word]: 16 int8 activations each
shared int s_acc[GEMM_BM * 64];                  // [row][token]

#define A_T icoopmatNV<8, gl_ScopeSubgroup, 16, 32>
#define B_T icoopmatNV<8, gl_ScopeSubgroup, 32, 8>
#define C_T icoopmatNV<32, gl_ScopeSubgroup, 16, 8>

void main() {
    const uint tid = gl_LocalInvocationID.x, sg = gl_SubgroupID;
    const uint N = pc.p[P_N], T = pc.p[P_T], KW = pc.p[P_KW], wgset = pc.p[P_WGSET];
    const uint set = gl_WorkGroupID.x / wgset, row0 = (gl_WorkGroupID.x % wgset) * GEMM_BM;
    const uint tok0 = gl_WorkGroupID.y * 64;
    const uint cw = KW / 4;                      // code words per row (a multiple of 8)
    // Buffer references are used in place, not held in variables: with the Vulkan memory model
    // (which the cooperative-matrix scopes need) this glslang leaves such variables undecorated.

    // Loader roles: thread → (row, word) of the codes and (token, word) of the activations.
    const uint lr = tid / BKW, lw = tid % BKW;
    const bool row_ok = row0 + lr < N, tok_ok = tok0 + lr < T;
    const uint code_base = (set * N + row0 + lr) * cw + lw;
    const uint q_base = ((set * T + tok0 + lr) * KW) / 4 + lw;

    // Subgroup sg: rows 16·(sg % 4) .. +16, tokens 32·(sg / 4) .. +32 in 4 blocks of 8.
    const uint band = sg % 4, tb = (sg / 4) * 4;
    C_T acc[4];
    [[unroll]] for (uint j = 0; j < 4; ++j) acc[j] = C_T(0);

    for (uint k = 0; k < cw; k += BKW) {
        const uint c = row_ok ? u32_at(P_CODES).v[code_base + k] : 0x55555555u;  // code 1 = weight 0
        const uint m = 0x03030303u;
        // Byte b of word s is weight 4b+s of the 16: code − 1 per byte, without borrows.
        s_w[lr * BKW + lw] = (uvec4(c, c >> 2, c >> 4, c >> 6) & m) + 0x7f7f7f7fu ^ 0x80808080u;
        s_q[lr * BKW + lw] = tok_ok ? U32x4(addr_of(pc.p[P_Q])).v[q_base + k] : uvec4(0);
        barrier();
        [[unroll]] for (uint h = 0; h < 2; ++h) {  // two 32-weight halves of the step
            A_T a;
            coopMatLoadNV(a, s_w, band * 16 * BKW + 2 * h, BKW, false);
            [[unroll]] for (uint j = 0; j < 4; ++j) {
                B_T b;
                coopMatLoadNV(b, s_q, (tb + j) * 8 * BKW + 2 * h, BKW, true);
                acc[j] = coopMatMulAddNV(a, b, acc[j]);
            }
        }
        barrier();
    }
    [[unroll]] for (uint j = 0; j < 4; ++j) coopMatStoreNV(acc[j], s_acc, band * 16 * 64 + (tb + j) * 8, 64, false);
    barrier();

    const uint flags = pc.p[P_FLAGS], ostride = pc.p[P_OUTSTRIDE];
    const float wscale = f32_at(P_WSCALE).v[set];
    for (uint e = tid; e < GEMM_BM * 64; e += 256) {
        const uint r = row0 + e % GEMM_BM, t = tok0 + e / GEMM_BM;
        if (r >= N || t >= T) continue;
        const int a = s_acc[(e % GEMM_BM) * 64 + e / GEMM_BM];
        f32_at(P_OUT).v[t * ostride + set * N + r] = (flags & F_RAW) != 0 ? intBitsToFloat(a) : float(a) * wscale / f32_at(P_QSCALE).v[set * T + t];
    }
}
