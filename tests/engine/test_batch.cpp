// SPDX-License-Identifier: Apache-2.0
// Many sequences in one executor (sequence slots, batched decode) on the CPU backends: a sequence's
// results in a batch are its results alone. On the CPU they are equal bit for bit, not just
// within tolerance: the integer accumulators are exact whichever kernel computes them (one-row
// or batched), and every float operation of a row depends only on that row, in the same order.
#include <QtTest>
#include <algorithm>
#include <cstring>
#include <random>
#include <sstream>

#include "cpu/cpu_executor.h"
#include "golden.h"
#include "mmfree/backend.h"
#include "mmfree/error.h"
#include "mmfree/sampler.h"

using namespace mmfree;

namespace {

std::unique_ptr<Executor> make(const std::string& backend, std::shared_ptr<const Model> model, int slot_count) {
    BackendOptions o;
    o.backend = backend;
    o.slot_count = slot_count;
    o.allow_fallback = false;
    return create_executor(std::move(model), o);
}

std::vector<int32_t> random_prompt(int length, int vocab, std::mt19937& rng) {
    std::vector<int32_t> p{1};   // BOS
    while (int(p.size()) < length) p.push_back(3 + int32_t(rng() % uint32_t(vocab - 3)));
    return p;
}

// What one sequence produced: the logits after its prompt and after each decoded token, and
// the greedy tokens it chose.
struct Trace {
    std::vector<float> logits;
    std::vector<int32_t> tokens;
};

// The sequence alone in a fresh executor: whole-prompt prefill, then `steps` greedy decode steps.
Trace run_alone(const std::string& backend, std::shared_ptr<const Model> model, const std::vector<int32_t>& prompt, int steps) {
    const size_t V = size_t(model->config.vocab_size);
    auto ex = make(backend, model, 1);
    Trace tr;
    std::vector<float> row(V);
    ex->prefill(0, prompt.data(), prompt.size(), row.data(), false);
    for (int s = 0;; ++s) {
        tr.logits.insert(tr.logits.end(), row.begin(), row.end());
        tr.tokens.push_back(argmax(row.data(), V));
        if (s == steps) return tr;
        const int32_t slot = 0;
        ex->decode(&slot, &tr.tokens.back(), 1, row.data(), nullptr);
    }
}

// Empty when equal bit for bit, else where they first differ.
std::string first_difference(const Trace& got, const Trace& want, int V) {
    if (got.tokens != want.tokens) return "greedy tokens differ";
    if (got.logits.size() != want.logits.size()) return "logit counts differ";
    for (size_t i = 0; i < got.logits.size(); ++i)
        if (std::memcmp(&got.logits[i], &want.logits[i], sizeof(float)) != 0) {
            std::ostringstream ss;
            ss << "step " << i / size_t(V) << " logit " << i % size_t(V) << ": " << got.logits[i] << " vs alone " << want.logits[i];
            return ss.str();
        }
    return {};
}

// A sequence in a continuously batched run: joins at step `join` (prefilling its prompt `chunk`
// tokens per step, between decode steps of the others), then decodes `steps` tokens and leaves.
struct Sequence {
    Sequence(std::vector<int32_t> p, int join_step, int decode_steps, int prefill_chunk = 1 << 20)
        : prompt(std::move(p)), join(join_step), steps(decode_steps), chunk(prefill_chunk) {}
    std::vector<int32_t> prompt;
    int join, steps, chunk;
    // run state
    int slot = -1;
    size_t prefilled = 0;
    bool done = false;
    Trace trace;
};

// Runs the sequences as a scheduler would: each step, joining sequences take a free slot (reset,
// as the last user left it dirty) and prefill one chunk; then every sequence past its prompt
// decodes one token in a single decode() call; finished ones free their slot.
void run_batched(Executor& ex, std::vector<Sequence>& seqs) {
    const size_t V = size_t(ex.model().config.vocab_size);
    std::vector<bool> busy(size_t(ex.slot_count()), false);
    std::vector<float> row(V), logits;
    for (int step = 0; std::any_of(seqs.begin(), seqs.end(), [](const Sequence& s) { return !s.done; }); ++step) {
        std::vector<int32_t> slot_ids, tokens;
        std::vector<Sequence*> decoding;
        for (Sequence& s : seqs) {
            if (s.done || step < s.join) continue;
            if (s.slot < 0) {
                s.slot = int(std::find(busy.begin(), busy.end(), false) - busy.begin());
                QVERIFY2(s.slot < ex.slot_count(), "test setup: more sequences at once than slots");
                busy[size_t(s.slot)] = true;
                ex.reset_slot(s.slot);
            }
            if (s.prefilled < s.prompt.size()) {
                const size_t n = std::min(size_t(s.chunk), s.prompt.size() - s.prefilled);
                const bool last = s.prefilled + n == s.prompt.size();
                ex.prefill(s.slot, &s.prompt[s.prefilled], n, last ? row.data() : nullptr, false);
                s.prefilled += n;
                if (last) {
                    s.trace.logits.insert(s.trace.logits.end(), row.begin(), row.end());
                    s.trace.tokens.push_back(argmax(row.data(), V));
                }
                continue;
            }
            slot_ids.push_back(s.slot);
            tokens.push_back(s.trace.tokens.back());
            decoding.push_back(&s);
        }
        if (decoding.empty()) continue;
        logits.assign(decoding.size() * V, 0.f);
        std::vector<int32_t> best(decoding.size(), -1);
        ex.decode(slot_ids.data(), tokens.data(), decoding.size(), logits.data(), best.data());
        for (size_t b = 0; b < decoding.size(); ++b) {
            Sequence& s = *decoding[b];
            const float* r = &logits[b * V];
            s.trace.logits.insert(s.trace.logits.end(), r, r + V);
            s.trace.tokens.push_back(argmax(r, V));
            QCOMPARE(best[b], s.trace.tokens.back());   // the argmax output matches the logits
            if (int(s.trace.tokens.size()) == s.steps + 1) {
                s.done = true;
                busy[size_t(s.slot)] = false;
            }
        }
    }
}

template <class Fn> std::string refusal(Fn fn) {
    try {
        fn();
    } catch (const Error& e) {
        if (e.code() != ErrorCode::InvalidArgument) return "wrong error code: " + std::string(e.what());
        return e.what();
    }
    return "(accepted)";
}

} // namespace

