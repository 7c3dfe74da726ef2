// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QApplication>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "app_testkit.h"
#include "core/app_settings.h"
#include "core/chat_controller.h"
#include "core/conversation_store.h"
#include "core/engine_service.h"
#include "core/studio_app.h"
#include "ui/main_window.h"
#include "ui/style.h"

// The application object and its main window on a fresh database, settings isolated from the user's (QStandardPaths test mode).
struct GuiFixture {
    QTemporaryDir dir;
    QString model;
    StudioApp* app = nullptr;
    ConversationStore* store = nullptr;
    ChatController* chat = nullptr;
    EngineService* engine = nullptr;
    MainWindow* window = nullptr;

    // modelPath: the model the suite chats with; by default a tiny random-weight one.
    bool setUp(const QSize& size = {1100, 720}, const QString& modelPath = {}) {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        installLanguage(QStringLiteral("en"));
        applyStudioStyle();
        model = modelPath.isEmpty() ? apptest::makeChatModel(dir.filePath("tiny-chat-model")) : modelPath;
        app = new StudioApp;
        if (model.isEmpty() || !app->openStore(dir.filePath("chat.sqlite"))) return false;
        store = app->store();
        chat = app->chat();
        engine = app->engine();
        window = new MainWindow(app);
        window->resize(size);
        window->show();
        window->activateWindow();
        return QTest::qWaitForWindowExposed(window);
    }
    void tearDown() {
        delete window;
        delete app;
    }
};
