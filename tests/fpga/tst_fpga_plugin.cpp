// SPDX-License-Identifier: Apache-2.0
// The FPGA plugin end to end, exactly as the app uses it: create_executor("fpga-sim") dlopens
// libmmfree-fpga.so, which runs the board-size RTL in Verilator. Golden models must give the
// golden greedy tokens with logits within MODEL_SPEC tolerance; a missing plugin must be a
// DeviceError that the engine can fall back from.
#include <QtTest>

#include "golden.h"
#include "mmfree/backend.h"
#include "mmfree/error.h"
#include "mmfree/sampler.h"
#include "plugin/plugin_executor.h"

using namespace mmfree;

class TestFpgaPlugin : public QObject {
    Q_OBJECT

private slots:
    void listsDevice() {
        bool found = false;
        for (const DeviceInfo& d : list_devices())
            if (d.backend == "fpga-sim") {
                found = true;
                QVERIFY2(d.usable, d.reason.c_str());
                QCOMPARE(d.type, std::string("fpga"));
                QCOMPARE(d.name, std::string("FPGA (simulated)"));
            }
        QVERIFY(found);
    }

    void goldenEndToEnd_data() {
        QTest::addColumn<QString>("name");
        for (const auto& n : testkit::golden_case_names()) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void goldenEndToEnd() {
        QFETCH(QString, name);
        const testkit::GoldenCase g = testkit::load_golden(name.toStdString());
        BackendOptions o;
        o.backend = "fpga-sim";
        o.allow_fallback = false;
        auto ex = create_executor(g.model, o);
        QCOMPARE(ex->backend_name(), std::string("fpga-sim"));
        const std::string msg = testkit::check_executor(*ex, g);
        QVERIFY2(msg.empty(), msg.c_str());
        // on-chip argmax path (no logits read-back) agrees with the golden continuation
        ex->reset_state();
        std::vector<float> row(size_t(g.T) * size_t(g.V));
        ex->forward(g.prompt.data(), g.prompt.size(), row.data(), true);
        int32_t tok = g.greedy_tokens[0];
        for (int i = 1; i < 8; ++i) {
            tok = ex->forward_argmax(tok);
            QCOMPARE(tok, g.greedy_tokens[size_t(i)]);
        }
        auto m = testkit::metrics_of(*ex);
        QCOMPARE(m["fpga_lanes"], 256.0);
        QVERIFY(m["fpga_cycles_per_token"] > 0);
        QVERIFY(m["fpga_modeled_tok_s"] > 0);
        QVERIFY(m["fpga_modeled_j_per_token"] > 0);
        QCOMPARE(m["fpga_power_source_modeled"], 1.0);
        qInfo("%s on the 256-lane board at %.0f MHz: %.0f cycles/token, modeled %.0f tok/s, %.3g J/token, sim %.2f Mcycles/s",
              qPrintable(name), m["fpga_clock_hz"] / 1e6, m["fpga_cycles_per_token"], m["fpga_modeled_tok_s"],
              m["fpga_modeled_j_per_token"], m["fpga_sim_cycles_per_s"] / 1e6);
    }

    // Two sequences interleaved in decode batches (the plugin runs slots one after another,
    // swapping the state on the host): the golden prompt in slot 1 and its reverse in slot 0,
    // which joins three steps later with its prompt prefilled two tokens per step between decode
    // steps. Each gets the greedy tokens it gets alone: the golden ones, and those of a
    // one-slot run of the reversed prompt.
    void interleavedSlotsEqualAlone_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("tiny-a") << "tiny-a";
        QTest::newRow("tiny-b") << "tiny-b";
    }
    void interleavedSlotsEqualAlone() {
        QFETCH(QString, name);
        const testkit::GoldenCase g = testkit::load_golden(name.toStdString());
        const size_t V = size_t(g.V), steps = g.greedy_tokens.size();
        const std::vector<int32_t> other(g.prompt.rbegin(), g.prompt.rend());
        BackendOptions o;
        o.backend = "fpga-sim";
        o.allow_fallback = false;

        // The reversed prompt alone.
        auto alone = create_executor(g.model, o);
        std::vector<float> row(V);
        alone->prefill(0, other.data(), other.size(), row.data(), false);
        std::vector<int32_t> other_alone = {argmax(row.data(), V)};
        while (other_alone.size() < steps) other_alone.push_back(alone->forward_argmax(other_alone.back()));

        o.slot_count = 2;
        auto ex = create_executor(g.model, o);
        QCOMPARE(ex->slot_count(), 2);
        ex->prefill(1, g.prompt.data(), g.prompt.size(), row.data(), false);
        std::vector<int32_t> golden = {argmax(row.data(), V)}, other_batched;
        size_t prefilled = 0;
        for (int step = 0; golden.size() < steps || other_batched.size() < steps; ++step) {
            std::vector<int32_t> ids, feed;
            if (golden.size() < steps) { ids.push_back(1); feed.push_back(golden.back()); }
            if (step >= 3 && prefilled < other.size()) {
                const size_t n = std::min<size_t>(2, other.size() - prefilled);
                ex->prefill(0, &other[prefilled], n, row.data(), false);
                prefilled += n;
                if (prefilled == other.size()) other_batched.push_back(argmax(row.data(), V));
            } else if (!other_batched.empty() && other_batched.size() < steps) {
                ids.insert(ids.begin(), 0);   // slot 0 first: the order of a step is the caller's
                feed.insert(feed.begin(), other_batched.back());
            }
            if (ids.empty()) continue;
            std::vector<int32_t> next(ids.size(), -1);
            ex->decode(ids.data(), feed.data(), ids.size(), nullptr, next.data());
            for (size_t b = 0; b < ids.size(); ++b) (ids[b] == 1 ? golden : other_batched).push_back(next[b]);
        }
        QCOMPARE(golden, g.greedy_tokens);
        QCOMPARE(other_batched, other_alone);
    }

