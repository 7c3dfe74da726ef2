// SPDX-License-Identifier: Apache-2.0
#include "vulkan/vk_shaders.h"

namespace mmfree::vk {
namespace {
// Each .inc is glslc's "-mfmt=c" output: a braced list of 32-bit words.
const uint32_t gemv_dot[] =
#include "gemv_dot.inc"
    ;
const uint32_t gemv_portable[] =
#include "gemv_portable.inc"
    ;
const uint32_t gemm_dot[] =
#include "gemm_dot.inc"
    ;
const uint32_t gemm_portable[] =
#include "gemm_portable.inc"
    ;
const uint32_t gemm_cm_portable[] =
#include "gemm_cm_portable.inc"
    ;
const uint32_t prep_portable[] =
#include "prep_portable.inc"
    ;
const uint32_t scan_portable[] =
#include "scan_portable.inc"
    ;
const uint32_t argmax_portable[] =
#include "argmax_portable.inc"
    ;
const uint32_t sample_portable[] =
#include "sample_portable.inc"
    ;
const uint32_t bandwidth_portable[] =
#include "bandwidth_portable.inc"
    ;
const uint32_t chain_portable[] =
#include "chain_portable.inc"
    ;
template <size_t N> Spirv of(const uint32_t (&a)[N]) { return {a, sizeof a}; }
} // namespace

Spirv shader_spirv(const std::string& name, bool dot) {
    if (name == "gemv") return dot ? of(gemv_dot) : of(gemv_portable);
    if (name == "gemm") return dot ? of(gemm_dot) : of(gemm_portable);
    if (name == "gemm_cm") return of(gemm_cm_portable);
    if (name == "prep") return of(prep_portable);
    if (name == "scan") return of(scan_portable);
    if (name == "argmax") return of(argmax_portable);
    if (name == "sample") return of(sample_portable);
    if (name == "bandwidth") return of(bandwidth_portable);
    if (name == "chain") return of(chain_portable);
    return {};
}

} // namespace mmfree::vk
