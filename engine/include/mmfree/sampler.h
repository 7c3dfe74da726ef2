// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstddef>
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
    int repeat_last_n = 64;          // the penalty window (all three penalties); -1 = the whole history
    float frequency_penalty = 0.0f;  // OpenAI: logit -= count × this, count = occurrences in the window; 0 = off
    float presence_penalty = 0.0f;   // OpenAI: logit -= this for every token that occurs in the window; 0 = off
    uint64_t seed = 0;               // same seed + same logits → same tokens
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& params);
    // history: tokens so far (prompt + generated), for the penalties.
    int32_t sample(const float* logits, size_t count, const std::vector<int32_t>& history);
    int32_t sample(const std::vector<float>& logits, const std::vector<int32_t>& history) {
        return sample(logits.data(), logits.size(), history);
    }
    const SamplingParams& params() const { return params_; }
    // The logits of the last sample() call after the penalties (before temperature): what the
    // token was drawn from, e.g. for reporting log-probabilities.
    const std::vector<float>& adjusted_logits() const { return adjusted_; }
    // True when sample() is the argmax of the raw logits (greedy, no penalty), so a caller may
    // take the backend's argmax and skip reading the logits back.
    bool is_plain_argmax() const;

private:
    void apply_penalties(const std::vector<int32_t>& history);
    size_t surviving_head(size_t head, bool complete) const;

    SamplingParams params_;
    std::mt19937_64 rng_;
    std::vector<float> adjusted_;
    std::vector<float> weights_;   // exp(logit/T - max), by token id
    std::vector<std::pair<float, int32_t>> candidates_;
};

int32_t argmax(const float* values, size_t count);

} // namespace mmfree
