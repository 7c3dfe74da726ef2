// SPDX-License-Identifier: Apache-2.0
// Prefill: the MLGRU recurrence over a chunk, one thread per channel, tokens in order.
// IN1: the i/f/g projections [T][3D] (ai at 0, af at D); IN2: the layer's state h [D], updated;
// XOUT: h after each token [T][D]; TOK: lower bounds [D] when F_LB.
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;

void main() {
    const uint k = gl_GlobalInvocationID.x, D = pc.p[P_K], T = pc.p[P_T];
    if (k >= D) return;
    F32 proj = f32_at(P_IN1), state = f32_at(P_IN2), hseq = f32_at(P_XOUT);
    const float lb = (pc.p[P_FLAGS] & F_LB) != 0 ? f32_at(P_TOK).v[k] : 0.0;
    float h = state.v[k];
    for (uint t = 0; t < T; ++t) {
        float f = sigmoid(proj.v[t * 3 * D + D + k]);
        f = lb + (1.0 - lb) * f;
        const float i = silu(proj.v[t * 3 * D + k]) * (1.0 - f);
        h = f * h + i;
        hseq.v[t * D + k] = h;
    }
    state.v[k] = h;
}
