// SPDX-License-Identifier: Apache-2.0
// The application object and its window, end to end: two conversations streaming at once, the
// local API server switched on from Preferences answering a real HTTP request on loopback while
// a chat streams (same scheduler), completion mode, a reply's line breaks kept, the catalogue
// under QAbstractItemModelTester; screenshots of the chat with two streams, Preferences' server
// section and the dashboard with API traffic (build tree: screenshots/).
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QClipboard>
#include <QDir>
#include <QFileInfo>
#include <QGroupBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPixmap>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QTcpServer>
#include <QTextBrowser>

#include "core/metrics_hub.h"
#include "mmfree/model.h"
#include "core/model_catalog.h"
#include "gui_fixture.h"
#include "ui/chat_view.h"
#include "ui/dashboard_page.h"
#include "ui/markdown_view.h"
#include "ui/message_widget.h"
#include "ui/preferences_dialog.h"
#include "ui/prompt_edit.h"

class StudioTest : public QObject {
    Q_OBJECT
private:
    GuiFixture f_;
    ChatView* view() const { return f_.window->chatView(); }
    static QString out(const QString& name) {
        QDir().mkpath(QStringLiteral(MMFREE_SCREENSHOT_DIR));
        return QDir(QStringLiteral(MMFREE_SCREENSHOT_DIR)).filePath(name);
    }
    static bool save(QWidget* w, const QString& name) {
        QTest::qWait(150);   // let layouts settle
        const QPixmap shot = w->grab();
        qInfo("screenshot: %s", qPrintable(out(name)));
        return !shot.isNull() && shot.save(out(name));
    }
    static ChatSettings endless() {
        ChatSettings s;
        s.maxTokens = 100000;
        s.stopAtEos = false;
        s.stopStrings.clear();
        s.seed = 5;
        return s;
    }
    qint64 startStream(const QString& title, const QString& text) {
        const qint64 id = f_.store->createConversation(title, endless());
        f_.chat->openConversation(id);
        QTest::keyClicks(view()->promptEdit(), text);
        QTest::keyClick(view()->promptEdit(), Qt::Key_Return);
        return id;
    }
    static int freePort() {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        return probe.serverPort();
    }

private slots:
    void initTestCase() {
        // The built-in storyteller, so the screenshots show the text a person sees first.
        const QString demo = QString::fromStdString(mmfree::default_model_path().string());
        QVERIFY2(QFileInfo::exists(demo), qPrintable(demo));
        QVERIFY(f_.setUp({1280, 800}, demo));
        f_.window->loadModelFrom(f_.model);
        QTRY_COMPARE_WITH_TIMEOUT(f_.chat->modelState(), ChatController::ModelState::Ready, 30000);
    }
    void cleanupTestCase() { f_.tearDown(); }

