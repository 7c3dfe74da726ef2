// SPDX-License-Identifier: Apache-2.0
// The FPGA plugin end to end, exactly as the app uses it: create_executor("fpga-sim") dlopens
// libmmfree-fpga.so, which runs the board-size RTL in Verilator. Golden models must give the
// golden greedy tokens with logits within MODEL_SPEC tolerance; a missing plugin must be a
// DeviceError that the engine can fall back from.
#include <QtTest>

#include "golden.h"
#include "mmfree/backend.h"
#include "mmfree/error.h"
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
        std::map<std::string, double> m;
        for (const auto& [k, v] : ex->diagnostics().extra_metrics()) m[k] = v;
        QCOMPARE(m["fpga_lanes"], 256.0);
        QVERIFY(m["fpga_cycles_per_token"] > 0);
        QVERIFY(m["fpga_modeled_tok_s"] > 0);
        QVERIFY(m["fpga_modeled_j_per_token"] > 0);
        QCOMPARE(m["fpga_power_source_modeled"], 1.0);
        qInfo("%s on the 256-lane board at %.0f MHz: %.0f cycles/token, modeled %.0f tok/s, %.3g J/token, sim %.2f Mcycles/s",
              qPrintable(name), m["fpga_clock_hz"] / 1e6, m["fpga_cycles_per_token"], m["fpga_modeled_tok_s"],
              m["fpga_modeled_j_per_token"], m["fpga_sim_cycles_per_s"] / 1e6);
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
