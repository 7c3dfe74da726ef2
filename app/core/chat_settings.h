// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

#include "mmfree/generate.h"

// Who wrote a message. Typed so a misspelt role cannot reach the prompt builder; the store and
// the JSON export keep the names ("system", "user", "assistant") and convert at their boundary.
enum class MessageRole { System, User, Assistant };

QString messageRoleName(MessageRole role);
// The role a stored name stands for; nothing for an unknown name (bad import, corrupt row).
std::optional<MessageRole> messageRoleFromName(const QString& name);

// One stored message as the chat uses it.
struct ChatMessage {
    qint64 id = 0;
    MessageRole role = MessageRole::User;
    QString content;
    bool complete = true;
};

// Per-conversation settings. The released models are base models, so the default template
// writes a plain transcript ("User: …\nAssistant:") and stops when the model starts the next turn.
struct ChatSettings {
    QString systemText;
    QString systemFormat = QStringLiteral("{system}\n\n");
    QString userFormat = QStringLiteral("User: {text}\n");
    QString assistantFormat = QStringLiteral("Assistant: {text}\n");
    QStringList stopStrings = {QStringLiteral("\nUser:"), QStringLiteral("\nAssistant:")};
    double temperature = 0.8;
    int topK = 40;
    double topP = 0.95;
    double minP = 0.05;
    double repetitionPenalty = 1.1;
    int maxTokens = 512;
    qint64 seed = -1;          // -1: a new random seed for every reply
    bool stopAtEos = true;     // not shown in the UI; tests turn it off to get long replies
    // Text completion: no turns, the model continues the conversation's text in place (base models).
    bool completion = false;

    QJsonObject toJson() const;
    static ChatSettings fromJson(const QJsonObject& json);   // missing keys keep their defaults
    bool operator==(const ChatSettings&) const = default;

    // The transcript the model continues: system text, every turn, then the assistant prefix.
    // `history` must end with the user message being answered.
    QString buildPrompt(const QList<ChatMessage>& history) const;
    // "Assistant:" — the assistant format up to {text}, without the trailing space, so the model
    // writes the space itself (SentencePiece words start with it).
    QString assistantPrefix() const;
};

// "\n" ↔ newline, "\t" ↔ tab and "\\" ↔ backslash, for editing formats in one-line fields.
QString escapeControl(const QString& text);
QString unescapeControl(const QString& text);

// The engine's options for one reply with these settings: sampling, max tokens, stop strings
// (empty ones dropped), EOS; a negative seed draws a fresh random one.
mmfree::GenerateOptions generationOptions(const ChatSettings& settings);
