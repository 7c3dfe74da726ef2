// SPDX-License-Identifier: Apache-2.0
// ChatController headless: send, stream into the store (batched), stop, regenerate, edit and
// resend, resume from the saved state, switch conversations mid-reply, delete and undo.
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
        chat_ = new ChatController(store_, this);
        QCOMPARE(chat_->modelState(), ChatController::ModelState::None);
        QVERIFY(!chat_->canSend());
        QSignalSpy state(chat_, &ChatController::modelStateChanged);
        chat_->loadModel(model_, "cpu");
        QCOMPARE(chat_->modelState(), ChatController::ModelState::Loading);
        QTRY_COMPARE_WITH_TIMEOUT(chat_->modelState(), ChatController::ModelState::Ready, 20000);
        QVERIFY(chat_->canSend());
    }

    void promptTemplate() {
        ChatSettings s;
        s.systemText = "Be kind.";
        const QList<ChatMessage> h{{1, "user", "Hi", true}, {2, "assistant", "Hello!", true}, {3, "user", "How are you?", true}};
        QCOMPARE(s.buildPrompt(h), QStringLiteral("Be kind.\n\nUser: Hi\nAssistant: Hello!\nUser: How are you?\nAssistant:"));
        QCOMPARE(s.assistantPrefix(), QStringLiteral("Assistant:"));
        QCOMPARE(ChatSettings::fromJson(s.toJson()), s);
        QCOMPARE(unescapeControl(escapeControl("a\nb\\n\tc")), QStringLiteral("a\nb\\n\tc"));
        QCOMPARE(escapeControl("User: {text}\n"), QStringLiteral("User: {text}\\n"));
    }

    void sendStreamsAndStores() {
        const qint64 id = freshConversation(quick());
        QSignalSpy text(chat_, &ChatController::replyText);
        QSignalSpy finished(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("  What is a MatMul-free model?  "));
        QVERIFY(chat_->isGenerating());
        QVERIFY(!chat_->send("second while busy"));   // one reply at a time
        QVERIFY(finished.wait(20000));
        const auto msgs = store_->messages(id);
        QCOMPARE(msgs.size(), 2);
        QCOMPARE(msgs[0].content, QStringLiteral("What is a MatMul-free model?"));
        QCOMPARE(msgs[1].role, QStringLiteral("assistant"));
        QVERIFY(msgs[1].complete);
        QVERIFY(!msgs[1].content.isEmpty());
        QVERIFY(!msgs[1].content.front().isSpace());
        QVERIFY(text.size() > 0);
        QCOMPARE(text.last()[2].toString(), msgs[1].content);
        QCOMPARE(store_->conversation(id)->title, QStringLiteral("What is a MatMul-free model?"));
        QCOMPARE(store_->conversation(id)->modelPath, chat_->modelInfo().path);
        const auto st = store_->engineState(id);
        QVERIFY(st);
        QCOMPARE(st->messageId, msgs[1].id);
    }

    void secondTurnResumesWithoutReprefill() {
        const qint64 id = freshConversation(quick());
        QSignalSpy finished(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("first question"));
        QVERIFY(finished.wait(20000));
        QVERIFY(!finished[0][2].value<GenerationOutcome>().resumedState);
        QVERIFY(chat_->send("second question"));
        QVERIFY(finished.wait(20000));
        const auto second = finished[1][2].value<GenerationOutcome>();
        QVERIFY2(second.resumedState, "the saved state should cover the history");
        const auto first = finished[0][2].value<GenerationOutcome>();
        QVERIFY(second.promptTokens < first.promptTokens + first.generatedTokens);   // only the new turn
        // Across a restart of the controller (a new app session), the state comes from SQLite.
        delete chat_;
        chat_ = new ChatController(store_, this);
        chat_->loadModel(model_, "cpu");
        QTRY_COMPARE_WITH_TIMEOUT(chat_->modelState(), ChatController::ModelState::Ready, 20000);
        chat_->openConversation(id);
        QSignalSpy again(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("third question"));
        QVERIFY(again.wait(20000));
        QVERIFY(again[0][2].value<GenerationOutcome>().resumedState);
        QCOMPARE(store_->messages(id).size(), 6);
    }

    void streamedTextReachesTheDatabaseWithinOneSecond() {
        const qint64 id = freshConversation(quick(100000));
        chat_->worker()->setPacingMs(3);
        QVERIFY(chat_->send("stream for a while"));
        const qint64 msg = chat_->generatingMessage();
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
        chat_->worker()->setPacingMs(0);
        QVERIFY(store_->messages(id).last().complete);
    }

    void stopKeepsThePartialReply() {
        const qint64 id = freshConversation(quick(100000));
        chat_->worker()->setPacingMs(5);
        QSignalSpy text(chat_, &ChatController::replyText);
        QSignalSpy finished(chat_, &ChatController::replyFinished);
        QVERIFY(chat_->send("go on and on"));
        QTRY_VERIFY_WITH_TIMEOUT(text.size() >= 3, 10000);
        chat_->stop();
        QVERIFY(finished.wait(5000));
        chat_->worker()->setPacingMs(0);
        QCOMPARE(finished[0][2].value<GenerationOutcome>().stopReason, QStringLiteral("cancelled"));
        const auto msgs = store_->messages(id);
        QCOMPARE(msgs.size(), 2);
        QVERIFY(!msgs[1].content.isEmpty());
        QVERIFY(msgs[1].complete);
        QVERIFY(store_->engineState(id));
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
        QVERIFY(!finished[1][2].value<GenerationOutcome>().resumedState);
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

    void switchingConversationsWhileAReplyStreams() {
        const qint64 a = freshConversation(quick(100000));
        chat_->worker()->setPacingMs(3);
        QVERIFY(chat_->send("long reply in A"));
        const qint64 b = freshConversation(quick());
        QCOMPARE(chat_->currentConversation(), b);
        QVERIFY(chat_->isGenerating());
        QCOMPARE(chat_->generatingConversation(), a);
        QVERIFY(!chat_->canSend());           // B waits for A's reply (one engine session)
        QTest::qWait(300);
        chat_->openConversation(a);
        QVERIFY(!chat_->messages(a).last().content.isEmpty());   // live text while streaming
        chat_->stop();
        QVERIFY(waitIdle());
        chat_->worker()->setPacingMs(0);
        QVERIFY(!store_->messages(a).last().content.isEmpty());
        QVERIFY(store_->messages(b).isEmpty());
    }

    void deleteAndUndo() {
        const qint64 id = freshConversation(quick());
        store_->addMessage(id, "user", "keep me");
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
        chat_->loadModel(dir_.filePath("nope"), "cpu");
        QVERIFY(failed.wait(5000));
        QCOMPARE(chat_->modelState(), ChatController::ModelState::Ready);
        QVERIFY(chat_->modelError().contains("nope"));
        QVERIFY(chat_->canSend());
    }

    void firstLoadFailureIsReported() {
        ChatController other(store_);
        QSignalSpy failed(&other, &ChatController::modelLoadFailed);
        other.loadModel(apptest::goldenModelWithoutTokenizer(), "cpu");
        QVERIFY(failed.wait(10000));
        QCOMPARE(other.modelState(), ChatController::ModelState::Failed);
        QVERIFY(!other.canSend());
        QVERIFY(!other.send("hello"));
    }
};

QTEST_GUILESS_MAIN(ControllerTest)
#include "test_controller.moc"
