// SPDX-License-Identifier: Apache-2.0
// The CPU backends against the reference implementation's outputs (tests/data/<case>).
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>

#include "cpu/cpu_executor.h"
#include "format/safetensors.h"
#include "golden.h"

using namespace mmfree;
using namespace mmfree::testkit;

class TestGolden : public QObject {
    Q_OBJECT
private slots:
    // The golden models are small: one part per matrix at the default 64 KB of weights per
    // thread. 256 bytes per thread splits every region between all threads, as on a large model.
    void initTestCase() { qputenv("MMFREE_CPU_BYTES_PER_THREAD", "256"); }

    void executors_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("reference");
        for (const auto& n : golden_case_names()) {
            QTest::newRow((n + " reference").c_str()) << QString::fromStdString(n) << true;
            QTest::newRow((n + " fast").c_str()) << QString::fromStdString(n) << false;
        }
    }
    // Prefill logits, 24 greedy tokens through the recurrent path, decode logits, teacher-forced.
    void executors() {
        QFETCH(QString, name);
        QFETCH(bool, reference);
        const GoldenCase g = load_golden(name.toStdString());
        cpu::CpuExecutor ex(g.model, reference, 2);
        const std::string err = check_executor(ex, g);
        QVERIFY2(err.empty(), err.c_str());
    }

    void hidden_states_data() {
        QTest::addColumn<QString>("name");
        for (const auto& n : golden_case_names()) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    // Every layer's output, not just the logits: a wrong layer cannot hide behind a lucky head.
    void hidden_states() {
        QFETCH(QString, name);
        const GoldenCase g = load_golden(name.toStdString());
        cpu::CpuExecutor ex(g.model, true, 1);
        std::vector<float> hidden, logits(size_t(g.T) * g.V);
        ex.capture_hidden_states(&hidden);
        ex.forward(g.prompt.data(), g.prompt.size(), logits.data(), true);
        const int L = g.model->config.num_layers, H = g.model->config.hidden_size;
        QCOMPARE(hidden.size(), g.hidden_states.size());
        for (int k = 0; k <= L; ++k) {
            const size_t n = size_t(g.T) * H;
            std::vector<float> got(hidden.begin() + k * n, hidden.begin() + (k + 1) * n);
            std::vector<float> ref(g.hidden_states.begin() + k * n, g.hidden_states.begin() + (k + 1) * n);
            const double e = rel_l2(got, ref);
            QVERIFY2(e <= 2e-2, qPrintable(QString("hidden state %1: rel L2 %2").arg(k).arg(e)));
        }
    }

    // The fast executor (SIMD kernels, regions split between threads, either weight layout, the
    // batched GEMM for prompts) computes the reference executor's logits bit for bit: the integer
    // products are exact, and each float operation runs in the reference's order whichever
    // thread or instruction set computes it.
    void fast_equals_reference_bit_for_bit_data() {
        QTest::addColumn<QString>("name");
        for (const auto& n : golden_case_names()) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void fast_equals_reference_bit_for_bit() {
        QFETCH(QString, name);
        const GoldenCase g = load_golden(name.toStdString());
        auto run = [&](cpu::CpuExecutor& ex) {
            std::vector<float> logits(size_t(g.T + 8) * g.V);
            ex.prefill(0, g.prompt.data(), g.prompt.size(), logits.data(), true);
            for (int i = 0; i < 8; ++i) {
                const int32_t slot = 0, token = g.greedy_tokens[size_t(i)];
                ex.decode(&slot, &token, 1, &logits[size_t(g.T + i) * g.V], nullptr);
            }
            return logits;
        };
        cpu::CpuExecutor reference(g.model, true, 1);
        const std::vector<float> want = run(reference);
        for (cpu::CpuWeights w : {cpu::CpuWeights::TwoBit, cpu::CpuWeights::Trits})
            for (int threads : {1, 2, 3, 5}) {
                cpu::CpuExecutor fast(g.model, false, threads, 1, w);
                QVERIFY2(run(fast) == want, qPrintable(QString("%1 threads, %2").arg(threads).arg(cpu::cpu_weights_name(w))));
            }
    }

    // Prefill in pieces and then decode one by one must equal one long prefill.
    void prefill_then_decode_equals_long_prefill() {
        const GoldenCase g = load_golden("tiny-b");
        std::vector<int32_t> seq = g.prompt;
        seq.insert(seq.end(), g.greedy_tokens.begin(), g.greedy_tokens.end());
        cpu::CpuExecutor ex(g.model, false, 2);
        std::vector<float> whole(seq.size() * g.V);
        ex.forward(seq.data(), seq.size(), whole.data(), true);

        ex.reset_state();
        std::vector<float> parts(seq.size() * g.V);
        const size_t split = 10;
        ex.forward(seq.data(), split, parts.data(), true);
        for (size_t i = split; i < seq.size(); ++i) ex.forward(&seq[i], 1, &parts[i * g.V], false);
        // The same math row by row, in the same order: identical.
        QVERIFY2(parts == whole, qPrintable(QString("rel L2 %1").arg(rel_l2(parts, whole))));
    }

    void cli_logits_data() {
        QTest::addColumn<QString>("name");
        for (const auto& n : golden_case_names()) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    // `mmfree logits --decode 24` writes the golden file's names and reproduces its greedy tokens.
    void cli_logits() {
        QFETCH(QString, name);
        const GoldenCase g = load_golden(name.toStdString());
        QTemporaryDir dir;
        const QString out = dir.path() + "/logits.safetensors";
        QStringList ids;
        for (int32_t t : g.prompt) ids << QString::number(t);
        QProcess p;
        p.start(MMFREE_CLI, {"logits", "-m", QString::fromStdString(g.dir), "--ids", ids.join(','), "--decode", "24", "--backend", "cpu", "-o", out});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const TensorSet ts = TensorSet::open_file(out.toStdString());
        auto floats = [&](const char* n) {
            const TensorView* t = ts.find(n);
            std::vector<float> v(t ? size_t(t->elements()) : 0);
            if (t) std::memcpy(v.data(), t->data, t->nbytes);
            return v;
        };
        const TensorView* greedy = ts.find("greedy_tokens");
        QVERIFY(greedy && greedy->elements() == 24);
        std::vector<int32_t> tokens(24);
        std::memcpy(tokens.data(), greedy->data, greedy->nbytes);
        QCOMPARE(tokens, g.greedy_tokens);  // all 24: no near-tie flips on these cases
        auto err = check_tolerance(floats("prefill_logits"), g.prefill_logits, g.V, "prefill_logits");
        QVERIFY2(err.empty(), err.c_str());
        err = check_tolerance(floats("decode_logits"), g.decode_logits, g.V, "decode_logits");
        QVERIFY2(err.empty(), err.c_str());
    }

    // Fast and reference kernels share int32 accumulators bit for bit.
    void fast_kernels_match_reference_exactly() {
        const GoldenCase g = load_golden("tiny-a");
        cpu::CpuExecutor fast(g.model, false, 2), ref(g.model, true, 1);
        std::vector<float> a(size_t(g.T) * g.V), b(size_t(g.T) * g.V);
        fast.forward(g.prompt.data(), g.prompt.size(), a.data(), true);
        ref.forward(g.prompt.data(), g.prompt.size(), b.data(), true);
        QVERIFY(a == b);
    }

    // `mmfree bench --batch … --profile` on a real model: every batch size decodes, and each batch
    // entry says where its steps went, as the single-stream figures do.
    void bench_profiles_batch_steps() {
        const GoldenCase g = load_golden("tiny-a");
        QProcess p;
        p.start(MMFREE_CLI, {"bench", "-m", QString::fromStdString(g.dir), "--backend", "cpu", "--pp", "4", "--tg", "4", "--reps", "1",
                             "--batch", "1,3", "--profile"});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QJsonObject j = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QVERIFY(j["stages_us_per_token"].toObject()["bitlinear"].toDouble() > 0);
        const QJsonArray batches = j["batches"].toArray();
        QCOMPARE(batches.size(), 2);
        for (int i = 0; i < 2; ++i) {
            const QJsonObject b = batches[i].toObject();
            QCOMPARE(b["batch"].toInt(), i == 0 ? 1 : 3);
            QVERIFY(b["aggregate_tok_s"].toDouble() > 0);
            const QJsonObject stages = b["stages_us_per_step"].toObject();
            for (const char* stage : {"norm_quant", "bitlinear", "mlgru", "lm_head"}) QVERIFY2(stages[stage].toDouble() > 0, stage);
        }
    }
};

QTEST_GUILESS_MAIN(TestGolden)
#include "test_golden.moc"
