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
#include "sample_rows.h"
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
                                                  bool profile = false, int gemm_rows = 0, int slot_count = 1, int gemv_batch = 0,
                                                  int grouped_max = 0) {
    vk::VulkanOptions o;
    o.force_portable = portable;
    o.chunk = chunk;
    o.profile = profile;
    o.gemm_rows = gemm_rows;
    o.slot_count = slot_count;
    o.gemv_batch = gemv_batch;
    o.grouped_max = grouped_max;
    return std::make_unique<vk::VulkanExecutor>(std::move(model), g_instance, g_device, o);
}

// Runs `call` and reports whether it threw Error(InvalidArgument) with a message naming `word`.
template <class F> bool refused(F&& call, const std::string& word) {
    try {
        call();
    } catch (const Error& e) {
        return e.code() == ErrorCode::InvalidArgument && std::string(e.what()).find(word) != std::string::npos;
    }
    return false;
}

// One sequence of a continuous-batching run: its slot, prompt, the step it joins (its prompt is
// prefilled just before) and the step it leaves at; what it produced.
struct Stream {
    int slot;
    std::vector<int32_t> prompt;
    int join, leave;
    std::vector<int32_t> tokens;   // greedy: the first from the prefill logits
    std::vector<float> logits;     // every decode step's row, in order
};

// How a decode step of several sequences runs: grouped (a row of workgroups per sequence, up to
// 8 rows; the default), the decode kernel over columns after a prep kernel, or the prefill GEMM.
enum class StepPath { Grouped, Gemv, Gemm };
std::unique_ptr<vk::VulkanExecutor> make_step_executor(std::shared_ptr<const Model> model, bool portable, int chunk, int slot_count, StepPath path) {
    return make_executor(std::move(model), portable, chunk, false, 0, slot_count, path == StepPath::Gemm ? 1 : 0,
                         path == StepPath::Grouped ? 8 : 1);
}
const char* step_path_name(StepPath p) { return p == StepPath::Grouped ? "grouped" : p == StepPath::Gemv ? "gemv" : "gemm"; }
void step_paths_data() {
    QTest::addColumn<bool>("portable");
    QTest::addColumn<int>("path");
    for (bool portable : {false, true})
        for (StepPath p : {StepPath::Grouped, StepPath::Gemv, StepPath::Gemm})
            QTest::newRow((std::string(portable ? "portable " : "dot ") + step_path_name(p)).c_str()) << portable << int(p);
}

double metric(vk::VulkanExecutor& ex, const std::string& name) {
    for (const auto& [k, v] : ex.extra_metrics())
        if (k == name) return v;
    return -1;
}

// The same stream alone, on a fresh single-slot executor: prefill, then one fused decode per token.
Stream run_alone(const std::shared_ptr<const Model>& model, bool portable, const Stream& s) {
    auto ex = make_executor(model, portable, 4);
    const size_t V = size_t(model->config.vocab_size);
    Stream out{s.slot, s.prompt, s.join, s.leave, {}, {}};
    std::vector<float> row(V);
    ex->forward(s.prompt.data(), s.prompt.size(), row.data(), false);
    out.tokens = {argmax(row.data(), V)};
    for (int step = s.join; step < s.leave; ++step) {
        ex->forward(&out.tokens.back(), 1, row.data(), false);
        out.logits.insert(out.logits.end(), row.begin(), row.end());
        out.tokens.push_back(argmax(row.data(), V));
    }
    return out;
}

