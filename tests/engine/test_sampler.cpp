// SPDX-License-Identifier: Apache-2.0
// The sampler ranks only the bucket where top-p ends; it must draw exactly the tokens of the
// straightforward algorithm that sorts the whole vocabulary, for every parameter set and seed.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "mmfree/sampler.h"

using namespace mmfree;

namespace {

// The distribution of sampler.h's definition, written plainly: penalties, temperature, sort
// everything, top-k, weights and masses, min-p and top-p as prefixes of the ranking, one draw
// walking the kept tokens in id order.
class ReferenceSampler {
public:
    explicit ReferenceSampler(const SamplingParams& p) : p_(p), rng_(p.seed) {}
    int32_t sample(std::vector<float> l, const std::vector<int32_t>& history) {
        const size_t V = l.size();
        if (p_.repeat_last_n != 0) {
            const size_t n = p_.repeat_last_n < 0 ? history.size() : std::min(history.size(), size_t(p_.repeat_last_n));
            std::map<int32_t, int> counts;
            for (size_t i = history.size() - n; i < history.size(); ++i) ++counts[history[i]];
            for (auto [t, c] : counts) {
                if (p_.repetition_penalty != 1.0f) l[size_t(t)] = l[size_t(t)] > 0 ? l[size_t(t)] / p_.repetition_penalty : l[size_t(t)] * p_.repetition_penalty;
                if (p_.frequency_penalty != 0.0f || p_.presence_penalty != 0.0f) l[size_t(t)] -= float(c) * p_.frequency_penalty + p_.presence_penalty;
            }
        }
        if (p_.temperature <= 0) return argmax(l.data(), V);
        std::vector<std::pair<float, int32_t>> c;
        const float inv_t = 1.0f / p_.temperature;
        for (size_t i = 0; i < V; ++i) c.push_back({std::isnan(l[i] * inv_t) ? -INFINITY : l[i] * inv_t, int32_t(i)});
        std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
        if (p_.top_k > 0 && size_t(p_.top_k) < V) c.resize(size_t(p_.top_k));
        std::vector<uint32_t> mass;
        uint64_t total = 0;
        for (const auto& x : c) total += mass.emplace_back(sampling::mass(sampling::weight(x.first - c[0].first)));
        size_t keep = c.size();
        if (p_.min_p > 0) {
            keep = 1;   // down to the last candidate of weight >= min_p
            for (size_t i = 1; i < c.size(); ++i)
                if (sampling::weight(c[i].first - c[0].first) >= p_.min_p) keep = i + 1;
        }
        if (p_.top_p < 1) {
            const uint64_t target = sampling::nucleus_target(sampling::top_p_units(p_.top_p), total);
            uint64_t sum = 0;
            size_t n = 0;
            while (sum < target) sum += mass[n++];
            keep = std::min(keep, n);
        }
        std::vector<std::pair<int32_t, uint64_t>> kept;   // (id, mass), walked in id order
        for (size_t i = 0; i < keep; ++i) kept.push_back({c[i].second, mass[i]});
        std::sort(kept.begin(), kept.end());
        uint64_t kept_mass = 0;
        for (const auto& k : kept) kept_mass += k.second;
        uint64_t r = uint64_t((unsigned __int128)rng_() * kept_mass >> 64);
        for (const auto& [id, m] : kept) {
            if (r < m) return id;
            r -= m;
        }
        return -1;
    }

private:
    SamplingParams p_;
    std::mt19937_64 rng_;
};

} // namespace

