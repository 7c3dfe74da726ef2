// SPDX-License-Identifier: Apache-2.0
#include "ui/chat_view.h"

#include <QEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/app_settings.h"
#include "ui/chat_settings_dialog.h"
#include "ui/message_widget.h"
#include "ui/prompt_edit.h"

ChatView::ChatView(ChatController* controller, QWidget* parent) : QWidget(parent), controller_(controller) {
    setObjectName("chatView");
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);

    auto* header = new QWidget(this);
    header->setObjectName("chatHeader");
    auto* h = new QHBoxLayout(header);
    h->setContentsMargins(18, 10, 10, 10);
    title_ = new QLabel(header);
    title_->setObjectName("chatTitle");
    title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    settings_ = new QToolButton(header);
    settings_->setObjectName("chatSettingsButton");
    settings_->setIcon(QIcon(":/icons/settings.svg"));
    settings_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    settings_->setAutoRaise(true);
    h->addWidget(title_, 1);
    h->addWidget(settings_);
    v->addWidget(header);

    notice_ = new QFrame(this);
    notice_->setObjectName("modelNotice");
    auto* nv = new QVBoxLayout(notice_);
    nv->setContentsMargins(18, 14, 18, 14);
    noticeTitle_ = new QLabel(notice_);
    noticeTitle_->setObjectName("noticeTitle");
    noticeText_ = new QLabel(notice_);
    noticeText_->setWordWrap(true);
    noticeText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* nb = new QHBoxLayout;
    chooseModel_ = new QPushButton(notice_);
    chooseModel_->setObjectName("chooseModelButton");
    retryModel_ = new QPushButton(notice_);
    openModels_ = new QPushButton(notice_);
    openModels_->setObjectName("openModelsButton");
    nb->addWidget(chooseModel_);
    nb->addWidget(openModels_);
    nb->addWidget(retryModel_);
    nb->addStretch();
    nv->addWidget(noticeTitle_);
    nv->addWidget(noticeText_);
    nv->addLayout(nb);
    v->addWidget(notice_);
    connect(chooseModel_, &QPushButton::clicked, this, &ChatView::chooseModelRequested);
    connect(retryModel_, &QPushButton::clicked, this, &ChatView::retryModelRequested);
    connect(openModels_, &QPushButton::clicked, this, &ChatView::openModelsRequested);

    error_ = new QLabel(this);
    error_->setObjectName("errorBanner");
    error_->setWordWrap(true);
    error_->hide();
    v->addWidget(error_);

    scroll_ = new QScrollArea(this);
    scroll_->setObjectName("messageScroll");
    scroll_->setWidgetResizable(true);
    scroll_->setFrameShape(QFrame::NoFrame);
    scroll_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    list_ = new QWidget;
    list_->setObjectName("messageList");
    listLayout_ = new QVBoxLayout(list_);
    listLayout_->setContentsMargins(24, 16, 24, 16);
    listLayout_->setSpacing(12);
    empty_ = new QLabel(list_);
    empty_->setObjectName("emptyChat");
    empty_->setAlignment(Qt::AlignCenter);
    empty_->setWordWrap(true);
    empty_->setTextInteractionFlags(Qt::LinksAccessibleByMouse);
    connect(empty_, &QLabel::linkActivated, this, &ChatView::startSuggestion);
    listLayout_->addWidget(empty_);
    // A completion conversation is one text that the model continues in place.
    document_ = new QTextBrowser(list_);
    document_->setObjectName("completionDocument");
    document_->setFrameShape(QFrame::NoFrame);
    document_->setMinimumHeight(320);
    document_->hide();
    listLayout_->addWidget(document_, 1);
    listLayout_->addStretch();
    scroll_->setWidget(list_);
    v->addWidget(scroll_, 1);
    auto* bar = scroll_->verticalScrollBar();
    connect(bar, &QScrollBar::valueChanged, this, [this, bar](int value) { stickToBottom_ = value >= bar->maximum() - 24; });
    connect(bar, &QScrollBar::rangeChanged, this, [this, bar](int, int max) {
        if (stickToBottom_) bar->setValue(max);
    });

    auto* composer = new QWidget(this);
    composer->setObjectName("composer");
    auto* c = new QHBoxLayout(composer);
    c->setContentsMargins(24, 10, 24, 14);
    prompt_ = new PromptEdit(composer);
    send_ = new QPushButton(composer);
    send_->setObjectName("sendButton");
    send_->setIcon(QIcon(":/icons/send.svg"));
    stop_ = new QPushButton(composer);
    stop_->setObjectName("stopButton");
    stop_->setIcon(QIcon(":/icons/stop.svg"));
    c->addWidget(prompt_, 1);
    c->addWidget(send_, 0, Qt::AlignBottom);
    c->addWidget(stop_, 0, Qt::AlignBottom);
    v->addWidget(composer);

    connect(prompt_, &PromptEdit::submitted, this, &ChatView::submit);
    connect(send_, &QPushButton::clicked, this, &ChatView::submit);
    connect(stop_, &QPushButton::clicked, this, [this] { controller_->stop(shown_); });
    connect(settings_, &QToolButton::clicked, this, &ChatView::openSettings);

    renderTimer_.setSingleShot(true);
    renderTimer_.setInterval(40);
    connect(&renderTimer_, &QTimer::timeout, this, &ChatView::applyPendingText);

    connect(controller_, &ChatController::currentConversationChanged, this, &ChatView::showConversation);
    connect(controller_, &ChatController::messagesChanged, this, [this](qint64 conv) {
        if (conv == shown_) rebuild();
    });
    connect(controller_->store(), &ConversationStore::conversationsChanged, this, &ChatView::updateTitle);
    connect(controller_, &ChatController::replyText, this, [this](qint64 conv, qint64 msg, const QString& text) {
        if (conv != shown_) return;
        if (document_->isVisible()) {
            pendingMessage_ = msg;
            pendingText_ = controller_->completionText(conv);
            if (!renderTimer_.isActive()) renderTimer_.start();
            return;
        }
        pendingMessage_ = msg;
        pendingText_ = text;
        if (!renderTimer_.isActive()) renderTimer_.start();
    });
    connect(controller_, &ChatController::replyFinished, this, [this](qint64 conv, qint64, const GenerationOutcome&) {
        renderTimer_.stop();
        pendingMessage_ = 0;
        if (conv == shown_) rebuild();
        updateButtons();
    });
    connect(controller_, &ChatController::replyFailed, this, [this](qint64 conv, qint64, const QString& message) {
        if (conv != shown_) return;
        error_->setText(tr("The reply failed: %1").arg(message));
        error_->show();
    });
    connect(controller_, &ChatController::replyStarted, this, [this](qint64 conv) {
        if (conv == shown_) error_->hide();
    });
    connect(controller_, &ChatController::busyChanged, this, &ChatView::updateButtons);
    connect(controller_, &ChatController::modelStateChanged, this, [this] {
        updateModelNotice();
        updateButtons();
    });
    retranslate();
    updateModelNotice();
    showConversation(controller_->currentConversation());
}

