// SPDX-License-Identifier: Apache-2.0
// Streaming read of a device-local buffer (IN0, P_N uvec4) for the roofline figure; the XOR of
// everything read goes to OUT so the loads cannot be dropped.
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;

void main() {
    U32x4 src = U32x4(addr_of(pc.p[P_IN0]));
    const uint n = pc.p[P_N], stride = gl_NumWorkGroups.x * 256;
    uvec4 x = uvec4(0);
    uint i = gl_GlobalInvocationID.x;
    for (; i + 3 * stride < n; i += 4 * stride)
        x ^= src.v[i] ^ src.v[i + stride] ^ src.v[i + 2 * stride] ^ src.v[i + 3 * stride];
    for (; i < n; i += stride) x ^= src.v[i];
    const uint r = x.x ^ x.y ^ x.z ^ x.w;
    if (r == 0x9e3779b9u) u32_at(P_OUT).v[0] = r;  // practically never true; the compiler cannot know
}
