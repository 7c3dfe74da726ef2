// SPDX-License-Identifier: Apache-2.0
// Prefill on the tensor cores (VK_NV_cooperative_matrix, int8 × int8 → int32, 16×8×32 per
// subgroup operation): Y[t, set·N + n] = (Σ_k q·w)·m / s, the same result as gemm.comp.
// A workgroup computes TILE_ROWS rows (64 or 128, a specialization constant: 64 where a matrix
// has too few rows to fill the GPU otherwise) × 64 tokens. Per step of 64 weights it unpacks
// its rows' codes to int8 weights w = c − 1 in shared memory (in the permuted order the
// activations have, see prologue.glsl, so the sum pairs the right elements and needs no Σq term)
// next to the tokens' activations. The steps are double-buffered: the next step's global loads
// are in flight while the tensor cores work on this one, and one barrier per step suffices.
// Each of the 8 subgroups multiplies a band of TILE_ROWS/4 rows by 32 tokens (4 blocks of 8).
#version 460
#extension GL_NV_cooperative_matrix : require
#extension GL_NV_integer_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int32 : require
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const uint TILE_ROWS = 128;

const uint TOKENS = 64;
const uint STEP_WORDS = 4;                        // code words (16 weights each) per step
const uint STRIDE = STEP_WORDS + 1;               // uvec4 per row in shared memory: +1 spreads rows over banks
const uint ROW_FRAGS = TILE_ROWS / 64;            // 16-row fragments per subgroup band = code words per thread
const uint A_SIZE = TILE_ROWS * STRIDE, BUF_SIZE = A_SIZE + TOKENS * STRIDE;
// Two buffers of [weights | activations] (the limit is 48 KiB on the H200); afterwards the int32 results.
const uint RESULT_SIZE = TILE_ROWS * TOKENS / 4;
shared uvec4 s_mem[2 * BUF_SIZE > RESULT_SIZE ? 2 * BUF_SIZE : RESULT_SIZE];

#define A_T icoopmatNV<8, gl_ScopeSubgroup, 16, 32>
#define B_T icoopmatNV<8, gl_ScopeSubgroup, 32, 8>
#define C_T icoopmatNV<32, gl_ScopeSubgroup, 16, 8>

