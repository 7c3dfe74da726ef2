// SPDX-License-Identifier: Apache-2.0
#include "core/chat_controller.h"

#include <limits>

ChatController::ChatController(ConversationStore* store, QObject* parent)
    : QObject(parent), store_(store), worker_(new EngineWorker) {
    EngineWorker::registerMetaTypes();
    thread_.setObjectName(QStringLiteral("mmfree-engine"));
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    connect(worker_, &EngineWorker::modelLoaded, this, [this](const ModelInfo& info) {
        modelInfo_ = info;
        modelError_.clear();
        modelState_ = ModelState::Ready;
        emit modelStateChanged();
    });
    connect(worker_, &EngineWorker::modelLoadFailed, this, [this](const QString& path, const QString& message) {
        modelError_ = message;
        // The worker keeps a previously loaded model running after a failed switch.
        modelState_ = worker_->hasModel() ? ModelState::Ready : ModelState::Failed;
        emit modelLoadFailed(path, message);
        emit modelStateChanged();
    });
    connect(worker_, &EngineWorker::generationStarted, this, &ChatController::onStarted);
    connect(worker_, &EngineWorker::textReceived, this, &ChatController::onText);
    connect(worker_, &EngineWorker::tokenMetrics, this, &ChatController::onTokenMetrics);
    connect(worker_, &EngineWorker::generationFinished, this, &ChatController::onFinished);
    connect(worker_, &EngineWorker::generationFailed, this, &ChatController::onFailed);
    thread_.start();

    // Streamed text reaches the database at most this late: what a crash can lose.
    flushTimer_.setInterval(500);
    connect(&flushTimer_, &QTimer::timeout, this, &ChatController::flush);
}

ChatController::~ChatController() {
    worker_->cancel(std::numeric_limits<quint64>::max());
    thread_.quit();
    thread_.wait();
    flush();
}

QString ChatController::defaultTitle() { return tr("New chat"); }

void ChatController::loadModel(const QString& path, const QString& backend) {
    requestedModelPath_ = path;
    modelState_ = ModelState::Loading;
    emit modelStateChanged();
    QMetaObject::invokeMethod(worker_, "loadModel", Qt::QueuedConnection, Q_ARG(QString, path), Q_ARG(QString, backend));
}

void ChatController::openConversation(qint64 id) {
    if (id != 0 && !store_->conversation(id)) return;
    current_ = id;
    emit currentConversationChanged(id);
}

qint64 ChatController::newConversation() {
    // Reuse an untouched empty chat instead of piling up "New chat" entries.
    if (current_ && store_->messages(current_).isEmpty() && store_->conversation(current_)) {
        emit currentConversationChanged(current_);
        return current_;
    }
    const qint64 id = store_->createConversation(defaultTitle());
    if (id) openConversation(id);
    return id;
}

bool ChatController::deleteConversation(qint64 id) {
    if (activeConversation_ == id) stop();
    if (!store_->deleteConversation(id)) return false;
    lastDeleted_ = id;
    if (current_ == id) {
        const auto rest = store_->conversations();
        openConversation(rest.isEmpty() ? 0 : rest.first().id);
    }
    return true;
}

bool ChatController::undoDelete() {
    if (!lastDeleted_ || !store_->restoreConversation(lastDeleted_)) return false;
    const qint64 id = lastDeleted_;
    lastDeleted_ = 0;
    openConversation(id);
    return true;
}

QList<ChatMessage> ChatController::messages(qint64 conversationId) const {
    QList<ChatMessage> list = store_->messages(conversationId);
    if (conversationId == activeConversation_)
        for (auto& m : list)
            if (m.id == activeMessage_) { m.content = displayText(); m.complete = false; }
    return list;
}

ChatSettings ChatController::settings(qint64 conversationId) const { return store_->conversationSettings(conversationId); }

void ChatController::setSettings(qint64 conversationId, const ChatSettings& s) {
    const ChatSettings old = settings(conversationId);
    store_->setConversationSettings(conversationId, s);
    // A new template or system text changes the transcript; the saved state no longer matches it.
    if (old.systemText != s.systemText || old.systemFormat != s.systemFormat || old.userFormat != s.userFormat ||
        old.assistantFormat != s.assistantFormat)
        store_->clearEngineState(conversationId);
}

bool ChatController::canSend() const { return !isGenerating() && modelState_ == ModelState::Ready; }

bool ChatController::send(const QString& text) {
    const QString message = text.trimmed();
    if (message.isEmpty() || !canSend()) return false;
    if (!current_ && !newConversation()) return false;
    const auto conv = store_->conversation(current_);
    if (!conv) return false;
    if (!store_->addMessage(current_, QStringLiteral("user"), message)) return false;
    if (conv->title == defaultTitle() || conv->title.isEmpty()) {
        QString title = message.simplified();
        if (title.size() > 48) title = title.left(47) + QStringLiteral("…");
        store_->renameConversation(current_, title);
    }
    return startReply(current_);
}

