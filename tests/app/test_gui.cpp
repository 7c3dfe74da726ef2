// SPDX-License-Identifier: Apache-2.0
// GUI flows on the offscreen platform: the model notice, type and send, tokens streaming, stop,
// regenerate, edit and resend, Markdown with copy buttons, search, rename, delete with undo,
// shortcuts and switching the language.
#include <QClipboard>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextBrowser>
#include <QTextList>
#include <QToolButton>

#include "gui_fixture.h"
#include "ui/chat_settings_dialog.h"
#include "ui/chat_view.h"
#include "ui/conversation_sidebar.h"
#include "ui/markdown_view.h"
#include "ui/message_widget.h"
#include "ui/prompt_edit.h"

class GuiTest : public QObject {
    Q_OBJECT
private:
    GuiFixture f_;
    ChatView* view() { return f_.window->chatView(); }
    ConversationSidebar* sidebar() { return f_.window->sidebar(); }
    QList<MessageWidget*> messages() { return view()->messageWidgets(); }
    void setCurrentSettings(int maxTokens) {
        ChatSettings s;
        s.maxTokens = maxTokens;
        s.stopAtEos = false;
        s.stopStrings.clear();
        f_.chat->setSettings(f_.chat->currentConversation(), s);
    }
    bool waitIdle() {
        const bool idle = QTest::qWaitFor([this] { return !f_.chat->isGenerating(); }, 20000);
        QTest::qWait(60);   // let the view apply the final text
        return idle;
    }

private slots:
    void initTestCase() { QVERIFY(f_.setUp()); }
    void cleanupTestCase() { f_.tearDown(); }

    void missingModelShowsAWayOut() {
        QVERIFY(view()->modelNotice()->isVisible());   // no model at all yet
        QVERIFY(view()->chooseModelButton()->isVisible());
        f_.window->loadModelFrom(f_.dir.filePath("does-not-exist"));
        QTRY_COMPARE_WITH_TIMEOUT(f_.chat->modelState(), ChatController::ModelState::Failed, 5000);
        QVERIFY(view()->modelNotice()->isVisible());
        const QString text = view()->modelNotice()->findChildren<QLabel*>().last()->text();
        QVERIFY2(text.contains("config.json"), qPrintable(text));
        QVERIFY(!view()->sendButton()->isEnabled());
        QVERIFY(f_.window->modelButton()->text().contains("failed"));

        f_.window->loadModelFrom(f_.model);
        QTRY_COMPARE_WITH_TIMEOUT(f_.chat->modelState(), ChatController::ModelState::Ready, 20000);
        QVERIFY(!view()->modelNotice()->isVisible());
        QVERIFY(f_.window->modelButton()->text().contains("tiny-chat-model"));
        QVERIFY(f_.window->modelButton()->text().contains("CPU"));
        QCOMPARE(AppSettings::modelPath(), f_.model);   // remembered for the next start
    }

