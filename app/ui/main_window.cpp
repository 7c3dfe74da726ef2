// SPDX-License-Identifier: Apache-2.0
#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QButtonGroup>
#include <QCloseEvent>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QShortcut>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/app_settings.h"
#include "ui/chat_view.h"
#include "ui/conversation_sidebar.h"
#include "ui/dashboard_page.h"
#include "ui/model_switch_bar.h"
#include "ui/models_page.h"
#include "ui/preferences_dialog.h"
#include "ui/prompt_edit.h"

namespace {
// Source texts of translated actions, so a language change can re-apply them.
const char* const kTextProperty = "mmfreeSourceText";
}

MainWindow::MainWindow(StudioApp* app, QWidget* parent) : QMainWindow(parent), app_(app), controller_(app->chat()) {
    setObjectName("mainWindow");
    setWindowIcon(QIcon(":/icons/mmfree-studio.svg"));
    auto* central = new QWidget(this);
    auto* h = new QHBoxLayout(central);
    h->setContentsMargins(0, 0, 0, 0);
    h->setSpacing(0);
    auto* railWidget = new QWidget(central);
    railWidget->setObjectName("pageRail");
    rail_ = new QVBoxLayout(railWidget);
    rail_->setContentsMargins(6, 10, 6, 10);
    rail_->setSpacing(4);
    rail_->addStretch();
    railGroup_ = new QButtonGroup(this);
    railGroup_->setExclusive(true);
    stack_ = new QStackedWidget(central);
    h->addWidget(railWidget);
    h->addWidget(stack_, 1);
    setCentralWidget(central);

    // The chat page: conversations on the left, the conversation on the right.
    auto* split = new QSplitter(Qt::Horizontal, stack_);
    split->setObjectName("chatSplitter");
    split->setChildrenCollapsible(false);
    sidebar_ = new ConversationSidebar(controller_, split);
    // Above the conversation: the offer to switch back to the model it last ran on.
    auto* chatColumn = new QWidget(split);
    auto* chatLayout = new QVBoxLayout(chatColumn);
    chatLayout->setContentsMargins(0, 0, 0, 0);
    chatLayout->setSpacing(0);
    auto* switchBar = new ModelSwitchBar(controller_, chatColumn);
    connect(switchBar, &ModelSwitchBar::useModelRequested, this, &MainWindow::loadModelFrom);
    chatLayout->addWidget(switchBar);
    chat_ = new ChatView(controller_, chatColumn);
    chatLayout->addWidget(chat_, 1);
    split->addWidget(sidebar_);
    split->addWidget(chatColumn);
    split->setStretchFactor(1, 1);
    split->setSizes({260, 740});
    addPage(split, QIcon(":/icons/chat.svg"), QT_TRANSLATE_NOOP("MainWindow", "Chat"));

    // Models and Dashboard belong to their own work items; the wiring here stays this small.
    models_ = new ModelsPage(controller_, app_->catalog(), stack_);
    connect(models_, &ModelsPage::useModelRequested, this, &MainWindow::loadModelFrom);
    addPage(models_, QIcon(":/icons/models.svg"), QT_TRANSLATE_NOOP("MainWindow", "Models"));
    dashboard_ = new DashboardPage(app_->metrics(), stack_);
    addPage(dashboard_, QIcon(":/icons/dashboard.svg"), QT_TRANSLATE_NOOP("MainWindow", "Dashboard"));
    connect(models_, &ModelsPage::chooseModelRequested, this, &MainWindow::chooseModelFolder);

    metrics_ = new QLabel(this);
    metrics_->setObjectName("metricsLabel");
    statusBar()->addWidget(metrics_, 1);
    modelButton_ = new QToolButton(this);
    modelButton_->setObjectName("modelIndicator");
    modelButton_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    modelButton_->setPopupMode(QToolButton::InstantPopup);
    modelButton_->setAutoRaise(true);
    modelMenu_ = new QMenu(modelButton_);
    modelButton_->setMenu(modelMenu_);
    // The local API server's address and request count, while it runs.
    api_ = new QLabel(this);
    api_->setObjectName("apiIndicator");
    api_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statusBar()->addPermanentWidget(api_);
    // While a model folder is packed for instant switching (in the background, after it loaded).
    pack_ = new QLabel(this);
    pack_->setObjectName("packIndicator");
    pack_->hide();
    statusBar()->addPermanentWidget(pack_);
    connect(app_->engine(), &EngineService::packingStarted, this, [this](const QString& folder) {
        pack_->setText(tr("Packing %1 for instant switching…").arg(QFileInfo(folder).fileName()));
        pack_->show();
    });
    connect(app_->engine(), &EngineService::packingFinished, this, [this](const QString& folder, qint64, const QString& error) {
        pack_->setVisible(!error.isEmpty());
        if (!error.isEmpty()) pack_->setText(tr("Could not pack %1: %2").arg(QFileInfo(folder).fileName(), error));
    });
    statusBar()->addPermanentWidget(modelButton_);
    apiTimer_ = new QTimer(this);
    apiTimer_->setInterval(1000);
    connect(apiTimer_, &QTimer::timeout, this, &MainWindow::updateApiIndicator);
    connect(app_, &StudioApp::apiServerChanged, this, &MainWindow::updateApiIndicator);

    createMenus();
    connect(chat_, &ChatView::chooseModelRequested, this, &MainWindow::chooseModelFolder);
    connect(chat_, &ChatView::openModelsRequested, this, [this] { showPage(ModelsPageIndex); });
    connect(chat_, &ChatView::retryModelRequested, app_, &StudioApp::reloadModel);
    connect(controller_, &ChatController::modelStateChanged, this, &MainWindow::updateModelIndicator);
    // The status line follows the conversation on screen (several may be streaming).
    connect(controller_, &ChatController::liveMetrics, this, [this](qint64 conv, double ttft, double tokS, int tokens) {
        if (conv == controller_->currentConversation()) setMetricsText(ttft, tokS, tokens, true);
    });
    connect(controller_, &ChatController::replyFinished, this, [this](qint64 conv, qint64, const GenerationOutcome& o) {
        if (conv == controller_->currentConversation()) setMetricsText(o.ttftMs, o.decodeTokS, o.generatedTokens, false);
    });

    QSettings settings;
    if (!restoreGeometry(settings.value("window/geometry").toByteArray())) resize(1100, 720);
    retranslate();
    showPage(ChatPage);
}

