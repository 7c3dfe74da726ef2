// SPDX-License-Identifier: Apache-2.0
#include "mmfree/sampler.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <unordered_map>

namespace mmfree {

int32_t argmax(const float* v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return int32_t(best);
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

bool Sampler::is_plain_argmax() const {
    const bool penalties = params_.repeat_last_n != 0 &&
        (params_.repetition_penalty != 1.0f || params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f);
    return params_.temperature <= 0.0f && !penalties;
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

// candidates_[0..head) hold probabilities in descending order. Returns how many of them survive
// min-p and top-p, or 0 when that depends on candidates beyond the head (complete: there are none).
size_t Sampler::surviving_head(size_t head, bool complete) const {
    bool decided = complete;
    size_t n = head;
    // min-p: drop tokens less likely than min_p × the most likely one.
    if (params_.min_p > 0.0f) {
        const float cut = params_.min_p * candidates_[0].first;
        n = 1;
        while (n < head && candidates_[n].first >= cut) ++n;
        if (n < head) decided = true;
    }
    // top-p: the smallest prefix whose mass reaches top_p.
    if (params_.top_p < 1.0f) {
        double mass = 0;
        size_t k = 0;
        while (k < n) {
            mass += candidates_[k++].first;
            if (mass >= params_.top_p) { decided = true; break; }
        }
        n = std::max<size_t>(k, 1);
    }
    return decided ? n : 0;
}

// The distribution: penalties, temperature, top-k, softmax over the top-k survivors (the whole
// vocabulary without top-k), min-p, top-p, then one draw walking the survivors from the most
// likely down. Only the head of the ranking is ever sorted: with top-k by selection, without it
// the tokens above a weight bound that top-p (or min-p) must cut inside, so a chat's
// temperature/top-p sampling over 32k tokens costs a few passes, not a sort. The one difference
// to sorting everything: the softmax normalizer is summed in id order rather than rank order
// (a change in the last bits of a double, test_sampler draws identically).
int32_t Sampler::sample(const float* logits, size_t count, const std::vector<int32_t>& history) {
    const size_t V = count;
    adjusted_.assign(logits, logits + count);
    apply_penalties(history);
    if (params_.temperature <= 0.0f) return argmax(adjusted_.data(), V);

    // Descending by logit; ties by id so the order (and the sample) is reproducible.
    auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
    const float temperature = params_.temperature;
    size_t keep;
    if (params_.top_k > 0 && size_t(params_.top_k) < V) {
        candidates_.resize(V);
        for (size_t i = 0; i < V; ++i) candidates_[i] = {adjusted_[i] / temperature, int32_t(i)};
        keep = size_t(params_.top_k);
        std::partial_sort(candidates_.begin(), candidates_.begin() + std::ptrdiff_t(keep), candidates_.end(), by_logit);
        candidates_.resize(keep);
        // Softmax over the survivors, summed in rank order.
        const float mx = candidates_[0].first;
        double sum = 0;
        for (auto& c : candidates_) sum += c.first = std::exp(c.first - mx);
        for (auto& c : candidates_) c.first = float(c.first / sum);
        keep = surviving_head(keep, true);
    } else {
        // Softmax over the whole vocabulary: the normalizer needs every weight (summed in id order).
        // Rounding is monotone, so the largest scaled logit is the scaled largest logit.
        const float mx = adjusted_[size_t(argmax(adjusted_.data(), V))] / temperature;
        weights_.resize(V);
        // The mass per binary exponent of the weight, to place the head's bound below.
        std::array<double, 256> mass_by_exponent{};
        double sum = 0;
        for (size_t i = 0; i < V; ++i) {
            const float w = weights_[i] = std::exp(adjusted_[i] / temperature - mx);
            sum += w;
            mass_by_exponent[std::bit_cast<uint32_t>(w) >> 23] += w;   // w ≥ 0: the top bits are the exponent
        }
        // The head: every token of weight ≥ tau, a prefix of the ranking (weights rise with the
        // logit). Top-p: tau is the highest power of two under which lies at most half of top-p's
        // remainder, so top-p ends inside the head. Min-p alone: half its cut, so the head reaches
        // below the cut where any token does.
        float tau = 0;
        if (params_.top_p < 1.0f) {
            const double spare = 0.5 * (1.0 - double(params_.top_p)) * sum;
            double below = 0;
            uint32_t e = 0;
            while (e < 255 && below + mass_by_exponent[e] <= spare) below += mass_by_exponent[e++];
            tau = std::bit_cast<float>(e << 23);
        } else if (params_.min_p > 0.0f) {
            tau = 0.5f * params_.min_p;
        }
        candidates_.clear();
        for (size_t i = 0; i < V; ++i)
            if (weights_[i] >= tau) candidates_.push_back({adjusted_[i] / temperature, int32_t(i)});
        size_t head = candidates_.size();
        std::sort(candidates_.begin(), candidates_.end(), by_logit);
        for (size_t i = 0; i < head; ++i) candidates_[i].first = float(weights_[size_t(candidates_[i].second)] / sum);
        keep = surviving_head(head, head == V);
        if (keep == 0) {
            // Undecided within the head (rounding at the bound): rank the rest in growing steps.
            for (size_t i = 0; i < V; ++i)
                if (weights_[i] < tau) candidates_.push_back({adjusted_[i] / temperature, int32_t(i)});
            const auto first = candidates_.begin();
            for (size_t next = std::min(V, head * 2 + 64); keep == 0; next = std::min(V, next * 4)) {
                if (next < V) std::nth_element(first + std::ptrdiff_t(head), first + std::ptrdiff_t(next), candidates_.end(), by_logit);
                std::sort(first + std::ptrdiff_t(head), first + std::ptrdiff_t(next), by_logit);
                for (size_t i = head; i < next; ++i) candidates_[i].first = float(weights_[size_t(candidates_[i].second)] / sum);
                head = next;
                keep = surviving_head(head, head == V);
            }
        }
    }
    candidates_.resize(keep);
    double total = 0;
    for (auto& c : candidates_) total += c.first;
    std::uniform_real_distribution<double> uni(0.0, total);
    double r = uni(rng_);
    for (auto& c : candidates_) {
        r -= c.first;
        if (r <= 0) return c.second;
    }
    return candidates_.back().second;
}

} // namespace mmfree