    void typeSendWatchStreamAndStop() {
        f_.window->newChat();
        setCurrentSettings(100000);
        f_.engine->setPacingMs(8);
        PromptEdit* prompt = view()->promptEdit();
        prompt->setFocus();
        QTest::keyClicks(prompt, "Hello");
        QTest::keyClick(prompt, Qt::Key_Return, Qt::ShiftModifier);
        QTest::keyClicks(prompt, "world");
        QCOMPARE(prompt->toPlainText(), QStringLiteral("Hello\nworld"));
        QTest::keyClick(prompt, Qt::Key_Return);
        QVERIFY(prompt->toPlainText().isEmpty());
        QTRY_COMPARE(messages().size(), 2);
        QCOMPARE(messages()[0]->text(), QStringLiteral("Hello\nworld"));
        QVERIFY(view()->stopButton()->isVisible());
        QVERIFY(!view()->sendButton()->isVisible());

        // Tokens arrive and the bubble grows while the UI keeps taking input.
        QTRY_VERIFY_WITH_TIMEOUT(!messages().value(1) || messages()[1]->text().size() > 0, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(messages()[1]->text().size() > 0, 10000);
        const int early = messages()[1]->text().size();
        QTest::keyClicks(prompt, "typing while it streams");
        QCOMPARE(prompt->toPlainText(), QStringLiteral("typing while it streams"));
        QTRY_VERIFY_WITH_TIMEOUT(messages()[1]->text().size() > early + 10, 10000);
        QVERIFY(f_.window->metricsLabel()->text().contains("tokens/s"));

        QTest::keyClick(f_.window, Qt::Key_Escape);   // Esc stops
        QVERIFY(waitIdle());
        f_.engine->setPacingMs(0);
        QVERIFY(view()->sendButton()->isVisible());
        QVERIFY(!view()->stopButton()->isVisible());
        const auto stored = f_.store->messages(f_.chat->currentConversation());
        QCOMPARE(stored.size(), 2);
        QCOMPARE(messages()[1]->text(), stored[1].content);
        QCOMPARE(prompt->toPlainText(), QStringLiteral("typing while it streams"));   // the draft survives
        prompt->clear();
    }

    void regenerateFromTheButton() {
        setCurrentSettings(10);
        const qint64 before = messages().last()->messageId();
        QToolButton* regen = messages().last()->regenerateButton();
        QVERIFY(regen->isVisible());
        QVERIFY(!messages().first()->regenerateButton()->isVisible());
        QTest::mouseClick(regen, Qt::LeftButton);
        QVERIFY(waitIdle());
        QCOMPARE(messages().size(), 2);
        QVERIFY(messages().last()->messageId() != before);
        QVERIFY(!messages().last()->text().isEmpty());
    }

    void editAndResend() {
        MessageWidget* user = messages().first();
        QVERIFY(user->editButton()->isVisible());
        QTest::mouseClick(user->editButton(), Qt::LeftButton);
        QVERIFY(user->isEditing());
        QCOMPARE(user->editor()->toPlainText(), QStringLiteral("Hello\nworld"));
        user->editor()->selectAll();
        QTest::keyClicks(user->editor(), "Explain ternary weights");
        QTest::mouseClick(user->resendButton(), Qt::LeftButton);
        QVERIFY(waitIdle());
        QCOMPARE(messages().size(), 2);
        QCOMPARE(messages().first()->text(), QStringLiteral("Explain ternary weights"));
        QCOMPARE(f_.store->messages(f_.chat->currentConversation()).first().content, QStringLiteral("Explain ternary weights"));
    }

    void markdownWithCodeBlocksAndCopy() {
        const qint64 id = f_.store->createConversation("Markdown");
        f_.store->addMessage(id, MessageRole::User, "Show me code");
        f_.store->addMessage(id, MessageRole::Assistant, "Here it is:\n\n- first item\n- **second** item\n\n```cpp\nint x = 1;\nreturn x;\n```\n\nDone.");
        f_.chat->openConversation(id);
        QTRY_COMPARE(messages().size(), 2);
        MarkdownView* md = messages()[1]->markdownView();
        const auto blocks = md->codeBlocks();
        QCOMPARE(blocks.size(), 1);
        QCOMPARE(blocks[0]->code(), QStringLiteral("int x = 1;\nreturn x;"));
        auto browsers = md->findChildren<AutoHeightBrowser*>();
        QCOMPARE(browsers.size(), 2);
        QTextDocument* doc = browsers[0]->document();
        QVERIFY(doc->toPlainText().contains("second item"));
        bool hasList = false;
        for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) hasList = hasList || b.textList();
        QVERIFY(hasList);
        QTest::mouseClick(blocks[0]->copyButton(), Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("int x = 1;\nreturn x;"));
        QTest::mouseClick(messages()[1]->copyButton(), Qt::LeftButton);
        QVERIFY(QGuiApplication::clipboard()->text().startsWith("Here it is:"));
        // Streaming an unclosed fence already shows a code block.
        QCOMPARE(MarkdownView::split("text\n```py\nprint(1)").size(), 2);
        QVERIFY(MarkdownView::split("text\n```py\nprint(1)")[1].code);
    }

    void searchFindsMessagesAndOpensThem() {
        const qint64 target = f_.store->createConversation("Search target");
        f_.store->addMessage(target, MessageRole::User, "the quick zebrafish swims");
        QTest::keyClick(f_.window, Qt::Key_F, Qt::ControlModifier);
        QTRY_VERIFY(sidebar()->searchField()->hasFocus());
        QTest::keyClicks(sidebar()->searchField(), "zebrafi");
        QTRY_VERIFY(sidebar()->resultList()->isVisible());
        QTRY_COMPARE(sidebar()->resultList()->count(), 1);
        QListWidgetItem* item = sidebar()->resultList()->item(0);
        QVERIFY(item->text().contains("[zebrafi]"));
        const QRect r = sidebar()->resultList()->visualItemRect(item);
        QTest::mouseClick(sidebar()->resultList()->viewport(), Qt::LeftButton, {}, r.center());
        QCOMPARE(f_.chat->currentConversation(), target);
        QCOMPARE(messages().first()->text(), QStringLiteral("the quick zebrafish swims"));
        sidebar()->searchField()->clear();
        QTRY_VERIFY(sidebar()->conversationList()->isVisible());
    }

