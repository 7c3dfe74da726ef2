// SPDX-License-Identifier: Apache-2.0
// Greedy decoding on the device: reduce (value, index) pairs to one token id, ties to the lower
// index as on the CPU. IN0: the lm_head workgroups' partials [P_N pairs], OUT: the token; or with
// F_ROWS, one workgroup per row y of logits [rows][P_N], OUT[y]: that row's token (batched decode).
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;
shared float s_v[256];
shared uint s_i[256];

void main() {
    const uint tid = gl_LocalInvocationID.x, n = pc.p[P_N], row = gl_WorkGroupID.y;
    const bool rows = (pc.p[P_FLAGS] & F_ROWS) != 0;
    U32 part = u32_at(P_IN0);
    F32 logits = F32(addr_of(pc.p[P_IN0]) + uint64_t(row) * n * 4ul);
    float b = -1.0 / 0.0;
    uint bi = 0xffffffffu;
    for (uint i = tid; i < n; i += 256) {
        const float v = rows ? logits.v[i] : uintBitsToFloat(part.v[2 * i]);
        const uint vi = rows ? i : part.v[2 * i + 1];
        if (v > b || (v == b && vi < bi)) { b = v; bi = vi; }
    }
    s_v[tid] = b;
    s_i[tid] = bi;
    barrier();
    for (uint w = 128; w > 0; w /= 2) {
        if (tid < w) {
            const float v = s_v[tid + w];
            const uint vi = s_i[tid + w];
            if (v > s_v[tid] || (v == s_v[tid] && vi < s_i[tid])) { s_v[tid] = v; s_i[tid] = vi; }
        }
        barrier();
    }
    if (tid == 0) u32_at(P_OUT).v[row] = s_i[0] == 0xffffffffu ? 0u : s_i[0];
}
