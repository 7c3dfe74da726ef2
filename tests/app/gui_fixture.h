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
#include "ui/main_window.h"
#include "ui/style.h"

// A main window on a fresh database, settings isolated from the user's (QStandardPaths test mode).
struct GuiFixture {
    QTemporaryDir dir;
    QString model;
    ConversationStore store;
    ChatController* chat = nullptr;
    MainWindow* window = nullptr;

    bool setUp(const QSize& size = {1100, 720}) {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        installLanguage(QStringLiteral("en"));
        applyStudioStyle();
        model = apptest::makeChatModel(dir.filePath("tiny-chat-model"));
        if (model.isEmpty() || !store.open(dir.filePath("chat.sqlite"))) return false;
        chat = new ChatController(&store);
        window = new MainWindow(chat);
        window->resize(size);
        window->show();
        window->activateWindow();
        return QTest::qWaitForWindowExposed(window);
    }
    void tearDown() {
        delete window;
        delete chat;
    }
};
