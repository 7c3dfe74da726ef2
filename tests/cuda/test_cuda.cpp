// SPDX-License-Identifier: Apache-2.0
// The CUDA backend against the reference implementation's golden outputs and, bit for bit, its
// integer accumulators against the CPU reference kernel. Without a usable GPU every case that
// needs one reports QSKIP with the reason.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>
#include <stdexcept>
#include <utility>

#include "cpu/kernels.h"
#include "cuda/cuda_testing.h"
#include "golden.h"
#include "sample_rows.h"
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

// A CUDA executor whose decode blocks are `threads` wide (MMFREE_CUDA_THREADS, read when it is
// created): the small test models would otherwise only ever run the 256-thread width.
std::unique_ptr<Executor> make_cuda(std::shared_ptr<const Model> model, int threads) {
    qputenv("MMFREE_CUDA_THREADS", QByteArray::number(threads));
    auto ex = make_cuda(std::move(model));
    qunsetenv("MMFREE_CUDA_THREADS");
    return ex;
}

double metric_of(Executor& ex, const std::string& name) { return testkit::metrics_of(ex)[name]; }
int decode_threads_of(Executor& ex) { return int(metric_of(ex, "cuda_decode_threads")); }

std::unique_ptr<Executor> make_cuda_slots(std::shared_ptr<const Model> model, int slot_count) {
    BackendOptions o;
    o.backend = "cuda";
    o.allow_fallback = false;
    o.slot_count = slot_count;
    return create_executor(std::move(model), o);
}

// One sequence of a continuous-batching run: it joins before decode step `join` (its prompt
// prefilled in pieces of `piece` tokens), then generates `steps` greedy tokens and leaves.
struct Stream {
    std::vector<int32_t> prompt;
    int join = 0, steps = 1, piece = 1 << 30;
};
struct StreamResult {
    std::vector<int32_t> tokens;   // greedy: the prompt's argmax, then one per decode step
    std::vector<float> logits;     // the decode steps' rows, (steps - 1) x V
};

int32_t prefill_pieces(Executor& ex, int slot, const Stream& s, int V) {
    std::vector<float> last(static_cast<size_t>(V));
    for (size_t pos = 0; pos < s.prompt.size(); pos += size_t(s.piece)) {
        const size_t n = std::min(size_t(s.piece), s.prompt.size() - pos);
        const bool final_piece = pos + n == s.prompt.size();
        ex.prefill(slot, s.prompt.data() + pos, n, final_piece ? last.data() : nullptr, false);
    }
    return argmax(last.data(), last.size());
}

// Each stream alone on a one-slot executor, one token per decode call.
std::vector<StreamResult> run_alone(std::shared_ptr<const Model> model, const std::vector<Stream>& streams) {
    const int V = model->config.vocab_size;
    auto ex = make_cuda_slots(model, 1);
    std::vector<StreamResult> out(streams.size());
    std::vector<float> row(static_cast<size_t>(V));
    for (size_t k = 0; k < streams.size(); ++k) {
        ex->reset_slot(0);
        StreamResult& r = out[k];
        r.tokens.push_back(prefill_pieces(*ex, 0, streams[k], V));
        const int32_t slot = 0;
        while (int(r.tokens.size()) < streams[k].steps) {
            int32_t best = -1;
            ex->decode(&slot, &r.tokens.back(), 1, row.data(), &best);
            r.logits.insert(r.logits.end(), row.begin(), row.end());
            r.tokens.push_back(best);
        }
    }
    return out;
}

// All streams on one executor of `slot_count` slots: each step decodes every active stream
// together (slot ids in reverse order of joining), streams join and leave between steps, a left
// stream's slot is reset and reused. Checks that the device argmax equals the logits' argmax.
std::vector<StreamResult> run_batched(std::shared_ptr<const Model> model, const std::vector<Stream>& streams, int slot_count,
                                      int* max_batch) {
    const int V = model->config.vocab_size;
    auto ex = make_cuda_slots(model, slot_count);
    std::vector<StreamResult> out(streams.size());
    std::vector<int> slot_of(streams.size(), -1), free_slots;
    for (int s = slot_count - 1; s >= 0; --s) free_slots.push_back(s);
    std::vector<bool> joined(streams.size(), false), done(streams.size(), false);
    *max_batch = 0;
    for (int step = 0; std::find(done.begin(), done.end(), false) != done.end(); ++step) {
        for (size_t k = 0; k < streams.size(); ++k) {
            if (joined[k] || streams[k].join > step || free_slots.empty()) continue;
            slot_of[k] = free_slots.back();
            free_slots.pop_back();
            ex->reset_slot(slot_of[k]);
            out[k].tokens.push_back(prefill_pieces(*ex, slot_of[k], streams[k], V));
            joined[k] = true;
        }
        std::vector<size_t> active;
        for (size_t k = streams.size(); k-- > 0;) {
            if (!joined[k] || done[k]) continue;
            if (int(out[k].tokens.size()) >= streams[k].steps) {
                done[k] = true;
                free_slots.push_back(slot_of[k]);
                continue;
            }
            active.push_back(k);
        }
        if (active.empty()) continue;
        std::vector<int32_t> ids, toks, best(active.size(), -1);
        for (size_t k : active) {
            ids.push_back(slot_of[k]);
            toks.push_back(out[k].tokens.back());
        }
        std::vector<float> logits(active.size() * size_t(V));
        ex->decode(ids.data(), toks.data(), active.size(), logits.data(), best.data());
        *max_batch = std::max(*max_batch, int(active.size()));
        for (size_t b = 0; b < active.size(); ++b) {
            const float* row = &logits[b * size_t(V)];
            if (best[b] != argmax(row, size_t(V))) throw std::runtime_error("device argmax differs from the logits' argmax");
            StreamResult& r = out[active[b]];
            r.logits.insert(r.logits.end(), row, row + V);
            r.tokens.push_back(best[b]);
        }
    }
    return out;
}

