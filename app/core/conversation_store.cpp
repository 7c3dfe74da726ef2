// SPDX-License-Identifier: Apache-2.0
#include "core/conversation_store.h"

#include <QAtomicInteger>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

namespace {

QAtomicInteger<int> connectionCounter;

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

// Each entry moves the schema from version i to i+1. Never edit a released step: add a new one.
const char* const kMigrations[] = {
    // v1: conversations and their messages. AUTOINCREMENT: a regenerated reply never takes the id
    // of the one it replaced, so nothing holding the old id can mistake one for the other.
    R"(CREATE TABLE conversations(
         id INTEGER PRIMARY KEY,
         title TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         updated_at INTEGER NOT NULL,
         settings TEXT NOT NULL DEFAULT '{}');
       CREATE TABLE messages(
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
         role TEXT NOT NULL CHECK(role IN ('system','user','assistant')),
         content TEXT NOT NULL,
         complete INTEGER NOT NULL DEFAULT 1,
         created_at INTEGER NOT NULL);
       CREATE INDEX messages_by_conversation ON messages(conversation_id, id);)",
    // v2: full-text search. Trigram tokens match inside words, which Chinese and Japanese
    // (no spaces between words) need; the index follows the messages table through triggers.
    R"(CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id', tokenize='trigram');
       CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
         INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
       END;
       CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
         INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
       END;
       CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
         INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
         INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
       END;
       INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');)",
    // v3: soft delete (undo), the model a conversation ran on, and saved engine states.
    R"(ALTER TABLE conversations ADD COLUMN deleted_at INTEGER;
       ALTER TABLE conversations ADD COLUMN model_path TEXT NOT NULL DEFAULT '';
       CREATE TABLE engine_states(
         conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
         message_id INTEGER NOT NULL,
         model_key TEXT NOT NULL,
         covered_text TEXT NOT NULL,
         state BLOB NOT NULL,
         saved_at INTEGER NOT NULL);)",
    // v4: a saved state names the token ids it covers (the engine resumes by token prefix), not
    // the transcript text; states saved by v3 cannot be matched and go.
    R"(DROP TABLE engine_states;
       CREATE TABLE engine_states(
         conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
         message_id INTEGER NOT NULL,
         model_key TEXT NOT NULL,
         tokens BLOB NOT NULL,
         state BLOB NOT NULL,
         saved_at INTEGER NOT NULL);)",
};
static_assert(std::size(kMigrations) == ConversationStore::LatestVersion);

QString plainSnippet(const QString& content, const QString& needle) {
    const qsizetype at = content.indexOf(needle, 0, Qt::CaseInsensitive);
    if (at < 0) return content.left(80).simplified();
    const qsizetype from = std::max<qsizetype>(0, at - 30);
    QString s = (from > 0 ? QStringLiteral("…") : QString()) + content.mid(from, at - from) + '[' +
                content.mid(at, needle.size()) + ']' + content.mid(at + needle.size(), 50);
    if (at + needle.size() + 50 < content.size()) s += QStringLiteral("…");
    return s.simplified();
}

} // namespace

ConversationStore::ConversationStore(QObject* parent)
    : QObject(parent), connection_(QStringLiteral("mmfree-store-%1").arg(connectionCounter.fetchAndAddRelaxed(1))) {}

ConversationStore::~ConversationStore() { close(); }

QSqlDatabase ConversationStore::database() const { return QSqlDatabase::database(connection_, false); }

bool ConversationStore::isOpen() const { return QSqlDatabase::contains(connection_) && database().isOpen(); }

void ConversationStore::close() {
    if (!QSqlDatabase::contains(connection_)) return;
    {
        QSqlDatabase db = database();
        if (db.isOpen()) db.close();
    }
    QSqlDatabase::removeDatabase(connection_);
}

bool ConversationStore::exec(const QString& sql) {
    QSqlQuery q(database());
    if (!q.exec(sql)) {
        lastError_ = q.lastError().text() + QStringLiteral(" (in: ") + sql.left(120) + ')';
        return false;
    }
    return true;
}

