// SPDX-License-Identifier: Apache-2.0
#include "mmfree/sampler.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <tuple>
#include <unordered_map>

namespace mmfree {

int32_t argmax(const float* v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return int32_t(best);
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

bool Sampler::has_penalties() const {
    return params_.repeat_last_n != 0 &&
        (params_.repetition_penalty != 1.0f || params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f);
}

void Sampler::apply_penalties(const std::vector<int32_t>& history) {
    if (params_.repeat_last_n == 0) return;
    const bool repetition = params_.repetition_penalty != 1.0f;
    const bool openai = params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f;
    if (!repetition && !openai) return;
    const size_t n = params_.repeat_last_n < 0 ? history.size() : std::min(history.size(), size_t(params_.repeat_last_n));
    std::unordered_map<int32_t, int> counts;
    for (auto it = history.end() - std::ptrdiff_t(n); it != history.end(); ++it) ++counts[*it];
    const int32_t V = int32_t(adjusted_.size());
    for (auto [t, count] : counts) {
        if (t < 0 || t >= V) continue;
        float& l = adjusted_[size_t(t)];
        // Repetition penalty (as in CTRL / llama.cpp): divide positive logits, multiply negative ones.
        if (repetition) l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
        if (openai) l -= float(count) * params_.frequency_penalty + params_.presence_penalty;
    }
}

namespace {

// sampling::weight, inlined into the loops that weigh whole rows so they vectorize.
[[gnu::always_inline]] inline float weight_of(float x) {
    // 2^n · e^r with n = round(x·log2 e) and |r| <= ln2/2 (Cody-Waite split of ln 2), e^r by its
    // Taylor polynomial to degree 6 (error < 1.2e-7 on that interval). Selects, not branches.
    const float xc = x >= -87.0f ? x : -87.0f;   // NaN too
    const float n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;   // round to nearest (|xc·log2 e| < 2^22)
    const float r = (xc - n * 0.693145751953125f) - n * 1.428606765330187e-6f;
    const float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    const float scale = std::bit_cast<float>(uint32_t(int32_t(n) + 127) << 23);   // n in [-126, 0]: a normal power of two
    return x >= -87.0f ? p * scale : 0.0f;
}

// Weights and masses of a row of scaled logits; returns the masses' sum. Eight lanes where the CPU
// has AVX2 (the same bits as four: no contraction, no library calls).
[[gnu::target_clones("avx2", "default")]] uint64_t weigh(const float* scaled, float mx, float* weights, uint32_t* masses, size_t n) {
    for (size_t j = 0; j < n; ++j) weights[j] = weight_of(scaled[j] - mx);
    uint64_t total = 0;
    for (size_t j = 0; j < n; ++j) total += masses[j] = sampling::mass(weights[j]);
    return total;
}

// The largest value (NaN counts as smaller than everything), in eight lanes that vectorize.
float max_of(const std::vector<float>& v) {
    float lane[8];
    std::fill(std::begin(lane), std::end(lane), -INFINITY);
    size_t i = 0;
    for (; i + 8 <= v.size(); i += 8)
        for (size_t k = 0; k < 8; ++k) lane[k] = v[i + k] > lane[k] ? v[i + k] : lane[k];
    for (; i < v.size(); ++i) lane[0] = v[i] > lane[0] ? v[i] : lane[0];
    return *std::max_element(std::begin(lane), std::end(lane));
}

} // namespace

namespace sampling {

float weight(float x) { return weight_of(x); }

uint32_t top_p_units(float top_p) {
    const double units = std::nearbyint(double(top_p) * Draw::kTopPOne);
    return units >= Draw::kTopPOne ? Draw::kTopPOne : units >= 1 ? uint32_t(units) : 1u;
}

uint64_t nucleus_target(uint32_t top_p_units, uint64_t total) {
    const auto target = uint64_t(((unsigned __int128)top_p_units * total + Draw::kTopPOne - 1) >> 24);
    return std::clamp<uint64_t>(target, 1, total);
}

} // namespace sampling

namespace {

// Tokens that weigh something (w >= 2^-30, so d = max s - s < 21) fall in one of 25 binades × 32
// steps by the top bits of d, all d below 2^-20 in bucket 0. d rises as s falls, so a later bucket
// holds only lower-ranked tokens (the weight itself wobbles by an ulp here and there: it cannot
// order them).
constexpr uint32_t kLowestExponent = 127 - 20, kStepBits = 5;
constexpr size_t kBuckets = size_t(132 - kLowestExponent) << kStepBits;
size_t bucket_of(float d) {   // d >= 0, or -0 (equal logits of either sign)
    const uint32_t magnitude = std::bit_cast<uint32_t>(d) & 0x7fffffffu;
    return std::max(magnitude >> (23 - kStepBits), kLowestExponent << kStepBits) - (kLowestExponent << kStepBits);
}

// Descending by scaled logit; ties by id (candidate indices follow id order).
bool ranks_before(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
}

} // namespace

// The last token of the ranking that top-p keeps: the masses are summed per bucket, and only the
// bucket where the target falls is ranked, where sorting the whole ranking cost ~3 ms per row of a
// flat 32k distribution.
Sampler::Cut Sampler::nucleus_cut(uint64_t target, float mx) {
    std::array<uint64_t, kBuckets> bucket_mass{};
    const size_t n = weights_.size();
    for (size_t j = 0; j < n; ++j)
        if (masses_[j]) bucket_mass[bucket_of(mx - scaled_[j])] += masses_[j];   // mass 0 (w < 2^-30): no bucket
    uint64_t above = 0;
    size_t b = 0;
    while (above + bucket_mass[b] < target) above += bucket_mass[b++];   // the target is <= total: it ends in a bucket
    ranked_.clear();
    for (size_t j = 0; j < n; ++j)
        if (masses_[j] && bucket_of(mx - scaled_[j]) == b) ranked_.push_back({scaled_[j], int32_t(j)});
    std::sort(ranked_.begin(), ranked_.end(), ranks_before);
    for (const auto& [s, j] : ranked_) {
        above += masses_[size_t(j)];
        if (above >= target) return {s, size_t(j)};
    }
    return {ranked_.back().first, size_t(ranked_.back().second)};   // not reached: the bucket completes the target
}

// The last token of the ranking that min-p keeps: the lowest-ranked one of weight >= min_p.
Sampler::Cut Sampler::min_p_cut(float min_p) const {
    Cut cut{INFINITY, 0};
    for (size_t j = 0; j < weights_.size(); ++j)
        if (weights_[j] >= min_p && scaled_[j] <= cut.s) cut = {scaled_[j], j};   // equal: the later id ranks lower
    return cut;
}

sampling::Draw Sampler::next_draw() {
    sampling::Draw d;
    if (params_.temperature <= 0.0f) return d;   // greedy: no randomness used
    d.inv_temperature = 1.0f / params_.temperature;
    d.top_k = uint32_t(std::max(params_.top_k, 0));
    d.top_p = params_.top_p < 1.0f ? sampling::top_p_units(params_.top_p) : sampling::Draw::kTopPOne;
    d.min_p = std::max(params_.min_p, 0.0f);
    d.u = rng_();
    return d;
}

int32_t Sampler::sample(const float* logits, size_t count, const std::vector<int32_t>& history) {
    adjusted_.assign(logits, logits + count);
    apply_penalties(history);
    return draw(adjusted_.data(), count, next_draw());
}

int32_t Sampler::draw(const float* logits, size_t V, const sampling::Draw& d) {
    if (!(d.inv_temperature > 0.0f)) return argmax(logits, V);

    // The candidates in id order, their scaled logits (NaN ranks last) and weights.
    const bool top_k = d.top_k > 0 && size_t(d.top_k) < V;
    auto scaled_logit = [&](size_t i) {
        const float s = logits[i] * d.inv_temperature;
        return s == s ? s : -INFINITY;
    };
    if (top_k) {
        ranked_.resize(V);
        for (size_t i = 0; i < V; ++i) ranked_[i] = {scaled_logit(i), int32_t(i)};
        const auto k = std::ptrdiff_t(d.top_k);
        std::nth_element(ranked_.begin(), ranked_.begin() + k - 1, ranked_.end(), ranks_before);
        ranked_.resize(size_t(k));
        std::sort(ranked_.begin(), ranked_.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
        ids_.resize(size_t(k));
        scaled_.resize(size_t(k));
        for (size_t j = 0; j < size_t(k); ++j) std::tie(scaled_[j], ids_[j]) = ranked_[j];
    } else {
        scaled_.resize(V);   // candidate j is token j: ids_ is not used
        for (size_t i = 0; i < V; ++i) scaled_[i] = scaled_logit(i);
    }
    const size_t n = scaled_.size();
    const float mx = max_of(scaled_);
    if (!std::isfinite(mx)) return argmax(logits, V);   // infinite or no usable logits: the most likely
    weights_.resize(n);
    masses_.resize(n);
    const uint64_t total = weigh(scaled_.data(), mx, weights_.data(), masses_.data(), n);

    // Min-p and top-p each keep a prefix of the ranking; the shorter one is kept.
    Cut kept{-INFINITY, n};
    auto ranks_higher = [](const Cut& a, const Cut& b) { return a.s > b.s || (a.s == b.s && a.j < b.j); };
    if (d.min_p > 0.0f) kept = min_p_cut(d.min_p);   // the most likely token weighs 1: empty only for min_p > 1
    if (d.top_p < sampling::Draw::kTopPOne) kept = std::min(kept, nucleus_cut(sampling::nucleus_target(d.top_p, total), mx), ranks_higher);
    // The kept mass per block of candidates, then the draw walks to its block and inside it token
    // by token, in id order.
    auto kept_mass = [&](size_t j) {
        const bool keep = scaled_[j] > kept.s || (scaled_[j] == kept.s && j <= kept.j);
        return keep ? uint64_t(masses_[j]) : 0;
    };
    constexpr size_t kBlock = 256;
    block_mass_.assign((n + kBlock - 1) / kBlock, 0);
    uint64_t kept_total = 0;
    for (size_t b = 0; b < block_mass_.size(); ++b) {
        for (size_t j = b * kBlock, e = std::min(n, j + kBlock); j < e; ++j) block_mass_[b] += kept_mass(j);
        kept_total += block_mass_[b];
    }
    if (kept_total == 0) return argmax(logits, V);   // min_p > 1 keeps nothing
    uint64_t r = sampling::scale(d.u, kept_total);
    for (size_t b = 0; b < block_mass_.size(); ++b) {
        if (r >= block_mass_[b]) {
            r -= block_mass_[b];
            continue;
        }
        for (size_t j = b * kBlock;; ++j) {
            const uint64_t m = kept_mass(j);
            if (r < m) return top_k ? ids_[j] : int32_t(j);
            r -= m;
        }
    }
    return argmax(logits, V);   // not reached: r < kept_total
}

} // namespace mmfree
