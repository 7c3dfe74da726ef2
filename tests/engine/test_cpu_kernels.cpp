// SPDX-License-Identifier: Apache-2.0
// The CPU kernels' SIMD paths against their scalar specification (kernels.h), value by value.
#include <QtTest>
#include <array>
#include <atomic>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "cpu/cpu_executor.h"
#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "mmfree/huge_pages.h"
#include "golden.h"

using namespace mmfree;
using namespace mmfree::cpu;

namespace {

TernaryMatrix random_matrix(int rows, int cols, std::mt19937& rng, int fixed_weight = 2) {
    TernaryMatrix w;
    w.rows = rows;
    w.cols = cols;
    w.row_stride = TernaryMatrix::stride_for(cols);
    w.codes.assign(size_t(rows) * w.row_stride, 0x55);   // padding: code 1 (weight 0)
    for (int r = 0; r < rows; ++r)
        for (int k = 0; k < cols; ++k) {
            const int code = fixed_weight == 2 ? int(rng() % 3) : fixed_weight + 1;
            uint8_t& b = w.codes[size_t(r) * w.row_stride + k / 4];
            b = uint8_t((b & ~(3 << (2 * (k % 4)))) | (code << (2 * (k % 4))));
        }
    return w;
}

// Compares a layout's one-row kernel and batched kernel with the reference's accumulators
// `want` ([tokens][rows]) on every instruction set, rows [begin, end). matvec(isa, t, out) fills
// out[r] for token t; gemm(isa, out, stride) fills out[t·stride + r − begin]. Returns an empty
// string or the first mismatch.
template <class Matvec, class Gemm>
std::string compare_kernels(const std::vector<int32_t>& want, int rows, int tokens, int begin, int end, Matvec matvec, Gemm gemm) {
    auto mismatch = [&](GemmIsa isa, const char* kernel, int t, int r, int32_t got) {
        return std::string(gemm_isa_name(isa)) + " " + kernel + ": token " + std::to_string(t) + " row " + std::to_string(r) + " got " +
               std::to_string(got) + " want " + std::to_string(want[size_t(t) * rows + r]);
    };
    for (GemmIsa isa : supported_gemm_isas()) {
        std::vector<int32_t> got(static_cast<size_t>(rows), -7);
        for (int t = 0; t < tokens; ++t) {
            matvec(isa, t, got.data());
            for (int r = begin; r < end; ++r)
                if (got[size_t(r)] != want[size_t(t) * rows + r]) return mismatch(isa, "matvec", t, r, got[size_t(r)]);
        }
    }
    for (GemmIsa isa : supported_gemm_isas()) {
        const size_t stride = size_t(end - begin) + 3;   // wider than the range: the kernel must honour it
        std::vector<int32_t> got(size_t(tokens) * stride, -7);
        gemm(isa, got.data(), stride);
        for (int t = 0; t < tokens; ++t)
            for (int r = begin; r < end; ++r)
                if (got[size_t(t) * stride + size_t(r - begin)] != want[size_t(t) * rows + r])
                    return mismatch(isa, "gemm", t, r, got[size_t(t) * stride + size_t(r - begin)]);
    }
    return {};
}

// Every instruction set of the one-row and the batched kernel against ternary_matvec_ref, token
// by token: random int8 rows (−128..127, or all `activation`), row ranges that start and end off
// the 4-row tile. Returns an empty string or the first mismatch.
std::string check_gemm(const TernaryMatrix& w, int tokens, std::mt19937& rng, int activation = 0) {
    const int padded = w.row_stride * 4;
    std::vector<int8_t> q(size_t(tokens) * padded, 0), qp(q.size());
    std::vector<int32_t> qsum(static_cast<size_t>(tokens));
    for (int t = 0; t < tokens; ++t) {
        int8_t* row = &q[size_t(t) * padded];
        for (int k = 0; k < w.cols; ++k) row[k] = int8_t(activation ? activation : int(rng() % 256) - 128);
        permute_for_simd(row, padded, &qp[size_t(t) * padded]);
        qsum[size_t(t)] = sum_q(row, padded);
    }
    std::vector<int32_t> want(size_t(tokens) * w.rows);
    for (int t = 0; t < tokens; ++t) ternary_matvec_ref(w, &q[size_t(t) * padded], &want[size_t(t) * w.rows], 0, w.rows);
    const int begin = w.rows > 2 ? 1 : 0, end = w.rows > 3 ? w.rows - 1 : w.rows;
    return compare_kernels(
        want, w.rows, tokens, begin, end,
        [&](GemmIsa isa, int t, int32_t* out) { ternary_matvec_fast(w, &qp[size_t(t) * padded], qsum[size_t(t)], out, begin, end, isa); },
        [&](GemmIsa isa, int32_t* out, size_t stride) {
            ternary_gemm_fast(w, qp.data(), size_t(padded), qsum.data(), tokens, out, stride, begin, end, isa);
        });
}

// The 1.6-bit layout of w against ternary_matvec_ref: the one-row kernel and the batched kernel
// on every instruction set, random int8 rows (or all `activation`), ranges off the tile grid.
std::string check_trits(const TernaryMatrix& w, int tokens, std::mt19937& rng, int activation = 0) {
    const TritMatrix t = pack_trits(w);
    for (int r = 0; r < w.rows; ++r)
        for (int k = 0; k < w.cols; ++k)
            if (t.code(r, k) != w.weight(r, k) + 1) return "code of weight (" + std::to_string(r) + ", " + std::to_string(k) + ") differs";
    const int n5 = TritMatrix::activation_length(w.cols);
    std::vector<int8_t> q(size_t(tokens) * n5, 0);
    std::vector<int32_t> qsum(static_cast<size_t>(tokens)), want(size_t(tokens) * w.rows);
    for (int tk = 0; tk < tokens; ++tk) {
        int8_t* row = &q[size_t(tk) * n5];
        for (int k = 0; k < w.cols; ++k) row[k] = int8_t(activation ? activation : int(rng() % 256) - 128);
        qsum[size_t(tk)] = sum_q(row, n5);
        ternary_matvec_ref(w, row, &want[size_t(tk) * w.rows], 0, w.rows);
    }
    const int begin = w.rows > 2 ? 1 : 0, end = w.rows > 3 ? w.rows - 1 : w.rows;
    return compare_kernels(
        want, w.rows, tokens, begin, end,
        [&](GemmIsa isa, int tk, int32_t* out) { ternary_matvec_trits(t, &q[size_t(tk) * n5], qsum[size_t(tk)], out, begin, end, isa); },
        [&](GemmIsa isa, int32_t* out, size_t stride) {
            ternary_gemm_trits(t, q.data(), size_t(n5), qsum.data(), tokens, out, stride, begin, end, isa);
        });
}

} // namespace

