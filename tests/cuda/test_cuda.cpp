// SPDX-License-Identifier: Apache-2.0
// The CUDA backend against the reference implementation's golden outputs and, bit for bit, its
// integer accumulators against the CPU reference kernel. Without a usable GPU every case that
// needs one reports QSKIP with the reason.
#include <QtTest>

#include <random>

#include "cpu/kernels.h"
#include "cuda/cuda_testing.h"
#include "golden.h"
#include "mmfree/backend.h"
#include "mmfree/error.h"
#include "mmfree/sampler.h"

using namespace mmfree;
using namespace mmfree::testkit;

namespace {

std::unique_ptr<Executor> make_cuda(std::shared_ptr<const Model> model) {
    BackendOptions o;
    o.backend = "cuda";
    o.allow_fallback = false;
    return create_executor(std::move(model), o);
}

TernaryMatrix random_matrix(int rows, int cols, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<float> w(size_t(rows) * cols);
    for (auto& v : w) v = normal(rng);
    return quantize_ternary(w.data(), rows, cols);
}

std::vector<int8_t> random_q(size_t n, std::mt19937& rng) {
    std::uniform_int_distribution<int> d(-128, 127);
    std::vector<int8_t> q(n);
    for (auto& v : q) v = int8_t(d(rng));
    return q;
}

} // namespace

class TestCuda : public QObject {
    Q_OBJECT
    std::string reason_;

private slots:
    void initTestCase() { reason_ = cuda_testing::unavailable_reason(); }

    void init() {
        if (std::string(QTest::currentTestFunction()) == "device_listed") return;
        if (!reason_.empty()) QSKIP(qPrintable(QString::fromStdString("no usable CUDA device: " + reason_)));
    }

    // Compiled in, the backend is always listed; when it cannot run it says why.
    void device_listed() {
        bool found = false;
        for (const auto& d : list_devices())
            if (d.backend == "cuda") {
                found = true;
                QVERIFY2(d.usable || !d.reason.empty(), "an unusable CUDA entry must give its reason");
            }
        QVERIFY(found);
    }

