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

// s = logit × inv_t for a row (NaN: -inf) into out; returns the largest s. Eight lanes that
// vectorize.
[[gnu::target_clones("avx2", "default")]] float scale_row(const float* logits, size_t n, float inv_t, float* out) {
    float lane[8];
    std::fill(std::begin(lane), std::end(lane), -INFINITY);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t k = 0; k < 8; ++k) {
            const float v = logits[i + k] * inv_t;
            out[i + k] = v == v ? v : -INFINITY;
            lane[k] = out[i + k] > lane[k] ? out[i + k] : lane[k];
        }
    for (; i < n; ++i) {
        const float v = logits[i] * inv_t;
        out[i] = v == v ? v : -INFINITY;
        lane[0] = out[i] > lane[0] ? out[i] : lane[0];
    }
    return *std::max_element(std::begin(lane), std::end(lane));
}

// Tokens that weigh something (w >= 2^-30, so d = max s - s < 21) fall in one of 25 binades × 32
// steps by the top bits of d, all d below 2^-20 in bucket 0. d rises as s falls, so a later bucket
// holds only lower-ranked tokens (the weight itself wobbles by an ulp here and there: it cannot
// order them). Tokens of mass 0 go to kNoBucket.
constexpr uint32_t kLowestExponent = 127 - 20, kStepBits = 5;
constexpr uint32_t kBuckets = (132 - kLowestExponent) << kStepBits, kNoBucket = kBuckets;

// Weights and masses of a row of scaled logits, and each token's top-p bucket by the bits of
// |s - max s| (= max s - s, exactly); returns the masses' sum. Eight lanes where the CPU has AVX2
// (the same bits as four: no contraction, no library calls).
[[gnu::target_clones("avx2", "default")]] uint64_t weigh(const float* scaled, float mx, float* weights, uint32_t* masses,
                                                        uint16_t* buckets, size_t n) {
    for (size_t j = 0; j < n; ++j) weights[j] = weight_of(scaled[j] - mx);
    uint64_t total = 0;
    for (size_t j = 0; j < n; ++j) total += masses[j] = sampling::mass(weights[j]);
    for (size_t j = 0; j < n; ++j) {
        const uint32_t magnitude = std::bit_cast<uint32_t>(scaled[j] - mx) & 0x7fffffffu;
        const uint32_t step = std::max(magnitude >> (23 - kStepBits), kLowestExponent << kStepBits) - (kLowestExponent << kStepBits);
        buckets[j] = uint16_t(masses[j] ? std::min(step, kNoBucket) : kNoBucket);
    }
    return total;
}

