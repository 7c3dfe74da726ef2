// SPDX-License-Identifier: Apache-2.0
// The sampler selects only the head of the ranking; it must draw exactly the tokens of the
// straightforward algorithm that sorts the whole vocabulary, for every parameter set and seed.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "mmfree/sampler.h"

using namespace mmfree;

namespace {

// The whole-vocabulary algorithm, written plainly: penalties, temperature, sort everything,
// top-k, softmax, min-p, top-p, one draw.
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
        for (size_t i = 0; i < V; ++i) c.push_back({l[i] / p_.temperature, int32_t(i)});
        std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
        if (p_.top_k > 0 && size_t(p_.top_k) < V) c.resize(size_t(p_.top_k));
        const float mx = c[0].first;
        double sum = 0;
        for (auto& x : c) sum += x.first = std::exp(x.first - mx);
        for (auto& x : c) x.first = float(x.first / sum);
        if (p_.min_p > 0) {
            const float cut = p_.min_p * c[0].first;
            size_t n = 1;
            while (n < c.size() && c[n].first >= cut) ++n;
            c.resize(n);
        }
        if (p_.top_p < 1) {
            double mass = 0;
            size_t n = 0;
            while (n < c.size()) {
                mass += c[n++].first;
                if (mass >= p_.top_p) break;
            }
            c.resize(std::max<size_t>(n, 1));
        }
        double total = 0;
        for (auto& x : c) total += x.first;
        std::uniform_real_distribution<double> uni(0.0, total);
        double r = uni(rng_);
        for (auto& x : c) {
            r -= x.first;
            if (r <= 0) return x.second;
        }
        return c.back().second;
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
