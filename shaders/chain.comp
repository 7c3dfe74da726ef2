// SPDX-License-Identifier: Apache-2.0
// One step of the synchronization-floor probe (engine/src/runtime/step_chain.h): every workgroup
// reads the whole vector IN0 (P_N floats, a multiple of 4) that the previous dispatch wrote, sums
// it, and writes its slice of OUT = in/2 + mean(in)/2 + 1. F_FIRST: the input is the chain's
// initial vector, computed rather than read. The workgroup size is the decode's for this length.
#version 460
#include "common.glsl"

layout(local_size_x_id = 0) in;
const uint WG = gl_WorkGroupSize.x;
shared float s_part[64];

float initial(uint i) { return float(i % 7u); }

void main() {
    const uint n = pc.p[P_N], n4 = n / 4, tid = gl_LocalInvocationID.x;
    const bool first = (pc.p[P_FLAGS] & F_FIRST) != 0;
    F32x4 src = F32x4(addr_of(pc.p[P_IN0]));
    vec4 acc = vec4(0);
    uint i = tid;
    if (first) {
        for (; i < n; i += WG) acc.x += initial(i);
    } else {
        // Four independent loads per round, like the decode prologue's loads.
        for (; i + 3 * WG < n4; i += 4 * WG) acc += src.v[i] + src.v[i + WG] + src.v[i + 2 * WG] + src.v[i + 3 * WG];
        for (; i < n4; i += WG) acc += src.v[i];
    }
    const float s = subgroupAdd(acc.x + acc.y + acc.z + acc.w);
    if (subgroupElect()) s_part[gl_SubgroupID] = s;
    barrier();
    float total = 0;
    for (uint k = 0; k < gl_NumSubgroups; ++k) total += s_part[k];
    const float mean = total / float(n);

    const uint per = (n + gl_NumWorkGroups.x - 1) / gl_NumWorkGroups.x;
    const uint b = gl_WorkGroupID.x * per, e = min(n, b + per);
    F32 in1 = f32_at(P_IN0), dst = f32_at(P_OUT);
    for (uint j = b + tid; j < e; j += WG) dst.v[j] = 0.5 * (first ? initial(j) : in1.v[j]) + 0.5 * mean + 1.0;
}
