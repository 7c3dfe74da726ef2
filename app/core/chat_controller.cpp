// SPDX-License-Identifier: Apache-2.0
#include "core/chat_controller.h"

ChatController::ChatController(ConversationStore* store, EngineService* engine, QObject* parent)
    : QObject(parent), store_(store), engine_(engine) {
    connect(engine_, &EngineService::modelStateChanged, this, &ChatController::modelStateChanged);
    connect(engine_, &EngineService::modelLoadFailed, this, &ChatController::modelLoadFailed);
    connect(engine_, &EngineService::textReceived, this, &ChatController::onText);
    connect(engine_, &EngineService::tokenMetrics, this, &ChatController::onTokenMetrics);
    connect(engine_, &EngineService::generationFinished, this, &ChatController::onFinished);
    connect(engine_, &EngineService::generationFailed, this, &ChatController::onFailed);
    // Streamed text reaches the database at most this late: what a crash can lose.
    flushTimer_.setInterval(500);
    connect(&flushTimer_, &QTimer::timeout, this, &ChatController::flush);
}

ChatController::~ChatController() {
    for (const Reply& r : std::as_const(replies_)) engine_->cancel(r.request);
    flush();
}

QString ChatController::defaultTitle() { return tr("New chat"); }

void ChatController::openConversation(qint64 id) {
    if (id != 0 && !store_->conversation(id)) return;
    current_ = id;
    emit currentConversationChanged(id);
}

qint64 ChatController::newConversation(bool completion) {
    // Reuse an untouched empty chat of the same kind instead of piling up "New chat" entries.
    if (current_ && store_->messages(current_).isEmpty() && store_->conversation(current_) && isCompletion(current_) == completion) {
        emit currentConversationChanged(current_);
        return current_;
    }
    const qint64 id = store_->createConversation(completion ? tr("New text") : defaultTitle());
    if (!id) return 0;
    if (completion) {
        ChatSettings s = settings(id);
        s.completion = true;
        store_->setConversationSettings(id, s);
    }
    openConversation(id);
    return id;
}

bool ChatController::deleteConversation(qint64 id) {
    stop(id);
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
    if (const auto it = replies_.constFind(conversationId); it != replies_.cend())
        for (auto& m : list)
            if (m.id == it->message) { m.content = displayText(*it); m.complete = false; }
    return list;
}

QString ChatController::completionText(qint64 conversationId) const {
    QString text;
    for (const ChatMessage& m : messages(conversationId)) text += m.content;
    return text;
}

qint64 ChatController::generatingMessage(qint64 conversationId) const {
    const auto it = replies_.constFind(conversationId);
    return it == replies_.cend() ? 0 : it->message;
}

ChatSettings ChatController::settings(qint64 conversationId) const { return store_->conversationSettings(conversationId); }

void ChatController::setSettings(qint64 conversationId, const ChatSettings& s) { store_->setConversationSettings(conversationId, s); }

bool ChatController::canSend(qint64 conversationId) const {
    return modelState() == ModelState::Ready && !isGenerating(conversationId);
}

