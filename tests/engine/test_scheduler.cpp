// SPDX-License-Identifier: Apache-2.0
// The continuously batched scheduler: every sequence of a batch gets exactly the tokens it gets
// alone, whatever joins or leaves beside it; cancellation, the bounded queue, stop strings, seeds
// and the prefix-state cache.
#include <QProcess>
#include <QTemporaryDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <mutex>
#include <random>


#include "golden.h"
#include "mmfree/error.h"
#include "mmfree/generate.h"
#include "mmfree/model.h"
#include "mmfree/session.h"
#include "mmfree/scheduler.h"
#include "serve/prefix_cache.h"

using namespace mmfree;
using namespace mmfree::testkit;

namespace {

// MMFREE_TEST_BACKEND=vulkan runs the suite on Vulkan (lavapipe in CI), where the scheduler
// overlaps the device's steps with delivering their tokens.
QString backend_under_test() {
    const char* forced = std::getenv("MMFREE_TEST_BACKEND");
    return forced && *forced ? QString(forced) : QString("cpu");
}

std::unique_ptr<Executor> cpu_executor(std::shared_ptr<const Model> model, int slot_count, const std::string& backend = "cpu") {
    BackendOptions o;
    o.backend = backend == "cpu" ? backend_under_test().toStdString() : backend;
    o.allow_fallback = false;
    o.threads = 2;
    o.slot_count = slot_count;
    return create_executor(std::move(model), o);
}

GenerateOptions greedy(int n) {
    GenerateOptions o;
    o.sampling.temperature = 0;
    o.sampling.repetition_penalty = 1;
    o.max_tokens = n;
    o.stop_at_eos = false;
    return o;
}

// The single-sequence path: prefill the prompt on slot 0, then argmax and feed back.
std::vector<int32_t> greedy_alone(Executor& ex, const std::vector<int32_t>& prompt, int n) {
    const int V = ex.model().config.vocab_size;
    ex.reset_state();
    std::vector<float> logits(static_cast<size_t>(V));
    ex.forward(prompt.data(), prompt.size(), logits.data(), false);
    std::vector<int32_t> out;
    if (n == 0) return out;
    out.push_back(argmax(logits.data(), size_t(V)));
    while (int(out.size()) < n) out.push_back(ex.forward_argmax(out.back()));
    return out;
}

std::vector<int32_t> random_prompt(std::mt19937& rng, int vocab, int length) {
    std::uniform_int_distribution<int> tok(3, vocab - 1);
    std::vector<int32_t> p = {1};   // BOS
    while (int(p.size()) < length) p.push_back(tok(rng));
    return p;
}

// Collects every request's events and waits for their on_finish.
class Collector {
public:
    Request request(std::vector<int32_t> prompt, GenerateOptions options, int index) {
        Request r;
        r.prompt = std::move(prompt);
        r.options = std::move(options);
        r.on_token = [this, index](const TokenEvent& e) {
            std::lock_guard lock(mu_);
            streamed_[index].push_back(e);
            cv_.notify_all();
        };
        r.on_finish = [this, index](const FinishEvent& f) {
            std::lock_guard lock(mu_);
            finished_[index] = f;
            cv_.notify_all();
        };
        return r;
    }
    bool wait_finished(size_t count, int timeout_ms = 60000) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return finished_.size() >= count; });
    }
    bool wait_tokens(int index, size_t count, int timeout_ms = 60000) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return streamed_[index].size() >= count || finished_.count(index); });
    }
    size_t tokens_so_far(int index) {
        std::lock_guard lock(mu_);
        return streamed_[index].size();
    }
    FinishEvent finished(int index) {
        std::lock_guard lock(mu_);
        return finished_.at(index);
    }
    std::vector<TokenEvent> streamed(int index) {
        std::lock_guard lock(mu_);
        return streamed_[index];
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<int, std::vector<TokenEvent>> streamed_;
    std::map<int, FinishEvent> finished_;
};

