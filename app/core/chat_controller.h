// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QElapsedTimer>
#include <QObject>
#include <QHash>
#include <QTimer>

#include "core/chat_settings.h"
#include "core/conversation_store.h"
#include "core/engine_service.h"

// The chat's logic without widgets: turns sends / stops / regenerates / edits into engine
// requests, one per conversation, so replies stream in several conversations at once; streams
// each reply into the store (batched, so a crash loses at most one flush interval). A resent
// history is not prefilled again: the scheduler's prefix cache resumes from the state of its
// longest cached token prefix (in memory; after a restart the transcript is replayed).
class ChatController : public QObject {
    Q_OBJECT
public:
    using ModelState = EngineService::ModelState;

    ChatController(ConversationStore* store, EngineService* engine, QObject* parent = nullptr);
    ~ChatController() override;

    ConversationStore* store() const { return store_; }
    EngineService* engine() const { return engine_; }

    ModelState modelState() const { return engine_->modelState(); }
    ModelInfo modelInfo() const { return engine_->modelInfo(); }
    QString requestedModelPath() const { return engine_->requestedModelPath(); }
    QString modelError() const { return engine_->modelError(); }     // the last load failure, for the UI
    mmfree::ErrorCode modelErrorCode() const { return engine_->modelErrorCode(); }

    qint64 currentConversation() const { return current_; }
    void openConversation(qint64 id);
    qint64 newConversation(bool completion = false);
    bool deleteConversation(qint64 id);
    bool undoDelete();
    qint64 lastDeleted() const { return lastDeleted_; }
    // Stored messages, with the live text of replies that are still streaming.
    QList<ChatMessage> messages(qint64 conversationId) const;
    ChatSettings settings(qint64 conversationId) const;
    void setSettings(qint64 conversationId, const ChatSettings& settings);
    bool isCompletion(qint64 conversationId) const { return settings(conversationId).completion; }
    // The whole text of a completion conversation: the opening and every continuation, in place.
    QString completionText(qint64 conversationId) const;

    // The current conversation can take a message: a model is ready and it has no reply streaming.
    bool canSend() const { return canSend(current_); }
    bool canSend(qint64 conversationId) const;
    // Chat: adds the message and starts the reply. Completion: `text` (may be empty) is appended
    // to the document as written and the model continues it.
    bool send(const QString& text);
    void stop() { stop(current_); }
    void stop(qint64 conversationId);
    bool regenerate();
    bool editAndResend(qint64 messageId, const QString& text);

    bool isGenerating() const { return !replies_.isEmpty(); }     // in any conversation
    bool isGenerating(qint64 conversationId) const { return replies_.contains(conversationId); }
    QList<qint64> generatingConversations() const { return replies_.keys(); }
    qint64 generatingMessage(qint64 conversationId) const;

    void setFlushIntervalMs(int ms) { flushTimer_.setInterval(ms); }
    int flushIntervalMs() const { return flushTimer_.interval(); }

    static QString defaultTitle();

signals:
    void modelStateChanged();
    void modelLoadFailed(const QString& path, const QString& message);
    void currentConversationChanged(qint64 id);
    void messagesChanged(qint64 conversationId);          // rebuild: messages added or removed
    void replyStarted(qint64 conversationId, qint64 messageId);
    void replyText(qint64 conversationId, qint64 messageId, const QString& text);   // the whole reply so far
    void replyFinished(qint64 conversationId, qint64 messageId, const GenerationOutcome& outcome);
    void replyFailed(qint64 conversationId, qint64 messageId, const QString& message);
    void busyChanged(qint64 conversationId, bool busy);
    // Live while streaming: time to first token, tokens/s so far, tokens so far.
    void liveMetrics(qint64 conversationId, double ttftMs, double tokensPerSecond, int tokens);

private:
    struct Reply {
        quint64 request = 0;
        qint64 message = 0;
        qint64 lastPromptMessage = 0;   // the prompt's last message, which a saved prompt state covers
        bool completion = false;   // keeps the model's leading space: the text continues in place
        QString text;
        bool dirty = false;
        QElapsedTimer clock;
        double ttftMs = 0;
        int tokens = 0;
    };
    bool startReply(qint64 conversationId);
    void flush();
    qint64 conversationOf(quint64 request) const;
    void onText(quint64 id, const QString& text);
    void onTokenMetrics(quint64 id, const QString& backend, const QVector<TokenSample>& samples);
    void onFinished(const GenerationOutcome& outcome);
    void onFailed(quint64 id, const QString& message);
    void endReply(qint64 conversationId);
    static QString displayText(const Reply& reply);

    ConversationStore* store_;
    EngineService* engine_;
    qint64 current_ = 0;
    qint64 lastDeleted_ = 0;
    quint64 nextRequest_ = 1;
    QHash<qint64, Reply> replies_;   // by conversation
    QTimer flushTimer_;
};
