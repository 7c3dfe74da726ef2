// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace mmfree {

struct SamplingParams {
    float temperature = 0.8f;        // 0 = greedy
    int top_k = 40;                  // 0 = off
    float top_p = 0.95f;             // 1 = off
    float min_p = 0.05f;             // 0 = off; relative to the most likely token
    float repetition_penalty = 1.1f; // 1 = off; applied to the last repeat_last_n tokens
    int repeat_last_n = 64;
    uint64_t seed = 0;               // same seed + same logits → same tokens
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& params);
    // history: tokens so far (prompt + generated), for the repetition penalty.
    int32_t sample(const std::vector<float>& logits, const std::vector<int32_t>& history);
    const SamplingParams& params() const { return params_; }

private:
    SamplingParams params_;
    std::mt19937_64 rng_;
    std::vector<std::pair<float, int32_t>> candidates_;
};

int32_t argmax(const float* values, size_t count);

} // namespace mmfree