    void timeoutIsDeviceErrorAndResetRecovers() {
        const testkit::GoldenCase g = testkit::load_golden("tiny-a");
        plugin::PluginExecutor ex(g.model, "", "sim:small");
        std::vector<float> logits(size_t(g.V));
        ex.set_option("timeout_cycles", "500");
        try {
            ex.forward(g.prompt.data(), 1, logits.data(), false);
            QFAIL("no timeout");
        } catch (const Error& e) {
            QCOMPARE(int(e.code()), int(ErrorCode::DeviceError));
            QVERIFY2(std::string(e.what()).find("did not finish") != std::string::npos, e.what());
        }
        ex.set_option("timeout_cycles", "200000000");
        ex.soft_reset();
        ex.reset_state();
        ex.forward(g.prompt.data(), 1, logits.data(), false);
        std::vector<float> ref(g.prefill_logits.begin(), g.prefill_logits.begin() + g.V);
        QVERIFY(testkit::rel_l2(logits, ref) < 2e-2);
    }

    void missingPluginFallsBack() {
        const testkit::GoldenCase g = testkit::load_golden("tiny-a");
        BackendOptions o;
        o.backend = "plugin:/nonexistent/libmmfree-fpga.so";
        o.allow_fallback = false;
        try {
            create_executor(g.model, o);
            QFAIL("no error for a missing plugin");
        } catch (const Error& e) {
            QCOMPARE(int(e.code()), int(ErrorCode::DeviceError));
            QVERIFY(std::string(e.what()).find("cannot load the FPGA plugin") != std::string::npos);
        }
        o.allow_fallback = true;
        std::string note;
        auto ex = create_executor(g.model, o, &note);
        QVERIFY(ex->backend_name().rfind("cpu", 0) == 0);
        QVERIFY(!note.empty());
        // a missing board (XDMA device nodes absent) is the same kind of error
        o.backend = "fpga-sim";
        o.device = "xdma:/dev/xdma-none";
        o.allow_fallback = false;
        try {
            create_executor(g.model, o);
            QFAIL("no error for a missing board");
        } catch (const Error& e) {
            QCOMPARE(int(e.code()), int(ErrorCode::DeviceError));
            QVERIFY2(std::string(e.what()).find("no FPGA board") != std::string::npos, e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestFpgaPlugin)
#include "tst_fpga_plugin.moc"
