// SPDX-License-Identifier: Apache-2.0
// Crash safety: a child process streams a reply into the database and is killed with SIGKILL
// mid-reply. Reopening shows every earlier message intact and the partial reply, holding at
// least everything the child had streamed one second before it died.
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <cstdio>

#include "app_testkit.h"
#include "core/chat_controller.h"
#include "core/engine_service.h"

namespace {

const QString kEarlier[] = {
    QStringLiteral("First question: what is MLGRU?"),
    QStringLiteral("A gated recurrent unit without matrix multiplications — 三值权重, тернарные веса."),
    QStringLiteral("Second question, with a code block?"),
    QStringLiteral("```python\nprint('hi')\n```"),
};

// The child: opens the database, loads the model, sends a message and streams a reply that
// never ends on its own, printing "live <characters so far>" every 50 ms until it is killed.
int runChild(const QString& db, const QString& model, qint64 conversation) {
    ConversationStore store;
    if (!store.open(db)) return 2;
    EngineService engine;
    ChatController chat(&store, &engine);
    engine.setPacingMs(2);
    QObject::connect(&chat, &ChatController::modelStateChanged, &chat, [&] {
        if (chat.modelState() == ChatController::ModelState::Failed) QCoreApplication::exit(3);
        if (chat.modelState() != ChatController::ModelState::Ready) return;
        chat.openConversation(conversation);
        if (!chat.send(QStringLiteral("Now write a very long answer."))) QCoreApplication::exit(4);
        std::printf("sent\n");
        std::fflush(stdout);
    });
    QTimer report;
    QObject::connect(&report, &QTimer::timeout, [&] {
        if (!chat.isGenerating()) return;
        std::printf("live %lld\n", static_cast<long long>(chat.messages(conversation).last().content.size()));
        std::fflush(stdout);
    });
    report.start(50);
    engine.loadModel(model, QStringLiteral("cpu"));
    return QCoreApplication::exec();
}

} // namespace

class CrashTest : public QObject {
    Q_OBJECT
private slots:
    void killedMidReplyKeepsEverythingUpToTheLastSecond() {
        QTemporaryDir dir;
        const QString model = apptest::makeChatModel(dir.filePath("model"));
        QVERIFY(!model.isEmpty());
        const QString db = dir.filePath("chat.sqlite");
        qint64 conv = 0;
        {
            ConversationStore store;
            QVERIFY(store.open(db));
            ChatSettings s;
            s.maxTokens = 1000000;
            s.stopAtEos = false;
            s.stopStrings.clear();
            conv = store.createConversation("Before the crash", s);
            const MessageRole roles[] = {MessageRole::User, MessageRole::Assistant, MessageRole::User, MessageRole::Assistant};
            for (int i = 0; i < 4; ++i) QVERIFY(store.addMessage(conv, roles[i], kEarlier[i]));
        }

        QProcess child;
        child.setProgram(QCoreApplication::applicationFilePath());
        child.setArguments({"--child", db, model, QString::number(conv)});
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child.start();
        QVERIFY(child.waitForStarted());

        // (time received, characters streamed) as the child reports them.
        QList<QPair<qint64, qint64>> reports;
        QElapsedTimer clock;
        clock.start();
        qint64 firstText = -1;
        while (clock.elapsed() < 30000) {
            if (child.state() != QProcess::Running) QFAIL("the child exited before it was killed");
            child.waitForReadyRead(50);
            while (child.canReadLine()) {
                const QByteArray line = child.readLine().trimmed();
                if (line.startsWith("live ")) {
                    const qint64 n = line.mid(5).toLongLong();
                    reports << qMakePair(clock.elapsed(), n);
                    if (n > 0 && firstText < 0) firstText = clock.elapsed();
                }
            }
            // Let several flush intervals pass mid-reply, then kill at an arbitrary moment.
            if (firstText >= 0 && clock.elapsed() - firstText > 2700) break;
        }
        QVERIFY2(firstText >= 0, "the child never streamed any text");
        const qint64 killedAt = clock.elapsed();
        child.kill();   // SIGKILL: no destructors, no final flush
        QVERIFY(child.waitForFinished(5000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);

        qint64 streamedASecondBefore = 0;
        for (const auto& [at, n] : reports)
            if (at <= killedAt - 1000) streamedASecondBefore = std::max(streamedASecondBefore, n);
        QVERIFY(streamedASecondBefore > 0);

        ConversationStore store;
        QVERIFY2(store.open(db), qPrintable(store.lastError()));
        QSqlQuery check(store.database());
        QVERIFY(check.exec("PRAGMA integrity_check") && check.next());
        QCOMPARE(check.value(0).toString(), QStringLiteral("ok"));
        const auto msgs = store.messages(conv);
        QCOMPARE(msgs.size(), 6);
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(msgs[i].content, kEarlier[i]);
            QVERIFY(msgs[i].complete);
        }
        QCOMPARE(msgs[4].content, QStringLiteral("Now write a very long answer."));
        QCOMPARE(msgs[5].role, MessageRole::Assistant);
        QVERIFY2(!msgs[5].complete, "the partial reply is marked as interrupted");
        QVERIFY2(msgs[5].content.size() >= streamedASecondBefore,
                 qPrintable(QString("on disk %1 characters, streamed a second before the kill %2")
                                .arg(msgs[5].content.size()).arg(streamedASecondBefore)));
        // The partial reply is searchable like any other text.
        const QString probe = msgs[5].content.left(12).trimmed();
        if (probe.size() >= 3) QVERIFY(!store.search(probe).isEmpty());
    }
};

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc == 5 && QByteArray(argv[1]) == "--child") return runChild(argv[2], argv[3], QByteArray(argv[4]).toLongLong());
    CrashTest test;
    return QTest::qExec(&test, argc, argv);
}
#include "test_crash.moc"