bool ConversationStore::open(const QString& path, int targetVersion) {
    close();
    path_ = path;
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection_);
    db.setDatabaseName(path);
    // A busy timeout lets a second process (an exporter, a test) read while we write.
    db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    if (!db.open()) {
        lastError_ = tr("Cannot open the conversation database %1: %2").arg(path, db.lastError().text());
        return false;
    }
    // WAL: readers never block the writer and a killed process loses nothing that was committed.
    // synchronous=NORMAL is durable across process crashes (only power loss can drop the last commit).
    if (!exec("PRAGMA journal_mode=WAL") || !exec("PRAGMA synchronous=NORMAL") || !exec("PRAGMA foreign_keys=ON"))
        return false;
    return migrate(targetVersion);
}

int ConversationStore::schemaVersion() const {
    QSqlQuery q(database());
    return q.exec("PRAGMA user_version") && q.next() ? q.value(0).toInt() : -1;
}

QString ConversationStore::journalMode() const {
    QSqlQuery q(database());
    return q.exec("PRAGMA journal_mode") && q.next() ? q.value(0).toString() : QString();
}

bool ConversationStore::foreignKeysEnabled() const {
    QSqlQuery q(database());
    return q.exec("PRAGMA foreign_keys") && q.next() && q.value(0).toInt() == 1;
}

bool ConversationStore::migrate(int targetVersion) {
    const int current = schemaVersion();
    if (current > LatestVersion) {
        lastError_ = tr("The conversation database was written by a newer MMfree Studio (schema %1, this version knows %2).")
                         .arg(current).arg(LatestVersion);
        return false;
    }
    QSqlDatabase db = database();
    for (int v = current; v < targetVersion; ++v) {
        db.transaction();
        bool ok = true;
        // QSqlQuery runs one statement at a time; split on ';' at statement ends, keeping
        // trigger bodies (BEGIN … END;) in one piece.
        QString statement;
        for (const QString& line : QString::fromUtf8(kMigrations[v]).split('\n')) {
            statement += line + '\n';
            const QString t = statement.trimmed();
            const bool inTrigger = t.startsWith("CREATE TRIGGER", Qt::CaseInsensitive);
            if (t.endsWith(';') && (!inTrigger || t.endsWith("END;", Qt::CaseInsensitive))) {
                if (!exec(t)) { ok = false; break; }
                statement.clear();
            }
        }
        if (ok && !statement.trimmed().isEmpty()) ok = exec(statement.trimmed());
        if (ok) ok = exec(QStringLiteral("PRAGMA user_version=%1").arg(v + 1));
        if (!ok) {
            const QString err = lastError_;
            db.rollback();
            lastError_ = tr("Upgrading the conversation database to version %1 failed: %2").arg(v + 1).arg(err);
            return false;
        }
        db.commit();
    }
    return true;
}

bool ConversationStore::touch(qint64 conversationId) {
    QSqlQuery q(database());
    q.prepare("UPDATE conversations SET updated_at=? WHERE id=?");
    q.addBindValue(nowMs());
    q.addBindValue(conversationId);
    return q.exec();
}

qint64 ConversationStore::createConversation(const QString& title, const ChatSettings& settings) {
    QSqlQuery q(database());
    q.prepare("INSERT INTO conversations(title, created_at, updated_at, settings) VALUES (?,?,?,?)");
    const qint64 now = nowMs();
    q.addBindValue(title);
    q.addBindValue(now);
    q.addBindValue(now);
    q.addBindValue(QString::fromUtf8(QJsonDocument(settings.toJson()).toJson(QJsonDocument::Compact)));
    if (!q.exec()) { lastError_ = q.lastError().text(); return 0; }
    emit conversationsChanged();
    return q.lastInsertId().toLongLong();
}

static ConversationInfo readConversation(const QSqlQuery& q) {
    ConversationInfo c;
    c.id = q.value(0).toLongLong();
    c.title = q.value(1).toString();
    c.created = QDateTime::fromMSecsSinceEpoch(q.value(2).toLongLong());
    c.updated = QDateTime::fromMSecsSinceEpoch(q.value(3).toLongLong());
    c.settings = QJsonDocument::fromJson(q.value(4).toString().toUtf8()).object();
    c.modelPath = q.value(5).toString();
    return c;
}