    void catalogPassesTheModelTester() {
        QAbstractItemModelTester tester(f_.app->catalog(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        f_.app->catalog()->refresh();
        QVERIFY(f_.app->catalog()->rowCount() > 0);
    }

    void twoConversationsStreamAtOnce() {
        f_.engine->setPacingMs(20);
        const qint64 a = startStream("A story about a lighthouse", "Tell me about the lighthouse keeper");
        const qint64 b = startStream("A story about a garden", "Tell me about the secret garden");
        QVERIFY(f_.chat->isGenerating(a) && f_.chat->isGenerating(b));
        auto len = [&](qint64 id) { return f_.chat->messages(id).last().content.size(); };
        QTRY_VERIFY_WITH_TIMEOUT(len(a) > 0 && len(b) > 0, 15000);
        const auto la = len(a), lb = len(b);
        QTRY_VERIFY_WITH_TIMEOUT(len(a) > la + 20 && len(b) > lb + 20, 15000);   // both grow
        QCOMPARE(f_.app->metrics()->current().activeStreams, 2);
        // B is on screen with its Stop button; switching to A shows A's live reply, B goes on.
        QVERIFY(view()->stopButton()->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(len(b) > 160, 20000);
        QVERIFY(save(f_.window, "chat-two-streams.png"));
        f_.chat->openConversation(a);
        QVERIFY(view()->stopButton()->isVisible());
        const auto lb2 = len(b);
        QTRY_VERIFY_WITH_TIMEOUT(len(b) > lb2 + 10, 10000);
        QTest::mouseClick(view()->stopButton(), Qt::LeftButton);   // stops A only
        QTRY_VERIFY_WITH_TIMEOUT(!f_.chat->isGenerating(a), 5000);
        QVERIFY(f_.chat->isGenerating(b));
        f_.chat->stop(b);
        QTRY_VERIFY_WITH_TIMEOUT(!f_.chat->isGenerating(), 5000);
        f_.engine->setPacingMs(0);
    }

    void apiServerFromPreferencesAnswersWhileAChatStreams() {
        const int port = freePort();
        QVERIFY(port > 0);
        // Preferences is modal: fill in the server section once it is up, then press OK.
        bool filled = false;
        QTimer::singleShot(0, this, [&] {
            PreferencesDialog* dialog = nullptr;
            QTRY_VERIFY((dialog = qobject_cast<PreferencesDialog*>(QApplication::activeModalWidget())) != nullptr);
            dialog->apiGroup()->setChecked(true);
            dialog->apiPortBox()->setValue(port);
            QVERIFY(dialog->loopbackButton()->isChecked());
            // All interfaces needs a key: one is generated, shown and copyable.
            dialog->allInterfacesButton()->setChecked(true);
            QVERIFY(dialog->apiKeyEdit()->text().startsWith("mmf-"));
            QVERIFY(dialog->copyKeyButton()->isEnabled());
            QTest::mouseClick(dialog->copyKeyButton(), Qt::LeftButton);
            QCOMPARE(QApplication::clipboard()->text(), dialog->apiKeyEdit()->text());
            dialog->loopbackButton()->setChecked(true);
            dialog->corsEdit()->setPlainText("http://localhost:3000");
            dialog->resize(640, dialog->sizeHint().height());
            QVERIFY(save(dialog, "preferences-api-server.png"));
            filled = true;
            dialog->accept();
        });
        f_.window->openPreferences();
        QVERIFY(filled);
        QVERIFY2(f_.app->apiRunning(), qPrintable(f_.app->apiError()));
        QCOMPARE(f_.app->apiAddress(), QStringLiteral("http://127.0.0.1:%1").arg(port));
        QVERIFY(f_.window->apiLabel()->isVisible());
        QVERIFY(f_.window->apiLabel()->text().contains(QString::number(port)));
        QCOMPARE(AppSettings::apiServer().corsOrigins, QStringList{"http://localhost:3000"});

        // A chat streams while a client asks the same model over HTTP.
        f_.engine->setPacingMs(10);
        const qint64 chat = startStream("Streaming during an API call", "Keep talking");
        QTRY_VERIFY_WITH_TIMEOUT(!f_.chat->messages(chat).last().content.isEmpty(), 10000);
        QNetworkAccessManager net;
        auto post = [&](int maxTokens) {
            QNetworkRequest req(QUrl(f_.app->apiAddress() + "/v1/completions"));
            req.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
            // The key made for "all interfaces" stays in force on loopback too.
            req.setRawHeader("Authorization", "Bearer " + AppSettings::apiServer().apiKey.toUtf8());
            const QJsonObject body{{"prompt", "Once upon a time"}, {"max_tokens", maxTokens}, {"temperature", 0}};
            return net.post(req, QJsonDocument(body).toJson());
        };
        {   // without the key: refused
            QNetworkRequest req(QUrl(f_.app->apiAddress() + "/v1/models"));
            QNetworkReply* refused = net.get(req);
            QTRY_VERIFY_WITH_TIMEOUT(refused->isFinished(), 10000);
            QCOMPARE(refused->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 401);
            refused->deleteLater();
        }
        QNetworkReply* reply = post(12);
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 30000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QJsonObject answer = QJsonDocument::fromJson(reply->readAll()).object();
        reply->deleteLater();
        QCOMPARE(answer.value("object").toString(), QStringLiteral("text_completion"));
        QVERIFY(!answer.value("choices").toArray().first().toObject().value("text").toString().isEmpty());
        const int used = answer.value("usage").toObject().value("completion_tokens").toInt();
        QVERIFY(used >= 1 && used <= 12);
        QVERIFY(f_.chat->isGenerating(chat));   // the chat never stopped

        // API traffic on the dashboard, as its own series, and in the status bar.
        for (int i = 0; i < 3; ++i) {
            QNetworkReply* r = post(40);
            QTest::qWait(200);
            QTRY_VERIFY_WITH_TIMEOUT(r->isFinished(), 30000);
            r->deleteLater();
        }
        QTRY_VERIFY_WITH_TIMEOUT(f_.app->apiRequests() >= 4, 5000);
        f_.app->metrics()->sampleNow();
        QVERIFY(!f_.app->metrics()->series(MetricsHub::kApiRequestsPerSecond).isEmpty());
        bool sawTraffic = false;
        for (const QPointF& p : f_.app->metrics()->series(MetricsHub::kApiRequestsPerSecond)) sawTraffic |= p.y() > 0;
        QVERIFY(sawTraffic);
        QTRY_VERIFY_WITH_TIMEOUT(f_.window->apiLabel()->text().contains(QStringLiteral("· %1 request").arg(f_.app->apiRequests())), 3000);
        QNetworkReply* live = post(4000);   // running while the picture is taken
        f_.window->showPage(MainWindow::DashboardPageIndex);
        QTest::qWait(2200);
        f_.window->dashboardPage()->refresh();
        QVERIFY(f_.window->dashboardPage()->plottedPoints(MetricsHub::kApiRequestsPerSecond) > 0);
        QVERIFY(save(f_.window, "dashboard-api-traffic.png"));
        f_.window->showPage(MainWindow::ChatPage);
        live->abort();
        live->deleteLater();
        f_.chat->stop(chat);
        QTRY_VERIFY_WITH_TIMEOUT(!f_.chat->isGenerating(), 5000);
        f_.engine->setPacingMs(0);

        // Switched off again: the address leaves the status bar.
        AppSettings::ApiServerSettings off = AppSettings::apiServer();
        off.enabled = false;
        QVERIFY(f_.app->applyApiServer(off));
        QVERIFY(!f_.app->apiRunning());
        QVERIFY(!f_.window->apiLabel()->isVisible());
    }

    void completionModeContinuesInPlace() {
        f_.chat->newConversation(true);
        const qint64 id = f_.chat->currentConversation();
        QVERIFY(f_.chat->isCompletion(id));
        ChatSettings s = f_.chat->settings(id);
        s.maxTokens = 16;
        s.stopAtEos = false;
        s.seed = 3;
        f_.chat->setSettings(id, s);
        f_.chat->openConversation(id);
        QCOMPARE(view()->sendButton()->text(), QStringLiteral("Continue"));
        QTest::keyClicks(view()->promptEdit(), "The old lighthouse");
        QTest::keyClick(view()->promptEdit(), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(!f_.chat->isGenerating(id), 20000);
        QTextBrowser* doc = view()->completionDocument();
        QVERIFY(doc->isVisible());
        const QString text = doc->toPlainText();
        QVERIFY(text.startsWith("The old lighthouse"));
        QVERIFY(text.size() > QStringLiteral("The old lighthouse").size());
        QCOMPARE(text, f_.chat->completionText(id));
        QVERIFY(view()->messageWidgets().isEmpty());   // one text, no chat bubbles
        // Continue once more with nothing typed: the text grows in place.
        QTest::mouseClick(view()->sendButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!f_.chat->isGenerating(id), 20000);
        QVERIFY(doc->toPlainText().startsWith(text));
        QVERIFY(doc->toPlainText().size() > text.size());
        // Saved like a conversation.
        QVERIFY(f_.store->conversationSettings(id).completion);
        QCOMPARE(f_.store->conversation(id)->title, QStringLiteral("The old lighthouse"));
    }

    void replyKeepsItsLineBreaks() {
        const qint64 id = f_.store->createConversation("Line breaks");
        f_.store->addMessage(id, MessageRole::User, "Write three lines");
        f_.store->addMessage(id, MessageRole::Assistant,
                             "The fox ran.\nThe owl slept.\nThe moon rose.\n\n- a list item\n- another\n\n```\ncode line 1\ncode line 2\n```");
        f_.chat->openConversation(id);
        const auto widgets = view()->messageWidgets();
        QCOMPARE(widgets.size(), 2);
        MarkdownView* md = widgets[1]->markdownView();
        auto* prose = md->findChild<QTextBrowser*>();
        QVERIFY(prose);
        const QString shown = prose->toPlainText();
        // Each model line on its own line (a hard break is U+2028 in a QTextDocument).
        const QStringList lines = QString(shown).replace(QChar(0x2028), u'\n').split(u'\n', Qt::SkipEmptyParts);
        QVERIFY2(lines.size() >= 5, qPrintable(shown));
        QCOMPARE(lines[0], QStringLiteral("The fox ran."));
        QCOMPARE(lines[1], QStringLiteral("The owl slept."));
        QCOMPARE(lines[2], QStringLiteral("The moon rose."));
        // The list is still a list, the code block still a code block.
        QVERIFY(prose->document()->toMarkdown().contains("- a list item") || prose->document()->toMarkdown().contains("* a list item"));
        QCOMPARE(md->codeBlocks().size(), 1);
        QCOMPARE(MarkdownView::keepLineBreaks("a\nb"), QStringLiteral("a  \nb"));
        QCOMPARE(MarkdownView::keepLineBreaks("a\n\nb"), QStringLiteral("a\n\nb"));
        QCOMPARE(MarkdownView::keepLineBreaks("| x |\n|---|\n| 1 |"), QStringLiteral("| x |\n|---|\n| 1 |"));
    }

    void chatSettingsWithoutAConversationSaysWhy() {
        f_.chat->openConversation(0);
        view()->openSettings();
        QVERIFY(view()->errorBanner()->isVisible());
        QVERIFY(view()->errorBanner()->text().contains("first message"));
    }
};

QTEST_MAIN(StudioTest)
#include "test_studio.moc"
