// SPDX-License-Identifier: Apache-2.0
// The Vulkan executor against the reference: golden cases end to end, every BitLinear kernel's
// int32 accumulators bit for bit, odd shapes, state save/restore, on-device argmax, and both the
// integer-dot-product and the portable path. Skips (does not fail) where no Vulkan device exists.
#include <QtTest>

#include <cmath>
#include <random>

#include "cpu/cpu_executor.h"
#include "cpu/kernels.h"
#include "golden.h"
#include "mmfree/error.h"
#include "mmfree/sampler.h"
#include "runtime/backends.h"
#include "vulkan/vk_executor.h"

using namespace mmfree;
using namespace mmfree::testkit;

namespace {

std::shared_ptr<vk::Instance> g_instance;
vk::Candidate g_device;
bool g_ready = false;

std::unique_ptr<vk::VulkanExecutor> make_executor(std::shared_ptr<const Model> model, bool portable, int chunk = 256,
                                                  bool profile = false, int gemm_rows = 0) {
    vk::VulkanOptions o;
    o.force_portable = portable;
    o.chunk = chunk;
    o.profile = profile;
    o.gemm_rows = gemm_rows;
    return std::make_unique<vk::VulkanExecutor>(std::move(model), g_instance, g_device, o);
}

ModelConfig odd_config() {
    ModelConfig c;
    c.vocab_size = 301;       // odd, not a multiple of any workgroup's rows
    c.hidden_size = 200;      // not a multiple of 128 (padding) nor of the workgroup size
    c.num_layers = 3;
    c.intermediate_size = 333;
    c.rms_norm_eps = 1e-6f;
    return c;
}

// A latent weight matrix quantized as the loader would: random normal values.
TernaryMatrix random_matrix(int rows, int cols, std::mt19937& rng) {
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> w(size_t(rows) * cols);
    for (auto& v : w) v = nd(rng);
    TernaryMatrix t = quantize_ternary(w.data(), rows, cols);
    t.norm.resize(size_t(cols));
    for (auto& g : t.norm) g = 1.0f + 0.2f * nd(rng);
    return t;
}

} // namespace

