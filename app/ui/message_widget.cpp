// SPDX-License-Identifier: Apache-2.0
#include "ui/message_widget.h"

#include <QApplication>
#include <QClipboard>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QStackedWidget>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/markdown_view.h"

static QToolButton* actionButton(const QString& icon, const QString& name, QWidget* parent) {
    auto* b = new QToolButton(parent);
    b->setObjectName(name);
    b->setIcon(QIcon(icon));
    b->setAutoRaise(true);
    b->setIconSize({16, 16});
    return b;
}

MessageWidget::MessageWidget(const ChatMessage& message, QWidget* parent) : QFrame(parent), message_(message) {
    setObjectName(message.role == MessageRole::User ? "userMessage" : "assistantMessage");
    setProperty("role", messageRoleName(message.role));
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(14, 8, 14, 6);
    v->setSpacing(4);

    auto* top = new QHBoxLayout;
    who_ = new QLabel(this);
    who_->setObjectName("messageAuthor");
    badge_ = new QLabel(this);
    badge_->setObjectName("messageBadge");
    badge_->hide();
    top->addWidget(who_);
    top->addWidget(badge_);
    top->addStretch();
    copy_ = actionButton(":/icons/copy.svg", "copyMessage", this);
    edit_ = actionButton(":/icons/edit.svg", "editMessage", this);
    regenerate_ = actionButton(":/icons/regenerate.svg", "regenerateMessage", this);
    top->addWidget(copy_);
    top->addWidget(edit_);
    top->addWidget(regenerate_);
    v->addLayout(top);
    edit_->setVisible(message.role == MessageRole::User);
    regenerate_->hide();

    body_ = new QStackedWidget(this);
    view_ = new MarkdownView(body_);
    body_->addWidget(view_);
    auto* editPage = new QWidget(body_);
    auto* ev = new QVBoxLayout(editPage);
    ev->setContentsMargins(0, 0, 0, 0);
    editor_ = new QPlainTextEdit(editPage);
    editor_->setObjectName("messageEditor");
    editor_->setMinimumHeight(80);
    auto* eb = new QHBoxLayout;
    resend_ = new QPushButton(editPage);
    resend_->setObjectName("resendButton");
    resend_->setDefault(true);
    cancelEdit_ = new QPushButton(editPage);
    eb->addStretch();
    eb->addWidget(cancelEdit_);
    eb->addWidget(resend_);
    ev->addWidget(editor_);
    ev->addLayout(eb);
    body_->addWidget(editPage);
    v->addWidget(body_);
    // QStackedWidget takes the tallest page's height; follow the visible page instead.
    body_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    connect(body_, &QStackedWidget::currentChanged, this, [this](int i) {
        for (int k = 0; k < body_->count(); ++k)
            body_->widget(k)->setSizePolicy(QSizePolicy::Preferred, k == i ? QSizePolicy::Preferred : QSizePolicy::Ignored);
        body_->adjustSize();
    });
    editPage->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Ignored);

    connect(copy_, &QToolButton::clicked, this, [this] {
        QApplication::clipboard()->setText(message_.content);
        copy_->setToolTip(tr("Copied"));
    });
    connect(edit_, &QToolButton::clicked, this, &MessageWidget::startEditing);
    connect(cancelEdit_, &QPushButton::clicked, this, [this] { body_->setCurrentIndex(0); });
    connect(resend_, &QPushButton::clicked, this, [this] {
        const QString t = editor_->toPlainText().trimmed();
        if (t.isEmpty()) return;
        body_->setCurrentIndex(0);
        emit editAndResend(message_.id, t);
    });
    connect(regenerate_, &QToolButton::clicked, this, &MessageWidget::regenerateRequested);

    view_->setMarkdown(message.content);
    setInterrupted(message.role == MessageRole::Assistant && !message.complete);
    retranslate();
}

void MessageWidget::retranslate() {
    who_->setText(message_.role == MessageRole::User ? tr("You") : message_.role == MessageRole::Assistant ? tr("Assistant") : tr("System"));
    copy_->setToolTip(tr("Copy the message"));
    edit_->setToolTip(tr("Edit and resend"));
    regenerate_->setToolTip(tr("Regenerate the reply"));
    resend_->setText(tr("Save and resend"));
    cancelEdit_->setText(tr("Cancel"));
    if (streaming_) badge_->setText(tr("writing…"));
    else if (interrupted_) badge_->setText(tr("interrupted"));
}

void MessageWidget::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QFrame::changeEvent(event);
}

void MessageWidget::setText(const QString& text) {
    message_.content = text;
    view_->setMarkdown(text);
}

void MessageWidget::setStreaming(bool streaming) {
    streaming_ = streaming;
    if (streaming) interrupted_ = false;
    badge_->setVisible(streaming_ || interrupted_);
    copy_->setVisible(!streaming);
    retranslate();
}

void MessageWidget::setInterrupted(bool interrupted) {
    interrupted_ = interrupted;
    badge_->setVisible(streaming_ || interrupted_);
    retranslate();
}

void MessageWidget::setCanRegenerate(bool can) { regenerate_->setVisible(can && message_.role == MessageRole::Assistant); }

void MessageWidget::setActionsEnabled(bool enabled) {
    edit_->setEnabled(enabled);
    regenerate_->setEnabled(enabled);
    resend_->setEnabled(enabled);
}

void MessageWidget::startEditing() {
    editor_->setPlainText(message_.content);
    body_->setCurrentIndex(1);
    editor_->setFocus();
    editor_->selectAll();
}

bool MessageWidget::isEditing() const { return body_->currentIndex() == 1; }