    void renameWithF2() {
        QListWidget* list = sidebar()->conversationList();
        list->setFocus();
        QTest::keyClick(f_.window, Qt::Key_F2);
        QLineEdit* editor = nullptr;
        QTRY_VERIFY((editor = list->findChild<QLineEdit*>()) && editor->isVisible());
        editor->selectAll();
        QTest::keyClicks(editor, "Renamed chat");
        QTest::keyClick(editor, Qt::Key_Return);
        QTRY_COMPARE(f_.store->conversation(f_.chat->currentConversation())->title, QStringLiteral("Renamed chat"));
    }

    void deleteWithUndo() {
        const qint64 id = f_.chat->currentConversation();
        const int count = sidebar()->conversationList()->count();
        QTest::keyClick(f_.window, Qt::Key_Delete, Qt::ControlModifier | Qt::ShiftModifier);
        QTRY_COMPARE(sidebar()->conversationList()->count(), count - 1);
        QVERIFY(f_.chat->currentConversation() != id);
        QVERIFY(sidebar()->undoBar()->isVisible());
        QTest::mouseClick(sidebar()->undoButton(), Qt::LeftButton);
        QTRY_COMPARE(sidebar()->conversationList()->count(), count);
        QCOMPARE(f_.chat->currentConversation(), id);
        QVERIFY(!sidebar()->undoBar()->isVisible());
    }

    void newChatShortcut() {
        QTest::keyClick(f_.window, Qt::Key_N, Qt::ControlModifier);
        QVERIFY(messages().isEmpty());
        QTRY_VERIFY(view()->promptEdit()->hasFocus());
        QCOMPARE(f_.store->conversation(f_.chat->currentConversation())->title, ChatController::defaultTitle());
    }

    void switchingConversationsWhileStreaming() {
        const qint64 other = f_.store->createConversation("Other");
        f_.store->addMessage(other, MessageRole::User, "an older conversation");
        f_.window->newChat();
        const qint64 streaming = f_.chat->currentConversation();
        setCurrentSettings(100000);
        f_.engine->setPacingMs(5);
        QTest::keyClicks(view()->promptEdit(), "long one");
        QTest::keyClick(view()->promptEdit(), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(messages().size() == 2 && !messages()[1]->text().isEmpty(), 10000);
        f_.chat->openConversation(other);
        QCOMPARE(messages().size(), 1);
        // The other conversation takes messages at once: the reply goes on in its own slot.
        QVERIFY(view()->sendButton()->isVisible() && view()->sendButton()->isEnabled());
        QVERIFY(!view()->stopButton()->isVisible());
        QVERIFY(f_.chat->isGenerating(streaming));
        QTest::qWait(200);
        f_.chat->openConversation(streaming);
        QCOMPARE(messages().size(), 2);
        const int len = messages()[1]->text().size();
        QTRY_VERIFY_WITH_TIMEOUT(messages()[1]->text().size() > len, 5000);   // still streaming here
        QTest::mouseClick(view()->stopButton(), Qt::LeftButton);
        QVERIFY(waitIdle());
        f_.engine->setPacingMs(0);
    }

    void chatSettingsDialogRoundTrip() {
        ChatSettings s;
        s.systemText = "Answer in one line.";
        s.temperature = 0.35;
        s.topK = 7;
        s.seed = 99;
        s.stopStrings = {"\nUser:", "###"};
        ChatSettingsDialog d(s);
        QCOMPARE(d.settings(), s);
        s.userFormat = "Q: {text}\n";
        d.setSettings(s);
        QCOMPARE(d.settings().userFormat, QStringLiteral("Q: {text}\n"));
        QCOMPARE(d.settings().stopStrings, s.stopStrings);
    }

    void languageSwitchRetranslates() {
        QCOMPARE(view()->sendButton()->text(), QStringLiteral("Send"));
        QCOMPARE(installLanguage("ru"), QStringLiteral("ru"));
        QTRY_VERIFY(view()->sendButton()->text() != QStringLiteral("Send"));
        const QString ru = view()->sendButton()->text();
        QCOMPARE(installLanguage("zh_CN"), QStringLiteral("zh_CN"));
        QTRY_VERIFY(view()->sendButton()->text() != ru);
        QCOMPARE(installLanguage("ja"), QStringLiteral("ja"));
        QCOMPARE(installLanguage("en"), QStringLiteral("en"));
        QTRY_COMPARE(view()->sendButton()->text(), QStringLiteral("Send"));
    }
};

QTEST_MAIN(GuiTest)
#include "test_gui.moc"