int MainWindow::addPage(QWidget* page, const QIcon& icon, const char* title) {
    const int index = stack_->addWidget(page);
    auto* b = new QToolButton(rail_->parentWidget());
    b->setObjectName(QStringLiteral("railButton%1").arg(index));
    b->setIcon(icon);
    b->setIconSize({24, 24});
    b->setCheckable(true);
    b->setAutoRaise(true);
    b->setToolButtonStyle(Qt::ToolButtonTextUnderIcon);
    b->setMinimumWidth(72);
    b->setText(tr(title));
    railGroup_->addButton(b, index);
    rail_->insertWidget(index, b);
    railButtons_ << qMakePair(b, title);
    connect(b, &QToolButton::clicked, this, [this, index] { showPage(index); });
    return index;
}

void MainWindow::showPage(int index) {
    stack_->setCurrentIndex(index);
    if (auto* b = railGroup_->button(index)) b->setChecked(true);
    if (index == ChatPage) chat_->promptEdit()->setFocus();
}

int MainWindow::currentPage() const { return stack_->currentIndex(); }

void MainWindow::createMenus() {
    auto action = [this](QMenu* menu, const QString& key, const char* text, const QKeySequence& shortcut, auto slot) {
        auto* a = menu->addAction(tr(text));
        a->setProperty(kTextProperty, QByteArray(text));
        if (!shortcut.isEmpty()) a->setShortcut(shortcut);
        a->setShortcutContext(Qt::WindowShortcut);
        connect(a, &QAction::triggered, this, slot);
        actions_.insert(key, a);
        return a;
    };
    fileMenu_ = menuBar()->addMenu(QString());
    action(fileMenu_, "new", QT_TRANSLATE_NOOP("MainWindow", "&New chat"), QKeySequence::New, [this] { newChat(); });
    action(fileMenu_, "newText", QT_TRANSLATE_NOOP("MainWindow", "New &text (completion)"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N), [this] {
        showPage(ChatPage);
        controller_->newConversation(true);
        chat_->promptEdit()->setFocus();
    });
    action(fileMenu_, "import", QT_TRANSLATE_NOOP("MainWindow", "&Import conversation…"), {}, [this] { sidebar_->importConversation(); });
    action(fileMenu_, "exportMd", QT_TRANSLATE_NOOP("MainWindow", "Export as &Markdown…"), {}, [this] {
        sidebar_->exportConversation(controller_->currentConversation(), "md");
    });
    action(fileMenu_, "exportJson", QT_TRANSLATE_NOOP("MainWindow", "Export as &JSON…"), {}, [this] {
        sidebar_->exportConversation(controller_->currentConversation(), "json");
    });
    fileMenu_->addSeparator();
    action(fileMenu_, "chooseModel", QT_TRANSLATE_NOOP("MainWindow", "Open &model folder…"), QKeySequence(Qt::CTRL | Qt::Key_O),
           [this] { chooseModelFolder(); });
    action(fileMenu_, "preferences", QT_TRANSLATE_NOOP("MainWindow", "&Preferences…"), QKeySequence(Qt::CTRL | Qt::Key_Comma),
           [this] { openPreferences(); });
    fileMenu_->addSeparator();
    action(fileMenu_, "quit", QT_TRANSLATE_NOOP("MainWindow", "&Quit"), QKeySequence::Quit, [this] { close(); });

    chatMenu_ = menuBar()->addMenu(QString());
    action(chatMenu_, "find", QT_TRANSLATE_NOOP("MainWindow", "&Search messages"), QKeySequence::Find, [this] {
        showPage(ChatPage);
        sidebar_->focusSearch();
    });
    action(chatMenu_, "stop", QT_TRANSLATE_NOOP("MainWindow", "S&top reply"), QKeySequence(Qt::Key_Escape), [this] { controller_->stop(); });
    action(chatMenu_, "regenerate", QT_TRANSLATE_NOOP("MainWindow", "&Regenerate reply"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R),
           [this] { controller_->regenerate(); });
    action(chatMenu_, "rename", QT_TRANSLATE_NOOP("MainWindow", "Re&name conversation"), QKeySequence(Qt::Key_F2), [this] {
        showPage(ChatPage);
        sidebar_->renameCurrent();
    });
    action(chatMenu_, "delete", QT_TRANSLATE_NOOP("MainWindow", "&Delete conversation"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Delete),
           [this] { sidebar_->deleteConversation(controller_->currentConversation()); });
    action(chatMenu_, "settings", QT_TRANSLATE_NOOP("MainWindow", "Chat se&ttings…"), QKeySequence(Qt::CTRL | Qt::Key_Period),
           [this] { chat_->openSettings(); });

    viewMenu_ = menuBar()->addMenu(QString());
    action(viewMenu_, "pageChat", QT_TRANSLATE_NOOP("MainWindow", "&Chat"), QKeySequence(Qt::CTRL | Qt::Key_1), [this] { showPage(0); });
    action(viewMenu_, "pageModels", QT_TRANSLATE_NOOP("MainWindow", "&Models"), QKeySequence(Qt::CTRL | Qt::Key_2), [this] { showPage(1); });
    action(viewMenu_, "pageDashboard", QT_TRANSLATE_NOOP("MainWindow", "&Dashboard"), QKeySequence(Qt::CTRL | Qt::Key_3), [this] { showPage(2); });

    helpMenu_ = menuBar()->addMenu(QString());
    action(helpMenu_, "about", QT_TRANSLATE_NOOP("MainWindow", "&About MMfree Studio"), {}, [this] {
        QMessageBox::about(this, tr("About MMfree Studio"),
                           tr("<h3>MMfree Studio %1</h3><p>Chat with MatMul-free language models on your own computer.</p>"
                              "<p>Apache License 2.0</p>").arg(QStringLiteral(MMFREE_VERSION)));
    });

    action(modelMenu_, "chooseModel2", QT_TRANSLATE_NOOP("MainWindow", "Open model folder…"), {}, [this] { chooseModelFolder(); });
    action(modelMenu_, "reloadModel", QT_TRANSLATE_NOOP("MainWindow", "Reload model"), {}, [this] { app_->reloadModel(); });
    action(modelMenu_, "manageModels", QT_TRANSLATE_NOOP("MainWindow", "Manage models"), {}, [this] { showPage(ModelsPageIndex); });
}

