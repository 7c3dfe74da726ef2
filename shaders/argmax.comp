// SPDX-License-Identifier: Apache-2.0
// Greedy decoding on the device: reduce the lm_head workgroups' (value, index) partials to one
// token id. IN0: partials [P_N pairs]; OUT: the token. Ties go to the lower index, as on the CPU.
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;
shared float s_v[256];
shared uint s_i[256];

void main() {
    const uint tid = gl_LocalInvocationID.x, n = pc.p[P_N];
    U32 part = u32_at(P_IN0);
    float b = -1.0 / 0.0;
    uint bi = 0xffffffffu;
    for (uint i = tid; i < n; i += 256) {
        const float v = uintBitsToFloat(part.v[2 * i]);
        const uint vi = part.v[2 * i + 1];
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
    if (tid == 0) u32_at(P_OUT).v[0] = s_i[0] == 0xffffffffu ? 0u : s_i[0];
}