// One decode step of `active` (row b: active[b], on its slot): every row's logits on even steps,
// whose argmax must be the device's token, only the on-device argmax on odd ones; each stream
// keeps its token and its kept row. "" or what differed.
std::string decode_step(vk::VulkanExecutor& ex, const std::vector<Stream*>& active, int step) {
    const size_t V = size_t(ex.model().config.vocab_size);
    std::vector<int32_t> ids, toks;
    for (const Stream* s : active) {
        ids.push_back(s->slot);
        toks.push_back(s->tokens.back());
    }
    std::vector<int32_t> next(ids.size(), -1);
    std::vector<float> logits(ids.size() * V);
    const bool with_logits = step % 2 == 0;
    ex.decode(ids.data(), toks.data(), ids.size(), with_logits ? logits.data() : nullptr, next.data());
    for (size_t b = 0; b < active.size(); ++b) {
        if (with_logits) {
            if (next[b] != argmax(&logits[b * V], V))
                return "step " + std::to_string(step) + " row " + std::to_string(b) + ": the device's token is not its logits' argmax";
            active[b]->logits.insert(active[b]->logits.end(), logits.begin() + long(b * V), logits.begin() + long((b + 1) * V));
        }
        active[b]->tokens.push_back(next[b]);
    }
    return "";
}