void MainWindow::retranslate() {
    setWindowTitle(tr("MMfree Studio"));
    fileMenu_->setTitle(tr("&File"));
    chatMenu_->setTitle(tr("&Chat"));
    viewMenu_->setTitle(tr("&View"));
    helpMenu_->setTitle(tr("&Help"));
    for (QAction* a : std::as_const(actions_)) a->setText(tr(a->property(kTextProperty).toByteArray().constData()));
    for (const auto& [button, title] : std::as_const(railButtons_)) button->setText(tr(title));
    updateModelIndicator();
    updateApiIndicator();
    if (lastTtft_ >= 0) setMetricsText(lastTtft_, lastTokS, lastTokens_, lastLive_);
    else metrics_->setText(tr("Ready"));
}

void MainWindow::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QMainWindow::changeEvent(event);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings().setValue("window/geometry", saveGeometry());
    QMainWindow::closeEvent(event);
}

void MainWindow::newChat() {
    showPage(ChatPage);
    controller_->newConversation();
    chat_->promptEdit()->setFocus();
}

void MainWindow::setMetricsText(double ttftMs, double tokS, int tokens, bool live) {
    lastTtft_ = ttftMs;
    lastTokS = tokS;
    lastTokens_ = tokens;
    lastLive_ = live;
    const QString backend = controller_->modelInfo().backend;
    metrics_->setText(tr("First token %1 ms · %2 tokens/s · %3 tokens · %4")
                          .arg(QLocale().toString(ttftMs, 'f', 0), QLocale().toString(tokS, 'f', 1))
                          .arg(tokens)
                          .arg(backend.isEmpty() ? tr("no backend") : backend));
}

