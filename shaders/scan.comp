// SPDX-License-Identifier: Apache-2.0
// Prefill: the MLGRU recurrence over a chunk, one thread per channel, tokens in order.
// IN1: the i/f/g projections [T][3D] (ai at 0, af at D); IN2: the layer's state h [D], updated;
// XOUT: h after each token [T][D]; TOK: lower bounds [D] when F_LB.
// The projections are loaded STEPS tokens at a time before any store: the compiler may not move
// a load above a store through another buffer reference (they could alias), so one load pair per
// token would cost a full memory round trip per token.
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;
const uint STEPS = 16;

void main() {
    const uint k = gl_GlobalInvocationID.x, D = pc.p[P_K], T = pc.p[P_T];
    if (k >= D) return;
    F32 proj = f32_at(P_IN1), state = f32_at(P_IN2), hseq = f32_at(P_XOUT);
    const float lb = (pc.p[P_FLAGS] & F_LB) != 0 ? f32_at(P_TOK).v[k] : 0.0;
    float h = state.v[k];
    for (uint t0 = 0; t0 < T; t0 += STEPS) {
        float ai[STEPS], af[STEPS];
        [[unroll]] for (uint s = 0; s < STEPS; ++s) {
            const uint t = min(t0 + s, T - 1);  // past the end: loaded, not used
            ai[s] = proj.v[t * 3 * D + k];
            af[s] = proj.v[t * 3 * D + D + k];
        }
        [[unroll]] for (uint s = 0; s < STEPS; ++s) {
            if (t0 + s < T) {
                const float f = lb + (1.0 - lb) * sigmoid(af[s]);
                h = f * h + silu(ai[s]) * (1.0 - f);
                hseq.v[(t0 + s) * D + k] = h;
            }
        }
    }
    state.v[k] = h;
}