// A small random-weight model with the real 32000-piece tokenizer: text paths without a big model.
std::shared_ptr<const Model> small_text_model() {
    ModelConfig c;
    c.vocab_size = 32000; c.hidden_size = 64; c.num_layers = 2; c.intermediate_size = 256;
    auto m = std::make_shared<Model>(*make_synthetic_model(c, 7));
    m->tokenizer_path = MMFREE_TEST_DATA "/mistral-v1.tokenizer.model";
    return m;
}

} // namespace

class TestScheduler : public QObject {
    Q_OBJECT
private slots:
    // Mixed prompt lengths, more requests than slots, half of them joining while the first half
    // runs: each gets exactly the greedy tokens of a single-sequence run.
    void batched_equals_single_sequence() {
        const GoldenCase g = load_golden("tiny-b");
        std::mt19937 rng(5);
        std::vector<std::vector<int32_t>> prompts;
        std::vector<int> lengths;
        for (int i = 0; i < 12; ++i) {
            prompts.push_back(random_prompt(rng, g.V, 1 + (i * 7) % 37));
            lengths.push_back(1 + (i * 5) % 19);
        }
        auto single = cpu_executor(g.model, 1);
        SchedulerOptions so;
        so.prefill_chunk = 8;
        so.prefix_cache_bytes = 0;
        Collector c;
        {
            Scheduler s(cpu_executor(g.model, 4), nullptr, so);
            for (int i = 0; i < 6; ++i) s.submit(c.request(prompts[size_t(i)], greedy(lengths[size_t(i)]), i));
            QVERIFY(c.wait_tokens(0, 3));
            for (int i = 6; i < 12; ++i) s.submit(c.request(prompts[size_t(i)], greedy(lengths[size_t(i)]), i));
            QVERIFY(c.wait_finished(12));
            QCOMPARE(s.stats().running, 0);
            QCOMPARE(s.stats().generated_tokens_total, uint64_t(std::accumulate(lengths.begin(), lengths.end(), 0)));
        }
        for (int i = 0; i < 12; ++i) {
            const FinishEvent f = c.finished(i);
            QCOMPARE(f.reason, StopReason::MaxTokens);
            QCOMPARE(f.tokens, greedy_alone(*single, prompts[size_t(i)], lengths[size_t(i)]));
            QCOMPARE(c.streamed(i).size(), f.tokens.size());
        }
    }

