// SPDX-License-Identifier: Apache-2.0
// The live dashboard: the metrics hub's arithmetic on known token series, CSV export round trip,
// charts receiving points during a real generation, a screenshot of the page mid-generation, and
// the sampling overhead (decode tok/s with the dashboard open vs closed, in the same run).
#include <QtTest>

#include <QLabel>
#include <QtCharts/QChart>
#include <QtCharts/QLineSeries>
#include <algorithm>
#include <cmath>

#include "app_testkit.h"
#include "core/engine_service.h"
#include "core/metrics_hub.h"
#include "ui/dashboard_page.h"
#include "ui/style.h"

namespace {

// A hub that reads nothing from this machine: no NVML, an empty sysfs, so tests are deterministic.
MetricsHub::Options quietOptions(const QString& emptyDir) {
    MetricsHub::Options o;
    o.sysfsRoot = emptyDir;
    o.nvmlLibrary = QStringLiteral("libmmfree-no-such-nvml.so.1");
    o.sampleIntervalMs = 200;
    return o;
}

// The offscreen platform warns on every relayout; that noise would bury the real output.
QtMessageHandler previousHandler = nullptr;
void quietHandler(QtMsgType type, const QMessageLogContext& context, const QString& message) {
    if (message.contains(QLatin1String("propagateSizeHints"))) return;
    previousHandler(type, context, message);
}

double median(QVector<double> v) {
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
}

// One token's sample as the worker produces it (now, on the steady clock).
TokenSample token(int index, double latencyMs) {
    TokenSample t;
    t.index = index;
    t.latencyMs = latencyMs;
    t.producedNs = steadyClockNs();
    return t;
}

} // namespace