void ChatView::retranslate() {
    settings_->setText(tr("Chat settings"));
    settings_->setToolTip(tr("Template, system text and sampling for this conversation"));
    chooseModel_->setText(tr("Choose a model folder…"));
    retryModel_->setText(tr("Try again"));
    openModels_->setText(tr("Download a model…"));
    const bool completion = shown_ && controller_->isCompletion(shown_);
    prompt_->setPlaceholderText(completion ? tr("Write the opening (or more text) — Enter lets the model continue")
                                           : tr("Write a message — Enter sends, Shift+Enter starts a new line"));
    send_->setText(completion ? tr("Continue") : tr("Send"));
    send_->setToolTip(tr("Send (Enter)"));
    stop_->setText(tr("Stop"));
    stop_->setToolTip(tr("Stop the reply (Esc)"));
    empty_->setText(emptyText());
    updateTitle();
    updateModelNotice();
}

QStringList ChatView::storyOpenings() {
    return {tr("Once upon a time, in a village at the edge of a great forest,"),
            tr("The little robot woke up and saw that the sun"),
            tr("Lily found a small red box under her bed. When she opened it,"),
            tr("Every night, the old cat sat by the window and")};
}

bool ChatView::showsBuiltInModel() const {
    const QString builtIn = AppSettings::defaultModelPath();
    return !builtIn.isEmpty() && controller_->modelState() == ChatController::ModelState::Ready &&
           QFileInfo(controller_->modelInfo().path) == QFileInfo(builtIn);
}

