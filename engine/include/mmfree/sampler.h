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

// The distribution sample() draws from, defined exactly so that any implementation, the host's
// or a GPU's (Executor::decode_sample), draws the same token for the same seed. Penalties first,
// then a Draw (below): s = logit × inv_temperature (NaN counts as -inf); the ranking orders tokens
// by s descending, ties by id ascending; the candidates are the top_k first of the ranking, or
// every token. Each candidate has the weight w = sampling::weight(s - max s) and the integer mass
// sampling::mass(w), so every sum is exact whatever its order. Min-p keeps the ranking down to its
// last candidate of w >= min_p; top-p keeps the shortest prefix of the ranking whose mass reaches
// sampling::nucleus_target(top_p, mass of the candidates); a token is kept when every rule keeps
// it. The draw r = sampling::scale(u, kept mass) falls on one kept token when they are walked in
// id order. Only +, -, × and compares of floats, so a device computes the same bits as the host.
namespace sampling {
// exp(x) for x <= 0 within 2 ulp; exactly 1 at 0; 0 below -87 and for NaN. Plain float arithmetic
// (no libm, no fused multiply-adds), so it vectorizes and gives the same bits on every device.
float weight(float x);
// w scaled to 2^30 and truncated: tokens below 2^-30 (1e-9) of the most likely one weigh nothing.
inline uint32_t mass(float w) { return uint32_t(int32_t(w * 0x1p30f)); }

// One row's draw after the penalties (24 bytes; a device reads it as six 32-bit words).
struct Draw {
    float inv_temperature = 0;      // s = logit × this; 0 = greedy (the first largest logit)
    uint32_t top_k = 0;             // 0 = off
    uint32_t top_p = kTopPOne;      // in units of 2^-24; kTopPOne = off
    float min_p = 0;                // 0 = off
    uint64_t u = 0;                 // uniform in [0, 2^64): picks the token
    static constexpr uint32_t kTopPOne = 1u << 24;
};
// top_p (0, 1] to units of 2^-24, at least 1.
uint32_t top_p_units(float top_p);
// The mass top-p must reach: ceil(top_p × total) computed exactly, at least 1 (the most likely
// token is always kept), at most total.
uint64_t nucleus_target(uint32_t top_p_units, uint64_t total);
// The draw: floor(u × mass / 2^64), uniform in [0, mass) up to 2^-64 × mass.
inline uint64_t scale(uint64_t u, uint64_t mass) { return uint64_t((unsigned __int128)u * mass >> 64); }
} // namespace sampling

class Sampler {
public:
    explicit Sampler(const SamplingParams& params);
    // history: tokens so far (prompt + generated), for the penalties.
    int32_t sample(const float* logits, size_t count, const std::vector<int32_t>& history);
    int32_t sample(const std::vector<float>& logits, const std::vector<int32_t>& history) {
        return sample(logits.data(), logits.size(), history);
    }
    // The next token's draw (advances the seeded generator): what sample() uses, or what a device
    // that samples by itself is given when the sampler has no penalties (has_penalties()).
    sampling::Draw next_draw();
    // The token a draw picks from logits (after the penalties): the definition above.
    int32_t draw(const float* logits, size_t count, const sampling::Draw& d) const;

    const SamplingParams& params() const { return params_; }
    // The logits of the last sample() call after the penalties (before temperature): what the
    // token was drawn from, e.g. for reporting log-probabilities.
    const std::vector<float>& adjusted_logits() const { return adjusted_; }
    bool has_penalties() const;
    // True when sample() is the argmax of the raw logits (greedy, no penalty), so a caller may
    // take the backend's argmax and skip reading the logits back.
    bool is_plain_argmax() const { return params_.temperature <= 0.0f && !has_penalties(); }

private:
    void apply_penalties(const std::vector<int32_t>& history);

    SamplingParams params_;
    std::mt19937_64 rng_;
    std::vector<float> adjusted_;
};

int32_t argmax(const float* values, size_t count);

} // namespace mmfree
