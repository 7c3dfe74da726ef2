// SPDX-License-Identifier: Apache-2.0
// ChatController headless on the engine service: send, stream into the store (batched), stop,
// regenerate, edit and resend, prefix-cache resume (also after a restart, from the saved state),
// two conversations streaming at once,
// completion mode, delete and undo; the settings → generation options mapping.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "app_testkit.h"
#include "core/chat_controller.h"

class ControllerTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    QString model_;
    ConversationStore* store_ = nullptr;
    EngineService* engine_ = nullptr;
    ChatController* chat_ = nullptr;

    ChatSettings quick(int maxTokens = 12) {
        ChatSettings s;
        s.maxTokens = maxTokens;
        s.stopAtEos = false;
        s.stopStrings.clear();
        s.seed = 9;
        return s;
    }
    qint64 freshConversation(const ChatSettings& s) {
        const qint64 id = store_->createConversation(ChatController::defaultTitle(), s);
        chat_->openConversation(id);
        return id;
    }
    bool waitIdle(int ms = 20000) {
        return QTest::qWaitFor([this] { return !chat_->isGenerating(); }, ms);
    }

private slots:
    void initTestCase() {
        model_ = apptest::makeChatModel(dir_.filePath("model"));
        store_ = new ConversationStore(this);
        QVERIFY(store_->open(dir_.filePath("chat.sqlite")));
        engine_ = new EngineService(this);
        chat_ = new ChatController(store_, engine_, this);
        QCOMPARE(chat_->modelState(), ChatController::ModelState::None);
        QVERIFY(!chat_->canSend());
        QSignalSpy state(chat_, &ChatController::modelStateChanged);
        engine_->loadModel(model_, "cpu");
        QCOMPARE(chat_->modelState(), ChatController::ModelState::Loading);
        QTRY_COMPARE_WITH_TIMEOUT(chat_->modelState(), ChatController::ModelState::Ready, 20000);
        QVERIFY(chat_->canSend());
    }

    void promptTemplate() {
        ChatSettings s;
        s.systemText = "Be kind.";
        const QList<ChatMessage> h{{1, MessageRole::User, "Hi", true}, {2, MessageRole::Assistant, "Hello!", true}, {3, MessageRole::User, "How are you?", true}};
        QCOMPARE(s.buildPrompt(h), QStringLiteral("Be kind.\n\nUser: Hi\nAssistant: Hello!\nUser: How are you?\nAssistant:"));
        QCOMPARE(s.assistantPrefix(), QStringLiteral("Assistant:"));
        QCOMPARE(ChatSettings::fromJson(s.toJson()), s);
        QCOMPARE(unescapeControl(escapeControl("a\nb\\n\tc")), QStringLiteral("a\nb\\n\tc"));
        QCOMPARE(escapeControl("User: {text}\n"), QStringLiteral("User: {text}\\n"));
    }

    void settingsMapToGenerationOptions() {
        ChatSettings s;
        s.temperature = 0.3;
        s.topK = 7;
        s.topP = 0.5;
        s.minP = 0.2;
        s.repetitionPenalty = 1.3;
        s.maxTokens = 33;
        s.seed = 42;
        s.stopAtEos = false;
        s.stopStrings = {"\nUser:", "", "END"};
        const mmfree::GenerateOptions o = generationOptions(s);
        QCOMPARE(o.max_tokens, 33);
        QCOMPARE(o.stop_at_eos, false);
        QCOMPARE(o.stop_strings, (std::vector<std::string>{"\nUser:", "END"}));   // empty ones dropped
        QCOMPARE(o.sampling.temperature, 0.3f);
        QCOMPARE(o.sampling.top_k, 7);
        QCOMPARE(o.sampling.top_p, 0.5f);
        QCOMPARE(o.sampling.min_p, 0.2f);
        QCOMPARE(o.sampling.repetition_penalty, 1.3f);
        QCOMPARE(o.sampling.seed, uint64_t(42));
        s.seed = -1;   // a fresh seed per reply
        QVERIFY(generationOptions(s).sampling.seed != generationOptions(s).sampling.seed ||
                generationOptions(s).sampling.seed != generationOptions(s).sampling.seed);
        QCOMPARE(stopReasonName(mmfree::StopReason::StopString), QStringLiteral("stop"));
        QCOMPARE(stopReasonName(mmfree::StopReason::Cancelled), QStringLiteral("cancelled"));
        ChatSettings c;
        c.completion = true;
        QCOMPARE(ChatSettings::fromJson(c.toJson()), c);
        QVERIFY(!ChatSettings::fromJson(ChatSettings().toJson()).completion);
    }

    void sendStreamsAndStores() {
        const qint64 id = freshConversation(quick());
        QSignalSpy text(chat_, &ChatController::replyText);
        QSignalSpy finished(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("  What is a MatMul-free model?  "));
        QVERIFY(chat_->isGenerating());
        QVERIFY(!chat_->send("second while busy"));   // one reply at a time per conversation
        QVERIFY(finished.wait(20000));
        const auto msgs = store_->messages(id);
        QCOMPARE(msgs.size(), 2);
        QCOMPARE(msgs[0].content, QStringLiteral("What is a MatMul-free model?"));
        QCOMPARE(msgs[1].role, MessageRole::Assistant);
        QVERIFY(msgs[1].complete);
        QVERIFY(!msgs[1].content.isEmpty());
        QVERIFY(!msgs[1].content.front().isSpace());
        QVERIFY(text.size() > 0);
        QCOMPARE(text.last()[2].toString(), msgs[1].content);
        QCOMPARE(store_->conversation(id)->title, QStringLiteral("What is a MatMul-free model?"));
        QCOMPARE(store_->conversation(id)->modelPath, chat_->modelInfo().path);
    }

    void secondTurnResumesWithoutReprefill() {
        const qint64 id = freshConversation(quick());
        QSignalSpy finished(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("first question"));
        QVERIFY(finished.wait(20000));
        QVERIFY(!finished[0][2].value<GenerationOutcome>().resumedState());
        QVERIFY(chat_->send("second question"));
        QVERIFY(finished.wait(20000));
        const auto second = finished[1][2].value<GenerationOutcome>();
        QVERIFY2(second.resumedState(), "the scheduler's prefix cache should cover the history");
        const auto first = finished[0][2].value<GenerationOutcome>();
        // At least the first prompt comes from the cache. (Whether the reply's own tokens do too
        // depends on the text re-tokenizing as generated; a random test model's often do not.)
        QVERIFY2(second.cachedTokens >= first.promptTokens - 1,
                 qPrintable(QStringLiteral("cached %1 of %2; first prompt %3, reply %4").arg(second.cachedTokens).arg(second.promptTokens)
                                .arg(first.promptTokens).arg(first.generatedTokens)));
        qInfo("second turn: %d of %d prompt tokens from the prefix cache", second.cachedTokens, second.promptTokens);
        // A new session (a new engine, empty cache) resumes from the state saved with the
        // conversation at the second turn's prompt: only that reply and the new message are read.
        const auto saved = store_->engineState(id);
        QVERIFY(saved);
        QCOMPARE(saved->modelKey, chat_->modelInfo().key);
        QCOMPARE(saved->tokens.size(), qsizetype(sizeof(int32_t)) * (second.promptTokens - 1));
        delete chat_;
        EngineService fresh;
        chat_ = new ChatController(store_, &fresh, this);
        fresh.loadModel(model_, "cpu");
        QTRY_COMPARE_WITH_TIMEOUT(chat_->modelState(), ChatController::ModelState::Ready, 20000);
        chat_->openConversation(id);
        QSignalSpy again(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("third question"));
        QVERIFY(again.wait(20000));
        const auto third = again[0][2].value<GenerationOutcome>();
        QVERIFY2(third.cachedTokens >= second.promptTokens - 1,
                 qPrintable(QStringLiteral("after a restart: cached %1 of %2; the saved state covers %3")
                                .arg(third.cachedTokens).arg(third.promptTokens).arg(second.promptTokens - 1)));
        QCOMPARE(store_->messages(id).size(), 6);
        delete chat_;
        chat_ = new ChatController(store_, engine_, this);
    }

    void streamedTextReachesTheDatabaseWithinOneSecond() {
        const qint64 id = freshConversation(quick(100000));
        engine_->setPacingMs(3);
        QVERIFY(chat_->send("stream for a while"));
        const qint64 msg = chat_->generatingMessage(id);
        QVERIFY(msg > 0);
        // Another connection, as after a crash, sees the reply grow while it streams.
        ConversationStore reader;
        QVERIFY(reader.open(store_->path()));
        auto stored = [&] {
            for (const auto& m : reader.messages(id))
                if (m.id == msg) return m.content;
            return QString();
        };
        QTRY_VERIFY_WITH_TIMEOUT(!stored().isEmpty(), 3000);
        for (int i = 0; i < 3; ++i) {
            const QString live = chat_->messages(id).last().content;
            QTest::qWait(1000);
            // Everything streamed a second ago is on disk now.
            QVERIFY2(stored().size() >= live.size(), qPrintable(QString("%1 < %2").arg(stored().size()).arg(live.size())));
        }
        QVERIFY(!reader.messages(id).last().complete);
        chat_->stop();
        QVERIFY(waitIdle());
        engine_->setPacingMs(0);
        QVERIFY(store_->messages(id).last().complete);
    }

    void stopKeepsThePartialReply() {
        const qint64 id = freshConversation(quick(100000));
        engine_->setPacingMs(5);
        QSignalSpy text(chat_, &ChatController::replyText);
        QSignalSpy finished(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("go on and on"));
        QTRY_VERIFY_WITH_TIMEOUT(text.size() >= 3, 10000);
        chat_->stop();
        QVERIFY(finished.wait(5000));
        engine_->setPacingMs(0);
        QCOMPARE(finished[0][2].value<GenerationOutcome>().stopReason, mmfree::StopReason::Cancelled);
        const auto msgs = store_->messages(id);
        QCOMPARE(msgs.size(), 2);
        QVERIFY(!msgs[1].content.isEmpty());
        QVERIFY(msgs[1].complete);
        QVERIFY(chat_->canSend());
    }

    void regenerateReplacesTheLastReply() {
        const qint64 id = freshConversation(quick());
        QSignalSpy finished(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("tell me something"));
        QVERIFY(finished.wait(20000));
        const auto before = store_->messages(id);
        ChatSettings s = quick();
        s.seed = 1234;   // another seed, so the new reply differs
        chat_->setSettings(id, s);
        QVERIFY(chat_->regenerate());
        QVERIFY(finished.wait(20000));
        const auto after = store_->messages(id);
        QCOMPARE(after.size(), 2);
        QCOMPARE(after[0].id, before[0].id);
        QVERIFY(after[1].id != before[1].id);
        QVERIFY(after[1].content != before[1].content);
        // The same history again: the prefix cache resumes all of it but the last prompt token.
        const auto again = finished[1][2].value<GenerationOutcome>();
        QCOMPARE(again.cachedTokens, again.promptTokens - 1);
    }

    void editAndResendDropsLaterMessages() {
        const qint64 id = freshConversation(quick());
        QSignalSpy finished(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("first"));
        QVERIFY(finished.wait(20000));
        QVERIFY(chat_->send("second"));
        QVERIFY(finished.wait(20000));
        const auto msgs = store_->messages(id);
        QCOMPARE(msgs.size(), 4);
        QVERIFY(!chat_->editAndResend(msgs[1].id, "not a user message"));
        QVERIFY(chat_->editAndResend(msgs[0].id, "first, edited"));
        QVERIFY(finished.wait(20000));
        const auto after = store_->messages(id);
        QCOMPARE(after.size(), 2);
        QCOMPARE(after[0].content, QStringLiteral("first, edited"));
        QVERIFY(after[1].complete);
    }

    void twoConversationsStreamAtOnce() {
        const qint64 a = freshConversation(quick(100000));
        engine_->setPacingMs(3);
        QSignalSpy text(chat_, &ChatController::replyText);
        QVERIFY(chat_->send("long reply in A"));
        const qint64 b = freshConversation(quick(100000));
        QCOMPARE(chat_->currentConversation(), b);
        QVERIFY(chat_->isGenerating(a));
        QVERIFY(!chat_->isGenerating(b));
        QVERIFY(chat_->canSend());            // B does not wait for A: each reply has its own slot
        QVERIFY(chat_->send("long reply in B"));
        QCOMPARE(chat_->generatingConversations().size(), 2);
        QCOMPARE(engine_->activeStreams(), 2);
        // Both grow at the same time.
        auto grew = [&](qint64 conv) {
            for (const auto& args : text)
                if (args[0].toLongLong() == conv) return true;
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(grew(a) && grew(b), 10000);
        const int lenA = chat_->messages(a).last().content.size(), lenB = chat_->messages(b).last().content.size();
        QTRY_VERIFY_WITH_TIMEOUT(chat_->messages(a).last().content.size() > lenA && chat_->messages(b).last().content.size() > lenB, 10000);
        // Switching conversations never stops a reply; stopping one leaves the other running.
        chat_->openConversation(a);
        QVERIFY(chat_->isGenerating(b));
        chat_->stop(a);
        QTRY_VERIFY_WITH_TIMEOUT(!chat_->isGenerating(a), 5000);
        QVERIFY(chat_->isGenerating(b));
        chat_->stop(b);
        QVERIFY(waitIdle());
        engine_->setPacingMs(0);
        QVERIFY(!store_->messages(a).last().content.isEmpty());
        QVERIFY(!store_->messages(b).last().content.isEmpty());
        QVERIFY(store_->messages(a).last().complete && store_->messages(b).last().complete);
    }

    void completionContinuesTheTextInPlace() {
        const qint64 id = chat_->newConversation(true);
        QVERIFY(chat_->isCompletion(id));
        chat_->setSettings(id, [&] { ChatSettings s = quick(10); s.completion = true; return s; }());
        QSignalSpy finished(chat_, &ChatController::replyFinished);
        const QString opening = QStringLiteral("Once upon a time,\nthere was");
        QVERIFY(chat_->send(opening));
        QVERIFY(finished.wait(20000));
        const QString first = chat_->completionText(id);
        QVERIFY(first.startsWith(opening));
        QVERIFY(first.size() > opening.size());
        QCOMPARE(store_->conversation(id)->title, QStringLiteral("Once upon a time, there was"));
        // Continue without new text: the model goes on from where it stopped.
        QVERIFY(chat_->send(QString()));
        QVERIFY(finished.wait(20000));
        QVERIFY(chat_->completionText(id).startsWith(first));
        QVERIFY(chat_->completionText(id).size() > first.size());
        // The same sampling settings as a chat: seed 9 gives the same continuation again.
        const qint64 other = chat_->newConversation(true);
        chat_->setSettings(other, chat_->settings(id));
        QVERIFY(chat_->send(opening));
        QVERIFY(finished.wait(20000));
        QCOMPARE(chat_->completionText(other), first);
    }

    void deleteAndUndo() {
        const qint64 id = freshConversation(quick());
        store_->addMessage(id, MessageRole::User, "keep me");
        QVERIFY(chat_->deleteConversation(id));
        QVERIFY(!store_->conversation(id));
        QVERIFY(chat_->currentConversation() != id);
        QVERIFY(chat_->undoDelete());
        QVERIFY(store_->conversation(id));
        QCOMPARE(chat_->currentConversation(), id);
        QCOMPARE(store_->messages(id).value(0).content, QStringLiteral("keep me"));
        QVERIFY(!chat_->undoDelete());
    }

    void newConversationReusesAnEmptyOne() {
        const qint64 a = chat_->newConversation();
        QCOMPARE(chat_->newConversation(), a);
    }

    void failedModelSwitchKeepsChatting() {
        QSignalSpy failed(chat_, &ChatController::modelLoadFailed);
        engine_->loadModel(dir_.filePath("nope"), "cpu");
        QVERIFY(failed.wait(5000));
        QCOMPARE(chat_->modelState(), ChatController::ModelState::Ready);
        QVERIFY(chat_->modelError().contains("nope"));
        QVERIFY(chat_->canSend());
    }

    void firstLoadFailureIsReported() {
        EngineService otherEngine;
        ChatController other(store_, &otherEngine);
        QSignalSpy failed(&other, &ChatController::modelLoadFailed);
        otherEngine.loadModel(apptest::goldenModelWithoutTokenizer(), "cpu");
        QVERIFY(failed.wait(10000));
        QCOMPARE(other.modelState(), ChatController::ModelState::Failed);
        QVERIFY(!other.canSend());
        QVERIFY(!other.send("hello"));
    }
};

QTEST_GUILESS_MAIN(ControllerTest)
#include "test_controller.moc"