bool ChatController::send(const QString& text) {
    if (!current_ && !newConversation()) return false;
    if (!canSend(current_)) return false;
    const auto conv = store_->conversation(current_);
    if (!conv) return false;
    const bool completion = isCompletion(current_);
    const QString message = completion ? text : text.trimmed();
    if (completion) {
        // The person's text joins the document as written (spaces and newlines kept); without
        // new text the model just continues.
        if (!message.isEmpty() && !store_->addMessage(current_, MessageRole::User, message)) return false;
        if (store_->messages(current_).isEmpty()) return false;
    } else {
        if (message.isEmpty() || !store_->addMessage(current_, MessageRole::User, message)) return false;
    }
    if (conv->title == defaultTitle() || conv->title == tr("New text") || conv->title.isEmpty()) {
        QString title = (completion ? completionText(current_) : message).simplified();
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
    for (qsizetype i = list.size() - 1; i >= 0 && list[i].role == MessageRole::Assistant; --i) firstReply = list[i].id;
    if (list.isEmpty() || (firstReply == 0 && list.last().role != MessageRole::User)) return false;
    if (firstReply) store_->removeMessagesFrom(current_, firstReply);
    return startReply(current_);
}

bool ChatController::editAndResend(qint64 messageId, const QString& text) {
    const QString message = text.trimmed();
    if (message.isEmpty() || !canSend() || !current_) return false;
    const auto list = store_->messages(current_);
    qsizetype at = -1;
    for (qsizetype i = 0; i < list.size(); ++i)
        if (list[i].id == messageId && list[i].role == MessageRole::User) at = i;
    if (at < 0) return false;
    store_->updateMessage(messageId, message, true);
    if (at + 1 < list.size()) store_->removeMessagesFrom(current_, list[at + 1].id);
    return startReply(current_);
}

bool ChatController::startReply(qint64 conversationId) {
    const QList<ChatMessage> history = store_->messages(conversationId);
    const ChatSettings s = settings(conversationId);
    GenerationRequest r;
    r.id = nextRequest_++;
    r.conversationId = conversationId;
    if (s.completion) {
        for (const ChatMessage& m : history) r.transcript += m.content;
        r.settings = s;
        r.settings.stopStrings.clear();   // a story has no turns to stop at
    } else {
        r.transcript = s.buildPrompt(history);
        r.settings = s;
    }
    // The state saved with the conversation (also before a restart) spares re-reading its history.
    if (const auto saved = store_->engineState(conversationId); saved && saved->modelKey == modelInfo().key) {
        r.resumeTokens = saved->tokens;
        r.resumeState = saved->blob;
    }
    const qint64 lastPromptMessage = history.isEmpty() ? 0 : history.last().id;
    const qint64 messageId = store_->addMessage(conversationId, MessageRole::Assistant, QString(), false);
    if (!messageId) return false;

    Reply reply;
    reply.request = r.id;
    reply.message = messageId;
    reply.lastPromptMessage = lastPromptMessage;
    reply.completion = s.completion;
    reply.clock.start();
    replies_.insert(conversationId, reply);
    if (!flushTimer_.isActive()) flushTimer_.start();
    emit messagesChanged(conversationId);
    emit replyStarted(conversationId, messageId);
    emit busyChanged(conversationId, true);
    engine_->generate(r);   // may fail at once (no model, queue full): onFailed ends the reply
    return replies_.contains(conversationId);
}

void ChatController::stop(qint64 conversationId) {
    if (const auto it = replies_.constFind(conversationId); it != replies_.cend()) engine_->cancel(it->request);
}

QString ChatController::displayText(const Reply& reply) {
    if (reply.completion) return reply.text;
    // The model writes the space after "Assistant:" itself; the message starts after it.
    qsizetype i = 0;
    while (i < reply.text.size() && reply.text[i].isSpace()) ++i;
    return reply.text.mid(i);
}

void ChatController::flush() {
    for (Reply& r : replies_) {
        if (!r.dirty) continue;
        store_->updateMessage(r.message, displayText(r), false);
        r.dirty = false;
    }
    if (replies_.isEmpty()) flushTimer_.stop();
}

qint64 ChatController::conversationOf(quint64 request) const {
    for (auto it = replies_.cbegin(); it != replies_.cend(); ++it)
        if (it->request == request) return it.key();
    return 0;
}

void ChatController::onText(quint64 id, const QString& text) {
    const qint64 conv = conversationOf(id);
    if (!conv) return;
    Reply& r = replies_[conv];
    r.text += text;
    r.dirty = true;
    emit replyText(conv, r.message, displayText(r));
}

void ChatController::onTokenMetrics(quint64 id, const QString&, const QVector<TokenSample>& samples) {
    const qint64 conv = conversationOf(id);
    if (!conv || samples.isEmpty()) return;
    Reply& r = replies_[conv];
    const double elapsed = r.clock.nsecsElapsed() / 1e6;
    if (samples.first().index == 0) r.ttftMs = elapsed;   // the first token comes on its own
    r.tokens = samples.last().index + 1;
    const double decodeMs = elapsed - r.ttftMs;
    emit liveMetrics(conv, r.ttftMs, r.tokens > 1 && decodeMs > 0 ? (r.tokens - 1) * 1000.0 / decodeMs : 0.0, r.tokens);
}

void ChatController::onFinished(const GenerationOutcome& outcome) {
    const qint64 conv = conversationOf(outcome.id);
    if (!conv) return;
    const Reply r = replies_.value(conv);
    const QString text = displayText(r);
    const bool nothing = text.isEmpty() && outcome.stopReason == mmfree::StopReason::Cancelled;
    if (nothing) store_->removeMessagesFrom(conv, r.message);   // stopped before a word: leave no empty bubble
    else store_->updateMessage(r.message, text, true);
    store_->setConversationModel(conv, modelInfo().path);
    if (!outcome.promptState.isEmpty())
        store_->saveEngineState(conv, {r.lastPromptMessage, outcome.modelKey, outcome.promptStateTokens, outcome.promptState});
    endReply(conv);
    emit replyFinished(conv, r.message, outcome);
    if (nothing) emit messagesChanged(conv);
}

void ChatController::onFailed(quint64 id, const QString& message) {
    const qint64 conv = conversationOf(id);
    if (!conv) return;
    const Reply r = replies_.value(conv);
    const QString text = displayText(r);
    if (text.isEmpty()) store_->removeMessagesFrom(conv, r.message);
    else store_->updateMessage(r.message, text, true);
    endReply(conv);
    emit replyFailed(conv, r.message, message);
    emit messagesChanged(conv);
}

void ChatController::endReply(qint64 conversationId) {
    replies_.remove(conversationId);
    if (replies_.isEmpty()) flushTimer_.stop();
    emit busyChanged(conversationId, false);
}
