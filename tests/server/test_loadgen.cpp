// SPDX-License-Identifier: Apache-2.0
// mmfree-loadgen against an in-process server on loopback (the demo model on the CPU): its report
// counts what the server answered, --warmup sends unmeasured requests first, and bad options or a
// missing server end with a one-line error and a nonzero exit.
#include <QtTest>

#include <QProcess>
#include <QTemporaryDir>

#include <fstream>

#include "server_test_util.h"

using namespace testutil;
using mmfree::ApiServer;

class LoadgenTest : public QObject {
    Q_OBJECT

    struct Run {
        int exit_code = -1;
        QString stderr_text;
    };
    static Run loadgen(const QStringList& args) {
        QProcess p;
        p.start(MMFREE_LOADGEN, args);
        if (!p.waitForFinished(120000)) p.kill();
        return {p.exitCode(), QString::fromUtf8(p.readAllStandardError())};
    }

private Q_SLOTS:
    void report_counts_what_the_server_answered() {
        ApiServer server(loopback_options(), Demo::get().scheduler(4));
        server.start();
        QTemporaryDir dir;
        const QString out = dir.filePath("r.json");
        const Run r = loadgen({"--url", QString::fromStdString(server.url()), "--clients", "1,3", "--requests", "2",
                               "--max-tokens", "5", "-o", out});
        QVERIFY2(r.exit_code == 0, qPrintable(r.stderr_text));
        const json report = json::parse(std::ifstream(out.toStdString()), nullptr, false);
        QVERIFY(!report.is_discarded());
        QCOMPARE(report["warmup_s"].get<double>(), 0.0);
        QCOMPARE(report["levels"].size(), size_t(2));
        for (const auto& level : report["levels"]) {
            const int clients = level["clients"];
            QCOMPARE(level["requests"].get<int>(), clients * 2);
            QCOMPARE(level["errors"].get<int>(), 0);
            QCOMPARE(level["generated_tokens"].get<int>(), clients * 2 * 5);   // ignore_eos: every reply is max_tokens long
            QVERIFY(level["ttft_ms_p99"].get<double>() >= level["ttft_ms_p50"].get<double>());
            QVERIFY(level["engine_share"].contains("decode"));
        }
        QCOMPARE(server.stats().completions, uint64_t(2 + 6));
    }

    void warmup_requests_come_first_and_are_not_counted() {
        ApiServer server(loopback_options(), Demo::get().scheduler(4));
        server.start();
        QTemporaryDir dir;
        const QString out = dir.filePath("r.json");
        const Run r = loadgen({"--url", QString::fromStdString(server.url()), "--clients", "2", "--requests", "1",
                               "--max-tokens", "3", "--warmup", "0.3", "-o", out});
        QVERIFY2(r.exit_code == 0, qPrintable(r.stderr_text));
        const json report = json::parse(std::ifstream(out.toStdString()), nullptr, false);
        QCOMPARE(report["warmup_s"].get<double>(), 0.3);
        QCOMPARE(report["levels"][0]["requests"].get<int>(), 2);
        QCOMPARE(report["levels"][0]["generated_tokens"].get<int>(), 6);
        QVERIFY2(server.stats().completions >= 2 + 2, "the warm-up sent at least one request per client");
    }

    void bad_options_and_no_server_fail_in_one_line() {
        for (const QStringList& args : {QStringList{"--warmup", "-1"}, QStringList{"--warmup", "inf"}, QStringList{"--clients", "0"}, QStringList{"--bogus", "1"}}) {
            const Run r = loadgen(args);
            QCOMPARE(r.exit_code, 2);
            QVERIFY2(r.stderr_text.startsWith("mmfree-loadgen: "), qPrintable(r.stderr_text));
        }
        ApiServer server(loopback_options(), Demo::get().scheduler(1));
        server.start();
        const std::string url = server.url();
        server.stop();   // the port is free again: nothing answers there
        const Run r = loadgen({"--url", QString::fromStdString(url), "--clients", "1"});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.stderr_text.contains("no server answers"), qPrintable(r.stderr_text));
    }
};

QTEST_GUILESS_MAIN(LoadgenTest)
#include "test_loadgen.moc"
