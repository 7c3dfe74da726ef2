// SPDX-License-Identifier: Apache-2.0
#include "ui/conversation_sidebar.h"

#include <QAction>
#include <QEvent>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

ConversationSidebar::ConversationSidebar(ChatController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
    setObjectName("conversationSidebar");
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(10, 10, 10, 10);
    v->setSpacing(8);

    auto* top = new QHBoxLayout;
    new_ = new QPushButton(QIcon(":/icons/new-chat.svg"), QString(), this);
    new_->setObjectName("newChatButton");
    import_ = new QToolButton(this);
    import_->setObjectName("importButton");
    import_->setIcon(QIcon(":/icons/import.svg"));
    import_->setAutoRaise(true);
    top->addWidget(new_, 1);
    top->addWidget(import_);
    v->addLayout(top);

    search_ = new QLineEdit(this);
    search_->setObjectName("searchField");
    search_->setClearButtonEnabled(true);
    search_->addAction(QIcon(":/icons/search.svg"), QLineEdit::LeadingPosition);
    v->addWidget(search_);

    pages_ = new QStackedWidget(this);
    list_ = new QListWidget(pages_);
    list_->setObjectName("conversationList");
    list_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    list_->setContextMenuPolicy(Qt::CustomContextMenu);
    list_->setTextElideMode(Qt::ElideRight);
    results_ = new QListWidget(pages_);
    results_->setObjectName("searchResults");
    results_->setWordWrap(true);
    pages_->addWidget(list_);
    pages_->addWidget(results_);
    v->addWidget(pages_, 1);

    undoBar_ = new QFrame(this);
    undoBar_->setObjectName("undoBar");
    auto* u = new QHBoxLayout(undoBar_);
    u->setContentsMargins(8, 4, 4, 4);
    undoText_ = new QLabel(undoBar_);
    undo_ = new QPushButton(undoBar_);
    undo_->setObjectName("undoButton");
    u->addWidget(undoText_, 1);
    u->addWidget(undo_);
    undoBar_->hide();
    v->addWidget(undoBar_);
    undoTimer_.setSingleShot(true);
    undoTimer_.setInterval(10000);
    connect(&undoTimer_, &QTimer::timeout, undoBar_, &QWidget::hide);
    connect(undo_, &QPushButton::clicked, this, [this] {
        controller_->undoDelete();
        undoBar_->hide();
    });

    searchTimer_.setSingleShot(true);
    searchTimer_.setInterval(150);
    connect(&searchTimer_, &QTimer::timeout, this, &ConversationSidebar::runSearch);
    connect(search_, &QLineEdit::textChanged, this, [this] { searchTimer_.start(); });
    connect(search_, &QLineEdit::returnPressed, this, &ConversationSidebar::runSearch);

    connect(new_, &QPushButton::clicked, controller_, &ChatController::newConversation);
    connect(import_, &QToolButton::clicked, this, &ConversationSidebar::importConversation);
    connect(list_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
        if (item && !reloading_) controller_->openConversation(item->data(Qt::UserRole).toLongLong());
    });
    connect(list_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
        if (reloading_) return;
        const QString title = item->text().trimmed();
        if (!title.isEmpty()) controller_->store()->renameConversation(item->data(Qt::UserRole).toLongLong(), title);
        else reload();
    });
    connect(results_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        controller_->openConversation(item->data(Qt::UserRole).toLongLong());
    });
    connect(results_, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
        controller_->openConversation(item->data(Qt::UserRole).toLongLong());
    });
    connect(list_, &QListWidget::customContextMenuRequested, this, &ConversationSidebar::showMenu);

    reloadTimer_.setSingleShot(true);
    reloadTimer_.setInterval(0);
    connect(&reloadTimer_, &QTimer::timeout, this, &ConversationSidebar::reload);
    auto later = [this] { reloadTimer_.start(); };
    connect(controller_->store(), &ConversationStore::conversationsChanged, this, later);
    connect(controller_, &ChatController::currentConversationChanged, this, later);
    // A finished reply moves its conversation to the top.
    connect(controller_, &ChatController::replyFinished, this, later);
    connect(controller_, &ChatController::busyChanged, this, later);
    retranslate();
    reload();
}

void ConversationSidebar::retranslate() {
    new_->setText(tr("New chat"));
    new_->setToolTip(tr("Start a new conversation (Ctrl+N)"));
    import_->setToolTip(tr("Import a conversation from JSON"));
    search_->setPlaceholderText(tr("Search all messages (Ctrl+F)"));
    undo_->setText(tr("Undo"));
    undoText_->setText(tr("Conversation deleted"));
}