QList<ConversationInfo> ConversationStore::conversations() const {
    QList<ConversationInfo> out;
    QSqlQuery q(database());
    q.exec("SELECT id, title, created_at, updated_at, settings, model_path FROM conversations "
           "WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC");
    while (q.next()) out << readConversation(q);
    return out;
}

std::optional<ConversationInfo> ConversationStore::conversation(qint64 id) const {
    QSqlQuery q(database());
    q.prepare("SELECT id, title, created_at, updated_at, settings, model_path FROM conversations WHERE id=? AND deleted_at IS NULL");
    q.addBindValue(id);
    if (q.exec() && q.next()) return readConversation(q);
    return std::nullopt;
}

bool ConversationStore::renameConversation(qint64 id, const QString& title) {
    QSqlQuery q(database());
    q.prepare("UPDATE conversations SET title=? WHERE id=?");
    q.addBindValue(title);
    q.addBindValue(id);
    const bool ok = q.exec() && q.numRowsAffected() == 1;
    if (ok) emit conversationsChanged();
    return ok;
}

bool ConversationStore::setConversationSettings(qint64 id, const ChatSettings& settings) {
    QSqlQuery q(database());
    q.prepare("UPDATE conversations SET settings=? WHERE id=?");
    q.addBindValue(QString::fromUtf8(QJsonDocument(settings.toJson()).toJson(QJsonDocument::Compact)));
    q.addBindValue(id);
    return q.exec() && q.numRowsAffected() == 1;
}

ChatSettings ConversationStore::conversationSettings(qint64 id) const {
    const auto c = conversation(id);
    return c ? ChatSettings::fromJson(c->settings) : ChatSettings{};
}

bool ConversationStore::setConversationModel(qint64 id, const QString& modelPath) {
    QSqlQuery q(database());
    q.prepare("UPDATE conversations SET model_path=? WHERE id=?");
    q.addBindValue(modelPath);
    q.addBindValue(id);
    return q.exec();
}

bool ConversationStore::deleteConversation(qint64 id) {
    QSqlQuery q(database());
    q.prepare("UPDATE conversations SET deleted_at=? WHERE id=? AND deleted_at IS NULL");
    q.addBindValue(nowMs());
    q.addBindValue(id);
    const bool ok = q.exec() && q.numRowsAffected() == 1;
    if (ok) emit conversationsChanged();
    return ok;
}

bool ConversationStore::restoreConversation(qint64 id) {
    QSqlQuery q(database());
    q.prepare("UPDATE conversations SET deleted_at=NULL WHERE id=? AND deleted_at IS NOT NULL");
    q.addBindValue(id);
    const bool ok = q.exec() && q.numRowsAffected() == 1;
    if (ok) emit conversationsChanged();
    return ok;
}

int ConversationStore::purgeDeleted() {
    QSqlQuery q(database());
    // Messages and states go with their conversation (ON DELETE CASCADE).
    if (!q.exec("DELETE FROM conversations WHERE deleted_at IS NOT NULL")) return 0;
    return q.numRowsAffected();
}

qint64 ConversationStore::addMessage(qint64 conversationId, MessageRole role, const QString& content, bool complete) {
    QSqlQuery q(database());
    q.prepare("INSERT INTO messages(conversation_id, role, content, complete, created_at) VALUES (?,?,?,?,?)");
    q.addBindValue(conversationId);
    q.addBindValue(messageRoleName(role));
    q.addBindValue(content.isNull() ? QStringLiteral("") : content);   // a null QString binds as NULL
    q.addBindValue(complete ? 1 : 0);
    q.addBindValue(nowMs());
    if (!q.exec()) { lastError_ = q.lastError().text(); return 0; }
    const qint64 id = q.lastInsertId().toLongLong();
    touch(conversationId);
    return id;
}

