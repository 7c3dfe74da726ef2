// SPDX-License-Identifier: Apache-2.0
// Prefill: one workgroup per token row writes that row's int8 activations to memory for the GEMM.
#version 460
#include "common.glsl"

const bool PREP = true;
const uint SG_LEAST = 1;
#include "prologue.glsl"

void emit_q(uint s, uint p, uint word) { u32_at(P_Q).v[(s * pc.p[P_T] + gl_WorkGroupID.x) * pc.p[P_KW] + p] = word; }
void emit_scale(uint s, float scale, int qsum) {
    f32_at(P_QSCALE).v[s * pc.p[P_T] + gl_WorkGroupID.x] = scale;
    i32_at(P_QSUM).v[s * pc.p[P_T] + gl_WorkGroupID.x] = qsum;
}

void main() { prologue(gl_WorkGroupID.x); }
