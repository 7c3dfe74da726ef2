// SPDX-License-Identifier: Apache-2.0
// Screenshots of the main window mid-reply (and of the no-model notice), saved as PNG in the
// build tree (screenshots/) for people and CI artifacts to look at.
#include <QDir>
#include <QPixmap>
#include <QPushButton>

#include "gui_fixture.h"
#include "ui/chat_view.h"
#include "ui/message_widget.h"

class ScreenshotTest : public QObject {
    Q_OBJECT
private:
    GuiFixture f_;
    static QString out(const QString& name) {
        QDir().mkpath(QStringLiteral(MMFREE_SCREENSHOT_DIR));
        return QDir(QStringLiteral(MMFREE_SCREENSHOT_DIR)).filePath(name);
    }
    bool save(const QString& name) {
        QTest::qWait(150);   // let layouts settle
        const QPixmap shot = f_.window->grab();
        qInfo("screenshot: %s", qPrintable(out(name)));
        return !shot.isNull() && shot.save(out(name));
    }

private slots:
    void initTestCase() { QVERIFY(f_.setUp({1180, 760})); }
    void cleanupTestCase() { f_.tearDown(); }

    void noModelNotice() {
        QVERIFY(f_.window->chatView()->modelNotice()->isVisible());
        QVERIFY(save("no-model.png"));
    }

    void mainWindowMidReply() {
        for (const char* t : {"Trip ideas for a rainy weekend", "Explain RMSNorm", "Qt signals across threads"}) {
            const qint64 id = f_.store->createConversation(t);
            f_.store->addMessage(id, MessageRole::User, t);
        }
        ChatSettings s;
        s.maxTokens = 100000;
        s.stopAtEos = false;
        s.stopStrings.clear();
        const qint64 id = f_.store->createConversation("How do MatMul-free models work?", s);
        f_.store->addMessage(id, MessageRole::User, "How can a language model work without matrix multiplication?");
        f_.store->addMessage(id, MessageRole::Assistant,
                            "Two ideas replace the dense products:\n\n"
                            "1. **Ternary weights** — every weight is −1, 0 or +1, so a projection is a sum of "
                            "selected activations instead of multiply-adds.\n"
                            "2. **MLGRU token mixing** — a gated recurrence with element-wise gates replaces "
                            "self-attention, so the whole context is one state vector per layer.\n\n"
                            "The core of a ternary projection:\n\n"
                            "```cpp\nfor (int n = 0; n < N; ++n) {\n    float acc = 0;\n"
                            "    for (int k = 0; k < K; ++k)\n        acc += w[n][k] > 0 ? x[k] : w[n][k] < 0 ? -x[k] : 0;\n"
                            "    y[n] = acc * scale;\n}\n```");
        f_.chat->openConversation(id);
        f_.window->loadModelFrom(f_.model);
        QTRY_COMPARE_WITH_TIMEOUT(f_.chat->modelState(), ChatController::ModelState::Ready, 20000);
        f_.engine->setPacingMs(25);
        QVERIFY(f_.chat->send("And what does the recurrent state cost per conversation?"));
        QTRY_VERIFY_WITH_TIMEOUT(f_.chat->messages(id).last().content.size() > 160, 20000);
        QTest::qWait(100);
        QVERIFY(f_.window->chatView()->stopButton()->isVisible());
        QVERIFY(save("main-window.png"));
        f_.chat->stop();
        QTRY_VERIFY_WITH_TIMEOUT(!f_.chat->isGenerating(), 10000);
    }
};

QTEST_MAIN(ScreenshotTest)
#include "test_screenshot.moc"
