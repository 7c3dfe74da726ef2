// SPDX-License-Identifier: Apache-2.0
// EngineWorker on its own thread: loading (and failing to load), streaming, cancel, state resume.
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include "app_testkit.h"
#include "core/engine_worker.h"

class WorkerTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    QString model_;
    QThread thread_;
    EngineWorker* worker_ = nullptr;

    void load(const QString& path) { QMetaObject::invokeMethod(worker_, "loadModel", Qt::QueuedConnection, Q_ARG(QString, path), Q_ARG(QString, "cpu")); }
    void generate(const GenerationRequest& r) { QMetaObject::invokeMethod(worker_, "generate", Qt::QueuedConnection, Q_ARG(GenerationRequest, r)); }
    static ChatSettings longReply() {
        ChatSettings s;
        s.maxTokens = 100000;
        s.stopAtEos = false;
        s.stopStrings.clear();
        s.seed = 1;
        return s;
    }

private slots:
    void initTestCase() {
        model_ = apptest::makeChatModel(dir_.filePath("chat-model"));
        QVERIFY(!model_.isEmpty());
        worker_ = new EngineWorker;
        worker_->moveToThread(&thread_);
        connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
        thread_.start();
    }
    void cleanupTestCase() {
        worker_->cancel(~quint64(0));
        thread_.quit();
        thread_.wait();
    }

    void resumePointToleratesWhitespace() {
        QCOMPARE(EngineWorker::resumePoint("User: a\nAssistant: b\nUser: c", "User: a\nAssistant: b"), qsizetype(20));
        // The model wrote "\n\n b" after "Assistant:"; the chat stores "b".
        QCOMPARE(EngineWorker::resumePoint("User: a\nAssistant: b\nUser: c\nAssistant:", "User: a\nAssistant:\n\n b\nUser:"),
                 qsizetype(26));
        QCOMPARE(EngineWorker::resumePoint("User: a\nAssistant: b\n", "User: a\nAssistant:b"), qsizetype(20));
        QCOMPARE(EngineWorker::resumePoint("User: a\nAssistant: B", "User: a\nAssistant: b"), qsizetype(-1));
        QCOMPARE(EngineWorker::resumePoint("User: a", "User: a\nAssistant:"), qsizetype(-1));
        QCOMPARE(EngineWorker::resumePoint("Username", "User"), qsizetype(4));   // a plain prefix
    }

    void generateWithoutModelFails() {
        QSignalSpy failed(worker_, &EngineWorker::generationFailed);
        GenerationRequest r;
        r.id = 1;
        r.transcript = "User: hi\nAssistant:";
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 1, 5000);
        QCOMPARE(failed[0][0].toULongLong(), quint64(1));
        QVERIFY(failed[0][1].toString().contains("No model"));
    }

    void missingFolderSaysWhat() {
        QSignalSpy failed(worker_, &EngineWorker::modelLoadFailed);
        load(dir_.filePath("no-such-model"));
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 1, 5000);
        QVERIFY2(failed[0][1].toString().contains("does not exist") || failed[0][1].toString().contains("config.json"), qPrintable(failed[0][1].toString()));
    }

    void modelWithoutTokenizerSaysWhat() {
        QSignalSpy failed(worker_, &EngineWorker::modelLoadFailed);
        load(apptest::goldenModelWithoutTokenizer());
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 1, 10000);
        QVERIFY2(failed[0][1].toString().contains("tokenizer", Qt::CaseInsensitive), qPrintable(failed[0][1].toString()));
        QVERIFY(!worker_->hasModel());
    }

    void truncatedWeightsSayWhat() {
        const QString broken = dir_.filePath("broken");
        QDir().mkpath(broken);
        for (const char* f : {"config.json", "tokenizer.model"}) QFile::copy(QDir(model_).filePath(f), QDir(broken).filePath(f));
        QFile in(QDir(model_).filePath("model.safetensors"));
        QVERIFY(in.open(QIODevice::ReadOnly));
        QFile out(QDir(broken).filePath("model.safetensors"));
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(in.read(in.size() / 2));
        out.close();
        QSignalSpy failed(worker_, &EngineWorker::modelLoadFailed);
        load(broken);
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 1, 10000);
        QVERIFY2(failed[0][1].toString().contains("model.safetensors"), qPrintable(failed[0][1].toString()));
    }

    void loadsAndStreams() {
        QSignalSpy loaded(worker_, &EngineWorker::modelLoaded);
        load(model_);
        QTRY_VERIFY_WITH_TIMEOUT(loaded.size() >= 1, 20000);
        const auto info = loaded[0][0].value<ModelInfo>();
        QCOMPARE(info.vocabSize, 32000);
        QCOMPARE(info.backend.left(3), QStringLiteral("cpu"));
        QVERIFY(!info.key.isEmpty());

        QSignalSpy text(worker_, &EngineWorker::textReceived);
        QSignalSpy metrics(worker_, &EngineWorker::tokenMetrics);
        QSignalSpy finished(worker_, &EngineWorker::generationFinished);
        GenerationRequest r;
        r.id = 10;
        r.transcript = "User: Hello there\nAssistant:";
        r.settings.maxTokens = 24;
        r.settings.stopAtEos = false;
        r.settings.seed = 3;
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 20000);
        const auto out = finished[0][0].value<GenerationOutcome>();
        QCOMPARE(out.id, quint64(10));
        QVERIFY(out.generatedTokens > 0 && out.generatedTokens <= 24);
        QString streamed;
        for (const auto& args : text) streamed += args[1].toString();
        QCOMPARE(streamed, out.text);
        QVERIFY(!out.text.isEmpty());
        // Every token once, in order, in batches (the first token alone, before any text).
        QVERIFY(metrics.size() >= 2 && metrics.size() <= out.generatedTokens);
        QCOMPARE(metrics[0][2].value<QVector<TokenSample>>().size(), 1);
        int next = 0;
        for (const auto& args : metrics)
            for (const TokenSample& s : args[2].value<QVector<TokenSample>>()) QCOMPARE(s.index, next++);
        QCOMPARE(next, out.generatedTokens);
        QVERIFY(out.ttftMs > 0);
        QVERIFY(!out.state.isEmpty());
        QVERIFY(out.coveredText.startsWith(r.transcript));
        QVERIFY(!out.resumedState);
    }

    void resumesFromSavedState() {
        GenerationRequest first;
        first.id = 20;
        first.transcript = "User: Tell me a story about a ternary robot\nAssistant:";
        first.settings.maxTokens = 16;
        first.settings.stopAtEos = false;
        first.settings.seed = 5;
        QSignalSpy finished(worker_, &EngineWorker::generationFinished);
        generate(first);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 20000);
        const auto a = finished[0][0].value<GenerationOutcome>();

        // The next turn continues exactly the covered text: only the new part is fed.
        GenerationRequest next;
        next.id = 21;
        next.transcript = a.coveredText + "\nUser: and then?\nAssistant:";
        next.settings = first.settings;
        next.state = a.state;
        next.coveredText = a.coveredText;
        next.stateModelKey = a.modelKey;
        generate(next);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 2, 20000);
        const auto b = finished[1][0].value<GenerationOutcome>();
        QVERIFY(b.resumedState);
        QVERIFY2(b.promptTokens < 12, qPrintable(QString::number(b.promptTokens)));

        // The same request without the state reads the whole history.
        next.id = 22;
        next.state.clear();
        generate(next);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 3, 20000);
        const auto c = finished[2][0].value<GenerationOutcome>();
        QVERIFY(!c.resumedState);
        QVERIFY(c.promptTokens > b.promptTokens + 10);

        // A state from another model, or a damaged one, is ignored rather than trusted.
        next.id = 23;
        next.state = a.state;
        next.stateModelKey = "another-model";
        generate(next);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 4, 20000);
        QVERIFY(!finished[3][0].value<GenerationOutcome>().resumedState);
        next.id = 24;
        next.stateModelKey = a.modelKey;
        next.state = QByteArray("garbage");
        generate(next);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 5, 20000);
        QVERIFY(!finished[4][0].value<GenerationOutcome>().resumedState);
        // A transcript that does not continue the covered text (an edited history) re-reads it.
        next.id = 25;
        next.state = a.state;
        next.transcript = "User: something else entirely\nAssistant:";
        generate(next);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 6, 20000);
        QVERIFY(!finished[5][0].value<GenerationOutcome>().resumedState);
    }

    void cancelStopsAStreamingReply() {
        worker_->setPacingMs(5);
        QSignalSpy text(worker_, &EngineWorker::textReceived);
        QSignalSpy finished(worker_, &EngineWorker::generationFinished);
        GenerationRequest r;
        r.id = 30;
        r.transcript = "User: Count forever\nAssistant:";
        r.settings = longReply();
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(text.size() >= 5, 10000);
        QElapsedTimer clock;
        clock.start();
        worker_->cancel(30);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 5000);
        QVERIFY(clock.elapsed() < 2000);
        const auto out = finished[0][0].value<GenerationOutcome>();
        QCOMPARE(out.stopReason, QStringLiteral("cancelled"));
        QVERIFY(out.generatedTokens < 1000);
        QVERIFY(!out.state.isEmpty());   // a stopped reply still leaves a resumable state
        worker_->setPacingMs(0);
    }

    void cancelBeforeTheWorkerStartsIsNotLost() {
        QSignalSpy finished(worker_, &EngineWorker::generationFinished);
        GenerationRequest r;
        r.id = 40;
        r.transcript = "User: never mind\nAssistant:";
        r.settings = longReply();
        worker_->cancel(40);   // pressed Stop before the request reached the worker
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 5000);
        const auto out = finished[0][0].value<GenerationOutcome>();
        QCOMPARE(out.stopReason, QStringLiteral("cancelled"));
        QCOMPARE(out.generatedTokens, 0);
        // …and a later request is not affected by the old stop.
        r.id = 41;
        r.settings.maxTokens = 4;
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 2, 10000);
        QCOMPARE(finished[1][0].value<GenerationOutcome>().stopReason, QStringLiteral("length"));
    }

    void stopStringEndsTheReply() {
        QSignalSpy finished(worker_, &EngineWorker::generationFinished);
        GenerationRequest r;
        r.id = 50;
        r.transcript = "User: hi\nAssistant:";
        r.settings.maxTokens = 400;
        r.settings.stopAtEos = false;
        r.settings.seed = 11;
        // A one-letter stop string is certain to appear in random text.
        r.settings.stopStrings = {"e"};
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 20000);
        const auto out = finished[0][0].value<GenerationOutcome>();
        QCOMPARE(out.stopReason, QStringLiteral("stop"));
        QVERIFY(!out.text.contains('e'));
        QVERIFY(out.coveredText.endsWith(out.coveredText.mid(r.transcript.size())));
        QVERIFY(out.coveredText.mid(r.transcript.size()).contains('e'));   // the state covers the stop string
    }

    void failedSwitchKeepsThePreviousModel() {
        QVERIFY(worker_->hasModel());
        QSignalSpy failed(worker_, &EngineWorker::modelLoadFailed);
        load(dir_.filePath("missing-again"));
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 1, 5000);
        QVERIFY(worker_->hasModel());
        QSignalSpy finished(worker_, &EngineWorker::generationFinished);
        GenerationRequest r;
        r.id = 60;
        r.transcript = "User: still there?\nAssistant:";
        r.settings.maxTokens = 3;
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 10000);
    }
    // Weights retrained in place (same shape, same path, every file the same size and date) must
    // not resume a conversation from a state the old weights made: the key is the weights'
    // fingerprint, so the worker replays the transcript instead. Folder, sharded and GGUF.
    void retrainedWeightsDoNotResumeOldStates_data() {
        QTest::addColumn<QString>("layout");
        QTest::newRow("folder") << "folder";
        QTest::newRow("sharded") << "sharded";
        QTest::newRow("gguf") << "gguf";
    }
    void retrainedWeightsDoNotResumeOldStates() {
        QFETCH(QString, layout);
        const QString base = dir_.filePath("retrained-" + layout);
        auto build = [&](unsigned seed) -> QString {
            const QString folder = base + "/folder";
            QDir(folder).removeRecursively();
            if (apptest::makeChatModel(folder, seed).isEmpty()) return {};
            if (layout == "sharded" && !apptest::shardChatModel(folder)) return {};
            if (layout == "gguf") return apptest::packChatModel(folder, base + "/model.gguf");
            return folder;
        };
        auto filesOf = [](const QString& path) {
            QMap<QString, QPair<qint64, QDateTime>> files;   // size and date of every file
            const QFileInfo fi(path);
            if (fi.isFile()) files[path] = {fi.size(), fi.lastModified()};
            for (QDirIterator it(path, QDir::Files); it.hasNext();) {
                const QFileInfo f(it.next());
                files[f.filePath()] = {f.size(), f.lastModified()};
            }
            return files;
        };
        const QString path = build(7);
        QVERIFY(!path.isEmpty());
        const auto before = filesOf(path);

        QSignalSpy loaded(worker_, &EngineWorker::modelLoaded);
        QSignalSpy finished(worker_, &EngineWorker::generationFinished);
        load(path);
        QTRY_VERIFY_WITH_TIMEOUT(loaded.size() >= 1, 20000);
        const QString oldKey = loaded[0][0].value<ModelInfo>().key;
        GenerationRequest first;
        first.id = 1000 + quint64(layout.size());
        first.transcript = "User: Tell me about ternary weights\nAssistant:";
        first.settings.maxTokens = 8;
        first.settings.stopAtEos = false;
        first.settings.seed = 5;
        generate(first);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 20000);
        const auto a = finished[0][0].value<GenerationOutcome>();
        QCOMPARE(a.modelKey, oldKey);

        // Retrained: every weight changes; then the sizes and dates are made identical again.
        QCOMPARE(build(8), path);
        for (auto it = before.begin(); it != before.end(); ++it) {
            QFile f(it.key());
            QVERIFY(f.open(QIODevice::ReadWrite));
            QVERIFY(f.setFileTime(it.value().second, QFileDevice::FileModificationTime));
        }
        QCOMPARE(filesOf(path), before);

        load(path);
        QTRY_VERIFY_WITH_TIMEOUT(loaded.size() >= 2, 20000);
        const QString newKey = loaded[1][0].value<ModelInfo>().key;
        QVERIFY2(newKey != oldKey, qPrintable(newKey));

        GenerationRequest next;
        next.id = first.id + 100;
        next.transcript = a.coveredText + "\nUser: and then?\nAssistant:";
        next.settings = first.settings;
        next.state = a.state;
        next.coveredText = a.coveredText;
        next.stateModelKey = a.modelKey;
        generate(next);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 2, 20000);
        const auto b = finished[1][0].value<GenerationOutcome>();
        QVERIFY(!b.resumedState);   // the transcript was replayed
        QVERIFY(b.promptTokens > 12);
        QCOMPARE(b.modelKey, newKey);
        QVERIFY(b.coveredText.startsWith(next.transcript));
    }
};

QTEST_GUILESS_MAIN(WorkerTest)
#include "test_worker.moc"
