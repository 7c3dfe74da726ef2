// SPDX-License-Identifier: Apache-2.0
// The Models page end to end on the offscreen platform: add a repository by id, download it
// from a loopback hub with visible progress, pause and resume, use it and chat with it; a model
// that fails to load leaves the previous one running; delete says how much was freed.
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>

#include "core/model_catalog.h"
#include "gui_fixture.h"
#include "hub_test_server.h"
#include "ui/model_switch_bar.h"
#include "ui/models_page.h"

namespace {

const QString kRepo = QStringLiteral("test-org/ChatTiny");

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Clicks "Yes" in the confirmation the page is about to open.
void acceptNextMessageBox() {
    QTimer::singleShot(50, [] {
        if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) box->button(QMessageBox::Yes)->click();
    });
}

} // namespace

class ModelsPageTest : public QObject {
    Q_OBJECT
    QTemporaryDir env_;
    HubTestServer server_;
    GuiFixture f_;
    qint64 weightsSize_ = 0;

    ModelsPage* page() { return f_.window->modelsPage(); }
    QPushButton* button(const char* name) { return page()->findChild<QPushButton*>(QString::fromLatin1(name)); }
    const ModelCatalog::Entry* entry(const QString& id) { return page()->catalog()->entry(id); }

private slots:
    void initTestCase() {
        // Serve a chat-capable model (the real tokenizer) the way the hub does.
        QVERIFY(server_.listen());
        const QString src = apptest::makeChatModel(env_.filePath("source"));
        QVERIFY(!src.isEmpty());
        server_.addRepo(kRepo);
        server_.addFile(kRepo, QStringLiteral("config.json"), readFile(src + QStringLiteral("/config.json")), false);
        const QByteArray weights = readFile(src + QStringLiteral("/model.safetensors"));
        weightsSize_ = weights.size();
        server_.addFile(kRepo, QStringLiteral("model.safetensors"), weights, true);
        server_.addFile(kRepo, QStringLiteral("tokenizer.model"), readFile(src + QStringLiteral("/tokenizer.model")), true);
        server_.setRedirectLfs(true);
        // Slow enough to watch progress and press Pause, fast enough for a test.
        server_.setBytesPerSecond(6 * 1000 * 1000);

        // Everything the page touches points into the temporary folder and the loopback hub.
        qputenv("HF_ENDPOINT", server_.url().toString().toUtf8());
        qunsetenv("HF_TOKEN");
        qputenv("HF_HOME", env_.filePath("hf").toUtf8());
        qputenv("MMFREE_MODELS_DIR", env_.filePath("models").toUtf8());
        QVERIFY(f_.setUp());

        // The model the app was running before.
        f_.window->loadModelFrom(f_.model);
        QTRY_COMPARE_WITH_TIMEOUT(f_.chat->modelState(), ChatController::ModelState::Ready, 20000);
    }
    void cleanupTestCase() {
        f_.tearDown();
        qunsetenv("HF_ENDPOINT");
        qunsetenv("HF_HOME");
        qunsetenv("MMFREE_MODELS_DIR");
    }

    void cataloguesReleasesWithMemoryNeeds() {
        f_.window->showPage(MainWindow::ModelsPageIndex);
        QTRY_VERIFY(page()->isVisible());
        QCOMPARE(page()->catalog()->modelsDirectory(), env_.filePath("models"));
        for (const QString& id : ModelCatalog::releasedRepos()) {
            const auto* e = entry(id);
            QVERIFY(e);
            QCOMPARE(e->state, ModelCatalog::State::Available);
            QVERIFY(e->haveMemory);
        }
    }

    void searchShowsHubResults() {
        auto* search = page()->findChild<QLineEdit*>(QStringLiteral("modelSearch"));
        QTest::keyClicks(search, "chat");
        QTest::keyClick(search, Qt::Key_Return);
        auto* results = page()->findChild<QListWidget*>(QStringLiteral("searchResults"));
        QTRY_VERIFY(results->isVisible());
        QCOMPARE(results->count(), 1);
        QVERIFY(results->item(0)->text().contains(kRepo));
    }