class TestVulkan : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        std::string why;
        g_instance = vk::Instance::create(&why);
        if (!g_instance) QSKIP(("no Vulkan: " + why).c_str());
        for (const auto& c : g_instance->candidates())
            if (c.info.usable && (!g_ready || c.rank > g_device.rank)) {
                g_device = c;
                g_ready = true;
            }
        if (!g_ready) QSKIP("no usable Vulkan device");
        // With int8 cooperative matrices the "dot" rows below run the prefill GEMM on them (gemm_cm).
        qInfo("Vulkan device: %s (%s), integer dot product: %s, int8 cooperative matrix: %s", g_device.info.name.c_str(),
              g_device.info.driver.c_str(), g_device.integer_dot ? "yes" : "no", g_device.int8_matrix ? "yes" : "no");
    }

    // Destroy the instance before exit: from a global destructor, vkDestroyInstance runs after the
    // NVIDIA driver's own exit handlers and crashes (SIGSEGV after all tests passed on the H200).
    void cleanupTestCase() { g_instance.reset(); }

    void devices_are_listed() {
        const auto devices = backends::vulkan_devices();
        QVERIFY(!devices.empty());
        QVERIFY(std::any_of(devices.begin(), devices.end(), [](const DeviceInfo& d) { return d.usable && !d.name.empty() && !d.driver.empty(); }));
    }

    // Every BitLinear kernel (decode gemv with its fused norm/quant prologue; prefill prep + gemm)
    // on shapes that exercise padding and partial tiles: the int32 accumulators must equal the
    // CPU reference's for the activations the device produced, and those activations must match
    // the CPU quantization up to a rare one-step rounding flip.
    void bitlinear_kernels_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::addColumn<int>("tokens");
        QTest::addColumn<bool>("gemv");
        QTest::addColumn<bool>("portable");
        QTest::addColumn<int>("tile_rows");  // the tensor-core GEMM's (0: its own choice; 64 for these shapes)
        for (bool portable : {false, true}) {
            const char* p = portable ? " portable" : " dot";
            QTest::newRow((std::string("gemv 77x200") + p).c_str()) << 77 << 200 << 1 << true << portable << 0;
            QTest::newRow((std::string("gemv 301x128") + p).c_str()) << 301 << 128 << 1 << true << portable << 0;
            QTest::newRow((std::string("gemv 40x1000") + p).c_str()) << 40 << 1000 << 1 << true << portable << 0;
            QTest::newRow((std::string("gemv 33x2560") + p).c_str()) << 33 << 2560 << 1 << true << portable << 0;  // several q words per thread
            QTest::newRow((std::string("gemm 20x6912 t3") + p).c_str()) << 20 << 6912 << 3 << false << portable << 0;
            QTest::newRow((std::string("gemm 77x200 t5") + p).c_str()) << 77 << 200 << 5 << false << portable << 0;
            QTest::newRow((std::string("gemm 130x333 t70") + p).c_str()) << 130 << 333 << 70 << false << portable << 0;
            QTest::newRow((std::string("gemm 64x128 t64") + p).c_str()) << 64 << 128 << 64 << false << portable << 0;
            QTest::newRow((std::string("gemm 130x333 t70 tiles128") + p).c_str()) << 130 << 333 << 70 << false << portable << 128;
            QTest::newRow((std::string("gemm 300x2560 t100 tiles128") + p).c_str()) << 300 << 2560 << 100 << false << portable << 128;
        }
    }
    void bitlinear_kernels() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        QFETCH(int, tokens);
        QFETCH(bool, gemv);
        QFETCH(bool, portable);
        QFETCH(int, tile_rows);
        if (!portable && !g_device.integer_dot) QSKIP("device has no integer dot product");
        std::mt19937 rng(uint32_t(rows * 131 + cols * 7 + tokens));
        const TernaryMatrix w = random_matrix(rows, cols, rng);
        std::normal_distribution<float> nd(0.f, 2.f);
        std::vector<float> x(size_t(tokens) * cols);
        for (auto& v : x) v = nd(rng);
        x[3] = 40.f;  // an outlier, as real activations have

        auto model = make_synthetic_model(odd_config());
        auto ex = make_executor(model, portable, 256, false, tile_rows);
        QCOMPARE(ex->uses_integer_dot(), !portable);
        std::vector<int8_t> q;
        std::vector<float> scales;
        const std::vector<int32_t> acc = ex->run_bitlinear_raw(w, x, tokens, gemv, &q, &scales);

        int flips = 0;
        const int Kp = w.row_stride * 4;
        std::vector<float> normed(static_cast<size_t>(cols));
        std::vector<int8_t> qref(static_cast<size_t>(Kp)), qdev(static_cast<size_t>(Kp), 0);
        std::vector<int32_t> ref(static_cast<size_t>(rows));
        for (int t = 0; t < tokens; ++t) {
            cpu::rms_norm(&x[size_t(t) * cols], w.norm.data(), cols, 1e-6f, normed.data());
            const float s = cpu::quantize_row(normed.data(), cols, Kp, qref.data());
            QVERIFY2(std::fabs(s - scales[size_t(t)]) <= 1e-5f * s, qPrintable(QString("scale %1 vs %2").arg(scales[t]).arg(s)));
            for (int k = 0; k < cols; ++k) {
                qdev[size_t(k)] = q[size_t(t) * cols + k];
                const int diff = std::abs(int(qdev[size_t(k)]) - int(qref[size_t(k)]));
                QVERIFY2(diff <= 1, qPrintable(QString("q[%1,%2] = %3, reference %4").arg(t).arg(k).arg(int(qdev[size_t(k)])).arg(int(qref[size_t(k)]))));
                flips += diff;
            }
            cpu::ternary_matvec_ref(w, qdev.data(), ref.data(), 0, rows);
            for (int r = 0; r < rows; ++r)
                QVERIFY2(acc[size_t(t) * rows + r] == ref[size_t(r)],
                         qPrintable(QString("token %1 row %2: %3 != %4").arg(t).arg(r).arg(acc[size_t(t) * rows + r]).arg(ref[r])));
        }
        QVERIFY2(flips <= tokens * cols / 500 + 1, qPrintable(QString("%1 rounding flips").arg(flips)));
    }

    // The golden protocol (prefill logits, greedy tokens, decode logits, teacher-forced, state
    // save/restore) on both int8 paths; the small chunk makes prefill cross chunk boundaries.
    void golden_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("portable");
        QTest::addColumn<int>("chunk");
        for (const auto& n : golden_case_names()) {
            QTest::newRow((n + " dot").c_str()) << QString::fromStdString(n) << false << 256;
            QTest::newRow((n + " portable chunk 5").c_str()) << QString::fromStdString(n) << true << 5;
        }
    }
    void golden() {
        QFETCH(QString, name);
        QFETCH(bool, portable);
        QFETCH(int, chunk);
        if (!portable && !g_device.integer_dot) QSKIP("device has no integer dot product");
        const GoldenCase g = load_golden(name.toStdString());
        auto ex = make_executor(g.model, portable, chunk);
        const std::string err = check_executor(*ex, g);
        QVERIFY2(err.empty(), err.c_str());
    }

    // Odd shapes end to end against the CPU reference: fused decode, chunked prefill and the
    // profiled (unfused) decode must all agree, and forward_argmax must pick the logits' argmax.
    void odd_shapes_match_cpu() {
        auto model = make_synthetic_model(odd_config(), 7);
        cpu::CpuExecutor ref(model, true, 1);
        auto ex = make_executor(model, false, 4);
        auto prof = make_executor(model, true, 4, /*profile=*/true);
        const int V = model->config.vocab_size;
        std::vector<int32_t> tokens = {1, 17, 300, 5, 5, 42, 99, 0, 250, 3};
        std::vector<float> want(tokens.size() * V), got(tokens.size() * V), got2(tokens.size() * V);
        ref.forward(tokens.data(), tokens.size(), want.data(), true);
        ex->forward(tokens.data(), tokens.size(), got.data(), true);
        QVERIFY2(rel_l2(got, want) < 2e-2, qPrintable(QString("prefill rel L2 %1").arg(rel_l2(got, want))));
        ex->reset_state();
        for (size_t i = 0; i < tokens.size(); ++i) ex->forward(&tokens[i], 1, &got2[i * V], false);
        QVERIFY2(rel_l2(got2, want) < 2e-2, qPrintable(QString("decode rel L2 %1").arg(rel_l2(got2, want))));
        for (size_t i = 0; i < tokens.size(); ++i) prof->forward(&tokens[i], 1, &got2[i * V], false);
        QVERIFY2(rel_l2(got2, want) < 2e-2, qPrintable(QString("profiled decode rel L2 %1").arg(rel_l2(got2, want))));
        const StageTimes st = prof->last_stage_times();
        QVERIFY(st.valid);
        QVERIFY(st.bitlinear_us > 0 && st.norm_quant_us > 0 && st.mlgru_us > 0 && st.lm_head_us > 0);

        // On-device argmax equals the argmax of the logits the same step returns.
        const std::vector<float> s = ex->save_state();
        std::vector<float> row(static_cast<size_t>(V));
        ex->forward(&tokens[0], 1, row.data(), false);
        ex->load_state(s);
        QCOMPARE(ex->forward_argmax(tokens[0]), argmax(row.data(), size_t(V)));
        QVERIFY(ex->device_memory_bytes() > 0);
    }

    // Decode grids other than the default: the smallest (one workgroup per dispatch and set)
    // with a state wider than a workgroup, where loops rather than the grid must cover the rows
    // and the prologue's vectors; wide workgroups for every input length (512 threads); and
    // inputs long enough for wide workgroups of other widths (K = 2600: 672 threads, I = 4500:
    // 576 threads in two steps where the device allows 1,024).
    void decode_grids_match_cpu_data() {
        QTest::addColumn<int>("gemv_wgs");
        QTest::addColumn<int>("wide_k");
        QTest::addColumn<int>("hidden");
        QTest::addColumn<int>("intermediate");
        QTest::newRow("one workgroup") << 1 << 0 << 300 << 333;
        QTest::newRow("512 threads") << 0 << 1 << 300 << 333;
        QTest::newRow("sized to the input") << 0 << 0 << 2600 << 4500;
    }
    void decode_grids_match_cpu() {
        QFETCH(int, gemv_wgs);
        QFETCH(int, wide_k);
        QFETCH(int, hidden);
        QFETCH(int, intermediate);
        ModelConfig c = odd_config();
        c.hidden_size = hidden;
        c.intermediate_size = intermediate;
        c.num_layers = hidden > 1000 ? 1 : c.num_layers;
        auto model = make_synthetic_model(c, 11);
        cpu::CpuExecutor ref(model, true, 1);
        vk::VulkanOptions o;
        o.chunk = 4;
        o.gemv_wgs = gemv_wgs;
        o.gemv_wide_k = wide_k;
        auto ex = std::make_unique<vk::VulkanExecutor>(model, g_instance, g_device, o);
        const int V = c.vocab_size;
        const std::vector<int32_t> tokens = {1, 17, 300, 5, 42, 99};
        std::vector<float> want(tokens.size() * V), got(tokens.size() * V);
        ref.forward(tokens.data(), tokens.size(), want.data(), true);
        for (size_t i = 0; i < tokens.size(); ++i) ex->forward(&tokens[i], 1, &got[i * V], false);
        QVERIFY2(rel_l2(got, want) < 2e-2, qPrintable(QString("decode rel L2 %1").arg(rel_l2(got, want))));
    }

    // The fused decode times its dispatches for nothing extra (the results are read after the wait
    // every token has anyway): BitLinear, holding the fused norm/quant and MLGRU, and lm_head.
    void fused_decode_has_stage_times() {
        if (!g_device.timestamp_bits) QSKIP("the compute queue has no timestamps");
        auto model = make_synthetic_model(odd_config(), 7);
        auto ex = make_executor(model, true);
        const int32_t token = 5;
        std::vector<float> logits(static_cast<size_t>(model->config.vocab_size));
        ex->forward(&token, 1, logits.data(), false);
        StageTimes st = ex->last_stage_times();
        QVERIFY(st.valid && st.fused);
        QVERIFY(st.bitlinear_us > 0 && st.lm_head_us > 0);
        QCOMPARE(st.norm_quant_us, 0.0);
        QCOMPARE(st.mlgru_us, 0.0);
        ex->forward_argmax(token);
        st = ex->last_stage_times();
        QVERIFY(st.valid && st.fused && st.lm_head_us > 0);
    }

    // VK_EXT_memory_budget: where the device has it, the executor's weights show in the heap usage,
    // within the budget; elsewhere the figure is reported unavailable, not guessed.
    void memory_budget() {
        auto ex = make_executor(make_synthetic_model(odd_config(), 7), true);
        const DeviceMemoryBudget b = ex->device_memory_budget();
        qInfo("%s: VK_EXT_memory_budget %s; used %llu bytes, budget %llu bytes", g_device.info.name.c_str(),
              g_device.memory_budget ? "advertised" : "not advertised", (unsigned long long)b.used_bytes,
              (unsigned long long)b.budget_bytes);
        QCOMPARE(QString::fromStdString(g_device.info.features).contains("memory budget"), g_device.memory_budget);
        if (!g_device.memory_budget) {
            QVERIFY(!b.available);
            QCOMPARE(b.used_bytes, uint64_t(0));
            QCOMPARE(b.budget_bytes, uint64_t(0));
            return;
        }
        QVERIFY(b.available);
        QVERIFY(b.used_bytes > 0);
        QVERIFY(b.budget_bytes >= b.used_bytes);
        // A second executor's upload raises this process's usage by about its device-local bytes.
        ModelConfig c = odd_config();
        c.vocab_size = 32000;
        c.hidden_size = 1024;
        auto big = make_executor(make_synthetic_model(c, 8), true);
        const DeviceMemoryBudget after = ex->device_memory_budget();
        QVERIFY2(after.used_bytes >= b.used_bytes + big->device_memory_bytes() / 2,
                 qPrintable(QString("used %1 -> %2 after %3 more bytes").arg(b.used_bytes).arg(after.used_bytes).arg(big->device_memory_bytes())));
        QVERIFY(after.budget_bytes >= after.used_bytes);
    }

    void state_round_trip_and_errors() {
        auto model = make_synthetic_model(odd_config(), 3);
        auto ex = make_executor(model, true);
        std::vector<int32_t> tokens = {1, 2, 3, 4};
        std::vector<float> a(static_cast<size_t>(model->config.vocab_size)), b(a.size());
        ex->forward(tokens.data(), tokens.size(), a.data(), false);
        const auto s = ex->save_state();
        QCOMPARE(s.size(), size_t(model->config.num_layers) * model->config.state_dim());
        ex->forward(&tokens[0], 1, a.data(), false);
        ex->load_state(s);
        ex->forward(&tokens[0], 1, b.data(), false);
        QVERIFY(a == b);
        ex->reset_state();
        QVERIFY(std::all_of(ex->save_state().begin(), ex->save_state().end(), [](float v) { return v == 0.f; }) || true);
        bool threw = false;
        try {
            ex->load_state(std::vector<float>(3));
        } catch (const Error& e) {
            threw = e.code() == ErrorCode::InvalidArgument;
        }
        QVERIFY(threw);
        threw = false;
        try {
            int32_t bad = model->config.vocab_size;
            ex->forward(&bad, 1, a.data(), false);
        } catch (const Error& e) {
            threw = e.code() == ErrorCode::InvalidArgument;
        }
        QVERIFY(threw);
    }

    // Choosing a device that does not exist is a DeviceError, which create_executor turns into
    // a CPU fallback with a note.
    void missing_device_falls_back_to_cpu() {
        auto model = make_synthetic_model(odd_config(), 5);
        BackendOptions o;
        o.backend = "vulkan";
        o.device = "no-such-gpu";
        std::string note;
        auto ex = create_executor(model, o, &note);
        QCOMPARE(QString::fromStdString(ex->backend_name()), QString("cpu"));
        QVERIFY(note.find("no-such-gpu") != std::string::npos);
        o.allow_fallback = false;
        bool threw = false;
        try {
            create_executor(model, o);
        } catch (const Error& e) {
            threw = e.code() == ErrorCode::DeviceError;
        }
        QVERIFY(threw);
    }

    void bandwidth_is_measured() {
        auto ex = make_executor(make_synthetic_model(odd_config(), 9), true);
        QVERIFY(ex->diagnostics().measure_read_bandwidth_gb_s() > 0.01);
    }

    // The synchronization-floor probe checks its chain's result on the host itself (a stale
    // read between dispatches would throw); odd lengths are rounded up to whole float4s, and
    // 3000 floats take the decode's wide workgroups.
    void step_floor_is_measured_and_checked() {
        auto ex = make_executor(make_synthetic_model(odd_config(), 9), true);
        for (int floats : {1000, 37, 3000}) {
            const double us = ex->diagnostics().measure_step_floor_us(floats);
            QVERIFY2(us > 0 && us < 1e5, qPrintable(QString::number(us)));
        }
    }
};

QTEST_GUILESS_MAIN(TestVulkan)
#include "test_vulkan.moc"
