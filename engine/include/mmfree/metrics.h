// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstdint>
#include <vector>

namespace mmfree {

// Time spent per stage of the last forward pass, in microseconds. GPU backends fill it from
// timestamp queries, the CPU from its own clocks. `valid` is false when a backend does not measure.
struct StageTimes {
    double norm_quant_us = 0;  // RMSNorm + activation quantization
    double bitlinear_us = 0;   // ternary projections (i/f/g/o, gate/down)
    double mlgru_us = 0;       // recurrence, gates, gated norm, SwiGLU, residuals
    double lm_head_us = 0;     // final norm + lm_head (+ argmax)
    bool valid = false;
    // The backend runs norm/quantization and the MLGRU inside its BitLinear kernels (Vulkan's fused
    // decode): their time is part of bitlinear_us and the other two read 0.
    bool fused = false;

    double total_us() const { return norm_quant_us + bitlinear_us + mlgru_us + lm_head_us; }
};

// Device-local memory as the driver accounts it (Vulkan: VK_EXT_memory_budget). `available` is
// false where the backend or the device cannot tell.
struct DeviceMemoryBudget {
    bool available = false;
    uint64_t used_bytes = 0;    // this process's usage of the device-local heaps
    uint64_t budget_bytes = 0;  // how much it may use now before allocations fail or evict
};

// One generated token.
struct TokenMetrics {
    int index = 0;              // 0 = first generated token
    double latency_ms = 0;      // wall time of this token (decode step + sampling)
    StageTimes stages;
};

// A whole generation.
struct GenerationMetrics {
    int prompt_tokens = 0;
    int generated_tokens = 0;
    double ttft_ms = 0;         // from the call to the first token's text
    double prefill_ms = 0;
    double prefill_tok_s = 0;
    double decode_tok_s = 0;    // generated tokens after the first ÷ their time
    std::vector<double> token_latency_ms;
};

} // namespace mmfree