bool ConversationStore::updateMessage(qint64 messageId, const QString& content, bool complete) {
    QSqlQuery q(database());
    q.prepare("UPDATE messages SET content=?, complete=? WHERE id=?");
    q.addBindValue(content.isNull() ? QStringLiteral("") : content);
    q.addBindValue(complete ? 1 : 0);
    q.addBindValue(messageId);
    if (!q.exec()) { lastError_ = q.lastError().text(); return false; }
    return q.numRowsAffected() == 1;
}

bool ConversationStore::removeMessagesFrom(qint64 conversationId, qint64 firstMessageId) {
    QSqlQuery q(database());
    q.prepare("DELETE FROM messages WHERE conversation_id=? AND id>=?");
    q.addBindValue(conversationId);
    q.addBindValue(firstMessageId);
    return q.exec();
}

QList<ChatMessage> ConversationStore::messages(qint64 conversationId) const {
    QList<ChatMessage> out;
    QSqlQuery q(database());
    q.prepare("SELECT id, role, content, complete FROM messages WHERE conversation_id=? ORDER BY id");
    q.addBindValue(conversationId);
    q.exec();
    while (q.next()) {
        // The schema's CHECK admits only the three names; a row that slips past it is skipped.
        const std::optional<MessageRole> role = messageRoleFromName(q.value(1).toString());
        if (role) out << ChatMessage{q.value(0).toLongLong(), *role, q.value(2).toString(), q.value(3).toInt() != 0};
    }
    return out;
}

QList<SearchHit> ConversationStore::search(const QString& query, int limit) const {
    QList<SearchHit> out;
    const QString needle = query.trimmed();
    if (needle.isEmpty()) return out;
    QSqlQuery q(database());
    // Trigrams need three characters; shorter queries (common in Chinese and Japanese) scan with
    // LIKE, which is fast enough for a personal chat history.
    if (needle.size() >= 3) {
        QString phrase = needle;
        phrase.replace('"', "\"\"");
        q.prepare("SELECT m.conversation_id, m.id, c.title, m.content FROM messages_fts f "
                  "JOIN messages m ON m.id=f.rowid JOIN conversations c ON c.id=m.conversation_id "
                  "WHERE messages_fts MATCH ? AND c.deleted_at IS NULL ORDER BY c.updated_at DESC, m.id LIMIT ?");
        q.addBindValue('"' + phrase + '"');
    } else {
        QString pattern = needle;
        pattern.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        q.prepare("SELECT m.conversation_id, m.id, c.title, m.content FROM messages m "
                  "JOIN conversations c ON c.id=m.conversation_id "
                  "WHERE m.content LIKE ? ESCAPE '\\' AND c.deleted_at IS NULL ORDER BY c.updated_at DESC, m.id LIMIT ?");
        q.addBindValue('%' + pattern + '%');
    }
    q.addBindValue(limit);
    if (!q.exec()) { lastError_ = q.lastError().text(); return out; }
    while (q.next())
        out << SearchHit{q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString(),
                         plainSnippet(q.value(3).toString(), needle)};
    return out;
}

bool ConversationStore::saveEngineState(qint64 conversationId, const SavedEngineState& s) {
    QSqlQuery q(database());
    q.prepare("INSERT OR REPLACE INTO engine_states(conversation_id, message_id, model_key, tokens, state, saved_at) "
              "VALUES (?,?,?,?,?,?)");
    q.addBindValue(conversationId);
    q.addBindValue(s.messageId);
    q.addBindValue(s.modelKey);
    q.addBindValue(s.tokens.isNull() ? QByteArray("") : s.tokens);
    q.addBindValue(s.blob);
    q.addBindValue(nowMs());
    if (!q.exec()) { lastError_ = q.lastError().text(); return false; }
    return true;
}

std::optional<SavedEngineState> ConversationStore::engineState(qint64 conversationId) const {
    QSqlQuery q(database());
    q.prepare("SELECT message_id, model_key, tokens, state FROM engine_states WHERE conversation_id=?");
    q.addBindValue(conversationId);
    if (!q.exec() || !q.next()) return std::nullopt;
    return SavedEngineState{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toByteArray(), q.value(3).toByteArray()};
}