void main() {
    const uint tid = gl_LocalInvocationID.x, sg = gl_SubgroupID;
    const uint N = pc.p[P_N], T = pc.p[P_T], KW = pc.p[P_KW], wgset = pc.p[P_WGSET];
    const uint set = gl_WorkGroupID.x / wgset, row0 = (gl_WorkGroupID.x % wgset) * TILE_ROWS;
    const uint tok0 = gl_WorkGroupID.y * TOKENS;
    const uint cw = KW / 4;                       // code words per row (a multiple of STEP_WORDS)
    // Buffer references are used in place, not held in variables: with the Vulkan memory model
    // (which the cooperative-matrix scopes need) this glslang leaves such variables undecorated.

    // Loader roles: thread → (row, word) of the codes, ROW_FRAGS of them, and (token, word) of the
    // activations; ~0u marks a row or token past the end.
    uint a_dst[ROW_FRAGS], a_src[ROW_FRAGS];
    [[unroll]] for (uint j = 0; j < ROW_FRAGS; ++j) {
        const uint e = tid + 256 * j, row = e / STEP_WORDS, word = e % STEP_WORDS;
        a_dst[j] = row * STRIDE + word;
        a_src[j] = row0 + row < N ? (set * N + row0 + row) * cw + word : ~0u;
    }
    const uint b_tok = tid / STEP_WORDS, b_word = tid % STEP_WORDS;
    const uint b_dst = A_SIZE + b_tok * STRIDE + b_word;
    const uint b_src = tok0 + b_tok < T ? ((set * T + tok0 + b_tok) * KW) / 4 + b_word : ~0u;
    uint a_reg[ROW_FRAGS];
    uvec4 b_reg;

    // Step k's words into registers (code 1 = weight 0 past the last row, q = 0 past the last token).
    #define LOAD_STEP(k)                                                                                  \
        [[unroll]] for (uint j = 0; j < ROW_FRAGS; ++j)                                                   \
            a_reg[j] = a_src[j] != ~0u ? u32_at(P_CODES).v[a_src[j] + (k)] : 0x55555555u;                \
        b_reg = b_src != ~0u ? U32x4(addr_of(pc.p[P_Q])).v[b_src + (k)] : uvec4(0);
    // Registers → buffer `buf`. Byte b of word s is weight 4b+s of the 16: code − 1 per byte, without borrows.
    #define STORE_STEP(buf)                                                                               \
        [[unroll]] for (uint j = 0; j < ROW_FRAGS; ++j) {                                                 \
            const uint c = a_reg[j];                                                                      \
            s_mem[(buf) * BUF_SIZE + a_dst[j]] = (uvec4(c, c >> 2, c >> 4, c >> 6) & 0x03030303u) + 0x7f7f7f7fu ^ 0x80808080u; \
        }                                                                                                 \
        s_mem[(buf) * BUF_SIZE + b_dst] = b_reg;

    // Subgroup sg: rows band·TILE_ROWS/4 .. +TILE_ROWS/4, tokens 32·tok_half .. +32 in 4 blocks of 8.
    const uint band = sg % 4, tok_half = sg / 4;
    C_T acc[ROW_FRAGS][4];
    [[unroll]] for (uint i = 0; i < ROW_FRAGS; ++i)
        [[unroll]] for (uint j = 0; j < 4; ++j) acc[i][j] = C_T(0);

    LOAD_STEP(0)
    STORE_STEP(0)
    barrier();
    for (uint k = 0; k < cw; k += STEP_WORDS) {
        const uint buf = (k / STEP_WORDS) & 1u, next = k + STEP_WORDS;
        if (next < cw) { LOAD_STEP(next) }
        const uint a0 = buf * BUF_SIZE, b0 = a0 + A_SIZE;
        [[unroll]] for (uint h = 0; h < STEP_WORDS; h += 2) {  // 32 weights (two words) per product
            B_T b[4];
            [[unroll]] for (uint j = 0; j < 4; ++j) coopMatLoadNV(b[j], s_mem, b0 + (32 * tok_half + 8 * j) * STRIDE + h, STRIDE, true);
            [[unroll]] for (uint i = 0; i < ROW_FRAGS; ++i) {
                A_T a;
                coopMatLoadNV(a, s_mem, a0 + (band * ROW_FRAGS + i) * 16 * STRIDE + h, STRIDE, false);
                [[unroll]] for (uint j = 0; j < 4; ++j) acc[i][j] = coopMatMulAddNV(a, b[j], acc[i][j]);
            }
        }
        if (next < cw) { STORE_STEP(buf ^ 1u) }
        barrier();
    }

    // Results [token][row] (column-major: a thread's neighbours read neighbouring rows).
    [[unroll]] for (uint i = 0; i < ROW_FRAGS; ++i)
        [[unroll]] for (uint j = 0; j < 4; ++j)
            coopMatStoreNV(acc[i][j], s_mem, ((32 * tok_half + 8 * j) * TILE_ROWS + (band * ROW_FRAGS + i) * 16) / 4, TILE_ROWS / 4, true);
    barrier();

    const uint flags = pc.p[P_FLAGS], ostride = pc.p[P_OUTSTRIDE];
    const float wscale = f32_at(P_WSCALE).v[set];
    // Σ · (m / s), the expression of gemm.comp and gemv.comp: a row's output is the same bits
    // whichever kernel and batch computed it.
    for (uint e = tid; e < TILE_ROWS * TOKENS; e += 256) {
        const uint r = row0 + e % TILE_ROWS, t = tok0 + e / TILE_ROWS;
        if (r >= N || t >= T) continue;
        const int a = int(s_mem[e / 4][e % 4]);
        f32_at(P_OUT).v[t * ostride + set * N + r] = (flags & F_RAW) != 0 ? intBitsToFloat(a) : float(a) * (wscale / f32_at(P_QSCALE).v[set * T + t]);
    }
}
