// SPDX-License-Identifier: Apache-2.0
// SPIR-V compiled from shaders/ at build time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mmfree::vk {

struct Spirv {
    const uint32_t* code = nullptr;
    size_t bytes = 0;
};

// name: gemv, gemm, prep, scan, argmax, bandwidth, chain; dot: the OpSDot variant (gemv and gemm only).
Spirv shader_spirv(const std::string& name, bool dot);

} // namespace mmfree::vk
