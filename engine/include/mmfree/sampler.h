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

// The distribution sample() draws from, defined exactly so that any implementation draws the same
// token for the same seed: s = logit / T (penalties first); the candidates are the top_k best by
// (s descending, id ascending), or every token; each has the weight w = sampling::weight(s - max s)
// and the integer mass sampling::mass(w), so every sum is exact whatever its order. Min-p keeps
// w >= min_p; top-p keeps the shortest prefix of the ranking whose mass reaches
// sampling::nucleus_target(top_p, mass of the candidates); a token is kept when both keep it. The
// draw is an integer r uniform in [0, kept mass) (std::uniform_int_distribution over the seeded
// mt19937_64), and the token is where r falls when the kept tokens are walked in id order.
namespace sampling {
// exp(x) for x <= 0 within 2 ulp; exactly 1 at 0; 0 below -87 and for NaN. Plain float arithmetic
// (no libm), so it vectorizes and gives the same bits on every x86-64.
float weight(float x);
// w scaled to 2^30 and truncated: tokens below 2^-30 (1e-9) of the most likely one weigh nothing.
inline uint32_t mass(float w) { return uint32_t(int32_t(w * 0x1p30f)); }
// The mass top-p must reach: at least 1, so the most likely token is always kept.
uint64_t nucleus_target(float top_p, uint64_t total);
} // namespace sampling

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
    // A prefix of the ranking: its last token (scaled logit, candidate index) and its mass.
    struct Cut {
        float s;
        size_t j;
        uint64_t mass;
    };
    void apply_penalties(const std::vector<int32_t>& history);
    Cut nucleus_cut(uint64_t total);
    Cut min_p_cut() const;

    SamplingParams params_;
    std::mt19937_64 rng_;
    std::vector<float> adjusted_;
    // The candidates, in id order: their ids, scaled logits and weights.
    std::vector<int32_t> ids_;
    std::vector<float> scaled_, weights_;
    std::vector<uint32_t> masses_;
    std::vector<std::pair<float, int32_t>> ranked_;   // (scaled logit, candidate index) being ranked
};

int32_t argmax(const float* values, size_t count);

} // namespace mmfree