bool ChatController::regenerate() {
    if (!canSend() || !current_) return false;
    const auto list = store_->messages(current_);
    // Drop the replies after the last user message and answer it again.
    qint64 firstReply = 0;
    for (qsizetype i = list.size() - 1; i >= 0 && list[i].role == "assistant"; --i) firstReply = list[i].id;
    if (list.isEmpty() || (firstReply == 0 && list.last().role != "user")) return false;
    if (firstReply) store_->removeMessagesFrom(current_, firstReply);
    return startReply(current_);
}

bool ChatController::editAndResend(qint64 messageId, const QString& text) {
    const QString message = text.trimmed();
    if (message.isEmpty() || !canSend() || !current_) return false;
    const auto list = store_->messages(current_);
    qsizetype at = -1;
    for (qsizetype i = 0; i < list.size(); ++i)
        if (list[i].id == messageId && list[i].role == "user") at = i;
    if (at < 0) return false;
    store_->updateMessage(messageId, message, true);
    if (at + 1 < list.size()) store_->removeMessagesFrom(current_, list[at + 1].id);
    return startReply(current_);
}

bool ChatController::startReply(qint64 conversationId) {
    const QList<ChatMessage> history = store_->messages(conversationId);
    const ChatSettings s = settings(conversationId);
    const qint64 messageId = store_->addMessage(conversationId, QStringLiteral("assistant"), QString(), false);
    if (!messageId) return false;

    GenerationRequest r;
    r.id = nextRequest_++;
    r.conversationId = conversationId;
    r.transcript = s.buildPrompt(history);
    r.settings = s;
    if (const auto saved = store_->engineState(conversationId)) {
        r.state = saved->blob;
        r.coveredText = saved->coveredText;
        r.stateModelKey = saved->modelKey;
    }
    activeRequest_ = r.id;
    activeConversation_ = conversationId;
    activeMessage_ = messageId;
    liveText_.clear();
    dirty_ = false;
    liveTtftMs_ = 0;
    liveTokens_ = 0;
    requestClock_.start();
    flushTimer_.start();
    QMetaObject::invokeMethod(worker_, "generate", Qt::QueuedConnection, Q_ARG(GenerationRequest, r));
    emit messagesChanged(conversationId);
    emit replyStarted(conversationId, messageId);
    emit busyChanged(true);
    return true;
}

void ChatController::stop() {
    if (activeRequest_) worker_->cancel(activeRequest_);
}

QString ChatController::displayText() const {
    // The model writes the space after "Assistant:" itself; the message starts after it.
    qsizetype i = 0;
    while (i < liveText_.size() && liveText_[i].isSpace()) ++i;
    return liveText_.mid(i);
}

void ChatController::flush() {
    if (!dirty_ || !activeMessage_) return;
    store_->updateMessage(activeMessage_, displayText(), false);
    dirty_ = false;
}

void ChatController::onStarted(quint64, bool) {}

void ChatController::onText(quint64 id, const QString& text) {
    if (id != activeRequest_) return;
    liveText_ += text;
    dirty_ = true;
    emit replyText(activeConversation_, activeMessage_, displayText());
}

void ChatController::onTokenMetrics(quint64 id, const QString&, const QVector<TokenSample>& samples) {
    if (id != activeRequest_ || samples.isEmpty()) return;
    const double elapsed = requestClock_.nsecsElapsed() / 1e6;
    if (samples.first().index == 0) liveTtftMs_ = elapsed;   // the first token comes on its own
    liveTokens_ = samples.last().index + 1;
    const double decodeMs = elapsed - liveTtftMs_;
    emit liveMetrics(liveTtftMs_, liveTokens_ > 1 && decodeMs > 0 ? (liveTokens_ - 1) * 1000.0 / decodeMs : 0.0, liveTokens_);
}

void ChatController::onFinished(const GenerationOutcome& outcome) {
    if (outcome.id != activeRequest_) return;
    const qint64 conv = activeConversation_;
    const qint64 msg = activeMessage_;
    const QString text = displayText();
    if (text.isEmpty() && outcome.stopReason == "cancelled") {
        store_->removeMessagesFrom(conv, msg);   // stopped before a word: leave no empty bubble
    } else {
        store_->updateMessage(msg, text, true);
    }
    if (!outcome.state.isEmpty())
        store_->saveEngineState(conv, SavedEngineState{msg, outcome.modelKey, outcome.coveredText, outcome.state});
    store_->setConversationModel(conv, modelInfo_.path);
    endReply();
    emit replyFinished(conv, msg, outcome);
    if (text.isEmpty() && outcome.stopReason == "cancelled") emit messagesChanged(conv);
}

void ChatController::onFailed(quint64 id, const QString& message) {
    if (id != activeRequest_) return;
    const qint64 conv = activeConversation_;
    const qint64 msg = activeMessage_;
    const QString text = displayText();
    if (text.isEmpty()) store_->removeMessagesFrom(conv, msg);
    else store_->updateMessage(msg, text, true);
    store_->clearEngineState(conv);
    endReply();
    emit replyFailed(conv, msg, message);
    emit messagesChanged(conv);
}

void ChatController::endReply() {
    flushTimer_.stop();
    dirty_ = false;
    activeRequest_ = 0;
    activeConversation_ = 0;
    activeMessage_ = 0;
    liveText_.clear();
    emit busyChanged(false);
}