void ConversationSidebar::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QWidget::changeEvent(event);
}

void ConversationSidebar::reload() {
    reloading_ = true;
    list_->clear();
    const qint64 current = controller_->currentConversation();
    for (const auto& c : controller_->store()->conversations()) {
        auto* item = new QListWidgetItem(c.title, list_);
        item->setData(Qt::UserRole, c.id);
        item->setToolTip(c.title + '\n' + QLocale().toString(c.updated, QLocale::ShortFormat));
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        // Replies stream in several conversations at once: each one writing shows it.
        if (controller_->isGenerating(c.id)) item->setIcon(QIcon(QStringLiteral(":/icons/status-busy.svg")));
        if (c.id == current) list_->setCurrentItem(item);
    }
    reloading_ = false;
    if (!search_->text().trimmed().isEmpty()) runSearch();
}

void ConversationSidebar::focusSearch() {
    search_->setFocus();
    search_->selectAll();
}

void ConversationSidebar::runSearch() {
    const QString q = search_->text().trimmed();
    if (q.isEmpty()) {
        pages_->setCurrentWidget(list_);
        return;
    }
    results_->clear();
    const auto hits = controller_->store()->search(q);
    for (const auto& h : hits) {
        auto* item = new QListWidgetItem(h.title + QStringLiteral("\n") + h.snippet, results_);
        item->setData(Qt::UserRole, h.conversationId);
        item->setData(Qt::UserRole + 1, h.messageId);
    }
    if (hits.isEmpty()) {
        auto* item = new QListWidgetItem(tr("No messages contain “%1”").arg(q), results_);
        item->setFlags(Qt::NoItemFlags);
    }
    pages_->setCurrentWidget(results_);
}

void ConversationSidebar::renameCurrent() {
    if (auto* item = list_->currentItem()) {
        pages_->setCurrentWidget(list_);
        list_->editItem(item);
    }
}

void ConversationSidebar::deleteConversation(qint64 id) {
    if (!controller_->deleteConversation(id)) return;
    undoBar_->show();
    undoTimer_.start();
}

void ConversationSidebar::showMenu(const QPoint& pos) {
    QListWidgetItem* item = list_->itemAt(pos);
    if (!item) return;
    const qint64 id = item->data(Qt::UserRole).toLongLong();
    QMenu menu(this);
    menu.addAction(QIcon(":/icons/edit.svg"), tr("Rename"), this, [this, item] { list_->editItem(item); });
    menu.addAction(tr("Export as Markdown…"), this, [this, id] { exportConversation(id, "md"); });
    menu.addAction(tr("Export as JSON…"), this, [this, id] { exportConversation(id, "json"); });
    menu.addSeparator();
    menu.addAction(QIcon(":/icons/delete.svg"), tr("Delete"), this, [this, id] { deleteConversation(id); });
    menu.exec(list_->viewport()->mapToGlobal(pos));
}

void ConversationSidebar::exportConversation(qint64 id, const QString& format) {
    const auto c = controller_->store()->conversation(id);
    if (!c) return;
    QString base = c->title;
    base.replace(QRegularExpression(QStringLiteral("[\\\\/:*?\"<>|]")), QStringLiteral("_"));
    const bool md = format == "md";
    const QString path = QFileDialog::getSaveFileName(this, md ? tr("Export as Markdown") : tr("Export as JSON"),
                                                      base + (md ? ".md" : ".json"),
                                                      md ? tr("Markdown (*.md)") : tr("JSON (*.json)"));
    if (path.isEmpty()) return;
    QFile f(path);
    const QByteArray data = md ? controller_->store()->exportMarkdown(id).toUtf8()
                               : QJsonDocument(controller_->store()->exportJson(id)).toJson(QJsonDocument::Indented);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(data) != data.size())
        QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1: %2").arg(path, f.errorString()));
}

void ConversationSidebar::importConversation() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Import a conversation"), QString(), tr("JSON (*.json)"));
    if (path.isEmpty()) return;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        QMessageBox::warning(this, tr("Import failed"), tr("Could not read %1: %2").arg(path, f.errorString()));
        return;
    }
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    QString why;
    if (err.error != QJsonParseError::NoError) why = tr("%1 is not valid JSON: %2").arg(path, err.errorString());
    else if (const qint64 id = controller_->store()->importJson(doc.object(), &why)) {
        controller_->openConversation(id);
        return;
    }
    QMessageBox::warning(this, tr("Import failed"), why);
}
