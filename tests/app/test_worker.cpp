// SPDX-License-Identifier: Apache-2.0
// EngineService on the continuously batched scheduler: loading (and failing to load) off the UI
// thread, streaming, cancel, stop strings, several replies at once, prefix-cache resume, and
// retrained weights never resumed from the old ones' cache.
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include "app_testkit.h"
#include "core/engine_service.h"
#include "core/model_pack.h"
#include "mmfree/model.h"

class EngineServiceTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    QString model_;
    EngineService* worker_ = nullptr;

    void load(const QString& path) { worker_->loadModel(path, "cpu"); }
    void generate(const GenerationRequest& r) { worker_->generate(r); }
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
        worker_ = new EngineService(this);
        worker_->setSlotCount(4);
    }

    void generateWithoutModelFails() {
        QSignalSpy failed(worker_, &EngineService::generationFailed);
        GenerationRequest r;
        r.id = 1;
        r.transcript = "User: hi\nAssistant:";
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 1, 5000);
        QCOMPARE(failed[0][0].toULongLong(), quint64(1));
        QVERIFY(failed[0][1].toString().contains("No model"));
    }

    void missingFolderSaysWhat() {
        QSignalSpy failed(worker_, &EngineService::modelLoadFailed);
        load(dir_.filePath("no-such-model"));
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 1, 5000);
        QVERIFY2(failed[0][1].toString().contains("does not exist") || failed[0][1].toString().contains("config.json"), qPrintable(failed[0][1].toString()));
    }

    void modelWithoutTokenizerSaysWhat() {
        QSignalSpy failed(worker_, &EngineService::modelLoadFailed);
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
        QSignalSpy failed(worker_, &EngineService::modelLoadFailed);
        load(broken);
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 1, 10000);
        QVERIFY2(failed[0][1].toString().contains("model.safetensors"), qPrintable(failed[0][1].toString()));
    }

    void loadsAndStreams() {
        QSignalSpy loaded(worker_, &EngineService::modelLoaded);
        load(model_);
        QTRY_VERIFY_WITH_TIMEOUT(loaded.size() >= 1, 20000);
        const auto info = loaded[0][0].value<ModelInfo>();
        QCOMPARE(info.vocabSize, 32000);
        QCOMPARE(info.backend.left(3), QStringLiteral("cpu"));
        QVERIFY(!info.key.isEmpty());

        QSignalSpy text(worker_, &EngineService::textReceived);
        QSignalSpy metrics(worker_, &EngineService::tokenMetrics);
        QSignalSpy finished(worker_, &EngineService::generationFinished);
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
        QVERIFY(metrics.size() >= 1 && metrics.size() <= out.generatedTokens);
        QCOMPARE(metrics[0][2].value<QVector<TokenSample>>().size(), 1);
        int next = 0;
        for (const auto& args : metrics)
            for (const TokenSample& s : args[2].value<QVector<TokenSample>>()) QCOMPARE(s.index, next++);
        QCOMPARE(next, out.generatedTokens);
        QVERIFY(out.ttftMs > 0);
        QVERIFY(!out.resumedState());
        QCOMPARE(worker_->activeStreams(), 0);
    }

    // The same history resent plus a new turn (what a chat does) resumes from the scheduler's
    // prefix cache, and gives exactly what a cold run gives.
    void resentHistoryResumesFromThePrefixCache() {
        QSignalSpy finished(worker_, &EngineService::generationFinished);
        GenerationRequest r;
        r.id = 20;
        r.transcript = "User: Tell me a story about a fox\nAssistant:";
        r.settings.maxTokens = 8;
        r.settings.stopAtEos = false;
        r.settings.stopStrings.clear();
        r.settings.seed = 4;
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 20000);
        const auto a = finished[0][0].value<GenerationOutcome>();
        GenerationRequest next = r;
        next.id = 21;
        next.transcript = r.transcript + a.text + "\nUser: and then?\nAssistant:";
        generate(next);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 2, 20000);
        const auto b = finished[1][0].value<GenerationOutcome>();
        QVERIFY2(b.resumedState(), "the resent history should hit the prefix cache");
        QVERIFY(b.cachedTokens >= a.promptTokens - 1);
        // A cold engine (empty cache) writes the same continuation.
        EngineService cold;
        QSignalSpy coldLoaded(&cold, &EngineService::modelLoaded);
        QSignalSpy coldFinished(&cold, &EngineService::generationFinished);
        cold.loadModel(model_, "cpu");
        QTRY_VERIFY_WITH_TIMEOUT(coldLoaded.size() >= 1, 20000);
        cold.generate(next);
        QTRY_VERIFY_WITH_TIMEOUT(coldFinished.size() >= 1, 20000);
        const auto c = coldFinished[0][0].value<GenerationOutcome>();
        QVERIFY(!c.resumedState());
        QCOMPARE(c.text, b.text);
    }

    // Replies stream at the same time, each in its own slot; cancelling one leaves the others.
    void severalRepliesStreamAtOnce() {
        worker_->setPacingMs(2);
        QSignalSpy text(worker_, &EngineService::textReceived);
        QSignalSpy finished(worker_, &EngineService::generationFinished);
        for (quint64 id : {70, 71, 72}) {
            GenerationRequest r;
            r.id = id;
            r.transcript = QStringLiteral("User: story %1\nAssistant:").arg(id);
            r.settings = longReply();
            generate(r);
        }
        QCOMPARE(worker_->activeStreams(), 3);
        auto count = [&](quint64 id) {
            int n = 0;
            for (const auto& args : text) n += args[0].toULongLong() == id;
            return n;
        };
        QTRY_VERIFY_WITH_TIMEOUT(count(70) >= 5 && count(71) >= 5 && count(72) >= 5, 10000);
        worker_->cancel(71);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 5000);
        QCOMPARE(finished[0][0].value<GenerationOutcome>().id, quint64(71));
        const int n70 = count(70);
        QTRY_VERIFY_WITH_TIMEOUT(count(70) > n70 + 3, 5000);   // the others go on
        QCOMPARE(worker_->activeStreams(), 2);
        worker_->cancel(70);
        worker_->cancel(72);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 3, 5000);
        QCOMPARE(worker_->activeStreams(), 0);
        worker_->setPacingMs(0);
    }

    void cancelStopsAStreamingReply() {
        worker_->setPacingMs(5);
        QSignalSpy text(worker_, &EngineService::textReceived);
        QSignalSpy finished(worker_, &EngineService::generationFinished);
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
        QCOMPARE(out.stopReason, mmfree::StopReason::Cancelled);
        QVERIFY(out.generatedTokens < 1000);
        worker_->setPacingMs(0);
    }

    void stopStringEndsTheReply() {
        QSignalSpy finished(worker_, &EngineService::generationFinished);
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
        QCOMPARE(out.stopReason, mmfree::StopReason::StopString);
        QVERIFY(!out.text.contains('e'));
    }

    void failedSwitchKeepsThePreviousModel() {
        QVERIFY(worker_->hasModel());
        QSignalSpy failed(worker_, &EngineService::modelLoadFailed);
        load(dir_.filePath("missing-again"));
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 1, 5000);
        QVERIFY(worker_->hasModel());
        QSignalSpy finished(worker_, &EngineService::generationFinished);
        GenerationRequest r;
        r.id = 60;
        r.transcript = "User: still there?\nAssistant:";
        r.settings.maxTokens = 3;
        generate(r);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 1, 10000);
    }
    // A folder is packed once after its first load; later loads take the pack (same tokens),
    // retrained weights (same sizes and dates) get a new pack, and the pack can be removed.
    void packsOnceAndLoadsThePackAfterwards() {
        const QString folder = dir_.filePath("packable");
        QVERIFY(!apptest::makeChatModel(folder, 21).isEmpty());
        EngineService engine;
        QSignalSpy loaded(&engine, &EngineService::modelLoaded);
        QSignalSpy packed(&engine, &EngineService::packingFinished);
        QSignalSpy finished(&engine, &EngineService::generationFinished);
        GenerationRequest r;
        r.transcript = "User: pack me\nAssistant:";
        r.settings.maxTokens = 10;
        r.settings.stopAtEos = false;
        r.settings.stopStrings.clear();
        r.settings.seed = 2;
        auto loadAndReply = [&](quint64 id) {
            const qsizetype n = loaded.size();
            engine.loadModel(folder, "cpu");
            if (!QTest::qWaitFor([&] { return loaded.size() > n; }, 30000)) return GenerationOutcome{};
            r.id = id;
            const qsizetype f = finished.size();
            engine.generate(r);
            if (!QTest::qWaitFor([&] { return finished.size() > f; }, 20000)) return GenerationOutcome{};
            return finished.last()[0].value<GenerationOutcome>();   // id 0 when a wait ran out
        };
        QVERIFY(ModelPack::existingPack(folder).isEmpty());
        const GenerationOutcome a = loadAndReply(1);
        QCOMPARE(a.id, quint64(1));
        QVERIFY(!loaded.last()[0].value<ModelInfo>().packed);
        QTRY_VERIFY_WITH_TIMEOUT(packed.size() >= 1, 30000);
        QVERIFY2(packed[0][2].toString().isEmpty(), qPrintable(packed[0][2].toString()));
        const QString key = loaded.last()[0].value<ModelInfo>().key;
        // The files' fingerprint, taken without converting, is exactly the loaded model's.
        QCOMPARE(key, QString::fromStdString(mmfree::load_model(folder.toStdString())->fingerprint));
        QCOMPARE(ModelPack::existingPack(folder), ModelPack::packFile(folder, key));
        QVERIFY(ModelPack::diskBytes(folder) > 0);
        QCOMPARE(packed[0][1].toLongLong(), ModelPack::diskBytes(folder));

        const GenerationOutcome b = loadAndReply(2);
        QCOMPARE(b.id, quint64(2));
        const ModelInfo fromPack = loaded.last()[0].value<ModelInfo>();
        QVERIFY(fromPack.packed);
        QCOMPARE(fromPack.key, key);            // the original files' identity, wherever the weights came from
        QCOMPARE(fromPack.path, QDir::cleanPath(QFileInfo(folder).absoluteFilePath()));
        QCOMPARE(b.text, a.text);               // the pack holds exactly the converted weights
        QCOMPARE(packed.size(), 1);             // nothing packed again

        // Retrained in place with the same sizes and dates: another fingerprint, the old pack is not used.
        const QFileInfo weights(QDir(folder).filePath("model.safetensors"));
        const QDateTime date = weights.lastModified();
        QVERIFY(!apptest::makeChatModel(folder, 22).isEmpty());
        {
            QFile f(weights.filePath());
            QVERIFY(f.open(QIODevice::ReadWrite));
            QVERIFY(f.setFileTime(date, QFileDevice::FileModificationTime));
        }
        QCOMPARE(loadAndReply(3).id, quint64(3));
        const ModelInfo retrained = loaded.last()[0].value<ModelInfo>();
        QVERIFY(!retrained.packed);
        QVERIFY(retrained.key != key);
        QTRY_VERIFY_WITH_TIMEOUT(packed.size() >= 2, 30000);
        QCOMPARE(ModelPack::existingPack(folder), ModelPack::packFile(folder, retrained.key));   // the old one is gone

        QVERIFY(ModelPack::remove(folder));
        QCOMPARE(ModelPack::diskBytes(folder), qint64(0));
        QVERIFY(ModelPack::existingPack(folder).isEmpty());
    }

    // A switch to an unchanged folder takes the fingerprint remembered with its files' stamps
    // instead of hashing the weights again; any change to a file hashes again.
    void packFingerprintIsRememberedUntilAFileChanges() {
        const QString folder = apptest::makeChatModel(dir_.filePath("remembered"));
        QVERIFY(!folder.isEmpty());
        const QString real = QString::fromStdString(mmfree::load_model(folder.toStdString())->fingerprint);
        bool remembered = true;
        QCOMPARE(ModelPack::fingerprint(folder, &remembered), real);   // hashed: nothing recorded yet
        QVERIFY(!remembered);
        QVERIFY(!QFileInfo::exists(ModelPack::packDirectory(folder)));   // asking writes nothing
        // Proof that the record is what answers: one for the same stamps but another value.
        ModelPack::rememberFingerprint(folder, QStringLiteral("0123456789abcdef0123456789abcdef"));
        QCOMPARE(ModelPack::fingerprint(folder, &remembered), QStringLiteral("0123456789abcdef0123456789abcdef"));
        QVERIFY(remembered);
        QTest::qWait(20);   // a later metadata-change time than the record's
        {
            QFile cfg(QDir(folder).filePath("config.json"));
            QVERIFY(cfg.open(QIODevice::Append));
            cfg.write("\n");
        }
        const QString rehashed = ModelPack::fingerprint(folder, &remembered);
        QVERIFY(!remembered);
        QCOMPARE(rehashed, QString::fromStdString(mmfree::load_model(folder.toStdString())->fingerprint));
        QVERIFY(rehashed != real);   // config.json is part of the fingerprint
        QVERIFY(ModelPack::remove(folder));
    }

    // A downloaded or imported folder is packed before its first use; the first load takes the pack.
    void packsInTheBackgroundBeforeTheFirstUse() {
        const QString folder = dir_.filePath("downloaded");
        QVERIFY(!apptest::makeChatModel(folder, 23).isEmpty());
        EngineService engine;
        QSignalSpy packed(&engine, &EngineService::packingFinished);
        engine.pack(folder);
        QTRY_VERIFY_WITH_TIMEOUT(packed.size() >= 1, 30000);
        QVERIFY2(packed[0][2].toString().isEmpty(), qPrintable(packed[0][2].toString()));
        QVERIFY(packed[0][1].toLongLong() > 0);
        QSignalSpy loaded(&engine, &EngineService::modelLoaded);
        engine.loadModel(folder, "cpu");
        QTRY_VERIFY_WITH_TIMEOUT(loaded.size() >= 1, 30000);
        QVERIFY(loaded[0][0].value<ModelInfo>().packed);
        engine.pack(folder);   // current already: nothing is written
        QTest::qWait(300);
        QCOMPARE(packed.size(), 1);
        engine.pack(dir_.filePath("no-such-folder"));   // not a model folder: ignored
    }

    // Weights retrained in place (same shape, same path, every file the same size and date) must
    // not resume a conversation from a state the old weights made: the key is the weights'
    // fingerprint and each model has its own scheduler (and prefix cache), so the transcript is
    // replayed. Folder, sharded and GGUF.
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

        QSignalSpy loaded(worker_, &EngineService::modelLoaded);
        QSignalSpy finished(worker_, &EngineService::generationFinished);
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
        next.transcript = first.transcript + a.text + "\nUser: and then?\nAssistant:";
        next.settings = first.settings;
        generate(next);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() >= 2, 20000);
        const auto b = finished[1][0].value<GenerationOutcome>();
        QVERIFY(!b.resumedState());   // the transcript was replayed
        QVERIFY(b.promptTokens > 12);
        QCOMPARE(b.modelKey, newKey);
    }
};

QTEST_GUILESS_MAIN(EngineServiceTest)
#include "test_worker.moc"