    void golden_cases_in_one_batch_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("cpu") << "cpu";
        QTest::newRow("cpu-reference") << "cpu-reference";
    }
    // Each golden case's prompt beside its own prefixes in one batch: the full prompt reproduces
    // the reference implementation's 24 greedy tokens, the prefixes their single-sequence runs.
    void golden_cases_in_one_batch() {
        QFETCH(QString, backend);
        for (const auto& name : golden_case_names()) {
            const GoldenCase g = load_golden(name);
            SchedulerOptions so;
            so.prefill_chunk = 5;
            Collector c;
            const std::vector<size_t> cuts = {size_t(g.T), 1, size_t(g.T) / 2, size_t(g.T) - 1};
            {
                Scheduler s(cpu_executor(g.model, 3, backend.toStdString()), nullptr, so);
                for (size_t i = 0; i < cuts.size(); ++i)
                    s.submit(c.request(std::vector<int32_t>(g.prompt.begin(), g.prompt.begin() + std::ptrdiff_t(cuts[i])), greedy(24), int(i)));
                QVERIFY(c.wait_finished(cuts.size()));
            }
            QCOMPARE(c.finished(0).tokens, g.greedy_tokens);
            auto single = cpu_executor(g.model, 1, backend.toStdString());
            for (size_t i = 1; i < cuts.size(); ++i)
                QCOMPARE(c.finished(int(i)).tokens,
                         greedy_alone(*single, std::vector<int32_t>(g.prompt.begin(), g.prompt.begin() + std::ptrdiff_t(cuts[i])), 24));
        }
    }

    // cancel() ends a running request within one step and a queued one before it starts.
    void cancel_within_one_step() {
        const GoldenCase g = load_golden("tiny-a");
        Collector c;
        Scheduler s(cpu_executor(g.model, 1), nullptr);
        const auto running = s.submit(c.request(g.prompt, greedy(1000000), 0));
        const auto queued = s.submit(c.request(g.prompt, greedy(10), 1));
        QVERIFY(c.wait_tokens(0, 5));
        s.cancel(queued);
        const size_t at_cancel = c.tokens_so_far(0);
        s.cancel(running);
        QVERIFY(c.wait_finished(2));
        QCOMPARE(c.finished(0).reason, StopReason::Cancelled);
        QVERIFY2(c.finished(0).tokens.size() <= at_cancel + 1, qPrintable(QString("%1 tokens after cancel at %2").arg(c.finished(0).tokens.size()).arg(at_cancel)));
        QCOMPARE(c.finished(1).reason, StopReason::Cancelled);
        QVERIFY(c.finished(1).tokens.empty());
        s.cancel(12345);   // unknown: ignored
        QCOMPARE(s.stats().running, 0);
    }

    // The destructor ends everything still queued or running with Cancelled.
    void destructor_cancels_everything() {
        const GoldenCase g = load_golden("tiny-a");
        Collector c;
        {
            Scheduler s(cpu_executor(g.model, 1), nullptr);
            s.submit(c.request(g.prompt, greedy(1000000), 0));
            s.submit(c.request(g.prompt, greedy(1000000), 1));
            QVERIFY(c.wait_tokens(0, 1));
        }
        QVERIFY(c.wait_finished(2, 0));
        QCOMPARE(c.finished(0).reason, StopReason::Cancelled);
        QCOMPARE(c.finished(1).reason, StopReason::Cancelled);
    }

    void queue_full_is_busy() {
        const GoldenCase g = load_golden("tiny-a");
        SchedulerOptions so;
        so.max_queue = 1;
        Collector c;
        Scheduler s(cpu_executor(g.model, 1), nullptr, so);
        const auto a = s.submit(c.request(g.prompt, greedy(1000000), 0));   // takes the slot
        const auto b = s.submit(c.request(g.prompt, greedy(1000000), 1));   // waits
        try {
            s.submit(c.request(g.prompt, greedy(1), 2));
            QFAIL("a third request fit into one slot and one queue place");
        } catch (const Error& e) {
            QCOMPARE(e.code(), ErrorCode::Busy);
        }
        s.cancel(a);
        s.cancel(b);
        QVERIFY(c.wait_finished(2));
    }

    void bad_requests_are_refused() {
        const GoldenCase g = load_golden("tiny-a");
        Scheduler s(cpu_executor(g.model, 1), nullptr);
        auto refused = [&](Request r) {
            try {
                s.submit(std::move(r));
            } catch (const Error& e) {
                return e.code() == ErrorCode::InvalidArgument;
            }
            return false;
        };
        Request empty;
        QVERIFY(refused(empty));
        Request out_of_vocab;
        out_of_vocab.prompt = {1, g.V};
        QVERIFY(refused(out_of_vocab));
        Request stop_without_tokenizer;
        stop_without_tokenizer.prompt = {1};
        stop_without_tokenizer.options.stop_strings = {"x"};
        QVERIFY(refused(stop_without_tokenizer));
        Request bad_top_p;
        bad_top_p.prompt = {1};
        bad_top_p.options.sampling.top_p = 0;
        QVERIFY(refused(bad_top_p));
    }

    // A stop string split over two tokens ends the text right before it, as generate() does, and
    // the streamed pieces plus the tail are exactly the final text.
    void stop_strings_across_tokens() {
        auto model = small_text_model();
        std::shared_ptr<const Tokenizer> tok = Tokenizer::for_model(*model);
        const std::vector<int32_t> prompt = tok->encode("Once upon a time", true);
        // Unstopped: where do token texts begin and end?
        Collector c;
        {
            Scheduler s(cpu_executor(model, 2), tok);
            s.submit(c.request(prompt, greedy(40), 0));
            QVERIFY(c.wait_finished(1));
        }
        const std::string full = c.finished(0).text;
        std::vector<size_t> boundaries;   // text length after each token
        size_t len = 0;
        for (const auto& e : c.streamed(0)) boundaries.push_back(len += e.text.size());
        size_t cut = 0;
        for (size_t b : boundaries)
            if (b >= 4 && b + 3 <= full.size() && b >= full.size() / 3) { cut = b; break; }
        QVERIFY2(cut > 0, full.c_str());
        const std::string stop = full.substr(cut - 2, 5);   // straddles a token boundary
        const std::string expected = full.substr(0, full.find(stop));

        GenerateOptions o = greedy(40);
        o.stop_strings = {"never appears \x01", stop};
        Collector d;
        {
            Scheduler s(cpu_executor(model, 2), tok);
            s.submit(d.request(prompt, o, 0));
            s.submit(d.request(prompt, greedy(7), 1));   // a companion that stops on max_tokens
            QVERIFY(d.wait_finished(2));
        }
        const FinishEvent f = d.finished(0);
        QCOMPARE(f.reason, StopReason::StopString);
        QCOMPARE(f.text, expected);
        std::string streamed;
        for (const auto& e : d.streamed(0)) streamed += e.text;
        QCOMPARE(streamed + f.tail_text, f.text);
        // The single-sequence loop shares the stop-string logic and agrees.
        Session session(cpu_executor(model, 1));
        const GenerateResult r = generate(session, *tok, "Once upon a time", o);
        QCOMPARE(r.text, expected);
        QCOMPARE(r.tokens, f.tokens);
    }

    // Same seed → same tokens, whoever shares the batch; another seed → other tokens.
    void seeds_reproduce() {
        const GoldenCase g = load_golden("tiny-b");
        GenerateOptions o;
        o.max_tokens = 30;
        o.stop_at_eos = false;
        o.sampling.temperature = 1.0f;
        o.sampling.top_k = 0;
        o.sampling.top_p = 0.98f;
        o.sampling.min_p = 0;
        o.sampling.seed = 1234;
        GenerateOptions other = o;
        other.sampling.seed = 99;
        Collector c;
        {
            Scheduler s(cpu_executor(g.model, 3), nullptr);
            s.submit(c.request(g.prompt, o, 0));
            s.submit(c.request(g.prompt, o, 1));
            s.submit(c.request(g.prompt, other, 2));
            QVERIFY(c.wait_finished(3));
        }
        Collector d;
        {
            Scheduler s(cpu_executor(g.model, 2), nullptr);
            s.submit(d.request(g.prompt, greedy(3), 0));
            s.submit(d.request(g.prompt, o, 1));
            QVERIFY(d.wait_finished(2));
        }
        QCOMPARE(c.finished(0).tokens.size(), size_t(30));
        QCOMPARE(c.finished(1).tokens, c.finished(0).tokens);
        QCOMPARE(d.finished(1).tokens, c.finished(0).tokens);
        QVERIFY(c.finished(2).tokens != c.finished(0).tokens);
    }

    // A follow-up that extends an earlier request, and a repeat, resume from cached states and
    // give exactly the tokens of a cold run.
    void prefix_cache_resume_equals_cold_run() {
        const GoldenCase g = load_golden("tiny-b");
        std::mt19937 rng(11);
        const std::vector<int32_t> first = random_prompt(rng, g.V, 30);
        SchedulerOptions so;
        so.prefill_chunk = 7;
        Collector c;
        Scheduler s(cpu_executor(g.model, 2), nullptr, so);
        s.submit(c.request(first, greedy(10), 0));
        QVERIFY(c.wait_finished(1));
        QCOMPARE(c.finished(0).cached_tokens, 0);
        std::vector<int32_t> follow_up = first;
        const auto reply = c.finished(0).tokens;
        follow_up.insert(follow_up.end(), reply.begin(), reply.end());
        for (int t : {5, 6, 7, 8}) follow_up.push_back(t);
        s.submit(c.request(follow_up, greedy(12), 1));
        s.submit(c.request(first, greedy(10), 2));
        QVERIFY(c.wait_finished(3));
        // The state after the reply's fed tokens (its last token was never fed back).
        QCOMPARE(c.finished(1).cached_tokens, int(first.size() + reply.size() - 1));
        QCOMPARE(c.finished(2).cached_tokens, int(first.size() - 1));
        auto single = cpu_executor(g.model, 1);
        QCOMPARE(c.finished(1).tokens, greedy_alone(*single, follow_up, 12));
        QCOMPARE(c.finished(2).tokens, c.finished(0).tokens);
        const SchedulerStats st = s.stats();
        QCOMPARE(st.prefix_cache_hits, uint64_t(2));
        QCOMPARE(st.prefix_cache_misses, uint64_t(1));
        QCOMPARE(st.prefix_cache_tokens_saved, uint64_t(c.finished(1).cached_tokens + c.finished(2).cached_tokens));
    }

    // A prompt state handed out by one scheduler and remembered by a fresh one (the app across a
    // restart) resumes a longer prompt with exactly the cold run's tokens; bad states are refused.
    void remembered_prompt_state_resumes_in_a_new_scheduler() {
        const GoldenCase g = load_golden("tiny-b");
        std::mt19937 rng(12);
        const std::vector<int32_t> first = random_prompt(rng, g.V, 25);
        SchedulerOptions so;
        so.prefill_chunk = 6;
        FinishEvent kept;
        {
            Collector c;
            Scheduler s(cpu_executor(g.model, 2), nullptr, so);
            Request r = c.request(first, greedy(4), 0);
            r.return_prompt_state = true;
            s.submit(std::move(r));
            QVERIFY(c.wait_finished(1));
            kept = c.finished(0);
        }
        QCOMPARE(kept.prompt_state_tokens, std::vector<int32_t>(first.begin(), first.end() - 1));
        QCOMPARE(kept.prompt_state.size(), size_t(g.model->config.num_layers) * size_t(g.model->config.state_dim()));

        std::vector<int32_t> longer = first;
        for (int t : {9, 10, 11}) longer.push_back(t);
        Collector c;
        Scheduler fresh(cpu_executor(g.model, 2), nullptr, so);
        fresh.remember_prefix(kept.prompt_state_tokens, kept.prompt_state);
        fresh.submit(c.request(longer, greedy(8), 0));
        QVERIFY(c.wait_finished(1));
        QCOMPARE(c.finished(0).cached_tokens, int(first.size() - 1));
        auto single = cpu_executor(g.model, 1);
        QCOMPARE(c.finished(0).tokens, greedy_alone(*single, longer, 8));
        QVERIFY(c.finished(0).prompt_state.empty());   // not asked for

        auto refused = [&](std::vector<int32_t> tokens, std::vector<float> state) {
            try {
                fresh.remember_prefix(std::move(tokens), std::move(state));
            } catch (const Error& e) {
                return e.code() == ErrorCode::InvalidArgument;
            }
            return false;
        };
        QVERIFY(refused(kept.prompt_state_tokens, std::vector<float>(7)));
        QVERIFY(refused({1, g.V}, kept.prompt_state));
    }

    // A client whose request owns the scheduler (the HTTP server's and the app's do, through their
    // per-request state) may hold the last reference: the scheduler then ends on its own thread,
    // cancelling what still runs, instead of aborting in a self-join.
    void last_reference_in_a_callback() {
        const GoldenCase g = load_golden("tiny-a");
        Collector c;
        auto s = std::make_shared<Scheduler>(cpu_executor(g.model, 2), nullptr);
        Request owner = c.request({1, 5, 6}, greedy(2), 0);
        owner.on_finish = [keep = s, inner = owner.on_finish](const FinishEvent& f) { inner(f); };
        s->submit(c.request({1, 7, 8}, greedy(100000), 1));
        s->submit(std::move(owner));
        s.reset();   // the callback's copy is the last one
        QVERIFY(c.wait_finished(2));
        QCOMPARE(c.finished(0).reason, StopReason::MaxTokens);
        QCOMPARE(c.finished(1).reason, StopReason::Cancelled);
    }

    // The least recently used states go first; lookups count as use; the budget holds.
    void prefix_cache_lru_eviction() {
        const size_t state_floats = 100;
        PrefixCache probe(size_t(1) << 20);
        probe.insert({1, 2, 3}, std::vector<float>(state_floats));
        const size_t one = probe.bytes();
        PrefixCache cache(2 * one + one / 2);   // room for two entries
        cache.insert({1, 2, 3}, std::vector<float>(state_floats, 1));
        cache.insert({1, 2, 4}, std::vector<float>(state_floats, 2));
        QCOMPARE(cache.longest_proper_prefix({1, 2, 3, 9}).length, size_t(3));   // {1,2,3} is now the most recent
        cache.insert({1, 5, 6}, std::vector<float>(state_floats, 3));            // evicts {1,2,4}
        QCOMPARE(cache.entries(), size_t(2));
        QVERIFY(cache.bytes() <= 2 * one + one / 2);
        QCOMPARE(cache.longest_proper_prefix({1, 2, 4, 9}).length, size_t(0));
        const auto hit = cache.longest_proper_prefix({1, 2, 3, 9});
        QCOMPARE(hit.length, size_t(3));
        QCOMPARE((*hit.state)[0], 1.0f);
        QCOMPARE(cache.longest_proper_prefix({1, 5, 6, 7, 8}).length, size_t(3));
        QCOMPARE(cache.longest_proper_prefix({1, 5, 6}).length, size_t(0));   // a proper prefix only
        PrefixCache tiny(one / 2);
        tiny.insert({1, 2, 3}, std::vector<float>(state_floats));   // larger than the whole budget
        QCOMPARE(tiny.entries(), size_t(0));
    }

    // Through the scheduler: a budget of two states never holds more.
    void prefix_cache_budget_in_scheduler() {
        const GoldenCase g = load_golden("tiny-a");
        const size_t state_bytes = size_t(g.model->config.num_layers) * g.model->config.state_dim() * sizeof(float);
        SchedulerOptions so;
        so.prefix_cache_bytes = 2 * state_bytes + 400;   // two states with their keys and bookkeeping, never three
        std::mt19937 rng(3);
        Collector c;
        Scheduler s(cpu_executor(g.model, 2), nullptr, so);
        for (int i = 0; i < 6; ++i) s.submit(c.request(random_prompt(rng, g.V, 12), greedy(4), i));
        QVERIFY(c.wait_finished(6));
        const SchedulerStats st = s.stats();
        QVERIFY(st.prefix_cache_entries <= 2);
        QVERIFY(st.prefix_cache_bytes <= so.prefix_cache_bytes);
        QVERIFY(st.prefix_cache_entries >= 1);
    }
    // Log-probabilities of a greedy stream: the chosen token leads its top list, and the values
    // are the log-softmax of the single-sequence logits.
    void logprobs() {
        const GoldenCase g = load_golden("tiny-b");
        Collector c;
        {
            Scheduler s(cpu_executor(g.model, 2), nullptr);
            Request r = c.request(g.prompt, greedy(5), 0);
            r.top_logprobs = 3;
            s.submit(std::move(r));
            s.submit(c.request(g.prompt, greedy(5), 1));   // a companion without log-probabilities
            QVERIFY(c.wait_finished(2));
        }
        const auto events = c.streamed(0);
        QCOMPARE(events.size(), size_t(5));
        QCOMPARE(c.finished(1).tokens, c.finished(0).tokens);
        auto single = cpu_executor(g.model, 1);
        std::vector<float> logits(static_cast<size_t>(g.V));
        single->forward(g.prompt.data(), g.prompt.size(), logits.data(), false);
        for (const auto& e : events) {
            QCOMPARE(e.top_logprobs.size(), size_t(3));
            QCOMPARE(e.top_logprobs[0].first, e.id);
            QCOMPARE(e.top_logprobs[0].second, e.logprob);
            QVERIFY(e.top_logprobs[0].second >= e.top_logprobs[1].second && e.top_logprobs[1].second >= e.top_logprobs[2].second);
            double z = 0;
            const float mx = *std::max_element(logits.begin(), logits.end());
            for (float x : logits) z += std::exp(double(x - mx));
            QVERIFY(std::abs(e.logprob - (logits[size_t(e.id)] - mx - std::log(z))) < 1e-4);
            single->forward(&e.id, 1, logits.data(), false);
        }
        for (const auto& e : c.streamed(1)) QVERIFY(e.top_logprobs.empty());
    }

    // `mmfree batch` end to end: ids lines of mixed lengths, more lines than --parallel, output
    // in input order with each line's single-sequence greedy tokens; text lines on the demo model
    // as generate() continues them; a malformed line named by its number. The CLI runs the
    // backend under test: greedy tokens agree across backends only up to near-ties.
    void batch_cli() {
        const GoldenCase g = load_golden("tiny-b");
        QTemporaryDir dir;
        std::mt19937 rng(21);
        std::vector<std::vector<int32_t>> prompts;
        {
            std::ofstream f((dir.path() + "/ids.jsonl").toStdString());
            for (int i = 0; i < 7; ++i) {
                prompts.push_back(random_prompt(rng, g.V, 1 + (i * 11) % 29));
                QJsonArray ids;
                for (int32_t t : prompts.back()) ids.append(t);
                f << QJsonDocument(QJsonObject{{"ids", ids}}).toJson(QJsonDocument::Compact).toStdString() << "\n";
            }
        }
        auto run_cli = [&](const QStringList& args, QString* err) {
            QProcess p;
            p.start(MMFREE_CLI, args);
            if (!p.waitForFinished(120000)) return -1;
            *err = QString::fromUtf8(p.readAllStandardError());
            return p.exitCode();
        };
        auto read_lines = [](const QString& path) {
            QFile f(path);
            std::vector<QJsonObject> lines;
            if (!f.open(QIODevice::ReadOnly)) return lines;
            for (const QByteArray& l : f.readAll().split('\n'))
                if (!l.isEmpty()) lines.push_back(QJsonDocument::fromJson(l).object());
            return lines;
        };
        auto ids_of = [](const QJsonObject& o) {
            std::vector<int32_t> v;
            for (const auto& x : o["ids"].toArray()) v.push_back(x.toInt());
            return v;
        };
        QString err;
        QCOMPARE(run_cli({"batch", "-m", QString::fromStdString(g.dir), "--prompts", dir.path() + "/ids.jsonl", "-n", "10", "--greedy",
                          "--ignore-eos", "--parallel", "3", "--backend", backend_under_test(), "-o", dir.path() + "/ids.out.jsonl"}, &err), 0);
        const auto lines = read_lines(dir.path() + "/ids.out.jsonl");
        QCOMPARE(lines.size(), prompts.size());
        auto single = cpu_executor(g.model, 1);
        for (size_t i = 0; i < prompts.size(); ++i) QCOMPARE(ids_of(lines[i]), greedy_alone(*single, prompts[i], 10));

        const QString demo = QString(MMFREE_TEST_DATA) + "/../../resources/models/mmfree-demo.gguf";
        const std::vector<std::string> texts = {"The capital of France is", "Hello, my name is", "Once upon a time, in a land far"};
        {
            std::ofstream f((dir.path() + "/text.jsonl").toStdString());
            for (const auto& t : texts) f << QJsonDocument(QJsonObject{{"prompt", QString::fromStdString(t)}}).toJson(QJsonDocument::Compact).toStdString() << "\n";
        }
        QCOMPARE(run_cli({"batch", "-m", demo, "--prompts", dir.path() + "/text.jsonl", "-n", "12", "--greedy", "--backend", backend_under_test(), "-o",
                          dir.path() + "/text.out.jsonl"}, &err), 0);
        const auto text_lines = read_lines(dir.path() + "/text.out.jsonl");
        QCOMPARE(text_lines.size(), texts.size());
        auto model = load_model(demo.toStdString());
        auto tok = Tokenizer::for_model(*model);
        for (size_t i = 0; i < texts.size(); ++i) {
            Session session(cpu_executor(model, 1));
            GenerateOptions o = greedy(12);
            o.stop_at_eos = true;
            const GenerateResult r = generate(session, *tok, texts[i], o);
            QCOMPARE(ids_of(text_lines[i]), r.tokens);
            QCOMPARE(text_lines[i]["text"].toString().toStdString(), r.text);
        }

        {
            std::ofstream f((dir.path() + "/bad.jsonl").toStdString());
            f << "{\"ids\":[1,2]}\n\n{\"ids\":[1,\"two\"]}\n";
        }
        QCOMPARE(run_cli({"batch", "-m", QString::fromStdString(g.dir), "--prompts", dir.path() + "/bad.jsonl", "-o", dir.path() + "/bad.out"}, &err), 2);
        QVERIFY2(err.contains("bad.jsonl:3:") && err.count('\n') <= 2, qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TestScheduler)
#include "test_scheduler.moc"
