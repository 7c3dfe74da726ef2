// SPDX-License-Identifier: Apache-2.0
// Sampler, Session and the generation loop on a small random-weight model with the real
// 32000-piece tokenizer: gibberish text, but every path of the real pipeline.
#include <QtTest>

#include <cmath>
#include <thread>

#include "mmfree/generate.h"
#include "mmfree/model.h"
#include "mmfree/sampler.h"
#include "mmfree/session.h"

using namespace mmfree;

static BackendOptions cpu_backend() {
    BackendOptions o;
    o.backend = "cpu";
    return o;
}

namespace {

std::shared_ptr<const Model> small_text_model() {
    ModelConfig c;
    c.vocab_size = 32000; c.hidden_size = 64; c.num_layers = 2; c.intermediate_size = 256;
    auto m = std::make_shared<Model>(*make_synthetic_model(c, 7));
    m->tokenizer_path = MMFREE_TEST_DATA "/mistral-v1.tokenizer.model";
    return m;
}

GenerateOptions greedy(int n) {
    GenerateOptions o;
    o.sampling.temperature = 0;
    o.sampling.repetition_penalty = 1;
    o.max_tokens = n;
    o.stop_at_eos = false;
    return o;
}

} // namespace

class TestRuntime : public QObject {
    Q_OBJECT
    std::shared_ptr<const Model> model_;
    std::unique_ptr<Tokenizer> tok_;

    std::unique_ptr<Session> session() { return std::make_unique<Session>(create_executor(model_, cpu_backend())); }

private slots:
    void initTestCase() {
        model_ = small_text_model();
        tok_ = Tokenizer::for_model(*model_);
    }

    void sampler_greedy_and_top_k1() {
        std::vector<float> l = {0.1f, 2.0f, -1.0f, 1.9f};
        SamplingParams p;
        p.temperature = 0;
        QCOMPARE(Sampler(p).sample(l, {}), 1);
        p.temperature = 1.5f; p.top_k = 1;
        Sampler s(p);
        for (int i = 0; i < 20; ++i) QCOMPARE(s.sample(l, {}), 1);
    }

    void sampler_seed_reproducible() {
        std::vector<float> l(100);
        for (int i = 0; i < 100; ++i) l[i] = std::sin(i * 0.37f) * 3;
        SamplingParams p;
        p.temperature = 1.0f; p.top_k = 0; p.top_p = 1; p.min_p = 0; p.seed = 1234;
        Sampler a(p), b(p);
        std::vector<int32_t> ra, rb;
        for (int i = 0; i < 50; ++i) { ra.push_back(a.sample(l, {})); rb.push_back(b.sample(l, {})); }
        QCOMPARE(ra, rb);
        p.seed = 99;
        Sampler c(p);
        std::vector<int32_t> rc;
        for (int i = 0; i < 50; ++i) rc.push_back(c.sample(l, {}));
        QVERIFY(rc != ra);
    }

    // With logits {0, ln 3} at temperature 1, token 1 has probability 3/4.
    void sampler_follows_softmax() {
        std::vector<float> l = {0.0f, std::log(3.0f)};
        SamplingParams p;
        p.temperature = 1; p.top_k = 0; p.top_p = 1; p.min_p = 0; p.repetition_penalty = 1; p.seed = 5;
        Sampler s(p);
        int ones = 0;
        for (int i = 0; i < 20000; ++i) ones += s.sample(l, {});
        QVERIFY2(std::abs(ones / 20000.0 - 0.75) < 0.015, qPrintable(QString::number(ones / 20000.0)));
    }

    void sampler_min_p_and_top_p_cut_the_tail() {
        // Probabilities ≈ {0.6, 0.3, 0.1 spread over many}: min_p 0.4 keeps only the top two.
        std::vector<float> l(12, std::log(0.01f));
        l[0] = std::log(0.6f); l[1] = std::log(0.3f);
        SamplingParams p;
        p.temperature = 1; p.top_k = 0; p.top_p = 1; p.min_p = 0.4f; p.repetition_penalty = 1; p.seed = 3;
        Sampler s(p);
        for (int i = 0; i < 500; ++i) QVERIFY(s.sample(l, {}) <= 1);
        p.min_p = 0; p.top_p = 0.5f;   // the first token alone reaches 0.5
        Sampler t(p);
        for (int i = 0; i < 200; ++i) QCOMPARE(t.sample(l, {}), 0);
    }