// Per block of `block` candidates, the mass of those a cut keeps (they rank at or above it:
// s > cut_s, or s == cut_s at index <= cut_j); returns their sum.
[[gnu::target_clones("avx2", "default")]] uint64_t kept_blocks(const float* scaled, const uint32_t* masses, size_t n, float cut_s,
                                                              size_t cut_j, size_t block, uint64_t* block_mass) {
    uint64_t total = 0;
    for (size_t b = 0; b * block < n; ++b) {
        uint64_t sum = 0;
        for (size_t j = b * block, e = std::min(n, j + block); j < e; ++j)
            sum += scaled[j] > cut_s || (scaled[j] == cut_s && j <= cut_j) ? masses[j] : 0u;
        block_mass[b] = sum;
        total += sum;
    }
    return total;
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

// Descending by scaled logit; ties by id (candidate indices follow id order).
bool ranks_before(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
}

// A prefix of the ranking, by its last token: scaled logit and candidate index.
struct Cut {
    float s;
    size_t j;
};

// One row's working arrays: the candidates in id order (their ids, with top-k), scaled logits,
// weights, masses and top-p buckets. Per thread, not per request: a server keeps a Sampler for
// each of hundreds of requests, and these are ~0.7 MB for a 32k vocabulary.
struct Row {
    std::vector<int32_t> ids;
    std::vector<float> scaled, weights, all;           // all: every token's scaled logit (top-k)
    std::vector<uint32_t> masses;
    std::vector<uint16_t> buckets;
    std::vector<uint64_t> block_mass;                 // the walk's kept mass per block of candidates
    std::vector<std::pair<float, int32_t>> ranked;    // (scaled logit, candidate index) being ranked
};

Row& row_workspace() {
    thread_local Row row;
    return row;
}

// The last token of the ranking that top-p keeps: the masses are summed per bucket, and only the
// bucket where the target falls is ranked, where sorting the whole ranking cost ~3 ms per row of a
// flat 32k distribution. A flat row's bucket still holds ~1,000 tokens: the next 8 bits of their
// d split it once more, and only the part where the target falls is sorted.
Cut nucleus_cut(Row& r, uint64_t target, float mx) {
    // Four interleaved histograms: consecutive tokens of one bucket do not wait on each other's sums.
    std::array<std::array<uint64_t, kBuckets + 1>, 4> part{};
    const size_t n = r.masses.size();
    for (size_t j = 0; j < n; ++j) part[j & 3][r.buckets[j]] += r.masses[j];
    uint64_t above = 0;
    uint32_t b = 0;
    auto mass_of = [&](uint32_t k) { return part[0][k] + part[1][k] + part[2][k] + part[3][k]; };
    while (above + mass_of(b) < target) above += mass_of(b++);   // the target is <= total: it ends in a bucket
    // The bucket's tokens, without a branch per token (a flat row's bucket is ~1 token in 30,
    // scattered: the branch was mispredicted at every one of them).
    r.ranked.resize(n + 1);
    size_t count = 0;
    for (size_t j = 0; j < n; ++j) {
        r.ranked[count] = {r.scaled[j], int32_t(j)};
        count += r.buckets[j] == b;
    }
    // Bucket 0 gathers every d below 2^-20, whose bits do not continue its step: sorted whole.
    auto first = r.ranked.begin(), last = r.ranked.begin() + std::ptrdiff_t(count);
    if (b > 0) {
        auto sub_of = [&](float s) { return (std::bit_cast<uint32_t>(s - mx) & 0x7fffffffu) >> (23 - kStepBits - 8) & 0xffu; };
        std::array<uint64_t, 256> sub_mass{};
        for (auto it = first; it != last; ++it) sub_mass[sub_of(it->first)] += r.masses[size_t(it->second)];
        uint32_t sb = 0;
        while (above + sub_mass[sb] < target) above += sub_mass[sb++];
        last = std::partition(first, last, [&](const auto& c) { return sub_of(c.first) == sb; });
    }
    std::sort(first, last, ranks_before);
    for (auto it = first; it != last; ++it) {
        above += r.masses[size_t(it->second)];
        if (above >= target) return {it->first, size_t(it->second)};
    }
    return {(last - 1)->first, size_t((last - 1)->second)};   // not reached: the part completes the target
}

// The last token of the ranking that min-p keeps: the lowest-ranked one of weight >= min_p (the
// smallest s, the later candidate on ties), found per lane of eight and then across them.
Cut min_p_cut(const Row& r, float min_p) {
    float lane_s[8];
    size_t lane_j[8] = {};
    std::fill(std::begin(lane_s), std::end(lane_s), INFINITY);
    const size_t n = r.weights.size();
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (size_t k = 0; k < 8; ++k) {
            const bool take = r.weights[j + k] >= min_p && r.scaled[j + k] <= lane_s[k];
            lane_s[k] = take ? r.scaled[j + k] : lane_s[k];
            lane_j[k] = take ? j + k : lane_j[k];
        }
    for (; j < n; ++j)
        if (r.weights[j] >= min_p && r.scaled[j] <= lane_s[0]) lane_s[0] = r.scaled[j], lane_j[0] = j;
    Cut cut{INFINITY, 0};
    for (size_t k = 0; k < 8; ++k)
        if (lane_s[k] < cut.s || (lane_s[k] == cut.s && lane_j[k] > cut.j)) cut = {lane_s[k], lane_j[k]};
    return cut;
}

// The top_k candidates of the ranking, in id order, from r.all (every token's scaled logit): a
// heap of the k best so far whose top is the lowest-ranked of them. Tokens come in id order, so
// one that ties the top ranks below it: only a larger s enters, which most tokens fail at a glance.
void select_top_k(Row& r, size_t k) {
    r.ranked.clear();
    for (size_t i = 0; i < k; ++i) r.ranked.push_back({r.all[i], int32_t(i)});
    std::make_heap(r.ranked.begin(), r.ranked.end(), ranks_before);
    float bar = r.ranked.front().first;
    for (size_t i = k; i < r.all.size(); ++i) {
        if (!(r.all[i] > bar)) continue;
        std::pop_heap(r.ranked.begin(), r.ranked.end(), ranks_before);
        r.ranked.back() = {r.all[i], int32_t(i)};
        std::push_heap(r.ranked.begin(), r.ranked.end(), ranks_before);
        bar = r.ranked.front().first;
    }
    std::sort(r.ranked.begin(), r.ranked.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    r.ids.resize(k);
    r.scaled.resize(k);
    for (size_t j = 0; j < k; ++j) std::tie(r.scaled[j], r.ids[j]) = r.ranked[j];
}

} // namespace

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

int32_t Sampler::draw(const float* logits, size_t V, const sampling::Draw& d) const {
    if (!(d.inv_temperature > 0.0f)) return argmax(logits, V);

    // The candidates in id order, their scaled logits (NaN ranks last) and weights.
    Row& r = row_workspace();
    const bool top_k = d.top_k > 0 && size_t(d.top_k) < V;
    float mx;
    if (top_k) {
        r.all.resize(V);
        scale_row(logits, V, d.inv_temperature, r.all.data());
        select_top_k(r, size_t(d.top_k));
        mx = *std::max_element(r.scaled.begin(), r.scaled.end());   // no NaN left: scale_row made them -inf
    } else {
        r.scaled.resize(V);   // candidate j is token j: r.ids is not used
        mx = scale_row(logits, V, d.inv_temperature, r.scaled.data());
    }
    const size_t n = r.scaled.size();
    if (!std::isfinite(mx)) return argmax(logits, V);   // infinite or no usable logits: the most likely
    r.weights.resize(n);
    r.masses.resize(n);
    r.buckets.resize(n);
    const uint64_t total = weigh(r.scaled.data(), mx, r.weights.data(), r.masses.data(), r.buckets.data(), n);

    // Min-p and top-p each keep a prefix of the ranking; the shorter one is kept.
    Cut kept{-INFINITY, n};
    auto ranks_higher = [](const Cut& a, const Cut& b) { return a.s > b.s || (a.s == b.s && a.j < b.j); };
    if (d.min_p > 0.0f) kept = min_p_cut(r, d.min_p);   // the most likely token weighs 1: empty only for min_p > 1
    if (d.top_p < sampling::Draw::kTopPOne) kept = std::min(kept, nucleus_cut(r, sampling::nucleus_target(d.top_p, total), mx), ranks_higher);
    // The kept mass per block of candidates, then the draw walks to its block and inside it token
    // by token, in id order.
    constexpr size_t kBlock = 256;
    r.block_mass.resize((n + kBlock - 1) / kBlock);
    const uint64_t kept_total = kept_blocks(r.scaled.data(), r.masses.data(), n, kept.s, kept.j, kBlock, r.block_mass.data());
    if (kept_total == 0) return argmax(logits, V);   // min_p > 1 keeps nothing
    uint64_t u = sampling::scale(d.u, kept_total);
    for (size_t b = 0; b < r.block_mass.size(); ++b) {
        if (u >= r.block_mass[b]) {
            u -= r.block_mass[b];
            continue;
        }
        for (size_t j = b * kBlock;; ++j) {
            const bool keep = r.scaled[j] > kept.s || (r.scaled[j] == kept.s && j <= kept.j);
            const uint64_t m = keep ? r.masses[j] : 0;
            if (u < m) return top_k ? r.ids[j] : int32_t(j);
            u -= m;
        }
    }
    return argmax(logits, V);   // not reached: u < kept_total
}

} // namespace mmfree
