// SPDX-License-Identifier: Apache-2.0
// The MLGRU recurrence, one thread per channel. IN1: the i/f/g projections [T][3D] (ai at 0, af
// at D); IN2: layer l's state in slot 0, row t's sequence's state P_SLOTS[t]·P_SSTRIDE floats
// further, updated; XOUT: h after each row [T][D]; TOK: lower bounds [D] when F_LB.
// Prefill: the rows are scanned in order, row t on slot P_SLOTS[t]: one sequence's tokens, or the
// pieces of several prompts one after another (a thread keeps h while the slot stays and swaps
// it at the boundary). Batched decode (F_STEP): every row is another sequence advancing one
// token; rows run in parallel (gl_WorkGroupID.y), slots are distinct so no two rows touch the
// same state.
// The projections are loaded STEPS tokens at a time before any store: the compiler may not move
// a load above a store through another buffer reference (they could alias), so one load pair per
// token would cost a full memory round trip per token.
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;
const uint STEPS = 16;

float mlgru(float h, float ai, float af, float lb) {
    const float f = lb + (1.0 - lb) * sigmoid(af);
    return f * h + silu(ai) * (1.0 - f);
}

void main() {
    const uint k = gl_GlobalInvocationID.x, D = pc.p[P_K], T = pc.p[P_T];
    if (k >= D) return;
    const bool step = (pc.p[P_FLAGS] & F_STEP) != 0;
    const uint row = step ? gl_WorkGroupID.y : 0;
    F32 proj = f32_at(P_IN1), hseq = f32_at(P_XOUT);
    U32 slots = u32_at(P_SLOTS);
    uint slot = slots.v[row];
    F32 state = F32(addr_of(pc.p[P_IN2]) + uint64_t(slot) * pc.p[P_SSTRIDE] * 4ul);
    const float lb = (pc.p[P_FLAGS] & F_LB) != 0 ? f32_at(P_TOK).v[k] : 0.0;
    if (step) {
        const float h = mlgru(state.v[k], proj.v[row * 3 * D + k], proj.v[row * 3 * D + D + k], lb);
        hseq.v[row * D + k] = h;
        state.v[k] = h;
        return;
    }
    float h = state.v[k];
    for (uint t0 = 0; t0 < T; t0 += STEPS) {
        float ai[STEPS], af[STEPS];
        uint sid[STEPS];
        [[unroll]] for (uint s = 0; s < STEPS; ++s) {
            const uint t = min(t0 + s, T - 1);  // past the end: loaded, not used
            ai[s] = proj.v[t * 3 * D + k];
            af[s] = proj.v[t * 3 * D + D + k];
            sid[s] = slots.v[t];
        }
        [[unroll]] for (uint s = 0; s < STEPS; ++s) {
            if (t0 + s < T) {
                if (sid[s] != slot) {   // the next prompt's piece
                    state.v[k] = h;
                    slot = sid[s];
                    state = F32(addr_of(pc.p[P_IN2]) + uint64_t(slot) * pc.p[P_SSTRIDE] * 4ul);
                    h = state.v[k];
                }
                h = mlgru(h, ai[s], af[s], lb);
                hseq.v[(t0 + s) * D + k] = h;
            }
        }
    }
    state.v[k] = h;
}