    void sampler_repetition_penalty() {
        std::vector<float> l = {2.0f, 1.9f};
        SamplingParams p;
        p.temperature = 0; p.repetition_penalty = 1.2f;
        QCOMPARE(Sampler(p).sample(l, {0}), 1);   // 2.0/1.2 < 1.9
        QCOMPARE(Sampler(p).sample(l, {1}), 0);
    }

    void generate_streams_and_counts() {
        auto s = session();
        std::string streamed;
        int metrics_calls = 0;
        GenerateCallbacks cb;
        cb.on_text = [&](std::string_view t) { streamed += t; };
        cb.on_token_metrics = [&](const TokenMetrics& m) { ++metrics_calls; QVERIFY(m.latency_ms >= 0); };
        auto r = generate(*s, *tok_, "Once upon a time", greedy(12), cb);
        QCOMPARE(r.reason, StopReason::MaxTokens);
        QCOMPARE(int(r.tokens.size()), 12);
        QCOMPARE(streamed, r.text);
        QCOMPARE(metrics_calls, 12);
        QCOMPARE(r.metrics.generated_tokens, 12);
        QVERIFY(r.metrics.ttft_ms > 0);
        QVERIFY(r.metrics.decode_tok_s > 0);
        const int prompt = int(tok_->encode("Once upon a time", true).size());
        QCOMPARE(r.metrics.prompt_tokens, prompt);
        QCOMPARE(s->position(), size_t(prompt + 12));  // every emitted token was fed back
    }

    // A stop string ends the reply before it, also when it spans several tokens.
    void generate_stop_string() {
        auto s = session();
        const auto full = generate(*s, *tok_, "Hello", greedy(30));
        QVERIFY(full.text.size() > 12);
        const std::string stop = full.text.substr(full.text.size() / 2, 5);
        const std::string expected = full.text.substr(0, full.text.find(stop));
        auto s2 = session();
        GenerateOptions o = greedy(30);
        o.stop_strings = {stop};
        std::string streamed;
        GenerateCallbacks cb;
        cb.on_text = [&](std::string_view t) { streamed += t; };
        const auto r = generate(*s2, *tok_, "Hello", o, cb);
        QCOMPARE(r.reason, StopReason::StopString);
        QCOMPARE(r.text, expected);
        QCOMPARE(streamed, expected);  // nothing of the stop string leaked into the stream
    }

    void generate_cancel_from_another_thread() {
        auto s = session();
        std::atomic<bool> cancel{false};
        std::atomic<int> pieces{0};
        GenerateCallbacks cb;
        cb.cancel = &cancel;
        cb.on_token_metrics = [&](const TokenMetrics&) { ++pieces; };
        GenerateResult r;
        std::thread worker([&] { r = generate(*s, *tok_, "Hello", greedy(100000), cb); });
        while (pieces < 3) std::this_thread::yield();
        cancel = true;
        worker.join();
        QCOMPARE(r.reason, StopReason::Cancelled);
        QVERIFY(r.tokens.size() >= 3 && r.tokens.size() < 100000);
    }

    // Saving the state after a prompt and restoring it later continues exactly as before.
    void session_state_round_trip() {
        auto s = session();
        s->prefill(tok_->encode("The cat sat", true));
        const auto saved = s->save_state();
        const auto a = generate(*s, *tok_, " on the", greedy(10));
        s->reset();
        generate(*s, *tok_, "Something else entirely", greedy(5));
        s->restore_state(saved);
        const auto b = generate(*s, *tok_, " on the", greedy(10));
        QCOMPARE(b.tokens, a.tokens);
        QCOMPARE(b.text, a.text);
    }

    // Copy the lm_head row of the second greedy token into EOS's row: equal logits, and argmax
    // takes the lower id (EOS = 2), so greedy decoding must emit one token and then stop at EOS.
    void eos_stops() {
        auto s = session();
        const auto plain = generate(*s, *tok_, "Hello", greedy(2));
        QCOMPARE(int(plain.tokens.size()), 2);
        auto m = std::make_shared<Model>(*model_);
        const int g2 = plain.tokens[1], stride = m->lm_head.row_stride;
        std::copy_n(&m->lm_head.codes[size_t(g2) * stride], stride, &m->lm_head.codes[size_t(2) * stride]);
        Session eos_session(create_executor(m, cpu_backend()));
        GenerateOptions o = greedy(10);
        o.stop_at_eos = true;
        const auto r = generate(eos_session, *tok_, "Hello", o);
        QCOMPARE(r.reason, StopReason::Eos);
        QCOMPARE(r.tokens, std::vector<int32_t>{plain.tokens[0]});
    }
};

QTEST_GUILESS_MAIN(TestRuntime)
#include "test_runtime.moc"