// A prompt of the golden prompt's BOS and pseudo-random ids.
std::vector<int32_t> test_prompt(const GoldenCase& g, int length, int seed) {
    std::vector<int32_t> p = {g.prompt[0]};
    for (int i = 1; i < length; ++i) p.push_back(int32_t((i * 37 + seed * 101 + 5) % g.V));
    return p;
}

std::string compare_streams(const std::vector<StreamResult>& got, const std::vector<StreamResult>& alone, int V) {
    for (size_t k = 0; k < got.size(); ++k) {
        if (got[k].tokens != alone[k].tokens) return "stream " + std::to_string(k) + ": greedy tokens differ from its run alone";
        if (got[k].logits.empty()) continue;
        if (auto err = check_tolerance(got[k].logits, alone[k].logits, V, "stream " + std::to_string(k)); !err.empty()) return err;
    }
    return {};
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
        QTest::newRow("1000x2560x8") << 1000 << 2560 << 8;
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
        // Split-K (decode batches of up to 64 rows) too: 2 parts, and one per K block.
        std::vector<int> splits = {1};
        if (tokens <= 64) splits.insert(splits.end(), {2, (cols + 127) / 128});
        for (int split : splits) {
            const std::vector<int32_t> got = cuda_testing::prefill_gemm(w, q, tokens, split);
            std::vector<int8_t> padded(size_t(w.row_stride) * 4, 0);
            std::vector<int32_t> ref(static_cast<size_t>(rows));
            for (int t = 0; t < tokens; ++t) {
                std::copy(q.begin() + size_t(t) * cols, q.begin() + size_t(t + 1) * cols, padded.begin());
                cpu::ternary_matvec_ref(w, padded.data(), ref.data(), 0, rows);
                for (int n = 0; n < rows; ++n)
                    if (got[size_t(t) * rows + n] != ref[size_t(n)])
                        QFAIL(qPrintable(QString("split %1 token %2 row %3: got %4, want %5")
                                             .arg(split).arg(t).arg(n).arg(got[size_t(t) * rows + n]).arg(ref[size_t(n)])));
            }
        }
    }

    // Prefill MLGRU: the chunked parallel scan against a sequential double-precision loop, for
    // step counts that leave chunks partial or empty, with and without lower bounds, and gates
    // near 1 (long memory) so that the carries between chunks matter.
    void prefill_scan_matches_sequential_data() {
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("D");
        QTest::addColumn<bool>("lower_bound");
        QTest::addColumn<float>("gate_bias");
        QTest::newRow("T1") << 1 << 37 << false << 0.f;
        QTest::newRow("T5-lb") << 5 << 70 << true << 0.f;
        QTest::newRow("T70-lb") << 70 << 320 << true << 0.f;
        QTest::newRow("T300") << 300 << 1000 << false << 0.f;
        QTest::newRow("T512-lb-long") << 512 << 2560 << true << 4.f;
        QTest::newRow("T512-long") << 512 << 1024 << false << 6.f;
    }
    void prefill_scan_matches_sequential() {
        QFETCH(int, T);
        QFETCH(int, D);
        QFETCH(bool, lower_bound);
        QFETCH(float, gate_bias);
        std::mt19937 rng(uint32_t(T * 1009 + D));
        std::normal_distribution<float> normal(0.f, 2.f);
        std::uniform_real_distribution<float> unit(0.f, 0.9f);
        std::vector<float> ai(size_t(T) * D), af(size_t(T) * D), lb, h(static_cast<size_t>(D));
        for (auto& v : ai) v = normal(rng);
        for (auto& v : af) v = normal(rng) + gate_bias;
        for (auto& v : h) v = normal(rng);
        if (lower_bound) {
            lb.resize(static_cast<size_t>(D));
            for (auto& v : lb) v = unit(rng);
        }
        std::vector<double> ref_h(h.begin(), h.end());
        std::vector<float> got_h = h;
        const std::vector<float> sh = cuda_testing::mlgru_scan(ai, af, lb, got_h, {0}, {T}, T, D);
        double worst = 0;
        auto silu = [](double z) { return z / (1.0 + std::exp(-z)); };
        for (int t = 0; t < T; ++t)
            for (int c = 0; c < D; ++c) {
                const size_t i = size_t(t) * D + c;
                double f = 1.0 / (1.0 + std::exp(-double(af[i])));
                if (lower_bound) f = lb[size_t(c)] + (1.0 - lb[size_t(c)]) * f;
                ref_h[size_t(c)] = f * ref_h[size_t(c)] + silu(ai[i]) * (1.0 - f);
                const double want = silu(ref_h[size_t(c)]);
                if (!std::isfinite(sh[i])) QFAIL(qPrintable(QString("t %1 c %2 not written").arg(t).arg(c)));
                worst = std::max(worst, std::fabs(sh[i] - want) / std::max(1.0, std::fabs(want)));
            }
        for (int c = 0; c < D; ++c)
            worst = std::max(worst, std::fabs(got_h[size_t(c)] - ref_h[size_t(c)]) / std::max(1.0, std::fabs(ref_h[size_t(c)])));
        QVERIFY2(worst < 2e-5, qPrintable(QString("worst relative error %1").arg(worst)));
    }

    // Several prompts' pieces in one pass (prefill_many): each piece's outputs and final state
    // are bit-identical to the piece scanned alone, whatever its neighbours' lengths.
    void scan_pieces_equal_each_alone() {
        const int D = 1000;
        const std::vector<int> rows = {2, 17, 1, 100, 33, 300, 16};
        std::vector<int> first;
        int T = 0;
        for (int r : rows) first.push_back(std::exchange(T, T + r));
        std::mt19937 rng(77);
        std::normal_distribution<float> normal(0.f, 2.f);
        std::uniform_real_distribution<float> unit(0.f, 0.9f);
        std::vector<float> ai(size_t(T) * D), af(size_t(T) * D), lb(static_cast<size_t>(D)), states(rows.size() * D);
        for (auto& v : ai) v = normal(rng);
        for (auto& v : af) v = normal(rng) + 3.f;
        for (auto& v : lb) v = unit(rng);
        for (auto& v : states) v = normal(rng);
        std::vector<float> together_states = states;
        const std::vector<float> together = cuda_testing::mlgru_scan(ai, af, lb, together_states, first, rows, T, D);
        for (size_t p = 0; p < rows.size(); ++p) {
            const auto from = long(first[p]) * D, to = from + long(rows[p]) * D;
            std::vector<float> h(states.begin() + long(p) * D, states.begin() + long(p + 1) * D);
            const std::vector<float> alone = cuda_testing::mlgru_scan(std::vector<float>(ai.begin() + from, ai.begin() + to),
                                                                      std::vector<float>(af.begin() + from, af.begin() + to), lb, h,
                                                                      {0}, {rows[p]}, rows[p], D);
            QVERIFY2(std::equal(alone.begin(), alone.end(), together.begin() + from), qPrintable(QString("piece %1: silu(h)").arg(p)));
            QVERIFY2(std::equal(h.begin(), h.end(), together_states.begin() + long(p) * D), qPrintable(QString("piece %1: state").arg(p)));
        }
    }

    // Prefill norm + quantization against the CPU reference (RMSNorm, RMSNorm, quantize_row).
    // The kernel derives the second norm and the maximum from one reduction, so a value may land
    // on the other side of a rounding boundary: |Δq| ≤ 1, rarely; Σq must match its own q.
    void prefill_norm_quant_matches_cpu_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("nq");
        QTest::newRow("3x320x3") << 3 << 320 << 3;
        QTest::newRow("7x1000x1") << 7 << 1000 << 1;
        QTest::newRow("64x2560x3") << 64 << 2560 << 3;
        QTest::newRow("5x6912x1") << 5 << 6912 << 1;
    }
    void prefill_norm_quant_matches_cpu() {
        QFETCH(int, rows);
        QFETCH(int, K);
        QFETCH(int, nq);
        std::mt19937 rng(uint32_t(rows * 31 + K + nq));
        std::normal_distribution<float> normal(0.f, 1.f);
        std::uniform_real_distribution<float> gamma(0.5f, 1.5f);
        std::vector<float> x(size_t(rows) * K), g0(static_cast<size_t>(K));
        for (auto& v : x) v = normal(rng);
        for (int k = 0; k < K; ++k) x[size_t(K) + k] *= 1000.f;          // a large row
        std::fill(x.end() - K, x.end(), 0.f);                           // and a zero row (scale floor)
        for (auto& v : g0) v = gamma(rng);
        std::vector<std::vector<float>> g1(static_cast<size_t>(nq), std::vector<float>(static_cast<size_t>(K)));
        for (auto& g : g1)
            for (auto& v : g) v = gamma(rng);
        const cuda_testing::NormQuant got = cuda_testing::prefill_norm_quant(x, rows, K, g0, g1);
        std::vector<float> u(static_cast<size_t>(K)), n(static_cast<size_t>(K));
        std::vector<int8_t> q(static_cast<size_t>(got.Kp));
        int flips = 0;
        for (int j = 0; j < nq; ++j)
            for (int t = 0; t < rows; ++t) {
                cpu::rms_norm(&x[size_t(t) * K], g0.data(), K, 1e-6f, u.data());
                cpu::rms_norm(u.data(), g1[size_t(j)].data(), K, 1e-6f, n.data());
                const float s = cpu::quantize_row(n.data(), K, got.Kp, q.data());
                const float gs = got.s[j][size_t(t)];
                QVERIFY2(std::fabs(gs - s) <= 1e-5f * s, qPrintable(QString("q%1 row %2 scale %3, want %4").arg(j).arg(t).arg(gs).arg(s)));
                int32_t sum = 0;
                for (int k = 0; k < got.Kp; ++k) {
                    const int gq = got.q[j][size_t(t) * got.Kp + k];
                    sum += gq;
                    if (gq != q[size_t(k)]) {
                        ++flips;
                        if (k >= K || std::abs(gq - q[size_t(k)]) > 1)
                            QFAIL(qPrintable(QString("q%1 row %2 k %3: got %4, want %5").arg(j).arg(t).arg(k).arg(gq).arg(q[size_t(k)])));
                    }
                }
                QCOMPARE(got.qsum[j][size_t(t)], sum);
            }
        QVERIFY2(flips <= std::max(2, nq * rows * K / 500), qPrintable(QString("%1 values off by one").arg(flips)));
    }

    // The golden protocol: prefill logits, 24 greedy tokens through the recurrent path, decode
    // logits, teacher-forced logits after restoring the post-prompt state.
    void golden_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("threads");
        for (const auto& n : golden_case_names())
            for (int threads : {256, 512})
                QTest::newRow((n + " " + std::to_string(threads)).c_str()) << QString::fromStdString(n) << threads;
    }
    void golden() {
        QFETCH(QString, name);
        QFETCH(int, threads);
        const GoldenCase g = load_golden(name.toStdString());
        auto ex = make_cuda(g.model, threads);
        QCOMPARE(decode_threads_of(*ex), threads);
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
    // row groups) against the CPU reference, prefill and decode, at both decode widths.
    void synthetic_matches_cpu_reference_data() {
        QTest::addColumn<int>("threads");
        QTest::newRow("256") << 256;
        QTest::newRow("512") << 512;
    }
    void synthetic_matches_cpu_reference() {
        QFETCH(int, threads);
        ModelConfig c;
        c.vocab_size = 1000; c.hidden_size = 320; c.num_layers = 3; c.intermediate_size = 864;
        auto model = make_synthetic_model(c, 7);
        BackendOptions ro;
        ro.backend = "cpu-reference";
        auto ref = create_executor(model, ro);
        auto ex = make_cuda(model, threads);
        QCOMPARE(decode_threads_of(*ex), threads);
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

    // Continuous batching: mixed prompt lengths (1 to 70 tokens, some prefilled in pieces between
    // decode steps), streams joining and leaving mid-run, more streams than slots (slots reset and
    // reused). Each stream equals its run alone: greedy tokens identical, logits within tolerance.
    void batch_matches_alone() {
        const GoldenCase g = load_golden("tiny-b");
        const int lengths[] = {1, 2, 9, 33, 70, 4, 17, 5};
        const int joins[] = {0, 0, 1, 3, 3, 6, 8, 9};
        const int steps[] = {12, 5, 10, 8, 12, 3, 6, 9};
        const int pieces[] = {1, 2, 4, 33, 16, 1 << 30, 5, 2};
        std::vector<Stream> streams;
        for (int k = 0; k < 8; ++k) streams.push_back({test_prompt(g, lengths[k], k), joins[k], steps[k], pieces[k]});
        const auto alone = run_alone(g.model, streams);
        int max_batch = 0;
        const auto batched = run_batched(g.model, streams, 5, &max_batch);
        QCOMPARE(max_batch, 5);
        const std::string err = compare_streams(batched, alone, g.V);
        QVERIFY2(err.empty(), err.c_str());
    }

    // Steps of 2 to 8 slots run the persistent kernel as a hand-over launch (MMFREE_CUDA_HANDOVER_MIN
    // = 2: a block per slot quantizes it and hands it over through L2, every block computes all
    // slots with tensor cores) or grouped (= 0: a group of blocks per slot); streams leave at
    // different steps, so the batch shrinks through every size down to the single column. Each
    // stream equals its run alone at both block widths, on a golden model and on a synthetic one
    // whose inputs take 2 and 4 float4 per thread; each slot's norms and quantization are its
    // launch alone's and the sums are integers, so every logit must equal the run alone bit for
    // bit. Steps of 9 to 16 slots run as two launches ("split": 12 → 6 + 6, ..., 16 → 8 + 8, and
    // every size below as the batch shrinks), bit for bit too. Row passes
    // (MMFREE_CUDA_GROUPED_MAX=0) run the same batch within tolerance.
    void small_batch_matches_alone_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("batch");
        QTest::addColumn<int>("threads");
        QTest::addColumn<QString>("kernel");
        for (const char* m : {"tiny-b", "synthetic"})
            for (int b : {2, 3, 5, 8})
                for (int t : {256, 512})
                    for (const char* k : {"hand-over", "grouped"})
                        QTest::newRow(qPrintable(QString("%1 %2 B=%3 %4 threads").arg(k).arg(m).arg(b).arg(t))) << QString(m) << b << t << QString(k);
        QTest::newRow("split tiny-b B=12 256 threads") << QString("tiny-b") << 12 << 256 << QString("split");
        QTest::newRow("split synthetic B=16 512 threads") << QString("synthetic") << 16 << 512 << QString("split");
        QTest::newRow("tiny-b B=5 row passes") << QString("tiny-b") << 5 << 256 << QString("rows");
        QTest::newRow("synthetic B=8 row passes") << QString("synthetic") << 8 << 512 << QString("rows");
    }
    void small_batch_matches_alone() {
        QFETCH(QString, model);
        QFETCH(int, batch);
        QFETCH(int, threads);
        QFETCH(QString, kernel);
        std::shared_ptr<const Model> m;
        int first = 1;
        if (model == "tiny-b") {
            const GoldenCase g = load_golden("tiny-b");
            m = g.model;
            first = g.prompt[0];
        } else {
            ModelConfig c;
            c.vocab_size = 1000; c.hidden_size = 640; c.num_layers = 3; c.intermediate_size = 2304;
            m = make_synthetic_model(c, 5);
        }
        const int V = m->config.vocab_size;
        std::vector<Stream> streams;
        for (int k = 0; k < batch; ++k) {
            std::vector<int32_t> prompt = {first};
            for (int i = 1; i < 1 + 5 * k; ++i) prompt.push_back(int32_t((i * 37 + k * 101 + 5) % V));
            streams.push_back({prompt, 0, 6 + k % 3, k % 2 ? 3 : 1 << 30});
        }
        qputenv("MMFREE_CUDA_THREADS", QByteArray::number(threads));
        qputenv("MMFREE_CUDA_GROUPED_MAX", kernel == "rows" ? "0" : "8");
        qputenv("MMFREE_CUDA_HANDOVER_MIN", kernel == "grouped" ? "0" : "2");
        auto unset = [] {
            qunsetenv("MMFREE_CUDA_THREADS");
            qunsetenv("MMFREE_CUDA_GROUPED_MAX");
            qunsetenv("MMFREE_CUDA_HANDOVER_MIN");
        };
        std::vector<StreamResult> alone, batched;
        int max_batch = 0;
        double handover_min = 0, step_max = 0;
        try {
            auto probe = make_cuda_slots(m, batch);
            handover_min = metric_of(*probe, "cuda_decode_handover_min_columns");
            step_max = metric_of(*probe, "cuda_decode_persistent_step_max_columns");
            probe.reset();
            alone = run_alone(m, streams);
            batched = run_batched(m, streams, batch, &max_batch);
        } catch (...) {
            unset();
            throw;
        }
        unset();
        if (kernel == "rows" || kernel == "grouped") QCOMPARE(handover_min, 0.0);
        else QVERIFY2(handover_min == 2, "no hand-over launch on this device");
        if (kernel == "split") QVERIFY2(step_max >= batch, "this step runs row passes, not launches of up to 8 slots");
        if (kernel == "rows") QCOMPARE(step_max, 1.0);
        QCOMPARE(max_batch, batch);
        float worst = 0.f;
        for (size_t k = 0; k < streams.size(); ++k)
            for (size_t i = 0; i < std::min(batched[k].logits.size(), alone[k].logits.size()); ++i)
                worst = std::max(worst, std::fabs(batched[k].logits[i] - alone[k].logits[i]));
        qInfo("%s B=%d, %d threads, %s: largest |logit difference| to the runs alone %g", qPrintable(model), batch, threads,
              qPrintable(kernel), double(worst));
        const std::string err = compare_streams(batched, alone, V);
        QVERIFY2(err.empty(), err.c_str());
        if (kernel != "rows") QCOMPARE(worst, 0.f);
    }

    // prefill_many: six prompts' pieces in two rounds, packed into passes of up to 512 rows (several
    // prompts in a pass, a full pass, a 700-token prompt cut at 512): every slot's state and next
    // logits equal the same pieces fed alone by prefill(), bit for bit. Every piece has at least
    // two tokens (one token alone runs the decode kernel, whose norms sum in another order).
    void prompts_prefilled_together_equal_alone() {
        ModelConfig c;
        c.vocab_size = 1000; c.hidden_size = 640; c.num_layers = 3; c.intermediate_size = 2304;
        auto m = make_synthetic_model(c, 9);
        std::vector<std::vector<int32_t>> prompts;
        for (int len : {3, 13, 701, 41, 301, 261}) {
            std::vector<int32_t> p = {1};
            for (int i = 1; i < len; ++i) p.push_back(int32_t((i * 53 + len * 7) % c.vocab_size));
            prompts.push_back(p);
        }
        const int n = int(prompts.size());
        auto ex = make_cuda_slots(m, n);
        const std::string err = check_prefill_many(*ex, prompts, 5, [&] { return make_cuda_slots(m, n); }, true);
        QVERIFY2(err.empty(), err.c_str());
    }

    // Every golden case among other sequences: its greedy tokens and decode logits against the
    // reference, the others against their runs alone.
    void golden_in_batch_data() {
        QTest::addColumn<QString>("name");
        for (const auto& n : golden_case_names()) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void golden_in_batch() {
        QFETCH(QString, name);
        const GoldenCase g = load_golden(name.toStdString());
        std::vector<Stream> streams = {{test_prompt(g, 3, 1), 0, 24, 1 << 30},
                                       {g.prompt, 0, 24, 3},
                                       {test_prompt(g, 40, 2), 2, 10, 7},
                                       {test_prompt(g, 1, 3), 5, 24, 1}};
        int max_batch = 0;
        const auto batched = run_batched(g.model, streams, 4, &max_batch);
        QCOMPARE(max_batch, 4);
        QCOMPARE(batched[1].tokens, g.greedy_tokens);
        std::string err = check_tolerance(batched[1].logits, g.decode_logits, g.V, g.name + " decode_logits in a batch");
        QVERIFY2(err.empty(), err.c_str());
        err = compare_streams(batched, run_alone(g.model, streams), g.V);
        QVERIFY2(err.empty(), err.c_str());
    }

    // More slots than one row pass holds (512): one step runs two passes; every row equals the
    // same slot stepped alone, and the states written back are each slot's own.
    void batch_larger_than_one_pass() {
        ModelConfig c;
        c.vocab_size = 1000; c.hidden_size = 320; c.num_layers = 3; c.intermediate_size = 864;
        auto model = make_synthetic_model(c, 11);
        const int n = 520, V = 1000;
        auto ex = make_cuda_slots(model, n);
        QCOMPARE(ex->slot_count(), n);
        std::vector<int32_t> ids(n), toks(n), best(n);
        for (int b = 0; b < n; ++b) {
            ids[size_t(b)] = n - 1 - b;
            toks[size_t(b)] = int32_t((b * 37 + 1) % V);
        }
        // Step 1: argmax only; step 2: logits and argmax, fixed tokens (a flipped argmax between the
        // two paths must not change what is compared).
        std::vector<float> logits(size_t(n) * V);
        ex->decode(ids.data(), toks.data(), size_t(n), nullptr, best.data());
        for (int b = 0; b < n; ++b) toks[size_t(b)] = int32_t((b * 53 + 2) % V);
        ex->decode(ids.data(), toks.data(), size_t(n), logits.data(), best.data());
        auto one = make_cuda_slots(model, 1);
        std::vector<float> row(V);
        std::vector<float> got, want;
        for (int b : {0, 1, 255, 511, 512, 519}) {
            QCOMPARE(best[size_t(b)], argmax(&logits[size_t(b) * V], size_t(V)));
            one->reset_state();
            one->forward_argmax(int32_t((b * 37 + 1) % V));
            const int32_t second = int32_t((b * 53 + 2) % V);
            one->forward(&second, 1, row.data(), false);
            got.insert(got.end(), logits.begin() + ptrdiff_t(b) * V, logits.begin() + ptrdiff_t(b + 1) * V);
            want.insert(want.end(), row.begin(), row.end());
            const std::vector<float> s_batch = ex->save_slot(ids[size_t(b)]), s_alone = one->save_state();
            QVERIFY2(rel_l2(s_batch, s_alone) < 1e-2, qPrintable(QString("row %1 state rel L2 %2").arg(b).arg(rel_l2(s_batch, s_alone))));
        }
        QVERIFY2(rel_l2(got, want) < 2e-2, qPrintable(QString("rel L2 %1").arg(rel_l2(got, want))));
    }

    // decode_logits (pinned host memory) hands out the rows decode writes, in the column kernel's
    // range and past it.
    void decode_logits_equals_decode() {
        ModelConfig c;
        c.vocab_size = 1000; c.hidden_size = 320; c.num_layers = 3; c.intermediate_size = 864;
        auto model = make_synthetic_model(c, 19);
        const std::string err = check_decode_logits([&] { return make_cuda_slots(model, 12); }, 12);
        QVERIFY2(err.empty(), err.c_str());
    }

    // The model's rows drawn on the device (decode_sample) equal the host's draws from
    // decode_logits' rows: steps of 1 (the persistent kernel), 3 (grouped) and 12 rows (row
    // passes); with grouping off (MMFREE_CUDA_GROUPED_MAX=0) the step of 3 takes a row pass too.
    void decode_sample_equals_host_draw() {
        ModelConfig c;
        c.vocab_size = 1000; c.hidden_size = 320; c.num_layers = 3; c.intermediate_size = 864;
        auto model = make_synthetic_model(c, 19);
        std::string err = check_decode_sample([&] { return make_cuda_slots(model, 12); }, 12);
        QVERIFY2(err.empty(), err.c_str());
        err = check_decode_sample(
            [&] {
                qputenv("MMFREE_CUDA_GROUPED_MAX", "0");
                auto ex = make_cuda_slots(model, 12);
                qunsetenv("MMFREE_CUDA_GROUPED_MAX");
                return ex;
            },
            12);
        QVERIFY2(err.empty(), ("MMFREE_CUDA_GROUPED_MAX=0: " + err).c_str());
    }

    // A step of more rows than one row pass holds (520 > 512): both passes are sampled.
    void decode_sample_larger_than_one_pass() {
        ModelConfig c;
        c.vocab_size = 1000; c.hidden_size = 320; c.num_layers = 3; c.intermediate_size = 864;
        auto model = make_synthetic_model(c, 11);
        const std::string err = check_decode_sample([&] { return make_cuda_slots(model, 520); }, 520);
        QVERIFY2(err.empty(), err.c_str());
    }

    // The sample kernel picks Sampler::draw's token on rows a model would rarely give: flat and
    // peaked, few distinct values (ties broken by id), -0, NaN and infinite logits, every rule and
    // vocabularies from 1 to 32000 (testkit::hostile_sample_rows, as in tests/vulkan).
    void sample_kernel_equals_host_draw() {
        for (const testkit::SampleRows& rows : testkit::hostile_sample_rows(99)) {
            const std::string err = testkit::check_host_draws(rows, cuda_testing::sample_rows(rows.logits, rows.draws));
            QVERIFY2(err.empty(), err.c_str());
        }

        // min_p above 1 keeps no token (the top one weighs 1): the host then takes the argmax.
        std::mt19937_64 rng(7);
        const Sampler host(SamplingParams{});
        const size_t V = 1000;
        std::vector<float> logits(8 * V);
        std::vector<sampling::Draw> draws(8);
        std::normal_distribution<float> normal(0.0f, 3.0f);
        for (auto& v : logits) v = normal(rng);
        for (size_t r = 0; r < draws.size(); ++r) {
            draws[r] = {.inv_temperature = 1.0f, .top_k = uint32_t(r % 2 ? 40 : 0), .top_p = r % 4 < 2 ? sampling::Draw::kTopPOne : 1u << 23,
                        .min_p = r < 4 ? 1.5f : INFINITY, .u = rng()};
        }
        const std::vector<int32_t> got = cuda_testing::sample_rows(logits, draws);
        for (size_t r = 0; r < draws.size(); ++r) QCOMPARE(got[r], host.draw(&logits[r * V], V, draws[r]));
    }

    // The histograms' 32-bit sums at their bound, V = 2^17 − 1: flat rows (every token weighs
    // 2^30 and shares every pass's bin, so a bin's high sum is 2^32 − 2^15) under top-p, top-k
    // and min-p, next to few-valued, peaked and random rows; V = 257 gives the walk's ranges of
    // 2 tokens and one range of 1. V = 2^17 is refused.
    void sample_kernel_largest_vocabulary() {
        std::mt19937_64 rng(5);
        Sampler host(SamplingParams{});
        for (size_t V : {size_t(257), size_t((1 << 17) - 1)}) {
            const int rows = 16;
            std::vector<float> logits(size_t(rows) * V);
            std::vector<sampling::Draw> draws(static_cast<size_t>(rows));
            std::normal_distribution<float> normal(0.0f, 4.0f);
            for (int r = 0; r < rows; ++r) {
                float* row = &logits[size_t(r) * V];
                const int kind = r % 4, rule = r / 4;
                for (size_t i = 0; i < V; ++i) row[i] = kind == 0 ? 1.5f : kind == 1 ? std::round(normal(rng) / 4.0f) : normal(rng);
                if (kind == 3) row[rng() % V] = 40.0f;
                sampling::Draw& d = draws[size_t(r)];
                d.inv_temperature = kind == 0 ? 1.0f : 1.0f / (0.5f + 0.25f * float(rule));
                d.top_k = rule == 1 ? uint32_t(V / 2 + 3) : rule == 2 ? uint32_t(V - 1) : 0u;
                d.top_p = rule == 0 ? sampling::top_p_units(0.5f) : rule == 1 ? sampling::top_p_units(0.9f) : rule == 3 ? sampling::top_p_units(0.999f) : sampling::Draw::kTopPOne;
                d.min_p = rule == 2 ? 0.01f : 0.0f;
                d.u = rng();
            }
            const std::vector<int32_t> got = cuda_testing::sample_rows(logits, draws);
            for (int r = 0; r < rows; ++r)
                QVERIFY2(got[size_t(r)] == host.draw(&logits[size_t(r) * V], V, draws[size_t(r)]),
                         qPrintable(QString("V %1 row %2: %3").arg(V).arg(r).arg(got[size_t(r)])));
        }
        QVERIFY_THROWS_EXCEPTION(Error, cuda_testing::sample_rows(std::vector<float>(size_t(1) << 17, 0.0f), std::vector<sampling::Draw>(1)));
    }

    // Through the scheduler (begin/end_decode_sample), a stream's sampled tokens are the same
    // whether its rows are drawn on the device or on the host (asking for log-probabilities reads
    // every row back and draws there): six requests of every rule, joining and leaving, in steps
    // of 1 to 4 rows (the persistent kernel and row passes). tests/vulkan's case of this name.
    void scheduler_samples_on_device_as_on_host() {
        ModelConfig c;
        c.vocab_size = 1000; c.hidden_size = 320; c.num_layers = 3; c.intermediate_size = 864;
        auto model = make_synthetic_model(c, 23);
        const std::string err = check_scheduled_draws([&] { return make_cuda_slots(model, 4); });
        QVERIFY2(err.empty(), err.c_str());
    }

    // Reset, save and load touch one slot only; a slot loaded with another's state continues
    // exactly like it (the same row of the same pass: bit-identical).
    void slots_are_independent() {
        const GoldenCase g = load_golden("tiny-a");
        auto ex = make_cuda_slots(g.model, 3);
        const size_t state_floats = size_t(g.model->config.num_layers) * g.model->config.state_dim();
        ex->prefill(0, g.prompt.data(), g.prompt.size(), nullptr, false);
        ex->prefill(1, g.prompt.data(), 5, nullptr, false);
        const std::vector<float> s0 = ex->save_slot(0), s1 = ex->save_slot(1);
        QCOMPARE(s0.size(), state_floats);
        QVERIFY(s0 != s1);
        for (float v : ex->save_slot(2)) QCOMPARE(v, 0.f);
        ex->reset_slot(0);
        for (float v : ex->save_slot(0)) QCOMPARE(v, 0.f);
        QVERIFY(ex->save_slot(1) == s1);
        ex->load_slot(2, s1);
        ex->load_slot(0, s0);
        QVERIFY(ex->save_slot(0) == s0);
        QVERIFY(ex->save_slot(1) == s1);
        QVERIFY_THROWS_EXCEPTION(Error, ex->load_slot(1, std::vector<float>(state_floats + 1)));
        const int32_t ids[] = {2, 0, 1}, toks[] = {7, 7, 7};
        std::vector<float> logits(size_t(3) * g.V);
        ex->decode(ids, toks, 3, logits.data(), nullptr);
        QVERIFY(std::equal(logits.begin(), logits.begin() + g.V, logits.begin() + ptrdiff_t(2) * g.V));
        QVERIFY(ex->save_slot(2) == ex->save_slot(1));
    }

    // Bad slot ids and tokens are refused with an error, and the executor keeps working.
    void invalid_slots_refused() {
        const GoldenCase g = load_golden("tiny-a");
        auto ex = make_cuda_slots(g.model, 4);
        const int32_t tok[] = {5, 6, 7};
        const int32_t out_of_range[] = {0, 4}, negative[] = {-1, 0}, twice[] = {1, 2, 1};
        int32_t best[3];
        QVERIFY_THROWS_EXCEPTION(Error, ex->decode(out_of_range, tok, 2, nullptr, best));
        QVERIFY_THROWS_EXCEPTION(Error, ex->decode(negative, tok, 2, nullptr, best));
        QVERIFY_THROWS_EXCEPTION(Error, ex->decode(twice, tok, 3, nullptr, best));
        QVERIFY_THROWS_EXCEPTION(Error, ex->prefill(4, tok, 3, nullptr, false));
        QVERIFY_THROWS_EXCEPTION(Error, ex->reset_slot(-1));
        QVERIFY_THROWS_EXCEPTION(Error, ex->save_slot(4));
        QVERIFY_THROWS_EXCEPTION(Error, ex->load_slot(9, ex->save_slot(0)));
        const int32_t bad_token[] = {5, int32_t(g.V)};
        const int32_t fine[] = {0, 1};
        QVERIFY_THROWS_EXCEPTION(Error, ex->decode(fine, bad_token, 2, nullptr, best));
        QVERIFY_THROWS_EXCEPTION(Error, ex->prefill(0, bad_token, 2, nullptr, false));
        BackendOptions o;
        o.backend = "cuda";
        o.allow_fallback = false;
        o.slot_count = 0;
        QVERIFY_THROWS_EXCEPTION(Error, create_executor(g.model, o));
        ex->decode(fine, tok, 2, nullptr, best);
        QVERIFY(best[0] >= 0 && best[0] < g.V && best[1] >= 0 && best[1] < g.V);
    }

    // The synchronization-floor probe checks its chain's result on the host itself (a stale
    // read across the grid barrier would throw).
    void step_floor_is_measured_and_checked() {
        auto ex = make_cuda(load_golden("tiny-c-bf16").model);
        for (int floats : {1000, 37, 13824}) {
            const double us = ex->diagnostics().measure_step_floor_us(floats);
            QVERIFY2(us > 0 && us < 1e4, qPrintable(QString::number(us)));
        }
    }
};

QTEST_GUILESS_MAIN(TestCuda)
#include "test_cuda.moc"