class TestCpuKernels : public QObject {
    Q_OBJECT
private slots:
    // The one-row kernel's accumulators equal the reference's on every instruction set, including
    // the extremes that would overflow the AVX2 int16 partial sums if the flush interval were
    // wrong (all weights +1 or −1, all activations ±127 or −128), odd block counts (the 512-bit
    // kernel takes two blocks per vector) and shapes that are not multiples of the block.
    void matvec_fast_equals_reference_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::addColumn<int>("weight");   // 2 = random
        QTest::addColumn<int>("activation"); // 0 = random
        QTest::newRow("odd shape") << 37 << 1000 << 2 << 0;
        QTest::newRow("intermediate") << 16 << 2816 << 2 << 0;
        QTest::newRow("tiny") << 3 << 5 << 2 << 0;
        QTest::newRow("all +1 × 127") << 4 << 4096 << 1 << 127;
        QTest::newRow("all −1 × 127") << 4 << 4096 << -1 << 127;
        QTest::newRow("all +1 × −127") << 5 << 4096 << 1 << -127;
        QTest::newRow("all +1 × −128, odd blocks") << 7 << 3900 << 1 << -128;
        QTest::newRow("all −1 × −128") << 6 << 8192 << -1 << -128;
        QTest::newRow("one block") << 9 << 128 << 2 << 0;
    }
    void matvec_fast_equals_reference() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        QFETCH(int, weight);
        QFETCH(int, activation);
        std::mt19937 rng(7);
        const TernaryMatrix w = random_matrix(rows, cols, rng, weight);
        const int padded = w.row_stride * 4;
        std::vector<int8_t> q(static_cast<size_t>(padded), 0), qp(q.size());
        for (int k = 0; k < cols; ++k) q[size_t(k)] = int8_t(activation ? activation : int(rng() % 255) - 127);
        permute_for_simd(q.data(), padded, qp.data());
        std::vector<int32_t> ref(static_cast<size_t>(rows)), fast(ref.size());
        ternary_matvec_ref(w, q.data(), ref.data(), 0, rows);
        for (GemmIsa isa : supported_gemm_isas()) {
            std::fill(fast.begin(), fast.end(), -1);
            ternary_matvec_fast(w, qp.data(), sum_q(q.data(), padded), fast.data(), 0, rows, isa);
            if (fast != ref) QFAIL(qPrintable(QString("%1: accumulators differ from the reference").arg(gemm_isa_name(isa))));
        }
        if (activation) QCOMPARE(ref[0], weight * activation * cols);
    }

    // The batched kernel on every instruction set this machine has: odd shapes, token counts
    // that leave every micro-kernel width's tail, and the int16-overflow extremes of the AVX2 path.
    void gemm_equals_reference_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::addColumn<int>("weight");
        QTest::addColumn<int>("activation");
        QTest::addColumn<int>("tokens");
        QTest::newRow("odd shape, 7 tokens") << 37 << 1000 << 2 << 0 << 7;
        QTest::newRow("odd shape, 2 tokens") << 19 << 333 << 2 << 0 << 2;
        QTest::newRow("intermediate, 16 tokens") << 21 << 2816 << 2 << 0 << 16;
        QTest::newRow("tiny, 5 tokens") << 3 << 5 << 2 << 0 << 5;
        QTest::newRow("one row, 3 tokens") << 1 << 129 << 2 << 0 << 3;
        QTest::newRow("odd, 64 tokens") << 9 << 777 << 2 << 0 << 64;
        QTest::newRow("all +1 × −128") << 6 << 8191 << 1 << -128 << 4;
        QTest::newRow("all −1 × −128") << 5 << 8191 << -1 << -128 << 3;
        QTest::newRow("all +1 × 127") << 4 << 4096 << 1 << 127 << 2;
        // AMX: row blocks of 16 with a partial last one, token groups of 16 with a partial last
        // one, up to four groups sharing the B tiles, blocks unpacked four at a time with a
        // shorter last segment.
        QTest::newRow("tiles: 33 rows, 21 tokens") << 33 << 1000 << 2 << 0 << 21;
        QTest::newRow("tiles: 19 rows, 53 tokens") << 19 << 2816 << 2 << 0 << 53;   // three groups sharing tiles, then 5
        QTest::newRow("tiles: all −1 × −128, 17 tokens") << 17 << 8191 << -1 << -128 << 17;
        QTest::newRow("tiles: all +1 × 127, 6 tokens") << 16 << 2816 << 1 << 127 << 6;
    }
    void gemm_equals_reference() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        QFETCH(int, weight);
        QFETCH(int, activation);
        QFETCH(int, tokens);
        std::mt19937 rng(17);
        const TernaryMatrix w = random_matrix(rows, cols, rng, weight);
        const std::string err = check_gemm(w, tokens, rng, activation);
        QVERIFY2(err.empty(), err.c_str());
    }

    // ...and on every BitLinear of every golden model.
    void gemm_equals_reference_on_golden_models() {
        std::mt19937 rng(23);
        for (const auto& name : testkit::golden_case_names()) {
            const auto golden = testkit::load_golden(name);
            std::vector<const TernaryMatrix*> matrices{&golden.model->lm_head};
            for (const auto& l : golden.model->layers)
                for (const TernaryMatrix* m : {&l.i_proj, &l.f_proj, &l.g_proj, &l.o_proj, &l.gate_proj, &l.down_proj}) matrices.push_back(m);
            for (const TernaryMatrix* m : matrices) {
                const std::string err = check_gemm(*m, 5, rng);
                QVERIFY2(err.empty(), (name + ": " + err).c_str());
            }
        }
        QVERIFY(!supported_gemm_isas().empty());
        qInfo("batched kernel instruction sets tested: %s", [] {
            std::string s;
            for (GemmIsa isa : supported_gemm_isas()) s += std::string(s.empty() ? "" : ", ") + gemm_isa_name(isa);
            return s;
        }().c_str());
    }

    // Every five-code combination survives the byte encoding (3^5 = 243 of 256 values).
    void trit_bytes_roundtrip() {
        for (int v = 0; v < 243; ++v) {
            int c[5], rest = v;
            for (int i = 4; i >= 0; --i) { c[i] = rest % 3; rest /= 3; }
            const uint8_t byte = encode_trits(c);
            for (int i = 0; i < 5; ++i) QCOMPARE(decode_trit(byte, i), c[i]);
        }
    }

    // The 1.6-bit kernels (one row, and batched on every instruction set) equal the reference:
    // odd lengths around the 160-weight block and the 128 padding, and the extremes of the int16
    // partial sums (all weights +1 with u = 255, i.e. q = 127).
    void trits_equal_reference_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::addColumn<int>("weight");
        QTest::addColumn<int>("activation");
        QTest::addColumn<int>("tokens");
        for (int cols : {1, 5, 31, 79, 80, 81, 159, 160, 161, 241, 319, 333, 1000, 1023, 2817})
            QTest::newRow(("random, " + std::to_string(cols) + " cols").c_str()) << 11 << cols << 2 << 0 << 3;
        QTest::newRow("intermediate, 16 tokens") << 21 << 2816 << 2 << 0 << 16;
        QTest::newRow("one row") << 1 << 129 << 2 << 0 << 2;
        QTest::newRow("all +1 × 127") << 6 << 8191 << 1 << 127 << 3;
        QTest::newRow("all +1 × −128") << 5 << 8191 << 1 << -128 << 2;
        QTest::newRow("all −1 × 127") << 4 << 4097 << -1 << 127 << 2;
        QTest::newRow("all 0 × −128") << 4 << 999 << 0 << -128 << 5;
    }
    void trits_equal_reference() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        QFETCH(int, weight);
        QFETCH(int, activation);
        QFETCH(int, tokens);
        std::mt19937 rng(29);
        const TernaryMatrix w = random_matrix(rows, cols, rng, weight);
        const std::string err = check_trits(w, tokens, rng, activation);
        QVERIFY2(err.empty(), err.c_str());
    }

    // ...and on every BitLinear of every golden model.
    void trits_equal_reference_on_golden_models() {
        std::mt19937 rng(31);
        for (const auto& name : testkit::golden_case_names()) {
            const auto golden = testkit::load_golden(name);
            std::vector<const TernaryMatrix*> matrices{&golden.model->lm_head};
            for (const auto& l : golden.model->layers)
                for (const TernaryMatrix* m : {&l.i_proj, &l.f_proj, &l.g_proj, &l.o_proj, &l.gate_proj, &l.down_proj}) matrices.push_back(m);
            for (const TernaryMatrix* m : matrices) {
                const std::string err = check_trits(*m, 3, rng);
                QVERIFY2(err.empty(), (name + ": " + err).c_str());
            }
        }
    }

    // The whole executor on the 1.6-bit copies gives the 2-bit executor's logits bit for bit
    // (prompt through the GEMM, one-row decode, a decode batch of two), and passes the golden
    // tolerances; auto picks a layout for decode and one for batches, with the same logits.
    void trit_executor_equals_two_bit() {
        for (const auto& name : testkit::golden_case_names()) {
            const auto golden = testkit::load_golden(name);
            CpuExecutor two(golden.model, false, 2, 2, CpuWeights::TwoBit), trits(golden.model, false, 2, 2, CpuWeights::Trits);
            // A forced layout holds for decode and for batches alike.
            QVERIFY(two.weights() == CpuWeights::TwoBit && two.batch_weights() == CpuWeights::TwoBit);
            QVERIFY(trits.weights() == CpuWeights::Trits && trits.batch_weights() == CpuWeights::Trits);
            const size_t V = size_t(golden.model->config.vocab_size), T = golden.prompt.size();
            std::vector<float> a(T * V), b(T * V);
            two.prefill(0, golden.prompt.data(), T, a.data(), true);
            trits.prefill(0, golden.prompt.data(), T, b.data(), true);
            QVERIFY2(a == b, (name + ": prefill logits differ").c_str());
            const int32_t one_slot[1] = {0}, both[2] = {0, 1}, tokens[2] = {golden.prompt[1], golden.prompt[2]};
            for (int step = 0; step < 3; ++step) {
                two.decode(one_slot, tokens, 1, a.data(), nullptr);
                trits.decode(one_slot, tokens, 1, b.data(), nullptr);
                two.decode(both, tokens, 2, a.data() + V, nullptr);
                trits.decode(both, tokens, 2, b.data() + V, nullptr);
                QVERIFY2(std::equal(a.begin(), a.begin() + 3 * V, b.begin()), (name + ": decode logits differ").c_str());
            }
            CpuExecutor fresh(golden.model, false, 2, 1, CpuWeights::Trits);
            const std::string err = testkit::check_executor(fresh, golden);
            QVERIFY2(err.empty(), (name + ": " + err).c_str());
            // Auto times real decode steps on slot 0 and batches apart; whatever it picks for each,
            // slot 0 starts empty and the logits are the 2-bit executor's (prompt: a GEMM, then a
            // one-row step and a batch of two).
            CpuExecutor chosen(golden.model, false, 2, 2, CpuWeights::Auto);
            const std::vector<float> start = chosen.save_slot(0);
            QVERIFY2(std::all_of(start.begin(), start.end(), [](float v) { return v == 0.f; }), (name + ": auto's timed steps left a state").c_str());
            auto probe = testkit::metrics_of(chosen);
            QVERIFY(probe["cpu_weights_probe_2bit_us"] > 0 && probe["cpu_weights_probe_1.6bit_us"] > 0);
            QVERIFY(chosen.weights() == CpuWeights::TwoBit || chosen.weights() == CpuWeights::Trits);
            QVERIFY(chosen.batch_weights() == CpuWeights::TwoBit || chosen.batch_weights() == CpuWeights::Trits);
            std::vector<float> c(T * V);
            two.reset_slot(0);
            two.reset_slot(1);
            two.prefill(0, golden.prompt.data(), T, a.data(), true);
            chosen.prefill(0, golden.prompt.data(), T, c.data(), true);
            QVERIFY2(a == c, (name + ": auto layout prefill logits differ").c_str());
            two.decode(one_slot, tokens, 1, a.data(), nullptr);
            chosen.decode(one_slot, tokens, 1, c.data(), nullptr);
            two.decode(both, tokens, 2, a.data() + V, nullptr);
            chosen.decode(both, tokens, 2, c.data() + V, nullptr);
            QVERIFY2(std::equal(a.begin(), a.begin() + 3 * V, c.begin()), (name + ": auto layout decode logits differ").c_str());
        }
        QVERIFY(parse_cpu_weights("1.6bit") == CpuWeights::Trits && parse_cpu_weights("2bit") == CpuWeights::TwoBit);
        QVERIFY(!parse_cpu_weights("1.58bit"));
    }

    // Round half away from zero, clamped; zero padding. max|y| = 127 makes the scale exactly 1, so
    // the ±k.5 values below are exact halves.
    void quantize_row_matches_spec() {
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(-127.f, 127.f);
        std::vector<float> y(1000);
        for (auto& v : y) v = u(rng);
        y[0] = 127.f;
        for (int i = 1; i < 60; ++i) y[size_t(i)] = float(i % 2 ? 1 : -1) * (float(i) + 0.5f);
        std::vector<int8_t> q(1024, 99);
        const float s = quantize_row(y.data(), 1000, 1024, q.data());
        QCOMPARE(s, 1.0f);
        for (int i = 0; i < 1000; ++i) QCOMPARE(int(q[size_t(i)]), int(std::clamp(std::lround(y[size_t(i)] * s), -128L, 127L)));
        for (int i = 1000; i < 1024; ++i) QCOMPARE(int(q[size_t(i)]), 0);
        // Scale from the largest magnitude, wherever it sits (here in the scalar tail).
        std::vector<float> z(37, 0.25f);
        z[36] = -2.0f;
        QCOMPARE(quantize_row(z.data(), 37, 128, q.data()), 127.0f / 2.0f);
        QCOMPARE(int(q[36]), -127);
    }

    // The fused input stage gives the bytes, scale and Σq of rms_norm → quantize_row →
    // permute_for_simd → sum_q: widths with and without a SIMD tail and padding, and an all-zero
    // row (scale from the 1e-5 floor).
    void norm_quantize_permuted_equals_chain_data() {
        QTest::addColumn<int>("n");
        QTest::newRow("hidden") << 1024;
        QTest::newRow("intermediate") << 2816;
        QTest::newRow("odd") << 1001;
        QTest::newRow("tiny") << 5;
        QTest::newRow("zeros") << 0;   // n = 300, every value zero
    }
    void norm_quantize_permuted_equals_chain() {
        QFETCH(int, n);
        const bool zeros = n == 0;
        if (zeros) n = 300;
        std::mt19937 rng(11);
        std::normal_distribution<float> nd(0.f, 3.f);
        std::vector<float> x(static_cast<size_t>(n)), gamma(x.size());
        for (int i = 0; i < n; ++i) {
            x[size_t(i)] = zeros ? 0.f : nd(rng);
            gamma[size_t(i)] = 1.f + nd(rng) / 10;
        }
        const int padded = TernaryMatrix::stride_for(n) * 4;
        std::vector<float> normed(x.size()), scratch(static_cast<size_t>(n + padded));
        std::vector<int8_t> q(static_cast<size_t>(padded)), want(q.size()), got(q.size(), 99);
        rms_norm(x.data(), gamma.data(), n, 1e-6f, normed.data());
        const float s = quantize_row(normed.data(), n, padded, q.data());
        permute_for_simd(q.data(), padded, want.data());
        int32_t qsum = -1;
        QCOMPARE(norm_quantize_permuted(x.data(), gamma.data(), n, 1e-6f, padded, scratch.data(), got.data(), &qsum), s);
        QCOMPARE(got, want);
        QCOMPARE(qsum, sum_q(q.data(), padded));
        // The 1.6-bit layout's input: the same bytes in natural order.
        const int padded5 = TritMatrix::activation_length(n);
        std::vector<int8_t> natural(static_cast<size_t>(padded5), 99), want5(natural.size());
        QCOMPARE(quantize_row(normed.data(), n, padded5, want5.data()), s);
        QCOMPARE(norm_quantize(x.data(), gamma.data(), n, 1e-6f, padded5, scratch.data(), natural.data(), &qsum), s);
        QCOMPARE(natural, want5);
        QCOMPARE(qsum, sum_q(q.data(), padded));
    }

    // Streamed buffers: cache-line aligned, disjoint, intact while others come and go; a large one
    // is 2 MB-aligned; with huge-page regions every one lies in a mapping advised for huge pages
    // ("hg" in /proc/self/smaps).
    void streamed_bytes_are_disjoint_and_advised() {
        std::mt19937 rng(13);
        std::vector<StreamedBytes> buffers;
        for (int round = 0; round < 3; ++round) {
            for (int i = 0; i < 40; ++i) {
                const size_t n = size_t(1) << (rng() % 21);   // 1 B .. 1 MB
                buffers.emplace_back(n, uint8_t(buffers.size()));
            }
            buffers.emplace_back(size_t(40) << 20, uint8_t(buffers.size()));   // its own region
            QCOMPARE(reinterpret_cast<uintptr_t>(buffers.back().data()) % (uintptr_t(2) << 20), uintptr_t(0));
            for (size_t i = 0; i < buffers.size(); ++i) {
                QCOMPARE(reinterpret_cast<uintptr_t>(buffers[i].data()) % 64, uintptr_t(0));
                QVERIFY(std::all_of(buffers[i].begin(), buffers[i].end(), [&](uint8_t b) { return b == uint8_t(i); }));
            }
            std::shuffle(buffers.begin(), buffers.end(), rng);
            buffers.resize(buffers.size() / 2);
            for (size_t i = 0; i < buffers.size(); ++i) std::fill(buffers[i].begin(), buffers[i].end(), uint8_t(i));
        }
        if (!kHugePageRegions) return;
        // smaps lists each mapping as "begin-end perms ..." followed by fields, VmFlags last.
        const auto at = reinterpret_cast<uintptr_t>(buffers.front().data());
        std::ifstream smaps("/proc/self/smaps");
        std::string line;
        bool inside = false, advised = false;
        while (std::getline(smaps, line)) {
            unsigned long long b = 0, e = 0;
            char dash = 0;
            std::istringstream head(line);
            if (head >> std::hex >> b >> dash >> e && dash == '-') inside = at >= b && at < e;
            else if (inside && line.rfind("VmFlags:", 0) == 0) advised = line.find(" hg") != std::string::npos;
        }
        QVERIFY2(advised, "the buffer's mapping was not advised for huge pages");
    }

    void exp_is_accurate() {
        double worst = 0;
        for (float x = -87.f; x <= 88.f; x += 0.0007f) {
            const double e = std::exp(double(x));
            worst = std::max(worst, std::fabs(double(exp_approx(x)) - e) / e);
        }
        QVERIFY2(worst < 3e-7, qPrintable(QString::number(worst)));
        // Far outside the clamp: saturated, never inf or NaN.
        QVERIFY(sigmoid(-1000.f) >= 0.f && sigmoid(-1000.f) < 1e-37f);
        QCOMPARE(sigmoid(1000.f), 1.0f);
        QVERIFY(silu(-1000.f) <= 0.f && silu(-1000.f) > -1e-30f);
        QCOMPARE(silu(1000.f), 1000.f);
    }

    // SIMD element-wise loops give exactly the scalar formulas (n = 37: vector body and tail).
    void elementwise_equals_scalar() {
        std::mt19937 rng(5);
        std::normal_distribution<float> nd(0.f, 4.f);
        const int n = 37;
        std::vector<float> i_pre(n), f_pre(n), lb(n), h(n), up(n), z(n);
        for (int k = 0; k < n; ++k) {
            i_pre[k] = nd(rng); f_pre[k] = nd(rng); h[k] = nd(rng); up[k] = nd(rng); z[k] = nd(rng);
            lb[k] = std::fabs(nd(rng)) / 8;
        }
        for (const float* bound : {static_cast<const float*>(nullptr), static_cast<const float*>(lb.data())}) {
            std::vector<float> hv = h, out(n);
            mlgru_step(i_pre.data(), f_pre.data(), bound, hv.data(), out.data(), n);
            for (int k = 0; k < n; ++k) {
                float f = sigmoid(f_pre[k]);
                if (bound) f = bound[k] + (1.0f - bound[k]) * f;
                const float want = f * h[k] + silu(i_pre[k]) * (1.0f - f);
                QCOMPARE(hv[k], want);
                QCOMPARE(out[k], silu(want));
            }
        }
        std::vector<float> m(n), gated(n), normed(n), gamma(n);
        for (int k = 0; k < n; ++k) gamma[k] = nd(rng);
        swiglu(i_pre.data(), up.data(), m.data(), n);
        gated_rms_norm(z.data(), gamma.data(), up.data(), n, 1e-6f, gated.data());
        rms_norm(z.data(), gamma.data(), n, 1e-6f, normed.data());
        for (int k = 0; k < n; ++k) {
            QCOMPARE(m[k], silu(i_pre[k]) * up[k]);
            QCOMPARE(gated[k], normed[k] * up[k]);
        }
    }

    // Loops of varying width, back to back: every part runs exactly once per loop with the
    // right part count, whichever thread claims it (a late waker must not claim a part of a
    // newer loop than the one it saw).
    void thread_pool_runs_each_part_once_data() {
        QTest::addColumn<bool>("spin");
        QTest::newRow("spinning workers") << true;
        QTest::newRow("sleeping workers") << false;
    }
    void thread_pool_runs_each_part_once() {
        QFETCH(bool, spin);
        ThreadPool pool(4, spin);
        QCOMPARE(pool.size(), 4);
        std::array<std::atomic<int>, 4> calls{};
        std::atomic<int> wrong_count{0}, wrong_index{0};
        int expected[4] = {};
        // Every part leaves the worker 1 MB to prefetch while idle: it must stop at the next loop.
        const std::vector<uint8_t> weights(size_t(1) << 20, 1);
        const auto caller = std::this_thread::get_id();
        for (int i = 0; i < (spin ? 20000 : 3000); ++i) {
            const int parts = 1 + (i * 7) % 4;
            pool.run([&](int part, int n) {
                if (n != parts) ++wrong_count;
                const int index = ThreadPool::thread_index();
                if ((index == 0) != (std::this_thread::get_id() == caller) || index >= pool.size()) ++wrong_index;
                ThreadPool::prefetch_when_idle(weights.data(), weights.size());
                ++calls[size_t(part)];
            }, parts);
            for (int t = 0; t < parts; ++t) ++expected[t];
        }
        QCOMPARE(wrong_count.load(), 0);
        QCOMPARE(wrong_index.load(), 0);
        for (int t = 0; t < 4; ++t) QCOMPARE(calls[size_t(t)].load(), expected[t]);
    }

    // Workers really take parts: part 0 waits for part 1 to start, which only another thread
    // can do while the caller is inside part 0.
    void thread_pool_runs_parts_concurrently() {
        ThreadPool pool(2);
        for (int i = 0; i < 100; ++i) {
            std::atomic<bool> second_started{false};
            std::atomic<bool> overlapped{false};
            pool.run([&](int part, int) {
                if (part == 1) { second_started = true; return; }
                QDeadlineTimer deadline(5000);
                while (!second_started && !deadline.hasExpired()) std::this_thread::yield();
                overlapped = second_started.load();
            }, 2);
            QVERIFY(overlapped);
        }
    }
};

QTEST_GUILESS_MAIN(TestCpuKernels)
#include "test_cpu_kernels.moc"