class TestSampler : public QObject {
    Q_OBJECT
private slots:
    void equals_whole_vocabulary_sort() {
        std::mt19937 rng(2024);
        const float temps[] = {0.0f, 0.2f, 0.7f, 1.0f, 1.6f};
        const int top_ks[] = {0, 0, 1, 5, 40, 100000};
        const float top_ps[] = {1.0f, 0.5f, 0.9f, 0.95f, 0.999f};
        const float min_ps[] = {0.0f, 0.0f, 0.05f, 0.3f};
        const float rep[] = {1.0f, 1.1f, 1.5f};
        const float freq[] = {0.0f, 0.0f, 0.7f, -0.4f};
        const float pres[] = {0.0f, 0.0f, 0.5f};
        const int windows[] = {0, 16, 64, -1};
        const int vocabs[] = {3, 97, 512, 32000};
        int draws = 0;
        for (int set = 0; set < 160; ++set) {
            auto pick = [&](const auto& options) { return options[std::uniform_int_distribution<size_t>(0, std::size(options) - 1)(rng)]; };
            SamplingParams p;
            p.temperature = pick(temps);
            p.top_k = pick(top_ks);
            p.top_p = pick(top_ps);
            p.min_p = pick(min_ps);
            p.repetition_penalty = pick(rep);
            p.frequency_penalty = pick(freq);
            p.presence_penalty = pick(pres);
            p.repeat_last_n = pick(windows);
            p.seed = rng();
            const int V = set < 8 ? 32000 : pick(vocabs);   // the chat case (full vocabulary) at least eight times
            if (set < 8) { p.top_k = 0; p.top_p = 0.95f; p.min_p = 0; p.temperature = 0.7f; }
            // Peaked and flat rows, and rows of few distinct values (ties broken by id).
            const float scale = std::uniform_real_distribution<float>(0.3f, 12.0f)(rng);
            const bool ties = set % 5 == 0;
            Sampler fast(p);
            ReferenceSampler ref(p);
            std::vector<int32_t> history;
            std::normal_distribution<float> normal(0.0f, scale);
            std::uniform_int_distribution<int32_t> token(0, V - 1);
            for (int i = 0; i < 30; ++i) history.push_back(token(rng));
            const int rows = V == 32000 ? 6 : 25;
            for (int row = 0; row < rows; ++row) {
                std::vector<float> logits(static_cast<size_t>(V));
                for (float& x : logits) x = ties ? std::round(normal(rng) / scale * 2) : normal(rng);
                const int32_t a = fast.sample(logits, history), b = ref.sample(logits, history);
                QVERIFY2(a == b, qPrintable(QString("set %1 row %2 (V %3, T %4, top_k %5, top_p %6, min_p %7): %8 vs reference %9")
                                                .arg(set).arg(row).arg(V).arg(p.temperature).arg(p.top_k).arg(p.top_p).arg(p.min_p).arg(a).arg(b)));
                history.push_back(a);
                ++draws;
            }
        }
        QVERIFY(draws > 2000);
    }

    // The weight is exp within 2 ulp over its whole range, exactly 1 at 0, and 0 below it.
    void weight_is_exp() {
        double worst = 0;
        for (float x = 0; x >= -87.0f; x -= 0.0007f) {
            const double want = std::exp(double(x)), got = sampling::weight(x);
            worst = std::max(worst, std::abs(got - want) / want);
        }
        QVERIFY2(worst < 2.5e-7, qPrintable(QString::number(worst)));
        QCOMPARE(sampling::weight(0.0f), 1.0f);
        QCOMPARE(sampling::weight(-88.0f), 0.0f);
        QCOMPARE(sampling::weight(-INFINITY), 0.0f);
        QCOMPARE(sampling::weight(NAN), 0.0f);
    }

    // A row with NaN and infinite logits still draws a token the row allows.
    void non_finite_logits() {
        SamplingParams p;
        p.temperature = 0.8f; p.top_k = 0; p.top_p = 0.9f; p.min_p = 0;
        Sampler s(p);
        std::vector<float> l = {NAN, 1.0f, 2.0f, NAN};
        for (int i = 0; i < 50; ++i) { const int32_t t = s.sample(l, {}); QVERIFY(t == 1 || t == 2); }
        l = {0.0f, INFINITY, 1.0f};
        QCOMPARE(s.sample(l, {}), 1);
        p.top_k = 2;
        Sampler k(p);
        l = {NAN, 1.0f, NAN, 2.0f};
        for (int i = 0; i < 50; ++i) { const int32_t t = k.sample(l, {}); QVERIFY(t == 1 || t == 3); }
    }

    // OpenAI semantics: the frequency penalty scales with the count, the presence penalty does not.
    void frequency_and_presence_penalties() {
        const std::vector<float> l = {2.0f, 1.9f, 1.5f};
        SamplingParams p;
        p.temperature = 0;
        p.repetition_penalty = 1;
        p.frequency_penalty = 0.3f;
        Sampler s(p);
        QCOMPARE(s.sample(l, {0}), 1);          // 2.0 - 0.3 = 1.7 against 1.9
        QCOMPARE(s.adjusted_logits()[0], 1.7f);
        QCOMPARE(s.sample(l, {0, 0, 1}), 1);    // 2.0 - 0.6 = 1.4, 1.9 - 0.3 = 1.6, 1.5
        QCOMPARE(s.sample(l, {0, 0, 1, 1}), 2); // 1.4, 1.9 - 0.6 = 1.3, 1.5
        p.frequency_penalty = 0;
        p.presence_penalty = 0.45f;
        Sampler q(p);
        QCOMPARE(q.sample(l, {0, 0, 0, 1}), 0);   // 1.55 (three times present, once penalized), 1.45, 1.5
        QVERIFY(!q.is_plain_argmax());
    }
};

QTEST_GUILESS_MAIN(TestSampler)
#include "test_sampler.moc"
