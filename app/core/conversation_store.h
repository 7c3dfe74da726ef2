// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QSqlDatabase>
#include <QString>
#include <optional>

#include "core/chat_settings.h"

struct ConversationInfo {
    qint64 id = 0;
    QString title;
    QDateTime created;
    QDateTime updated;
    QJsonObject settings;
    QString modelPath;       // the model the conversation last ran on (empty: none yet)
};

struct SearchHit {
    qint64 conversationId = 0;
    qint64 messageId = 0;
    QString title;
    QString snippet;         // plain text around the match; the match is wrapped in [ ]
};

// The engine's recurrent state saved with a conversation: restoring it resumes the conversation
// without re-reading the history it covers, also after a restart. It covers the token ids
// `tokens` (int32, native byte order) and holds L×D floats `blob`.
struct SavedEngineState {
    qint64 messageId = 0;    // the last message of the prompt the state was taken in
    QString modelKey;        // which model produced it (a state is only valid for that model)
    QByteArray tokens;
    QByteArray blob;
};

// Conversations and messages in SQLite (Qt SQL, QSQLITE): WAL, foreign keys, versioned
// migrations through PRAGMA user_version, FTS5 (trigram) search. Used from one thread.
class ConversationStore : public QObject {
    Q_OBJECT
public:
    static constexpr int LatestVersion = 4;

    explicit ConversationStore(QObject* parent = nullptr);
    ~ConversationStore() override;

    // Opens (creating when needed) and migrates up to `targetVersion`; tests stop at older
    // versions to exercise every migration path.
    bool open(const QString& path, int targetVersion = LatestVersion);
    void close();
    bool isOpen() const;
    QString lastError() const { return lastError_; }
    QString path() const { return path_; }
    int schemaVersion() const;
    QString journalMode() const;
    bool foreignKeysEnabled() const;
    QSqlDatabase database() const;

    qint64 createConversation(const QString& title, const ChatSettings& settings = {});
    QList<ConversationInfo> conversations() const;           // newest first, deleted ones hidden
    std::optional<ConversationInfo> conversation(qint64 id) const;
    bool renameConversation(qint64 id, const QString& title);
    bool setConversationSettings(qint64 id, const ChatSettings& settings);
    ChatSettings conversationSettings(qint64 id) const;
    bool setConversationModel(qint64 id, const QString& modelPath);
    // Delete is soft until purgeDeleted(), so "Undo" is a single UPDATE.
    bool deleteConversation(qint64 id);
    bool restoreConversation(qint64 id);
    int purgeDeleted();

    qint64 addMessage(qint64 conversationId, MessageRole role, const QString& content, bool complete = true);
    bool updateMessage(qint64 messageId, const QString& content, bool complete);
    bool removeMessagesFrom(qint64 conversationId, qint64 firstMessageId);   // this one and every later one
    QList<ChatMessage> messages(qint64 conversationId) const;

    QList<SearchHit> search(const QString& query, int limit = 50) const;

    bool saveEngineState(qint64 conversationId, const SavedEngineState& state);
    std::optional<SavedEngineState> engineState(qint64 conversationId) const;
    bool clearEngineState(qint64 conversationId);

    QString exportMarkdown(qint64 conversationId) const;
    QJsonObject exportJson(qint64 conversationId) const;
    qint64 importJson(const QJsonObject& json, QString* error = nullptr);   // 0 on failure

signals:
    void conversationsChanged();

private:
    bool exec(const QString& sql);
    bool migrate(int targetVersion);
    bool touch(qint64 conversationId);

    QString connection_;
    QString path_;
    mutable QString lastError_;
};