class TestBatch : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { model_ = testkit::load_golden("tiny-b").model; }

    void backends_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("cpu") << "cpu";
        QTest::newRow("cpu-reference") << "cpu-reference";
    }

    // Seven sequences with prompts of 1 to 70 tokens (past one 64-token prefill chunk) decode
    // together: seven rows leave a tail for every micro-kernel width of the batched kernel.
    void mixed_prompts_equal_alone_data() { backends_data(); }
    void mixed_prompts_equal_alone() {
        QFETCH(QString, backend);
        const int V = model_->config.vocab_size;
        std::mt19937 rng(41);
        std::vector<Sequence> seqs;
        for (int len : {1, 2, 3, 5, 17, 40, 70}) seqs.emplace_back(random_prompt(len, V, rng), 0, 12);
        auto ex = make(backend.toStdString(), model_, 8);
        run_batched(*ex, seqs);
        for (const Sequence& s : seqs) {
            const std::string diff = first_difference(s.trace, run_alone(backend.toStdString(), model_, s.prompt, s.steps), V);
            QVERIFY2(diff.empty(), ("prompt of " + std::to_string(s.prompt.size()) + ": " + diff).c_str());
        }
    }

    // decode_logits hands out the same rows decode writes.
    void decode_logits_equals_decode_data() { backends_data(); }
    void decode_logits_equals_decode() {
        QFETCH(QString, backend);
        const std::string err = testkit::check_decode_logits([&] { return make(backend.toStdString(), model_, 5); }, 5);
        QVERIFY2(err.empty(), err.c_str());
    }

    // decode_sample (the host's default: decode_logits, then Sampler::draw per row) picks the
    // tokens the host draws from the same rows.
    void decode_sample_equals_host_draw_data() { backends_data(); }
    void decode_sample_equals_host_draw() {
        QFETCH(QString, backend);
        const std::string err = testkit::check_decode_sample([&] { return make(backend.toStdString(), model_, 5); }, 5);
        QVERIFY2(err.empty(), err.c_str());
    }

    // A burst of joining prompts fed by prefill_many (pieces of five slots, in two rounds, one of
    // them past a 64-row chunk, slots out of order): every slot's state, and the logits of its
    // last prompt token decoded in one batch, equal the prompt prefilled alone, bit for bit.
    void prompts_prefilled_together_equal_alone_data() { backends_data(); }
    void prompts_prefilled_together_equal_alone() {
        QFETCH(QString, backend);
        std::mt19937 rng(47);
        std::vector<std::vector<int32_t>> prompts;
        for (int len : {2, 4, 41, 90, 10}) prompts.push_back(random_prompt(len, model_->config.vocab_size, rng));
        const int n = int(prompts.size());
        auto ex = make(backend.toStdString(), model_, n);
        const std::string err = testkit::check_prefill_many(*ex, prompts, 25, [&] { return make(backend.toStdString(), model_, n); });
        QVERIFY2(err.empty(), err.c_str());
    }

    // Continuous batching: sequences join while others run (their prompts prefilled a few tokens
    // per step between decode steps), leave when done, and later ones reuse the freed slots,
    // which are reset first. Three slots serve six sequences.
    void join_and_leave_mid_run_data() { backends_data(); }
    void join_and_leave_mid_run() {
        QFETCH(QString, backend);
        const int V = model_->config.vocab_size;
        std::mt19937 rng(43);
        std::vector<Sequence> seqs = {
            {random_prompt(9, V, rng), 0, 10, 4},  {random_prompt(4, V, rng), 2, 3, 2},   {random_prompt(30, V, rng), 3, 8, 7},
            {random_prompt(6, V, rng), 7, 9, 1},   {random_prompt(13, V, rng), 13, 5, 5}, {random_prompt(2, V, rng), 16, 6, 64},
        };
        auto ex = make(backend.toStdString(), model_, 3);
        run_batched(*ex, seqs);
        // Every sequence finished: six through three slots, so freed slots were reset and reused.
        for (size_t i = 0; i < seqs.size(); ++i) {
            QVERIFY(seqs[i].done);
            const std::string diff = first_difference(seqs[i].trace, run_alone(backend.toStdString(), model_, seqs[i].prompt, seqs[i].steps), V);
            QVERIFY2(diff.empty(), ("sequence " + std::to_string(i) + ": " + diff).c_str());
        }
    }

    // Every golden case's protocol in one batch: slot 0 decodes greedily (tokens and decode
    // logits against the reference), slot 1 is teacher-forced with the golden tokens (full
    // logits), slot 2 runs another prompt alongside; all three advance in the same decode calls.
    void golden_cases_in_one_batch_data() {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<QString>("golden");
        for (const char* b : {"cpu", "cpu-reference"})
            for (const auto& g : testkit::golden_case_names())
                QTest::newRow((std::string(b) + " " + g).c_str()) << QString(b) << QString::fromStdString(g);
    }
    void golden_cases_in_one_batch() {
        QFETCH(QString, backend);
        QFETCH(QString, golden);
        const testkit::GoldenCase g = testkit::load_golden(golden.toStdString());
        const size_t V = size_t(g.V), steps = g.greedy_tokens.size();
        auto ex = make(backend.toStdString(), g.model, 3);

        std::vector<float> prefill(size_t(g.T) * V), last(V);
        ex->prefill(0, g.prompt.data(), g.prompt.size(), prefill.data(), true);
        QVERIFY2(testkit::check_tolerance(prefill, g.prefill_logits, g.V, g.name + " prefill").empty(), "prefill");
        ex->load_slot(1, ex->save_slot(0));
        std::vector<int32_t> other(g.prompt.rbegin(), g.prompt.rend());   // reversed: another sequence
        ex->prefill(2, other.data(), other.size(), last.data(), false);

        std::vector<int32_t> greedy = {argmax(&prefill[size_t(g.T - 1) * V], V)};
        std::vector<int32_t> other_tokens = {argmax(last.data(), V)};
        std::vector<float> decode, forced(prefill), logits(3 * V);
        for (size_t i = 0; i < steps; ++i) {
            // The greedy sequence needs steps − 1 decodes; in the last step it has left the batch.
            const bool greedy_runs = i + 1 < steps;
            const std::vector<int32_t> ids = greedy_runs ? std::vector<int32_t>{2, 0, 1} : std::vector<int32_t>{2, 1};
            const std::vector<int32_t> feed = greedy_runs ? std::vector<int32_t>{other_tokens.back(), greedy.back(), g.greedy_tokens[i]}
                                                          : std::vector<int32_t>{other_tokens.back(), g.greedy_tokens[i]};
            ex->decode(ids.data(), feed.data(), ids.size(), logits.data(), nullptr);
            other_tokens.push_back(argmax(&logits[0], V));
            if (greedy_runs) {
                decode.insert(decode.end(), &logits[V], &logits[2 * V]);
                greedy.push_back(argmax(&logits[V], V));
            }
            const float* f = &logits[(ids.size() - 1) * V];
            forced.insert(forced.end(), f, f + V);
        }
        QCOMPARE(greedy, g.greedy_tokens);
        std::string err = testkit::check_tolerance(decode, g.decode_logits, g.V, g.name + " decode_logits");
        QVERIFY2(err.empty(), err.c_str());
        err = testkit::check_tolerance(forced, g.full_logits, g.V, g.name + " teacher-forced full_logits");
        QVERIFY2(err.empty(), err.c_str());
        // The sequence that ran alongside: the same as alone, bit for bit.
        const Trace alone = run_alone(backend.toStdString(), g.model, other, int(steps));
        QCOMPARE(other_tokens, alone.tokens);
    }

    // MMFREE_CPU_PREFETCH_NEXT_KB: workers that finish a decode region ask for their rows of the
    // next one. It only moves bytes into caches: the logits stay the same bit for bit. The model
    // is large enough (512 wide, 1408 intermediate) that regions run on two threads.
    void prefetching_the_next_region_changes_nothing() {
        ModelConfig c;
        c.vocab_size = 2048; c.hidden_size = 512; c.num_layers = 2; c.intermediate_size = 1408;
        const std::shared_ptr<const Model> model = make_synthetic_model(c, 5);
        auto trace = [&](const char* prefetch_kb) {
            qputenv("MMFREE_CPU_PREFETCH_NEXT_KB", prefetch_kb);
            cpu::CpuExecutor ex(model, false, 2, 1, cpu::CpuWeights::TwoBit);
            qunsetenv("MMFREE_CPU_PREFETCH_NEXT_KB");
            const std::vector<int32_t> prompt{1, 17, 400, 1999, 3};
            Trace tr;
            std::vector<float> row(size_t(c.vocab_size));
            ex.prefill(0, prompt.data(), prompt.size(), row.data(), false);
            for (int s = 0; s < 6; ++s) {
                tr.logits.insert(tr.logits.end(), row.begin(), row.end());
                tr.tokens.push_back(argmax(row.data(), row.size()));
                const int32_t slot = 0;
                ex.decode(&slot, &tr.tokens.back(), 1, row.data(), nullptr);
            }
            return tr;
        };
        const std::string diff = first_difference(trace("4"), trace("0"), c.vocab_size);
        QVERIFY2(diff.empty(), diff.c_str());
    }

    // Bad slot ids are refused with a one-line message before any state changes.
    void invalid_slots_are_refused_data() { backends_data(); }
    void invalid_slots_are_refused() {
        QFETCH(QString, backend);
        auto ex = make(backend.toStdString(), model_, 4);
        const int32_t bos = 1;
        ex->prefill(0, &bos, 1, nullptr, false);
        const std::vector<float> before = ex->save_slot(0);
        const int32_t tokens[5] = {5, 6, 7, 8, 9};
        auto decode = [&](std::vector<int32_t> ids) {
            return refusal([&] { ex->decode(ids.data(), tokens, ids.size(), nullptr, nullptr); });
        };
        QCOMPARE(decode({0, 2, 0}), std::string("slot 0 appears twice in one decode step"));
        QCOMPARE(decode({0, 4}), std::string("sequence slot 4 does not exist; this executor has 4 (0..3)"));
        QCOMPARE(decode({-1}), std::string("sequence slot -1 does not exist; this executor has 4 (0..3)"));
        QCOMPARE(decode({0, 1, 2, 3, 0}), std::string("a decode step of 5 sequences exceeds the 4 slots of this executor"));
        QVERIFY(refusal([&] { ex->prefill(4, tokens, 2, nullptr, false); }).find("slot 4 does not exist") != std::string::npos);
        QVERIFY(refusal([&] { ex->reset_slot(-2); }).find("slot -2 does not exist") != std::string::npos);
        QVERIFY(refusal([&] { (void)ex->save_slot(9); }).find("slot 9 does not exist") != std::string::npos);
        QVERIFY(refusal([&] { ex->load_slot(0, {1.f, 2.f}); }).find("state has 2 values") != std::string::npos);
        QVERIFY(ex->save_slot(0) == before);   // nothing above touched slot 0
        QVERIFY(refusal([&] { make(backend.toStdString(), model_, 0); }).find("at least one sequence slot") != std::string::npos);
        // No slots in the step: nothing to do, no error.
        ex->decode(nullptr, nullptr, 0, nullptr, nullptr);
    }

private:
    std::shared_ptr<const Model> model_;
};

QTEST_GUILESS_MAIN(TestBatch)
#include "test_batch.moc"
