// SPDX-License-Identifier: Apache-2.0
#include "core/chat_settings.h"

#include <QJsonArray>
#include <random>

QString messageRoleName(MessageRole role) {
    switch (role) {
    case MessageRole::System: return QStringLiteral("system");
    case MessageRole::User: return QStringLiteral("user");
    case MessageRole::Assistant: return QStringLiteral("assistant");
    }
    return {};
}

std::optional<MessageRole> messageRoleFromName(const QString& name) {
    for (MessageRole r : {MessageRole::System, MessageRole::User, MessageRole::Assistant})
        if (name == messageRoleName(r)) return r;
    return std::nullopt;
}

QJsonObject ChatSettings::toJson() const {
    QJsonObject o;
    o["system_text"] = systemText;
    o["system_format"] = systemFormat;
    o["user_format"] = userFormat;
    o["assistant_format"] = assistantFormat;
    o["stop_strings"] = QJsonArray::fromStringList(stopStrings);
    o["temperature"] = temperature;
    o["top_k"] = topK;
    o["top_p"] = topP;
    o["min_p"] = minP;
    o["repetition_penalty"] = repetitionPenalty;
    o["max_tokens"] = maxTokens;
    o["seed"] = double(seed);
    o["stop_at_eos"] = stopAtEos;
    if (completion) o["completion"] = true;
    return o;
}

ChatSettings ChatSettings::fromJson(const QJsonObject& o) {
    ChatSettings s;
    s.systemText = o.value("system_text").toString(s.systemText);
    s.systemFormat = o.value("system_format").toString(s.systemFormat);
    s.userFormat = o.value("user_format").toString(s.userFormat);
    s.assistantFormat = o.value("assistant_format").toString(s.assistantFormat);
    if (o.value("stop_strings").isArray()) {
        s.stopStrings.clear();
        for (const auto& v : o.value("stop_strings").toArray()) s.stopStrings << v.toString();
    }
    s.temperature = o.value("temperature").toDouble(s.temperature);
    s.topK = o.value("top_k").toInt(s.topK);
    s.topP = o.value("top_p").toDouble(s.topP);
    s.minP = o.value("min_p").toDouble(s.minP);
    s.repetitionPenalty = o.value("repetition_penalty").toDouble(s.repetitionPenalty);
    s.maxTokens = o.value("max_tokens").toInt(s.maxTokens);
    s.seed = qint64(o.value("seed").toDouble(double(s.seed)));
    s.stopAtEos = o.value("stop_at_eos").toBool(s.stopAtEos);
    s.completion = o.value("completion").toBool(s.completion);
    return s;
}

static QString fill(const QString& format, const QString& key, const QString& value) {
    QString out = format;
    return out.replace(key, value);
}

QString ChatSettings::assistantPrefix() const {
    const qsizetype at = assistantFormat.indexOf("{text}");
    QString prefix = at < 0 ? assistantFormat : assistantFormat.left(at);
    while (prefix.endsWith(' ')) prefix.chop(1);
    return prefix;
}

QString ChatSettings::buildPrompt(const QList<ChatMessage>& history) const {
    QString out;
    if (!systemText.trimmed().isEmpty()) out += fill(systemFormat, "{system}", systemText.trimmed());
    for (const auto& m : history) {
        switch (m.role) {
        case MessageRole::User: out += fill(userFormat, "{text}", m.content); break;
        case MessageRole::Assistant: out += fill(assistantFormat, "{text}", m.content); break;
        case MessageRole::System: out += fill(systemFormat, "{system}", m.content); break;
        }
    }
    return out + assistantPrefix();
}

QString escapeControl(const QString& text) {
    QString out;
    for (QChar c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else out += c;
    }
    return out;
}

QString unescapeControl(const QString& text) {
    QString out;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
            const QChar n = text[i + 1];
            if (n == 'n') { out += '\n'; ++i; continue; }
            if (n == 't') { out += '\t'; ++i; continue; }
            if (n == '\\') { out += '\\'; ++i; continue; }
        }
        out += text[i];
    }
    return out;
}

mmfree::GenerateOptions generationOptions(const ChatSettings& s) {
    mmfree::GenerateOptions options;
    options.max_tokens = s.maxTokens;
    options.stop_at_eos = s.stopAtEos;
    for (const auto& stop : s.stopStrings)
        if (!stop.isEmpty()) options.stop_strings.push_back(stop.toStdString());
    auto& sp = options.sampling;
    sp.temperature = float(s.temperature);
    sp.top_k = s.topK;
    sp.top_p = float(s.topP);
    sp.min_p = float(s.minP);
    sp.repetition_penalty = float(s.repetitionPenalty);
    sp.seed = s.seed >= 0 ? uint64_t(s.seed) : std::random_device{}();
    return options;
}
