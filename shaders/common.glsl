// SPDX-License-Identifier: Apache-2.0
// Declarations every kernel shares: the push-constant block, typed buffer references and the
// int8×ternary dot product (OpSDot when the device has it, shifts and multiplies otherwise).
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "layout.h"

layout(push_constant) uniform Push {
    uint64_t base[4];
    uint p[24];
} pc;

layout(buffer_reference, std430, buffer_reference_align = 4) buffer F32 { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer U32 { uint v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer I32 { int v[]; };
layout(buffer_reference, std430, buffer_reference_align = 8) buffer U32x2 { uvec2 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer U32x4 { uvec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer F32x4 { vec4 v[]; };

uint64_t addr_of(uint ref) { return pc.base[ref >> 30] + uint64_t(ref & 0x3fffffffu) * 4ul; }
F32 f32_at(uint slot) { return F32(addr_of(pc.p[slot])); }
U32 u32_at(uint slot) { return U32(addr_of(pc.p[slot])); }
I32 i32_at(uint slot) { return I32(addr_of(pc.p[slot])); }

// Codes are unsigned (0..2 = w+1), activations signed int8, four per 32-bit word.
#if USE_DOT
#extension GL_EXT_spirv_intrinsics : require
// OpSDot (SPV_KHR_integer_dot_product) on 4×8-bit packed vectors; glslang 11 lacks
// GL_EXT_integer_dot_product, so the instruction is declared directly.
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int sdot_4x8_packed(uint a, uint b, spirv_literal int packed_format);
int dot4(uint codes, uint q) { return sdot_4x8_packed(codes, q, 0); }
#else
int dot4(uint codes, uint q) {
    const int qi = int(q);
    return int(codes & 3u) * bitfieldExtract(qi, 0, 8) + int((codes >> 8) & 3u) * bitfieldExtract(qi, 8, 8) +
           int((codes >> 16) & 3u) * bitfieldExtract(qi, 16, 8) + int(codes >> 24) * bitfieldExtract(qi, 24, 8);
}
#endif

// One code word holds 16 weights; with the activations permuted per 16 (see prologue.glsl),
// shift s selects weights 4b+s of each byte b and pairs with the s-th q word.
int dot_word(uint c, uvec4 q) {
    const uint m = 0x03030303u;
    return dot4(c & m, q.x) + dot4((c >> 2) & m, q.y) + dot4((c >> 4) & m, q.z) + dot4((c >> 6) & m, q.w);
}

float silu(float z) { return z / (1.0 + exp(-z)); }
float sigmoid(float z) { return 1.0 / (1.0 + exp(-z)); }
vec4 silu(vec4 z) { return z / (1.0 + exp(-z)); }
vec4 sigmoid(vec4 z) { return 1.0 / (1.0 + exp(-z)); }