void MainWindow::updateModelIndicator() {
    const ModelInfo m = controller_->modelInfo();
    QString text;
    QString icon = ":/icons/status-ok.svg";
    switch (controller_->modelState()) {
    case ChatController::ModelState::Ready: text = tr("%1 · %2").arg(m.name, backendDisplayName(m.backend)); break;
    case ChatController::ModelState::Loading: text = tr("Loading model…"); icon = ":/icons/status-busy.svg"; break;
    case ChatController::ModelState::Failed: text = tr("Model failed to load"); icon = ":/icons/status-error.svg"; break;
    case ChatController::ModelState::None: text = tr("No model"); icon = ":/icons/status-error.svg"; break;
    }
    modelButton_->setText(text);
    modelButton_->setIcon(QIcon(icon));
    QString tip = m.path.isEmpty() ? controller_->modelError()
                                   : tr("%1\nBackend: %2 — %3").arg(m.path, m.backend, m.device);
    if (!m.fallbackNote.isEmpty()) tip += '\n' + m.fallbackNote;
    modelButton_->setToolTip(tip);
}

void MainWindow::chooseModelFolder() {
    const QString start = controller_->requestedModelPath().isEmpty() ? QDir::homePath() : controller_->requestedModelPath();
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose a model folder"), start);
    if (!dir.isEmpty()) loadModelFrom(dir);
}

void MainWindow::loadModelFrom(const QString& path) { app_->useModel(path); }

void MainWindow::updateApiIndicator() {
    const bool on = app_->apiRunning();
    api_->setVisible(on);
    if (on) api_->setText(tr("API %1 · %n request(s)", nullptr, int(app_->apiRequests())).arg(app_->apiAddress()));
    if (on && !apiTimer_->isActive()) apiTimer_->start();
    if (!on) apiTimer_->stop();
}

void MainWindow::openPreferences() {
    PreferencesDialog dialog(app_, this);
    if (dialog.exec() != QDialog::Accepted) return;
    if (dialog.apiServer() != AppSettings::apiServer() || dialog.apiServer().enabled != app_->apiRunning()) {
        if (!app_->applyApiServer(dialog.apiServer()))
            QMessageBox::warning(this, tr("Local API server"), tr("The API server could not start: %1").arg(app_->apiError()));
    }
    if (dialog.language() != AppSettings::language()) {
        AppSettings::setLanguage(dialog.language());
        installLanguage(dialog.language());
    }
    if (dialog.backend() != AppSettings::backend()) {
        AppSettings::setBackend(dialog.backend());
        app_->reloadModel();
    }
}