class TestDashboard : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        previousHandler = qInstallMessageHandler(quietHandler);
        EngineService::registerMetaTypes();
        applyStudioStyle();
        QVERIFY(dir_.isValid());
        QVERIFY(sysfs_.isValid());
        modelPath_ = apptest::makeChatModel(dir_.filePath("model"));
        QVERIFY(!modelPath_.isEmpty());
        worker_ = new EngineService(this);
        QSignalSpy loaded(worker_, &EngineService::modelLoaded);
        worker_->loadModel(modelPath_, QStringLiteral("cpu"));
        QVERIFY(loaded.wait(60000));
    }

    // Throughput comes from the engine's own token times; p50/p95 over the recent tokens.
    void hub_math_on_known_series() {
        MetricsHub hub(quietOptions(sysfs_.path()));
        hub.onGenerationStarted(1, false);
        for (int i = 0; i < 20; ++i) hub.onTokenMetrics(1, "cpu", {token(i, i == 19 ? 200.0 : 20.0)});   // one stall
        hub.sampleNow();
        const auto c = hub.current();
        QVERIFY(c.generating);
        QCOMPARE(c.tokens, 20);
        // Token 0 (sampling right after the prefill) is TTFT's business: 19 decode steps remain,
        // 18 × 20 ms + 200 ms.
        QVERIFY(qFuzzyCompare(c.tokensPerSecond, 19 / 0.56));
        QCOMPARE(c.p50Ms, 20.0);
        QVERIFY(qFuzzyCompare(c.p95Ms, 20.0 + 0.1 * 180));   // h = 18 × 0.95 = 17.1
        QCOMPARE(hub.series(MetricsHub::kLatency).size(), 19);
        QCOMPARE(hub.series(MetricsHub::kLatencyP95).size(), 1);
        QVERIFY(!hub.series(MetricsHub::kRss).isEmpty());
        QVERIFY(hub.series(MetricsHub::kRss).last().y() > 1.0);   // this process is more than 1 MiB

        GenerationOutcome o;
        o.id = 1;
        o.generatedTokens = 20;
        o.ttftMs = 33;
        o.decodeTokS = 34.5;
        hub.onGenerationFinished(o);
        QVERIFY(!hub.current().generating);
        QCOMPARE(hub.current().ttftMs, 33.0);
        // No power probe here: the reasons are listed, not invented numbers.
        QVERIFY(hub.probes().isEmpty());
        QCOMPARE(hub.current().powerW, -1.0);
        QCOMPARE(hub.current().joulesPerToken, -1.0);
        QVERIFY(hub.unavailableProbes().size() >= 2);
        // A window with only an idle sample records zero throughput.
        hub.sampleNow();
        QCOMPARE(hub.series(MetricsHub::kTokensPerSecond).last().y(), 0.0);
    }

    void hub_uses_power_probes() {
        // A fake amdgpu sensor at 42.5 W: the power series and J/token follow it.
        QTemporaryDir sys;
        const QString hw = sys.filePath("class/drm/card0/device/hwmon/hwmon0");
        QVERIFY(QDir().mkpath(hw));
        QFile f(hw + "/power1_average");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("42500000\n");
        f.close();
        MetricsHub::Options o = quietOptions(sys.path());
        o.powerIntervalMs = 10;
        MetricsHub hub(o);
        QCOMPARE(hub.probes().size(), 1);
        QCOMPARE(hub.probes().first().source, QStringLiteral("measured"));
        ModelInfo info;
        info.backend = "vulkan";
        hub.onModelLoaded(info);
        hub.onGenerationStarted(7, false);
        QTest::qWait(120);
        for (int i = 0; i < 10; ++i) hub.onTokenMetrics(7, "vulkan", {token(i, 10.0)});
        hub.sampleNow();
        QCOMPARE(hub.current().powerW, 42.5);
        QCOMPARE(hub.current().powerProbe, QStringLiteral("hwmon:card0"));
        const auto p = hub.series(QStringLiteral("power_w:hwmon:card0"));
        QVERIFY(!p.isEmpty());
        QCOMPARE(p.last().y(), 42.5);
        GenerationOutcome out;
        out.id = 7;
        out.generatedTokens = 10;
        hub.onGenerationFinished(out);
        // ≈ 42.5 W × (≥ 0.12 s) / 10 tokens.
        QVERIFY2(hub.current().joulesPerToken > 0.4 && hub.current().joulesPerToken < 5,
                 qPrintable(QString::number(hub.current().joulesPerToken)));
        QVERIFY(qFuzzyCompare(hub.current().tokensPerJoule * hub.current().joulesPerToken, 1.0));
    }

    void csv_export_round_trips() {
        MetricsHub hub(quietOptions(sysfs_.path()));
        hub.onGenerationStarted(1, false);
        QVector<TokenSample> batch;   // one batch, as the worker sends them
        for (int i = 0; i < 50; ++i) batch.append(token(i, 1.0 / 3.0 + i * 0.123456789));
        batch.last().stages = {1.5, 2.25, 3.125, 0.0625, true};
        hub.onTokenMetrics(1, "cpu", batch);
        hub.sampleNow();
        const QString path = dir_.filePath("series.csv");
        QString error;
        QVERIFY2(hub.exportCsv(path, &error), qPrintable(error));
        const auto read = MetricsHub::readCsv(path, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        int compared = 0;
        for (const QString& key : hub.seriesKeys()) {
            const auto want = hub.series(key);
            if (want.isEmpty()) continue;
            QVERIFY2(read.contains(key), qPrintable(key));
            QCOMPARE(read.value(key), want);   // exact: 17 significant digits both ways
            ++compared;
        }
        QVERIFY(compared >= 5);
        QVERIFY(read.contains("stage_bitlinear_us"));

        QFile bad(dir_.filePath("bad.csv"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("a,b\n");
        bad.close();
        QVERIFY(MetricsHub::readCsv(bad.fileName(), &error).isEmpty());
        QVERIFY(error.contains("header"));
    }

    // A real generation on the engine thread: the charts receive points, pause freezes them, and a
    // screenshot of the page is written while tokens are still streaming.
    void charts_receive_points_during_generation() {
        MetricsHub hub(quietOptions(sysfs_.path()));
        hub.attach(worker_);
        DashboardPage page(&hub);
        page.resize(1360, 900);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QCOMPARE(page.plottedPoints(MetricsHub::kLatency), 0);

        worker_->setPacingMs(8);   // ~100 tokens/s: a few seconds of streaming to look at
        QSignalSpy finished(worker_, &EngineService::generationFinished);
        generate(41, 420);

        QTRY_VERIFY_WITH_TIMEOUT(page.plottedPoints(MetricsHub::kLatency) > 20, 20000);
        QTRY_VERIFY_WITH_TIMEOUT(page.plottedPoints(MetricsHub::kTokensPerSecond) > 2, 20000);
        QTRY_VERIFY_WITH_TIMEOUT(page.plottedPoints(MetricsHub::kLatencyP95) > 2, 20000);
        QVERIFY(page.plottedPoints(MetricsHub::kRss) > 0);
        QVERIFY(hub.current().generating);

        // Pause: the view stops moving while the hub keeps collecting.
        page.setPaused(true);
        const int frozen = page.plottedPoints(MetricsHub::kLatency);
        const int before = hub.series(MetricsHub::kLatency).size();
        QTest::qWait(600);
        QCOMPARE(page.plottedPoints(MetricsHub::kLatency), frozen);
        QVERIFY(hub.series(MetricsHub::kLatency).size() > before);
        page.setPaused(false);
        QVERIFY(page.plottedPoints(MetricsHub::kLatency) > frozen);

        QVERIFY(finished.wait(60000));
        worker_->setPacingMs(0);
        QTRY_COMPARE(hub.current().generating, false);
        QCOMPARE(hub.current().tokens, 420);
        QVERIFY(hub.current().ttftMs > 0);
        // Every decode step reached the hub (token 0 is the TTFT).
        QCOMPARE(hub.series(MetricsHub::kLatency).size(), 419);

        // Per-stage times (the CPU backend's timers) for every decode step, drawn and labelled.
        const QStringList stageKeys = {MetricsHub::kStageNormQuant, MetricsHub::kStageBitLinear, MetricsHub::kStageMlgru,
                                       MetricsHub::kStageLmHead};
        for (const QString& key : stageKeys) QCOMPARE(hub.series(key).size(), 419);
        QVERIFY(hub.current().stages.valid && !hub.current().stages.fused);
        QVERIFY(hub.current().stages.bitlinear_us > 0);
        page.refresh();
        QVERIFY(page.plottedPoints(MetricsHub::kStageBitLinear) > 0);
        QVERIFY2(page.chart("stages")->title().contains("CPU timers"), qPrintable(page.chart("stages")->title()));

        // CSV from the page, and the values in it are the ones the charts were drawn from.
        const QString csv = dir_.filePath("live.csv");
        QVERIFY(page.exportCsv(csv));
        const auto read = MetricsHub::readCsv(csv);
        QCOMPARE(read.value(MetricsHub::kLatency), hub.series(MetricsHub::kLatency));
        for (const QString& key : stageKeys) QCOMPARE(read.value(key), hub.series(key));
    }

    // The same on the Vulkan backend (lavapipe in CI): stage times from the fused decode's GPU
    // timestamps, and the device memory budget with its used / budget figures, or "not available".
    void vulkan_generation_reports_stages_and_budget() {
        EngineService engine;
        EngineService* worker = &engine;
        MetricsHub hub(quietOptions(sysfs_.path()));
        hub.attach(worker);
        QSignalSpy loaded(worker, &EngineService::modelLoaded);
        worker->loadModel(modelPath_, QStringLiteral("vulkan"));
        QVERIFY(loaded.wait(60000));
        const ModelInfo info = loaded.first().first().value<ModelInfo>();
        if (info.backend != "vulkan") QSKIP(qPrintable("no Vulkan device: " + info.fallbackNote));
        QTRY_VERIFY(hub.current().budgetKnown);
        DashboardPage page(&hub);
        page.resize(1360, 900);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));

        QSignalSpy finished(worker, &EngineService::generationFinished);
        generate(61, 60, worker);
        QVERIFY(finished.wait(60000));
        QTRY_COMPARE(hub.current().generating, false);
        QCOMPARE(hub.series(MetricsHub::kStageBitLinear).size(), 59);
        QCOMPARE(hub.series(MetricsHub::kStageLmHead).size(), 59);
        // Fused kernels: no separate norm/quant or MLGRU figures rather than zeros.
        QVERIFY(hub.series(MetricsHub::kStageNormQuant).isEmpty());
        QVERIFY(hub.series(MetricsHub::kStageMlgru).isEmpty());
        QVERIFY(hub.current().stages.fused && hub.current().stages.bitlinear_us > 0);
        page.refresh();
        QVERIFY(page.plottedPoints(MetricsHub::kStageBitLinear) > 0);
        QVERIFY2(page.chart("stages")->title().contains("GPU timestamps"), qPrintable(page.chart("stages")->title()));

        QStringList notes;
        for (const QLabel* l : page.findChildren<QLabel*>("chartNote"))
            if (l->isVisible()) notes << l->text();
        const MetricsHub::Current c = hub.current();
        qInfo("%s: device memory budget %s, used %llu bytes, budget %llu bytes", qPrintable(info.device),
              c.budgetAvailable ? "available" : "not available", c.budgetUsedBytes, c.budgetBytes);
        if (c.budgetAvailable) {
            QVERIFY(c.budgetUsedBytes > 0 && c.budgetBytes >= c.budgetUsedBytes);
            hub.sampleNow();
            QCOMPARE(hub.series(MetricsHub::kDeviceBudget).last().y(), c.budgetBytes / 1048576.0);
            page.refresh();
            QVERIFY(page.plottedPoints(MetricsHub::kDeviceMemory) > 0);
            QVERIFY2(notes.join('\n').contains("budget"), qPrintable(notes.join('\n')));
        } else {
            QVERIFY(hub.series(MetricsHub::kDeviceBudget).isEmpty());
            QVERIFY2(notes.join('\n').contains("not available"), qPrintable(notes.join('\n')));
        }
    }

    // A screenshot of the page while a reply streams, with a power sensor: a fake sysfs tree whose
    // hwmon is named "fake-gpu" (so the picture cannot pass for a real GPU), its watts following
    // the generation. Written next to the test binary: build/tests/app/dashboard-screenshot.png
    // (offscreen) and dashboard-screenshot-xcb.png (test_app_dashboard_xvfb, a real X server).
    void screenshot_during_generation() {
        QTemporaryDir sys;
        const QString hw = sys.filePath("class/drm/card0/device/hwmon/hwmon0");
        QVERIFY(QDir().mkpath(hw));
        auto writeWatts = [hw](double w) {
            QFile f(hw + "/power1_average");
            if (f.open(QIODevice::WriteOnly | QIODevice::Truncate)) f.write(QByteArray::number(qint64(w * 1e6)) + "\n");
        };
        QFile name(hw + "/name");
        QVERIFY(name.open(QIODevice::WriteOnly));
        name.write("fake-gpu\n");
        name.close();
        writeWatts(31.0);

        MetricsHub::Options o = quietOptions(sys.path());
        o.powerIntervalMs = 100;
        MetricsHub hub(o);
        hub.attach(worker_);
        ModelInfo info;
        info.backend = "vulkan";   // so the hub picks the GPU sensor for J/token
        hub.onModelLoaded(info);
        DashboardPage page(&hub);
        page.resize(1360, 900);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));

        // The fake sensor: idle ~31 W, ~60 W under load with some ripple.
        QTimer sensor;
        int tick = 0;
        connect(&sensor, &QTimer::timeout, this, [&] {
            ++tick;
            const double ripple = 3.0 * std::sin(tick * 0.7) + 1.5 * std::sin(tick * 2.3);
            writeWatts(hub.current().generating ? 58.0 + ripple : 31.0 + 0.3 * ripple);
        });
        sensor.start(100);

        QTest::qWait(2500);   // an idle stretch first, then the reply
        worker_->setPacingMs(12);
        QSignalSpy finished(worker_, &EngineService::generationFinished);
        generate(51, 340);
        QTest::qWait(3000);
        QVERIFY(finished.wait(60000));
        // A second reply, captured while it streams.
        QTest::qWait(1500);
        generate(52, 2000);
        QTest::qWait(4500);
        QVERIFY(hub.current().generating);
        QVERIFY(page.plottedPoints(QStringLiteral("power_w:hwmon:card0")) > 10);
        page.refresh();
        // dashboard-screenshot.png offscreen, dashboard-screenshot-xcb.png under Xvfb.
        const QString platform = QGuiApplication::platformName();
        const QString png = QCoreApplication::applicationDirPath() + "/dashboard-screenshot" +
                            (platform == "offscreen" ? QString() : "-" + platform) + ".png";
        QVERIFY(page.exportPng(png));
        const QImage shot(png);
        QCOMPARE(shot.size(), page.size() * page.devicePixelRatio());
        qInfo("dashboard screenshot: %s", qPrintable(png));
        worker_->cancel(52);
        QVERIFY(finished.wait(60000));
        worker_->setPacingMs(0);
        QVERIFY(hub.current().joulesPerToken > 0);
    }

    // Decode tok/s with the dashboard open (hub attached, page visible and redrawing) vs closed
    // (nothing listening), alternating in the same run on the same loaded model.
    void sampling_overhead() {
        const int tokens = qEnvironmentVariableIntValue("MMFREE_OVERHEAD_TOKENS") > 0
                               ? qEnvironmentVariableIntValue("MMFREE_OVERHEAD_TOKENS") : 1500;
        const int rounds = qEnvironmentVariableIntValue("MMFREE_OVERHEAD_ROUNDS") > 0
                               ? qEnvironmentVariableIntValue("MMFREE_OVERHEAD_ROUNDS") : 4;
        // MMFREE_OVERHEAD_MODEL: measure on a real model too (e.g. resources/models/mmfree-demo.gguf).
        const QString otherModel = qEnvironmentVariable("MMFREE_OVERHEAD_MODEL");
        if (!otherModel.isEmpty()) {
            QSignalSpy loaded(worker_, &EngineService::modelLoaded);
            worker_->loadModel(otherModel, QStringLiteral("cpu"));
            QVERIFY(loaded.wait(120000));
        }
        QVector<double> closed, sampling, open;
        double refreshMs = 0;
        quint64 id = 100;
        QVERIFY(run(++id, 200) > 0);   // warm-up
        for (int r = 0; r < rounds; ++r) {
            // Closed: nothing listens to the worker.
            closed.append(run(++id, tokens));
            // Hub only: the app with the dashboard page not shown (collecting, sampling).
            {
                MetricsHub hub;   // the real machine's probes, as in the app
                hub.attach(worker_);
                sampling.append(run(++id, tokens));
                QCOMPARE(hub.series(MetricsHub::kLatency).size(), tokens - 1);
            }
            // Open: the page visible, redrawing at the hub's rate.
            {
                MetricsHub hub;
                hub.attach(worker_);
                DashboardPage page(&hub);
                page.resize(1360, 900);
                page.show();
                QVERIFY(QTest::qWaitForWindowExposed(&page));
                open.append(run(++id, tokens));
                QCOMPARE(hub.series(MetricsHub::kLatency).size(), tokens - 1);
                // What one redraw costs on this machine (the UI thread, not the engine's).
                QElapsedTimer t;
                t.start();
                for (int i = 0; i < 10; ++i) {
                    page.refresh();
                    page.repaint();
                }
                refreshMs = t.nsecsElapsed() / 1e7;
            }
        }
        for (double v : closed + sampling + open) QVERIFY(v > 0);
        const double c = median(closed), smp = median(sampling), o = median(open);
        auto pct = [c](double v) { return 100.0 * (v - c) / c; };
        QString report = QStringLiteral("%12: dashboard sampling overhead, %1 tokens x %2 rounds, decode tok/s (median; all rounds): "
                                        "closed %3 (%4) | hub sampling, page hidden %5 (%6) %7% | page open %8 (%9) %10% | "
                                        "one redraw of the page %11 ms (UI thread)")
                             .arg(tokens).arg(rounds)
                             .arg(c, 0, 'f', 1).arg(listText(closed))
                             .arg(smp, 0, 'f', 1).arg(listText(sampling)).arg(pct(smp), 0, 'f', 2)
                             .arg(o, 0, 'f', 1).arg(listText(open)).arg(pct(o), 0, 'f', 2)
                             .arg(refreshMs, 0, 'f', 1)
                             .arg(otherModel.isEmpty() ? QStringLiteral("test model (H=64, L=2)") : QFileInfo(otherModel).fileName());
        qInfo("%s", qPrintable(report));
        QFile out(QCoreApplication::applicationDirPath() + "/dashboard-overhead.txt");
        if (out.open(QIODevice::Append | QIODevice::Text)) out.write(report.toUtf8() + "\n");
        // The overhead is a measurement, reported (here and in dashboard-overhead.txt), not asserted:
        // speed is never a pass/fail criterion of a unit test on a shared machine. What is asserted
        // above is the behaviour: every token reached the hub, with the page hidden and shown.
    }

private:
    void generate(quint64 id, int maxTokens, EngineService* worker = nullptr) {
        GenerationRequest req;
        req.id = id;
        req.transcript = QStringLiteral("User: Tell me about ternary weights.\nAssistant:");
        req.settings.maxTokens = maxTokens;
        req.settings.stopAtEos = false;
        req.settings.stopStrings.clear();
        req.settings.seed = 3;
        (worker ? worker : worker_)->generate(req);
    }

    // Runs one generation and returns its decode tok/s, or -1.
    double run(quint64 id, int maxTokens) {
        QSignalSpy spy(worker_, &EngineService::generationFinished);   // before the request: no race
        generate(id, maxTokens);
        if (!spy.wait(120000)) return -1;
        return spy.first().first().value<GenerationOutcome>().decodeTokS;
    }

    static QString listText(const QVector<double>& v) {
        QStringList s;
        for (double x : v) s << QString::number(x, 'f', 0);
        return s.join(' ');
    }

    QTemporaryDir dir_, sysfs_;
    QString modelPath_;
    EngineService* worker_ = nullptr;
};

QTEST_MAIN(TestDashboard)
#include "test_dashboard.moc"
