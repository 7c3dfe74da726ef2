// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QThread>
#include <QTimer>

#include "core/chat_settings.h"
#include "core/conversation_store.h"
#include "core/engine_worker.h"

// The chat's logic without widgets: owns the engine thread, turns sends / stops / regenerates /
// edits into worker requests, streams replies into the store (batched, so a crash loses at most
// one flush interval) and keeps each conversation's engine state so it resumes without re-prefill.
class ChatController : public QObject {
    Q_OBJECT
public:
    enum class ModelState { None, Loading, Ready, Failed };
    Q_ENUM(ModelState)

    explicit ChatController(ConversationStore* store, QObject* parent = nullptr);
    ~ChatController() override;

    ConversationStore* store() const { return store_; }
    // Lives on the engine thread: connect to its signals (the dashboard does), call only cancel().
    EngineWorker* worker() const { return worker_; }

    void loadModel(const QString& path, const QString& backend = QStringLiteral("auto"));
    ModelState modelState() const { return modelState_; }
    ModelInfo modelInfo() const { return modelInfo_; }
    QString requestedModelPath() const { return requestedModelPath_; }
    QString modelError() const { return modelError_; }     // the last load failure, for the UI

    qint64 currentConversation() const { return current_; }
    void openConversation(qint64 id);
    qint64 newConversation();
    bool deleteConversation(qint64 id);
    bool undoDelete();
    qint64 lastDeleted() const { return lastDeleted_; }
    // Stored messages, with the live text of a reply that is still streaming.
    QList<ChatMessage> messages(qint64 conversationId) const;
    ChatSettings settings(qint64 conversationId) const;
    void setSettings(qint64 conversationId, const ChatSettings& settings);

    bool canSend() const;
    bool send(const QString& text);
    void stop();
    bool regenerate();
    bool editAndResend(qint64 messageId, const QString& text);

    bool isGenerating() const { return activeRequest_ != 0; }
    qint64 generatingConversation() const { return activeConversation_; }
    qint64 generatingMessage() const { return activeMessage_; }

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
    void busyChanged(bool busy);
    // Live while streaming: time to first token, tokens/s so far, tokens so far.
    void liveMetrics(double ttftMs, double tokensPerSecond, int tokens);

private:
    bool startReply(qint64 conversationId);
    void flush();
    void onStarted(quint64 id, bool resumed);
    void onText(quint64 id, const QString& text);
    void onTokenMetrics(quint64 id, const QString& backend, const QVector<TokenSample>& samples);
    void onFinished(const GenerationOutcome& outcome);
    void onFailed(quint64 id, const QString& message);
    void endReply();
    QString displayText() const;

    ConversationStore* store_;
    QThread thread_;
    EngineWorker* worker_;
    ModelState modelState_ = ModelState::None;
    ModelInfo modelInfo_;
    QString requestedModelPath_;
    QString modelError_;

    qint64 current_ = 0;
    qint64 lastDeleted_ = 0;

    quint64 nextRequest_ = 1;
    quint64 activeRequest_ = 0;
    qint64 activeConversation_ = 0;
    qint64 activeMessage_ = 0;
    QString liveText_;
    bool dirty_ = false;
    QTimer flushTimer_;
    QElapsedTimer requestClock_;
    double liveTtftMs_ = 0;
    int liveTokens_ = 0;
};