// Each stream against itself alone: the same greedy tokens, and the rows it kept (even steps)
// within MODEL_SPEC's tolerance of the same steps alone. "" or the first difference.
std::string compare_with_alone(const std::shared_ptr<const Model>& model, bool portable, const std::vector<Stream>& streams) {
    const size_t V = size_t(model->config.vocab_size);
    for (const auto& s : streams) {
        const Stream alone = run_alone(model, portable, s);
        const std::string who = "slot " + std::to_string(s.slot);
        if (s.tokens != alone.tokens) return who + ": greedy tokens differ from the stream alone";
        std::vector<float> want;
        for (int step = s.join; step < s.leave; ++step)
            if (step % 2 == 0) {
                const size_t i = size_t(step - s.join);
                want.insert(want.end(), alone.logits.begin() + long(i * V), alone.logits.begin() + long((i + 1) * V));
            }
        if (s.logits.size() != want.size()) return who + ": " + std::to_string(s.logits.size() / V) + " rows kept, " + std::to_string(want.size() / V) + " expected";
        const std::string err = check_tolerance(s.logits, want, int(V), who + " batched vs alone");
        if (!err.empty()) return err;
    }
    return "";
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
            // The decode kernel over columns (prep + gemv, 8 columns per block): partial blocks, several blocks.
            QTest::newRow((std::string("gemv 77x200 t5") + p).c_str()) << 77 << 200 << 5 << true << portable << 0;
            QTest::newRow((std::string("gemv 301x128 t8") + p).c_str()) << 301 << 128 << 8 << true << portable << 0;
            QTest::newRow((std::string("gemv 40x1000 t13") + p).c_str()) << 40 << 1000 << 13 << true << portable << 0;
            QTest::newRow((std::string("gemv 33x2560 t2") + p).c_str()) << 33 << 2560 << 2 << true << portable << 0;
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

    // Continuous batching: five greedy streams of different prompt lengths on scattered slots join
    // and leave between steps (a left slot is reset and reused by a later stream), prompts are
    // prefilled in chunks between decode steps, and a step of five rows takes two passes (chunk 4).
    // Each stream's tokens equal its tokens alone and its logits are within MODEL_SPEC's tolerance
    // of them (alone: the fused single-stream decode; batched: each StepPath). Steps alternate
    // between asking for logits and for the on-device argmax only.
    void batched_decode_matches_alone_data() { step_paths_data(); }
    void batched_decode_matches_alone() {
        QFETCH(bool, portable);
        QFETCH(int, path);
        if (!portable && !g_device.integer_dot) QSKIP("device has no integer dot product");
        auto model = make_synthetic_model(odd_config(), 21);
        const size_t V = size_t(model->config.vocab_size);
        std::vector<Stream> streams = {{4, {1}, 0, 7, {}, {}},
                                       {0, {1, 17, 300}, 0, 3, {}, {}},
                                       {5, {1, 5, 5, 42, 99, 0, 250, 3, 8}, 0, 8, {}, {}},
                                       {2, {1, 2, 3, 4, 5, 6}, 2, 8, {}, {}},
                                       {0, {1, 100}, 4, 8, {}, {}}};  // slot 0 again, after stream 1 left
        auto ex = make_step_executor(model, portable, 4, 6, StepPath(path));
        QCOMPARE(ex->slot_count(), 6);
        std::vector<float> row(V);
        for (int step = 0; step < 8; ++step) {
            std::vector<Stream*> active;
            for (auto& s : streams) {
                if (step == s.join) {
                    ex->reset_slot(s.slot);
                    ex->prefill(s.slot, s.prompt.data(), s.prompt.size(), row.data(), false);
                    s.tokens = {argmax(row.data(), V)};
                }
                if (step >= s.join && step < s.leave) active.push_back(&s);
            }
            const std::string err = decode_step(*ex, active, step);
            QVERIFY2(err.empty(), err.c_str());
        }
        const std::string err = compare_with_alone(model, portable, streams);
        QVERIFY2(err.empty(), err.c_str());
    }

    // Grouped steps take up to 8 sequences, a row of workgroups each, in the dispatches of one:
    // nine streams on shuffled slots decode in steps of every size from 9 (passes of 8 grouped
    // rows and 1) down to 1, and each equals its run alone (compare_with_alone).
    void grouped_steps_match_alone_data() {
        QTest::addColumn<bool>("portable");
        QTest::newRow("dot") << false;
        QTest::newRow("portable") << true;
    }
    void grouped_steps_match_alone() {
        QFETCH(bool, portable);
        if (!portable && !g_device.integer_dot) QSKIP("device has no integer dot product");
        auto model = make_synthetic_model(odd_config(), 33);
        const size_t V = size_t(model->config.vocab_size);
        auto ex = make_step_executor(model, portable, 8, 9, StepPath::Grouped);
        QCOMPARE(metric(*ex, "vulkan_grouped_decode_rows"), 8.0);
        std::vector<Stream> streams;
        std::vector<float> row(V);
        for (int i = 0; i < 9; ++i) {
            Stream s{(i * 4) % 9, {1}, 0, i + 1, {}, {}};   // stream i runs steps 0..i
            for (int k = 0; k < i % 4; ++k) s.prompt.push_back(int32_t((37 * i + 11 * k) % 301));
            ex->prefill(s.slot, s.prompt.data(), s.prompt.size(), row.data(), false);
            s.tokens = {argmax(row.data(), V)};
            streams.push_back(s);
        }
        for (int step = 0; step < 9; ++step) {
            std::vector<Stream*> active;   // streams 8 down to `step`: slots in no order
            for (int i = 8; i >= step; --i) active.push_back(&streams[size_t(i)]);
            const std::string err = decode_step(*ex, active, step);
            QVERIFY2(err.empty(), err.c_str());
        }
        const std::string err = compare_with_alone(model, portable, streams);
        QVERIFY2(err.empty(), err.c_str());
    }

    // A row's result does not depend on its neighbours: the same teacher-forced stream in batches of
    // different sizes and positions gives bit-identical logits (every row's integer accumulators,
    // scales and recurrence are computed the same way wherever the row sits).
    void batch_rows_are_bit_exact_data() { step_paths_data(); }
    void batch_rows_are_bit_exact() {
        QFETCH(bool, portable);
        QFETCH(int, path);
        if (!portable && !g_device.integer_dot) QSKIP("device has no integer dot product");
        auto model = make_synthetic_model(odd_config(), 5);
        const size_t V = size_t(model->config.vocab_size);
        const std::vector<int32_t> prompt = {1, 9, 8, 7, 6}, forced = {3, 200, 17, 17, 0, 299};
        // Run A: the stream in a batch of 2 (slot 3); run B: in a batch of 7 (slot 6, row 4, passes
        // of 4 and 3); run C: as B with the other product after the prep kernel (gemv over columns
        // / GEMM): the same integers and the same float expression, so the same bits. The grouped
        // kernels normalize in workgroups of another width, so C is not theirs (it repeats B).
        const StepPath mine_path = StepPath(path);
        const StepPath other = mine_path == StepPath::Gemv ? StepPath::Gemm : mine_path == StepPath::Gemm ? StepPath::Gemv : mine_path;
        auto ex = make_step_executor(model, portable, 4, 8, mine_path);
        auto other_path = make_step_executor(model, portable, 4, 8, other);
        std::vector<std::vector<float>> got(3);
        for (int run = 0; run < 3; ++run) {
            if (run == 2) ex.swap(other_path);
            const std::vector<int32_t> ids = run == 0 ? std::vector<int32_t>{3, 1} : std::vector<int32_t>{0, 1, 2, 3, 6, 5, 7};
            const int mine = run == 0 ? 3 : 6;
            for (int32_t slot : ids) {
                ex->reset_slot(slot);
                const std::vector<int32_t> other = {1, int32_t(10 + slot), int32_t(20 + slot)};
                if (slot == mine) ex->prefill(slot, prompt.data(), prompt.size(), nullptr, false);
                else ex->prefill(slot, other.data(), other.size(), nullptr, false);
            }
            std::vector<float> logits(ids.size() * V);
            for (int32_t t : forced) {
                std::vector<int32_t> toks(ids.size(), int32_t(t / 2));
                const size_t row = size_t(std::find(ids.begin(), ids.end(), mine) - ids.begin());
                toks[row] = t;
                ex->decode(ids.data(), toks.data(), ids.size(), logits.data(), nullptr);
                got[size_t(run)].insert(got[size_t(run)].end(), logits.begin() + long(row * V), logits.begin() + long((row + 1) * V));
            }
        }
        QVERIFY(got[0] == got[1]);
        QVERIFY(got[1] == got[2]);
    }

    // The golden protocol with the sequences sharing batched steps: in one executor, slot 2 decodes
    // greedily, slot 0 is teacher-forced with the golden tokens and slot 1 runs another prompt;
    // greedy tokens must equal the golden ones and every logit row meet MODEL_SPEC's tolerance.
    void golden_in_a_batch_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("portable");
        QTest::addColumn<int>("path");
        for (const auto& n : golden_case_names()) {
            QTest::newRow((n + " dot grouped").c_str()) << QString::fromStdString(n) << false << int(StepPath::Grouped);
            QTest::newRow((n + " dot gemv").c_str()) << QString::fromStdString(n) << false << int(StepPath::Gemv);
            QTest::newRow((n + " portable gemm").c_str()) << QString::fromStdString(n) << true << int(StepPath::Gemm);
        }
    }
    void golden_in_a_batch() {
        QFETCH(QString, name);
        QFETCH(bool, portable);
        QFETCH(int, path);
        if (!portable && !g_device.integer_dot) QSKIP("device has no integer dot product");
        const GoldenCase g = load_golden(name.toStdString());
        const size_t V = size_t(g.V);
        auto ex = make_step_executor(g.model, portable, 5, 3, StepPath(path));
        std::vector<float> prefill(size_t(g.T) * V);
        ex->prefill(2, g.prompt.data(), g.prompt.size(), nullptr, false);
        ex->prefill(0, g.prompt.data(), g.prompt.size(), prefill.data(), true);
        const std::string perr = check_tolerance(prefill, g.prefill_logits, g.V, g.name + " prefill in slot 0");
        QVERIFY2(perr.empty(), perr.c_str());
        std::vector<int32_t> other(g.prompt.rbegin(), g.prompt.rend());
        ex->prefill(1, other.data(), other.size(), nullptr, false);

        std::vector<int32_t> greedy = {argmax(&prefill[size_t(g.T - 1) * V], V)};
        std::vector<float> forced(prefill), decode;
        const int32_t ids[3] = {0, 1, 2};
        std::vector<float> logits(3 * V);
        for (size_t i = 0; i < g.greedy_tokens.size(); ++i) {
            const int32_t toks[3] = {g.greedy_tokens[i], other[i % other.size()], greedy.back()};
            ex->decode(ids, toks, 3, logits.data(), nullptr);
            forced.insert(forced.end(), logits.begin(), logits.begin() + long(V));
            if (greedy.size() < g.greedy_tokens.size()) {
                decode.insert(decode.end(), logits.begin() + long(2 * V), logits.end());
                greedy.push_back(argmax(&logits[2 * V], V));
            }
        }
        QVERIFY2(greedy == g.greedy_tokens, qPrintable(QString("%1: greedy tokens in a batch differ").arg(name)));
        std::string err = check_tolerance(decode, g.decode_logits, g.V, g.name + " batched decode_logits");
        QVERIFY2(err.empty(), err.c_str());
        err = check_tolerance(forced, g.full_logits, g.V, g.name + " batched teacher-forced full_logits");
        QVERIFY2(err.empty(), err.c_str());
    }

    // Reset, save and load address one slot: the others keep their states bit for bit, and a slot
    // loaded with another's state continues exactly as that one does.
    void slots_are_independent() {
        auto model = make_synthetic_model(odd_config(), 9);
        const size_t V = size_t(model->config.vocab_size);
        auto ex = make_executor(model, true, 4, false, 0, 3);
        const std::vector<int32_t> p0 = {1, 2, 3}, p1 = {1, 50, 60, 70, 80}, p2 = {1, 299};
        ex->prefill(0, p0.data(), p0.size(), nullptr, false);
        ex->prefill(1, p1.data(), p1.size(), nullptr, false);
        ex->prefill(2, p2.data(), p2.size(), nullptr, false);
        const auto s0 = ex->save_slot(0), s1 = ex->save_slot(1), s2 = ex->save_slot(2);
        QVERIFY(s0 != s1 && s1 != s2 && s0 != s2);
        ex->reset_slot(1);
        const auto zero = ex->save_slot(1);
        QVERIFY(std::all_of(zero.begin(), zero.end(), [](float v) { return v == 0.f; }));
        QVERIFY(ex->save_slot(0) == s0 && ex->save_slot(2) == s2);
        ex->load_slot(1, s2);
        QVERIFY(ex->save_slot(1) == s2 && ex->save_slot(0) == s0);
        // Slots 1 and 2 now hold the same state: the same token gives the same row, bit for bit.
        const int32_t ids[2] = {2, 1}, toks[2] = {7, 7};
        std::vector<float> logits(2 * V);
        ex->decode(ids, toks, 2, logits.data(), nullptr);
        QVERIFY(std::equal(logits.begin(), logits.begin() + long(V), logits.begin() + long(V)));
        QVERIFY(ex->save_slot(0) == s0);  // not in the step: untouched
        QVERIFY(ex->save_slot(1) == ex->save_slot(2));
        // Prefill of one slot leaves the others alone.
        ex->prefill(0, p1.data(), p1.size(), nullptr, false);
        QVERIFY(ex->save_slot(1) == ex->save_slot(2));
    }

    // prefill_many: pieces of four slots, out of order, in two rounds, in chunks of 4 rows and of
    // 256 (one chunk holds several prompts, another splits one): every slot's state and its next
    // logits equal the prompt prefilled alone, bit for bit. (Every prompt prefills at least two
    // tokens alone: one token alone takes the fused decode, whose norms sum in another order.)
    void prompts_prefilled_together_equal_alone_data() {
        QTest::addColumn<bool>("portable");
        QTest::addColumn<int>("chunk");
        QTest::newRow("dot, chunk 4") << false << 4;
        QTest::newRow("portable, chunk 4") << true << 4;
        QTest::newRow("dot, chunk 256") << false << 256;
        QTest::newRow("portable, chunk 256") << true << 256;
    }
    void prompts_prefilled_together_equal_alone() {
        QFETCH(bool, portable);
        QFETCH(int, chunk);
        if (!portable && !g_device.integer_dot) QSKIP("device has no integer dot product");
        auto model = make_synthetic_model(odd_config(), 11);
        const std::vector<std::vector<int32_t>> prompts = {
            {1, 5, 6}, {1, 9, 8, 7, 6, 5, 4, 3, 2, 10, 11}, {1, 299, 3}, {1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56}};
        const int n = int(prompts.size());
        auto ex = make_executor(model, portable, chunk, false, 0, n);
        const std::string err = check_prefill_many(*ex, prompts, 5, [&] { return make_executor(model, portable, chunk, false, 0, n); });
        QVERIFY2(err.empty(), err.c_str());
    }

    // decode_logits hands out the read-back buffer decode copies from: the same rows, also for a
    // step larger than one pass (step_rows_ = 4 here: 6 rows take two passes and a host buffer).
    void decode_logits_equals_decode() {
        auto model = make_synthetic_model(odd_config(), 17);
        for (bool portable : {true, false}) {
            if (!portable && !g_device.integer_dot) continue;
            const std::string err = check_decode_logits([&] { return make_executor(model, portable, 4, false, 0, 6); }, 6);
            QVERIFY2(err.empty(), err.c_str());
        }
    }

    // The model's rows drawn on the device equal the host's draws from decode_logits (step_rows_ = 4:
    // a step of 6 rows takes two passes), after the chunk kernels and after the grouped ones.
    void decode_sample_equals_host_draw() {
        auto model = make_synthetic_model(odd_config(), 19);
        for (StepPath path : {StepPath::Gemv, StepPath::Grouped}) {
            const std::string err = check_decode_sample([&] { return make_step_executor(model, true, 4, 6, path); }, 6);
            QVERIFY2(err.empty(), (std::string(step_path_name(path)) + ": " + err).c_str());
        }
    }

    // Through the scheduler, a stream's sampled tokens are the same whether its rows are drawn on the
    // device (sample.comp) or on the host (asking for log-probabilities reads every row back and
    // draws there): six requests of every rule, prompt lengths and lengths, joining and leaving.
    void scheduler_samples_on_device_as_on_host() {
        auto model = make_synthetic_model(odd_config(), 23);
        const std::string err = testkit::check_scheduled_draws([&] { return make_executor(model, true, 8, false, 0, 4); });
        QVERIFY2(err.empty(), err.c_str());
    }

    // sample.comp picks Sampler::draw's token on rows a model would rarely give: flat and peaked,
    // few distinct values (ties broken by id), -0, NaN and infinite logits, every rule and
    // vocabularies from 1 to 32000; with workgroups of 256 (CPU devices) and of 1024 (GPUs).
    void sample_kernel_equals_host_draw() {
        auto ex = make_executor(make_synthetic_model(odd_config()), true);
        for (uint32_t threads : {256u, 1024u}) {
            if (threads > g_device.max_invocations || vk::VulkanExecutor::sample_shared_bytes(threads) > g_device.max_shared) continue;
            for (const testkit::SampleRows& rows : testkit::hostile_sample_rows(99)) {
                const std::string err = testkit::check_host_draws(rows, ex->run_sample_raw(rows.logits, rows.draws, threads));
                QVERIFY2(err.empty(), (std::to_string(threads) + " threads: " + err).c_str());
            }
        }
    }

    // prepare_batches runs every batch shape once on the slots and leaves them empty: a step after it
    // gives a fresh executor's logits, bit for bit.
    void prepare_batches_leaves_slots_empty() {
        auto model = make_synthetic_model(odd_config(), 13);
        const size_t V = size_t(model->config.vocab_size);
        auto prepared = make_executor(model, true, 16, false, 0, 3, 2), fresh = make_executor(model, true, 16, false, 0, 3, 2);
        prepared->prepare_batches();
        for (int s = 0; s < 3; ++s) {
            const auto state = prepared->save_slot(s);
            QVERIFY(std::all_of(state.begin(), state.end(), [](float v) { return v == 0.f; }));
        }
        const int32_t ids[3] = {2, 0, 1}, toks[3] = {5, 6, 7};
        std::vector<float> a(3 * V), b(3 * V);
        prepared->decode(ids, toks, 3, a.data(), nullptr);
        fresh->decode(ids, toks, 3, b.data(), nullptr);
        QVERIFY(a == b);
    }

    // After prepare_batches a server's work creates no pipeline (on NVIDIA a new one took ~0.5 s
    // with a cold driver cache, while every stream waited): prompt passes of every row count up to
    // a chunk, and steps of every size with logits, argmax and device-drawn tokens.
    void prepare_batches_readies_every_pipeline_data() {
        QTest::addColumn<bool>("portable");
        QTest::newRow("portable") << true;
        QTest::newRow("dot") << false;
    }
    void prepare_batches_readies_every_pipeline() {
        QFETCH(bool, portable);
        if (!portable && !g_device.integer_dot) QSKIP("device has no integer dot product");
        auto model = make_synthetic_model(odd_config(), 19);
        const int nslots = 3, chunk = 16;
        auto ex = make_executor(model, portable, chunk, false, 0, nslots, 4);
        auto pipelines = [&] {
            for (const auto& [name, value] : ex->extra_metrics())
                if (name == "vulkan_pipelines") return int(value);
            return -1;
        };
        ex->prepare_batches();
        const int prepared = pipelines();
        QVERIFY(prepared > 0);
        std::vector<int32_t> prompt(size_t(chunk) + 5, 7);
        for (int rows = 1; rows <= chunk + 5; ++rows) {   // one piece, then pieces of two nslots
            if (rows < 2) ex->prefill_many({{0, prompt.data(), size_t(rows)}});
            else ex->prefill_many({{0, prompt.data(), size_t(rows / 2)}, {1, prompt.data(), size_t(rows - rows / 2)}});
            QVERIFY2(pipelines() == prepared, qPrintable(QString("a prompt pass of %1 rows").arg(rows)));
        }
        const int32_t ids[nslots] = {2, 0, 1}, toks[nslots] = {5, 6, 7};
        std::vector<float> logits(size_t(nslots) * size_t(model->config.vocab_size));
        std::vector<int32_t> out(nslots);
        std::vector<sampling::Draw> draws(nslots);
        for (auto& d : draws) d.inv_temperature = 1.f / 0.7f, d.top_p = 1u << 23;
        for (int n = 1; n <= nslots; ++n) {
            ex->decode(ids, toks, size_t(n), logits.data(), nullptr);
            ex->decode(ids, toks, size_t(n), nullptr, out.data());
            if (ex->samples_on_device()) ex->decode_sample(ids, toks, size_t(n), draws.data(), out.data());
            QVERIFY2(pipelines() == prepared, qPrintable(QString("a step of %1 rows").arg(n)));
        }
    }

    // Slot ids outside 0..slot_count−1, repeated ids in one step, bad tokens in a batch and a bad
    // slot count are refused with InvalidArgument, before any state changes.
    void invalid_slots_are_refused() {
        auto model = make_synthetic_model(odd_config(), 3);
        auto ex = make_executor(model, true, 4, false, 0, 2);
        const std::vector<int32_t> p = {1, 2};
        ex->prefill(1, p.data(), p.size(), nullptr, false);
        const auto before = ex->save_slot(1);
        int32_t out[2];
        const int32_t toks[2] = {5, 6};
        const int32_t bad_high[2] = {1, 2}, bad_neg[1] = {-1}, dup[2] = {1, 1};
        QVERIFY(refused([&] { ex->decode(bad_high, toks, 2, nullptr, out); }, "slot"));
        QVERIFY(refused([&] { ex->decode(bad_neg, toks, 1, nullptr, out); }, "slot"));
        QVERIFY(refused([&] { ex->decode(dup, toks, 2, nullptr, out); }, "slot"));
        const int32_t ok[2] = {0, 1}, bad_tok[2] = {5, int32_t(model->config.vocab_size)};
        QVERIFY(refused([&] { ex->decode(ok, bad_tok, 2, nullptr, out); }, "vocabulary"));
        QVERIFY(refused([&] { ex->prefill(2, p.data(), p.size(), nullptr, false); }, "slot"));
        QVERIFY(refused([&] { ex->reset_slot(-1); }, "slot"));
        QVERIFY(refused([&] { (void)ex->save_slot(2); }, "slot"));
        QVERIFY(refused([&] { ex->load_slot(5, before); }, "slot"));
        QVERIFY(ex->save_slot(1) == before);
        QVERIFY(refused([&] { make_executor(model, true, 4, false, 0, 0); }, "slot count"));
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
        const auto zero = ex->save_state();
        QVERIFY(std::all_of(zero.begin(), zero.end(), [](float v) { return v == 0.f; }));
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