bool ConversationStore::clearEngineState(qint64 conversationId) {
    QSqlQuery q(database());
    q.prepare("DELETE FROM engine_states WHERE conversation_id=?");
    q.addBindValue(conversationId);
    return q.exec();
}

QString ConversationStore::exportMarkdown(qint64 conversationId) const {
    const auto c = conversation(conversationId);
    if (!c) return {};
    QString md = "# " + c->title + "\n\n";
    const ChatSettings s = ChatSettings::fromJson(c->settings);
    if (!s.systemText.trimmed().isEmpty()) md += "> " + s.systemText.trimmed().replace("\n", "\n> ") + "\n\n";
    for (const auto& m : messages(conversationId)) {
        const QString who = m.role == MessageRole::User ? QStringLiteral("User") : m.role == MessageRole::Assistant ? QStringLiteral("Assistant") : QStringLiteral("System");
        md += "## " + who + "\n\n" + m.content.trimmed() + "\n\n";
    }
    return md;
}

QJsonObject ConversationStore::exportJson(qint64 conversationId) const {
    const auto c = conversation(conversationId);
    if (!c) return {};
    QJsonArray msgs;
    for (const auto& m : messages(conversationId))
        msgs.append(QJsonObject{{"role", messageRoleName(m.role)}, {"content", m.content}, {"complete", m.complete}});
    return QJsonObject{{"format", "mmfree-conversation"},
                       {"version", 1},
                       {"title", c->title},
                       {"created", c->created.toUTC().toString(Qt::ISODateWithMs)},
                       {"updated", c->updated.toUTC().toString(Qt::ISODateWithMs)},
                       {"model", c->modelPath},
                       {"settings", c->settings},
                       {"messages", msgs}};
}

qint64 ConversationStore::importJson(const QJsonObject& json, QString* error) {
    auto fail = [&](const QString& why) { if (error) *error = why; return qint64(0); };
    if (json.value("format").toString() != "mmfree-conversation")
        return fail(tr("This file is not an MMfree Studio conversation (missing \"format\": \"mmfree-conversation\")."));
    if (json.value("version").toInt() > 1)
        return fail(tr("This conversation was exported by a newer MMfree Studio (format version %1).").arg(json.value("version").toInt()));
    if (!json.value("messages").isArray()) return fail(tr("The conversation has no \"messages\" list."));
    const QJsonArray msgs = json.value("messages").toArray();
    for (int i = 0; i < msgs.size(); ++i) {
        const QString role = msgs[i].toObject().value("role").toString();
        if (!messageRoleFromName(role))
            return fail(tr("Message %1 has an unknown role \"%2\".").arg(i + 1).arg(role));
    }
    QSqlDatabase db = database();
    db.transaction();
    QString title = json.value("title").toString().trimmed();
    if (title.isEmpty()) title = tr("Imported conversation");
    const qint64 id = createConversation(title, ChatSettings::fromJson(json.value("settings").toObject()));
    bool ok = id != 0;
    for (const auto& v : msgs) {
        if (!ok) break;
        const QJsonObject m = v.toObject();
        ok = addMessage(id, *messageRoleFromName(m.value("role").toString()), m.value("content").toString(), m.value("complete").toBool(true)) != 0;
    }
    if (ok) {
        setConversationModel(id, json.value("model").toString());
        QSqlQuery q(db);
        q.prepare("UPDATE conversations SET created_at=?, updated_at=? WHERE id=?");
        const QDateTime created = QDateTime::fromString(json.value("created").toString(), Qt::ISODateWithMs);
        q.addBindValue(created.isValid() ? created.toMSecsSinceEpoch() : nowMs());
        q.addBindValue(nowMs());   // imported ones appear on top
        q.addBindValue(id);
        ok = q.exec();
    }
    if (!ok) {
        db.rollback();
        return fail(tr("Saving the imported conversation failed: %1").arg(lastError_));
    }
    db.commit();
    emit conversationsChanged();
    return id;
}
