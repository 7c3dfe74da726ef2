// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QMainWindow>

#include "core/chat_controller.h"
#include "core/studio_app.h"

class QButtonGroup;
class QTimer;
class QLabel;
class QMenu;
class QStackedWidget;
class QToolButton;
class QVBoxLayout;
class ChatView;
class ConversationSidebar;
class DashboardPage;
class ModelsPage;

// The main window: a rail of pages (Chat, Models, Dashboard) beside a QStackedWidget, and a
// status bar with the last reply's metrics and the model / backend indicator.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(StudioApp* app, QWidget* parent = nullptr);
    StudioApp* app() const { return app_; }

    enum Page { ChatPage = 0, ModelsPageIndex = 1, DashboardPageIndex = 2 };
    // Adds a page to the rail; `title` is translated (use QT_TRANSLATE_NOOP("MainWindow", …)).
    int addPage(QWidget* page, const QIcon& icon, const char* title);
    void showPage(int index);
    int currentPage() const;

    ChatView* chatView() const { return chat_; }
    ConversationSidebar* sidebar() const { return sidebar_; }
    ModelsPage* modelsPage() const { return models_; }
    DashboardPage* dashboardPage() const { return dashboard_; }
    QToolButton* modelButton() const { return modelButton_; }
    QLabel* metricsLabel() const { return metrics_; }
    QLabel* apiLabel() const { return api_; }
    QLabel* packLabel() const { return pack_; }

public slots:
    void chooseModelFolder();
    void loadModelFrom(const QString& path);   // StudioApp::useModel
    void openPreferences();
    void newChat();

protected:
    void changeEvent(QEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void createMenus();
    void retranslate();
    void updateModelIndicator();
    void updateApiIndicator();
    void setMetricsText(double ttftMs, double tokS, int tokens, bool live);

    StudioApp* app_;
    ChatController* controller_;
    QLabel* api_;
    QLabel* pack_;
    QTimer* apiTimer_;
    QStackedWidget* stack_;
    QVBoxLayout* rail_;
    QButtonGroup* railGroup_;
    QList<QPair<QToolButton*, const char*>> railButtons_;
    ChatView* chat_;
    ConversationSidebar* sidebar_;
    ModelsPage* models_;
    DashboardPage* dashboard_;
    QLabel* metrics_;
    QToolButton* modelButton_;
    QMenu* modelMenu_;
    QMenu* fileMenu_;
    QMenu* chatMenu_;
    QMenu* viewMenu_;
    QMenu* helpMenu_;
    QHash<QString, QAction*> actions_;
    double lastTtft_ = -1, lastTokS = -1;
    int lastTokens_ = 0;
    bool lastLive_ = false;
};