    void downloadWithProgressPauseAndResume() {
        auto* repo = page()->findChild<QLineEdit*>(QStringLiteral("repoId"));
        QTest::keyClicks(repo, kRepo);
        QTest::mouseClick(button("addRepoButton"), Qt::LeftButton);
        QVERIFY(entry(kRepo));
        QCOMPARE(page()->selectedId(), kRepo);
        // The hub's listing and config arrive: exact size and memory needs before downloading.
        QTRY_VERIFY(entry(kRepo)->downloadExact && entry(kRepo)->haveMemory);
        QVERIFY(button("downloadButton")->isVisible());

        QTest::mouseClick(button("downloadButton"), Qt::LeftButton);
        QProgressBar* bar = page()->progressBar();
        QTRY_VERIFY_WITH_TIMEOUT(bar->isVisible() && bar->value() > 100, 20000);
        QVERIFY(bar->value() < 1000);
        // Speed and time left are shown while it runs.
        QTRY_VERIFY(page()->statusLabel()->text().contains(QStringLiteral("/s")));
        QVERIFY(page()->statusLabel()->text().contains(QStringLiteral("left")));

        QTest::mouseClick(button("pauseButton"), Qt::LeftButton);
        QTRY_COMPARE(entry(kRepo)->state, ModelCatalog::State::Paused);
        QVERIFY(button("resumeButton")->isVisible());
        const int pausedAt = bar->value();
        QVERIFY(pausedAt > 0 && pausedAt < 1000);

        server_.setBytesPerSecond(0);
        QTest::mouseClick(button("resumeButton"), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(entry(kRepo)->state, ModelCatalog::State::Installed, 30000);
        QVERIFY2(page()->noticeLabel()->text().contains(QStringLiteral("verified")), qPrintable(page()->noticeLabel()->text()));
        // Resuming fetched only the rest: a Range request from where the .part ended.
        const auto requests = server_.fileRequests(kRepo, QStringLiteral("model.safetensors"));
        QVERIFY(requests.last().bodyStart > 0);
        QCOMPARE(requests.last().status, 206);
        QCOMPARE(requests.last().bodySent, weightsSize_ - requests.last().bodyStart);
        QVERIFY(entry(kRepo)->canChat);
        QVERIFY(button("useButton")->isVisible() && button("useButton")->isEnabled());
        // For people reviewing the layout: MMFREE_MODELS_SCREENSHOT=/tmp/models.png
        if (const QString shot = qEnvironmentVariable("MMFREE_MODELS_SCREENSHOT"); !shot.isEmpty())
            f_.window->grab().save(shot);
    }

    void useItAndChat() {
        const QString path = entry(kRepo)->path;
        QCOMPARE(path, env_.filePath("models") + QStringLiteral("/test-org--ChatTiny"));
        QTest::mouseClick(button("useButton"), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(f_.chat->modelInfo().path, path, 20000);
        QCOMPARE(f_.chat->modelState(), ChatController::ModelState::Ready);
        QCOMPARE(AppSettings::modelPath(), path);
        QTRY_VERIFY(page()->noticeLabel()->text().contains(QStringLiteral("Now chatting")));
        QVERIFY(!button("useButton")->isEnabled());   // already in use
        QVERIFY(!button("deleteButton")->isEnabled());

        f_.window->newChat();
        ChatSettings s;
        s.maxTokens = 6;
        s.stopAtEos = false;
        s.stopStrings.clear();
        f_.chat->setSettings(f_.chat->currentConversation(), s);
        QVERIFY(f_.chat->send(QStringLiteral("Hello")));
        QTRY_VERIFY_WITH_TIMEOUT(!f_.chat->isGenerating(), 20000);
        const auto messages = f_.chat->messages(f_.chat->currentConversation());
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.last().role, MessageRole::Assistant);
        QVERIFY(!messages.last().content.isEmpty());
    }

    void failedLoadKeepsThePreviousModel() {
        const QString running = f_.chat->modelInfo().path;
        const QString folder = apptest::makeChatModel(env_.filePath("import-me"), 3);
        page()->importPath(folder);
        QTRY_VERIFY_WITH_TIMEOUT(entry(folder), 20000);
        QCOMPARE(page()->selectedId(), folder);
        // The files disappear behind the app's back before it is used.
        QVERIFY(QFile::remove(folder + QStringLiteral("/model.safetensors")));
        QTest::mouseClick(button("useButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(page()->noticeLabel()->text().contains(QStringLiteral("still running")), 20000);
        QCOMPARE(f_.chat->modelState(), ChatController::ModelState::Ready);
        QCOMPARE(f_.chat->modelInfo().path, running);
        QCOMPARE(AppSettings::modelPath(), running);   // the failed one is not remembered

        // An import is only taken off the list; the person's folder stays.
        acceptNextMessageBox();
        QTest::mouseClick(button("deleteButton"), Qt::LeftButton);
        QTRY_VERIFY(!entry(folder));
        QVERIFY(QFileInfo::exists(folder + QStringLiteral("/config.json")));
    }

    void conversationOffersToSwitchBack() {
        const QString downloaded = entry(kRepo)->path;
        const qint64 conv = f_.chat->currentConversation();
        QVERIFY(conv != 0);
        QCOMPARE(QDir::cleanPath(f_.chat->store()->conversation(conv)->modelPath), QDir::cleanPath(downloaded));
        f_.window->loadModelFrom(f_.model);
        QTRY_COMPARE_WITH_TIMEOUT(f_.chat->modelInfo().path, f_.model, 20000);
        f_.window->showPage(MainWindow::ChatPage);
        auto* bar = f_.window->findChild<ModelSwitchBar*>();
        QVERIFY(bar);
        f_.chat->openConversation(0);
        f_.chat->openConversation(conv);
        QTRY_VERIFY(bar->isVisible());
        QVERIFY2(bar->label()->text().contains(QStringLiteral("test-org--ChatTiny")), qPrintable(bar->label()->text()));
        QTest::mouseClick(bar->switchButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(QDir::cleanPath(f_.chat->modelInfo().path), QDir::cleanPath(downloaded), 20000);
        QTRY_VERIFY(!bar->isVisible());
        QCOMPARE(QDir::cleanPath(AppSettings::modelPath()), QDir::cleanPath(downloaded));

        // Declining keeps the current model and hides the offer for this conversation.
        f_.window->loadModelFrom(f_.model);
        QTRY_COMPARE_WITH_TIMEOUT(f_.chat->modelInfo().path, f_.model, 20000);
        QTRY_VERIFY(bar->isVisible());
        QTest::mouseClick(bar->keepButton(), Qt::LeftButton);
        QVERIFY(!bar->isVisible());
        QCOMPARE(f_.chat->modelInfo().path, f_.model);
        f_.window->showPage(MainWindow::ModelsPageIndex);
    }

    void deleteFreesTheDownload() {
        const QString downloaded = entry(kRepo)->path;
        const qint64 bytes = modelDiskBytes(downloaded);
        f_.window->loadModelFrom(f_.model);   // switch away first: the running model cannot be deleted
        QTRY_COMPARE_WITH_TIMEOUT(f_.chat->modelInfo().path, f_.model, 20000);
        page()->selectModel(kRepo);
        QTRY_VERIFY(button("deleteButton")->isEnabled());
        acceptNextMessageBox();
        QTest::mouseClick(button("deleteButton"), Qt::LeftButton);
        QTRY_VERIFY(page()->noticeLabel()->text().contains(QStringLiteral("freed")));
        QVERIFY2(page()->noticeLabel()->text().contains(formatBytes(bytes)), qPrintable(page()->noticeLabel()->text()));
        QVERIFY(!QFileInfo::exists(downloaded));
        QCOMPARE(entry(kRepo)->state, ModelCatalog::State::Available);
    }
};

QTEST_MAIN(ModelsPageTest)
#include "test_models_page.moc"