QString ChatView::emptyText() const {
    // The built-in model is a small storyteller (a base model): it continues stories, it does not
    // answer questions, so its empty screen offers story openings to continue.
    if (showsBuiltInModel()) {
        QString links;
        const QStringList openings = storyOpenings();
        for (int i = 0; i < openings.size(); ++i)
            links += QStringLiteral("<p><a href=\"story:%1\">%2</a></p>").arg(i).arg(openings[i].toHtmlEscaped() + QStringLiteral(" …"));
        return tr("<h2>Start a story</h2><p>The built-in model is a small storyteller: write the opening of a story "
                  "and it continues it. Try one of these:</p>") + links;
    }
    if (shown_ && controller_->isCompletion(shown_))
        return tr("<h2>Write an opening</h2><p>Base models continue text: write the beginning below and the model "
                  "continues it in place, with this conversation's sampling settings.</p>");
    return tr("<h2>Start a conversation</h2><p>Type a message below. The model continues a plain "
              "transcript (\"User: …\\nAssistant:\"); change the template and sampling in "
              "<b>Chat settings</b>.</p>");
}

void ChatView::startSuggestion(const QString& link) {
    const int index = link.section(u':', 1).toInt();
    const QStringList openings = storyOpenings();
    if (!link.startsWith(QStringLiteral("story:")) || index < 0 || index >= openings.size()) return;
    if (!controller_->canSend(shown_)) return;
    controller_->newConversation(true);
    if (controller_->send(openings[index])) stickToBottom_ = true;
}

void ChatView::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QWidget::changeEvent(event);
}

QList<MessageWidget*> ChatView::messageWidgets() const { return widgets_; }

MessageWidget* ChatView::widgetFor(qint64 messageId) const {
    for (auto* w : messageWidgets())
        if (w->messageId() == messageId) return w;
    return nullptr;
}

void ChatView::showConversation(qint64 id) {
    if (id != shown_) {
        error_->hide();
        stickToBottom_ = true;
    }
    shown_ = id;
    renderTimer_.stop();
    pendingMessage_ = 0;
    rebuild();
    retranslate();
    updateButtons();
}

void ChatView::updateTitle() {
    const auto c = shown_ ? controller_->store()->conversation(shown_) : std::nullopt;
    title_->setText(c ? c->title : tr("New chat"));
    // Settings belong to a conversation: without one there is nothing to apply them to yet.
    settings_->setToolTip(c ? tr("Template, system text and sampling for this conversation")
                            : tr("Send a first message: settings belong to a conversation"));
    settings_->setEnabled(c.has_value());
}

void ChatView::rebuild() {
    // deleteLater: a rebuild often runs inside a click handler of one of these widgets
    // (regenerate, resend), which must not be destroyed under its own signal.
    for (auto* w : std::as_const(widgets_)) {
        listLayout_->removeWidget(w);
        w->hide();
        w->deleteLater();
    }
    widgets_.clear();
    const QList<ChatMessage> msgs = shown_ ? controller_->messages(shown_) : QList<ChatMessage>{};
    const bool busy = controller_->isGenerating(shown_);
    const bool completion = shown_ && controller_->isCompletion(shown_);
    document_->setVisible(completion && !msgs.isEmpty());
    empty_->setText(emptyText());
    empty_->setVisible(msgs.isEmpty());
    if (completion) {
        document_->setPlainText(controller_->completionText(shown_));
        return;
    }
    qint64 lastAssistant = 0;
    if (!msgs.isEmpty() && msgs.last().role == MessageRole::Assistant) lastAssistant = msgs.last().id;
    int at = 1;   // after the empty-state label
    for (const ChatMessage& m : msgs) {
        auto* w = new MessageWidget(m, list_);
        const bool streaming = busy && controller_->generatingMessage(shown_) == m.id;
        w->setStreaming(streaming);
        if (streaming) w->setInterrupted(false);
        w->setCanRegenerate(m.id == lastAssistant && !streaming);
        w->setActionsEnabled(!busy);
        connect(w, &MessageWidget::editAndResend, this, [this](qint64 id, const QString& text) {
            if (!controller_->editAndResend(id, text)) rebuild();
        });
        connect(w, &MessageWidget::regenerateRequested, controller_, &ChatController::regenerate);
        listLayout_->insertWidget(at++, w);
        widgets_ << w;
    }
}

