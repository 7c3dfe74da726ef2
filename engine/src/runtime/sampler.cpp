// SPDX-License-Identifier: Apache-2.0
#include "mmfree/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <unordered_set>

namespace mmfree {

int32_t argmax(const float* v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return int32_t(best);
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

int32_t Sampler::sample(const std::vector<float>& logits, const std::vector<int32_t>& history) {
    const int V = int(logits.size());
    // Repetition penalty (as in CTRL / llama.cpp): divide positive logits, multiply negative ones.
    std::vector<float> l = logits;
    if (params_.repetition_penalty != 1.0f && params_.repeat_last_n != 0) {
        const size_t n = params_.repeat_last_n < 0 ? history.size() : std::min(history.size(), size_t(params_.repeat_last_n));
        std::unordered_set<int32_t> seen(history.end() - std::ptrdiff_t(n), history.end());
        for (int32_t t : seen)
            if (t >= 0 && t < V) l[t] = l[t] > 0 ? l[t] / params_.repetition_penalty : l[t] * params_.repetition_penalty;
    }
    if (params_.temperature <= 0.0f) return argmax(l.data(), l.size());

    candidates_.clear();
    for (int i = 0; i < V; ++i) candidates_.push_back({l[i] / params_.temperature, i});
    // Sort descending by logit; ties by id so the order (and the sample) is reproducible.
    auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
    size_t keep = candidates_.size();
    if (params_.top_k > 0 && size_t(params_.top_k) < keep) {
        keep = size_t(params_.top_k);
        std::partial_sort(candidates_.begin(), candidates_.begin() + std::ptrdiff_t(keep), candidates_.end(), by_logit);
    } else {
        std::sort(candidates_.begin(), candidates_.end(), by_logit);
    }
    candidates_.resize(keep);
    // Softmax over the survivors.
    const float mx = candidates_[0].first;
    double sum = 0;
    for (auto& c : candidates_) sum += c.first = std::exp(c.first - mx);
    for (auto& c : candidates_) c.first = float(c.first / sum);
    // min-p: drop tokens less likely than min_p × the most likely one.
    if (params_.min_p > 0.0f) {
        const float cut = params_.min_p * candidates_[0].first;
        size_t n = 1;
        while (n < candidates_.size() && candidates_[n].first >= cut) ++n;
        candidates_.resize(n);
    }
    // top-p: the smallest prefix whose mass reaches top_p.
    if (params_.top_p < 1.0f) {
        double mass = 0;
        size_t n = 0;
        while (n < candidates_.size()) {
            mass += candidates_[n++].first;
            if (mass >= params_.top_p) break;
        }
        candidates_.resize(std::max<size_t>(n, 1));
    }
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