    // dp4a decode path: exact int32 accumulators for odd and release shapes, extreme q values.
    void decode_matvec_bit_exact_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::newRow("37x64") << 37 << 64;
        QTest::newRow("301x1000") << 301 << 1000;
        QTest::newRow("129x2816") << 129 << 2816;
        QTest::newRow("64x6912") << 64 << 6912;
        QTest::newRow("1000x2560") << 1000 << 2560;
    }
    void decode_matvec_bit_exact() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        std::mt19937 rng(uint32_t(rows * 131 + cols));
        const TernaryMatrix w = random_matrix(rows, cols, rng);
        for (int pass = 0; pass < 3; ++pass) {
            std::vector<int8_t> q = random_q(size_t(cols), rng);
            if (pass == 1) std::fill(q.begin(), q.end(), int8_t(-128));
            if (pass == 2) std::fill(q.begin(), q.end(), int8_t(127));
            std::vector<int8_t> padded(size_t(w.row_stride) * 4, 0);
            std::copy(q.begin(), q.end(), padded.begin());
            std::vector<int32_t> ref(static_cast<size_t>(rows));
            cpu::ternary_matvec_ref(w, padded.data(), ref.data(), 0, rows);
            const std::vector<int32_t> got = cuda_testing::decode_matvec(w, q);
            QCOMPARE(got.size(), ref.size());
            for (int n = 0; n < rows; ++n)
                if (got[size_t(n)] != ref[size_t(n)])
                    QFAIL(qPrintable(QString("pass %1 row %2: got %3, want %4").arg(pass).arg(n).arg(got[size_t(n)]).arg(ref[size_t(n)])));
        }
    }

    // int8 tensor-core prefill path: exact accumulators, partial tiles in both directions.
    void prefill_gemm_bit_exact_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::addColumn<int>("tokens");
        QTest::newRow("130x256x5") << 130 << 256 << 5;
        QTest::newRow("257x1000x70") << 257 << 1000 << 70;
        QTest::newRow("64x6912x64") << 64 << 6912 << 64;
        QTest::newRow("520x2560x130") << 520 << 2560 << 130;
    }
    void prefill_gemm_bit_exact() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        QFETCH(int, tokens);
        std::mt19937 rng(uint32_t(rows * 7 + cols * 3 + tokens));
        const TernaryMatrix w = random_matrix(rows, cols, rng);
        std::vector<int8_t> q = random_q(size_t(tokens) * cols, rng);
        for (int k = 0; k < cols; ++k) q[k] = -128;  // the extreme row too
        const std::vector<int32_t> got = cuda_testing::prefill_gemm(w, q, tokens);
        std::vector<int8_t> padded(size_t(w.row_stride) * 4, 0);
        std::vector<int32_t> ref(static_cast<size_t>(rows));
        for (int t = 0; t < tokens; ++t) {
            std::copy(q.begin() + size_t(t) * cols, q.begin() + size_t(t + 1) * cols, padded.begin());
            cpu::ternary_matvec_ref(w, padded.data(), ref.data(), 0, rows);
            for (int n = 0; n < rows; ++n)
                if (got[size_t(t) * rows + n] != ref[size_t(n)])
                    QFAIL(qPrintable(QString("token %1 row %2: got %3, want %4").arg(t).arg(n).arg(got[size_t(t) * rows + n]).arg(ref[size_t(n)])));
        }
    }

    // The golden protocol: prefill logits, 24 greedy tokens through the recurrent path, decode
    // logits, teacher-forced logits after restoring the post-prompt state.
    void golden_data() {
        QTest::addColumn<QString>("name");
        for (const auto& n : golden_case_names()) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void golden() {
        QFETCH(QString, name);
        const GoldenCase g = load_golden(name.toStdString());
        auto ex = make_cuda(g.model);
        QCOMPARE(QString::fromStdString(ex->backend_name()), QString("cuda"));
        const std::string err = check_executor(*ex, g);
        QVERIFY2(err.empty(), err.c_str());
    }

    // Prefill in pieces, then token by token, against one long prefill. The two paths compute
    // the norms in different orders, so an int8 rounding may flip: MODEL_SPEC tolerance.
    void prefill_then_decode_matches_long_prefill() {
        const GoldenCase g = load_golden("tiny-b");
        std::vector<int32_t> seq = g.prompt;
        seq.insert(seq.end(), g.greedy_tokens.begin(), g.greedy_tokens.end());
        auto ex = make_cuda(g.model);
        std::vector<float> whole(seq.size() * g.V), parts(seq.size() * g.V);
        ex->forward(seq.data(), seq.size(), whole.data(), true);
        ex->reset_state();
        const size_t split = 10;
        ex->forward(seq.data(), split, parts.data(), true);
        for (size_t i = split; i < seq.size(); ++i) ex->forward(&seq[i], 1, &parts[i * g.V], false);
        const std::string err = check_tolerance(parts, whole, g.V, "pieces vs whole");
        QVERIFY2(err.empty(), err.c_str());
        QVERIFY2(rel_l2(parts, whole) < 5e-3, qPrintable(QString("rel L2 %1").arg(rel_l2(parts, whole))));
    }

    // A synthetic model with shapes the golden cases lack (H = 320, I = 864: partial tiles and
    // row groups) against the CPU reference, prefill and decode.
    void synthetic_matches_cpu_reference() {
        ModelConfig c;
        c.vocab_size = 1000; c.hidden_size = 320; c.num_layers = 3; c.intermediate_size = 864;
        auto model = make_synthetic_model(c, 7);
        BackendOptions ro;
        ro.backend = "cpu-reference";
        auto ref = create_executor(model, ro);
        auto ex = make_cuda(model);
        std::vector<int32_t> prompt(70);
        for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = int32_t((i * 37 + 5) % 1000);
        std::vector<float> a(prompt.size() * 1000), b(prompt.size() * 1000);
        ex->forward(prompt.data(), prompt.size(), a.data(), true);
        ref->forward(prompt.data(), prompt.size(), b.data(), true);
        std::string err = check_tolerance(a, b, 1000, "synthetic prefill");
        QVERIFY2(err.empty(), err.c_str());
        std::vector<float> da, db, row(1000);
        for (int i = 0; i < 12; ++i) {
            const int32_t t = int32_t((i * 91 + 3) % 1000);
            ex->forward(&t, 1, row.data(), false);
            da.insert(da.end(), row.begin(), row.end());
            ref->forward(&t, 1, row.data(), false);
            db.insert(db.end(), row.begin(), row.end());
        }
        err = check_tolerance(da, db, 1000, "synthetic decode");
        QVERIFY2(err.empty(), err.c_str());
    }

    // Saving and restoring h resumes exactly: the same bits come out again.
    void state_save_restore_is_exact() {
        const GoldenCase g = load_golden("tiny-a");
        auto ex = make_cuda(g.model);
        std::vector<float> logits(size_t(g.T) * g.V);
        ex->forward(g.prompt.data(), g.prompt.size(), logits.data(), false);
        const std::vector<float> saved = ex->save_state();
        QCOMPARE(saved.size(), size_t(g.model->config.num_layers) * g.model->config.state_dim());
        std::vector<float> first, second, row(g.V);
        for (int i = 0; i < 6; ++i) {
            ex->forward(&g.greedy_tokens[size_t(i)], 1, row.data(), false);
            first.insert(first.end(), row.begin(), row.end());
        }
        ex->load_state(saved);
        for (int i = 0; i < 6; ++i) {
            ex->forward(&g.greedy_tokens[size_t(i)], 1, row.data(), false);
            second.insert(second.end(), row.begin(), row.end());
        }
        QVERIFY(first == second);
        QVERIFY_THROWS_EXCEPTION(Error, ex->load_state(std::vector<float>(3)));
        ex->reset_state();
        for (float v : ex->save_state()) QCOMPARE(v, 0.f);
    }

    // The on-device argmax equals the argmax of the logits it read back, and memory is sane.
    void argmax_on_device_matches_logits() {
        const GoldenCase g = load_golden("tiny-c-bf16");
        auto ex = make_cuda(g.model);
        std::vector<float> logits(g.V);
        ex->forward(g.prompt.data(), g.prompt.size(), logits.data(), false);
        const std::vector<float> saved = ex->save_state();
        for (int32_t t : {g.greedy_tokens[0], g.greedy_tokens[5], int32_t(3)}) {
            ex->load_state(saved);
            ex->forward(&t, 1, logits.data(), false);
            const int32_t want = argmax(logits.data(), logits.size());
            ex->load_state(saved);
            QCOMPARE(ex->forward_argmax(t), want);
        }
        QVERIFY(ex->device_memory_bytes() >= g.model->packed_weight_bytes());
    }
};

QTEST_GUILESS_MAIN(TestCuda)
#include "test_cuda.moc"