void ChatView::applyPendingText() {
    if (!pendingMessage_) return;
    if (document_->isVisible()) {
        document_->setPlainText(pendingText_);
        document_->verticalScrollBar()->setValue(document_->verticalScrollBar()->maximum());
        return;
    }
    if (auto* w = widgetFor(pendingMessage_)) w->setText(pendingText_);
}

void ChatView::updateButtons() {
    // Only the conversation on screen matters: others may be streaming their own replies.
    const bool busy = controller_->isGenerating(shown_);
    send_->setEnabled(controller_->canSend(shown_));
    stop_->setVisible(busy);
    send_->setVisible(!busy);
    for (auto* w : messageWidgets()) w->setActionsEnabled(!busy);
}

void ChatView::updateModelNotice() {
    empty_->setText(emptyText());
    const auto state = controller_->modelState();
    const QString path = controller_->requestedModelPath();
    switch (state) {
    case ChatController::ModelState::Ready:
        notice_->setVisible(!controller_->modelError().isEmpty());
        noticeTitle_->setText(tr("The other model could not be loaded; still using %1").arg(controller_->modelInfo().name));
        noticeText_->setText(controller_->modelError());
        retryModel_->hide();
        openModels_->hide();
        break;
    case ChatController::ModelState::Loading:
        notice_->show();
        noticeTitle_->setText(tr("Loading the model…"));
        noticeText_->setText(path);
        chooseModel_->hide();
        openModels_->hide();
        retryModel_->hide();
        return;
    case ChatController::ModelState::Failed:
        notice_->show();
        noticeTitle_->setText(tr("The model could not be loaded"));
        // What to do next depends on what went wrong (the engine's ErrorCode, never its wording).
        switch (controller_->modelErrorCode()) {
        case mmfree::ErrorCode::TokenizerMissing:
            noticeText_->setText(tr("%1\n\nThis model has no usable tokenizer (tokenizer.model), so it cannot chat. Add "
                                    "the tokenizer to its folder, or choose another model.").arg(controller_->modelError()));
            break;
        case mmfree::ErrorCode::FileNotFound:
            noticeText_->setText(tr("%1\n\nThe model is not there any more. Choose a model folder (config.json, "
                                    "model.safetensors and tokenizer.model) or download one.").arg(controller_->modelError()));
            break;
        default:
            noticeText_->setText(tr("%1\n\nChoose another model folder (it needs config.json, model.safetensors and "
                                    "tokenizer.model), or fix the files and try again.").arg(controller_->modelError()));
        }
        retryModel_->show();
        openModels_->show();
        break;
    case ChatController::ModelState::None:
        notice_->show();
        noticeTitle_->setText(tr("No model yet"));
        noticeText_->setText(tr("Choose a folder with a MatMul-free model (config.json, model.safetensors and "
                                "tokenizer.model), or download one on the Models page."));
        retryModel_->hide();
        openModels_->show();
        break;
    }
    chooseModel_->show();
}

void ChatView::submit() {
    const QString text = prompt_->toPlainText();
    const bool completion = shown_ && controller_->isCompletion(shown_);
    // A completion may continue without new text; a chat needs a message.
    if ((text.trimmed().isEmpty() && !(completion && !controller_->messages(shown_).isEmpty())) || !controller_->canSend(shown_)) return;
    if (!shown_ || controller_->currentConversation() != shown_) controller_->newConversation();
    if (controller_->send(text)) {
        prompt_->clear();
        stickToBottom_ = true;
    }
}

void ChatView::openSettings() {
    if (!shown_) {
        error_->setText(tr("Chat settings belong to a conversation: send a first message, then change them."));
        error_->show();
        return;
    }
    ChatSettingsDialog dialog(controller_->settings(shown_), this);
    if (dialog.exec() == QDialog::Accepted) controller_->setSettings(shown_, dialog.settings());
}
