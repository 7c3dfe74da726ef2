// SPDX-License-Identifier: Apache-2.0
// ConversationStore: migrations from every earlier schema, WAL, foreign keys, search, export/import.
#include <QFile>
#include <QJsonArray>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include "core/conversation_store.h"

class StoreTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    int n_ = 0;
    QString freshPath() { return dir_.filePath(QStringLiteral("db%1.sqlite").arg(n_++)); }
    static bool run(ConversationStore& s, const QString& sql) {
        QSqlQuery q(s.database());
        return q.exec(sql);
    }

private slots:
    void freshDatabaseIsLatestWithWalAndForeignKeys() {
        ConversationStore s;
        QVERIFY2(s.open(freshPath()), qPrintable(s.lastError()));
        QCOMPARE(s.schemaVersion(), ConversationStore::LatestVersion);
        QCOMPARE(s.journalMode().toLower(), QStringLiteral("wal"));
        QVERIFY(s.foreignKeysEnabled());
    }

    void migratesFromEveryEarlierVersion_data() {
        QTest::addColumn<int>("from");
        for (int v = 0; v < ConversationStore::LatestVersion; ++v) QTest::addRow("v%d", v) << v;
    }
    void migratesFromEveryEarlierVersion() {
        QFETCH(int, from);
        const QString path = freshPath();
        {
            ConversationStore old;
            QVERIFY2(old.open(path, from), qPrintable(old.lastError()));
            QCOMPARE(old.schemaVersion(), from);
            if (from >= 1) {
                // Data as the old schema held it, written with that schema's own columns.
                QVERIFY(run(old, "INSERT INTO conversations(id, title, created_at, updated_at, settings) "
                                 "VALUES (7, 'Ternary weights', 1000, 2000, '{\"temperature\":0.3}')"));
                QVERIFY(run(old, "INSERT INTO messages(conversation_id, role, content, complete, created_at) "
                                 "VALUES (7, 'user', 'How do ternary weights avoid multiplication?', 1, 1001)"));
                QVERIFY(run(old, "INSERT INTO messages(conversation_id, role, content, complete, created_at) "
                                 "VALUES (7, 'assistant', 'Each weight is -1, 0 or +1, so products become additions.', 0, 1002)"));
            }
            if (from == 3)   // a v3 state (keyed by transcript text): v4 cannot match it and drops it
                QVERIFY(run(old, "INSERT INTO engine_states(conversation_id, message_id, model_key, covered_text, state, saved_at) "
                                 "VALUES (7, 2, 'key', 'User: x', x'00000000', 1003)"));
        }
        ConversationStore s;
        QVERIFY2(s.open(path), qPrintable(s.lastError()));
        QCOMPARE(s.schemaVersion(), ConversationStore::LatestVersion);
        if (from >= 1) {
            const auto c = s.conversation(7);
            QVERIFY(c);
            QCOMPARE(c->title, QStringLiteral("Ternary weights"));
            QCOMPARE(ChatSettings::fromJson(c->settings).temperature, 0.3);
            const auto msgs = s.messages(7);
            QCOMPARE(msgs.size(), 2);
            QCOMPARE(msgs[1].content, QStringLiteral("Each weight is -1, 0 or +1, so products become additions."));
            QVERIFY(!msgs[1].complete);
            // Messages written before search existed are found too.
            const auto hits = s.search("products");
            QCOMPARE(hits.size(), 1);
            QCOMPARE(hits[0].conversationId, qint64(7));
            QVERIFY(!s.engineState(7));
            // v3 and v4 features work on migrated rows.
            QVERIFY(s.saveEngineState(7, {msgs[1].id, "key", QByteArray(12, 'k'), QByteArray(100, 'x')}));
            QVERIFY(s.deleteConversation(7));
            QVERIFY(s.conversations().isEmpty());
            QVERIFY(s.restoreConversation(7));
        }
        // And the store works normally afterwards.
        const qint64 id = s.createConversation("after migration");
        QVERIFY(id > 0);
        QVERIFY(s.addMessage(id, MessageRole::User, "hello after migration"));
        QCOMPARE(s.search("after migration").size(), 1);
    }

    void refusesNewerSchema() {
        const QString path = freshPath();
        {
            ConversationStore s;
            QVERIFY(s.open(path));
            QVERIFY(run(s, "PRAGMA user_version=99"));
        }
        ConversationStore s;
        QVERIFY(!s.open(path));
        QVERIFY2(s.lastError().contains("newer"), qPrintable(s.lastError()));
    }

    void walLetsAReaderSeeCommittedWrites() {
        const QString path = freshPath();
        ConversationStore writer;
        QVERIFY(writer.open(path));
        const qint64 id = writer.createConversation("wal");
        const qint64 msg = writer.addMessage(id, MessageRole::Assistant, "partial", false);
        QVERIFY(QFile::exists(path + "-wal"));
        ConversationStore reader;
        QVERIFY(reader.open(path));
        QCOMPARE(reader.messages(id).value(0).content, QStringLiteral("partial"));
        // The reader holds a read transaction open; the writer still commits (WAL).
        QSqlDatabase rdb = reader.database();
        QVERIFY(rdb.transaction());
        QCOMPARE(reader.messages(id).size(), 1);
        QVERIFY(writer.updateMessage(msg, "partial and more", false));
        QCOMPARE(reader.messages(id).value(0).content, QStringLiteral("partial"));   // snapshot isolation
        QVERIFY(rdb.commit());
        QCOMPARE(reader.messages(id).value(0).content, QStringLiteral("partial and more"));
    }

    void purgeCascadesToMessagesAndStates() {
        ConversationStore s;
        QVERIFY(s.open(freshPath()));
        const qint64 id = s.createConversation("gone");
        const qint64 m = s.addMessage(id, MessageRole::User, "unique-cascade-word");
        QVERIFY(s.saveEngineState(id, {m, "k", QByteArray(4, 't'), QByteArray(10, 'a')}));
        QVERIFY(s.deleteConversation(id));
        QVERIFY(s.search("unique-cascade-word").isEmpty());   // hidden while deleted
        QVERIFY(s.restoreConversation(id));
        QCOMPARE(s.search("unique-cascade-word").size(), 1);   // undo brings it back
        QVERIFY(s.deleteConversation(id));
        QCOMPARE(s.purgeDeleted(), 1);
        QSqlQuery q(s.database());
        QVERIFY(q.exec("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM engine_states)") && q.next());
        QCOMPARE(q.value(0).toInt(), 0);
        QCOMPARE(q.value(1).toInt(), 0);
        // Foreign keys refuse orphans.
        QVERIFY(!s.addMessage(424242, MessageRole::User, "orphan"));
    }

    void searchAcrossLanguages() {
        ConversationStore s;
        QVERIFY(s.open(freshPath()));
        const qint64 a = s.createConversation("English");
        s.addMessage(a, MessageRole::User, "Explain the MLGRU recurrence");
        s.addMessage(a, MessageRole::Assistant, "The hidden state is updated with a forget gate.");
        const qint64 b = s.createConversation("中文");
        s.addMessage(b, MessageRole::User, "你好，请解释三值权重");
        const qint64 c = s.createConversation("日本語");
        s.addMessage(c, MessageRole::User, "行列積なしの言語モデルについて教えて");
        const qint64 d = s.createConversation("Русский");
        s.addMessage(d, MessageRole::User, "Расскажи о тернарных весах");

        QCOMPARE(s.search("recurrence").value(0).conversationId, a);
        QCOMPARE(s.search("RECURR").value(0).conversationId, a);        // case-insensitive, inside a word
        QCOMPARE(s.search("orget ga").value(0).conversationId, a);      // substring across words
        QCOMPARE(s.search("三值权重").value(0).conversationId, b);
        QCOMPARE(s.search("权重").value(0).conversationId, b);          // two characters: LIKE path
        QCOMPARE(s.search("言語モデル").value(0).conversationId, c);
        QCOMPARE(s.search("тернарных").value(0).conversationId, d);
        QVERIFY(s.search("nothing like this").isEmpty());
        QVERIFY(s.search("\"quoted\" AND OR NEAR(").isEmpty());        // FTS syntax is not interpreted
        QVERIFY(s.search("50%_").isEmpty());
        const auto hit = s.search("forget").value(0);
        QVERIFY2(hit.snippet.contains("[forget]"), qPrintable(hit.snippet));
        QCOMPARE(hit.title, QStringLiteral("English"));
    }

    void updatedTextIsReindexed() {
        ConversationStore s;
        QVERIFY(s.open(freshPath()));
        const qint64 id = s.createConversation("stream");
        const qint64 m = s.addMessage(id, MessageRole::Assistant, "first words", false);
        QVERIFY(s.updateMessage(m, "first words then streamed continuation", false));
        QCOMPARE(s.search("continuation").size(), 1);
        QVERIFY(s.updateMessage(m, "replaced entirely", true));
        QVERIFY(s.search("continuation").isEmpty());
        QCOMPARE(s.search("replaced").size(), 1);
        QVERIFY(s.removeMessagesFrom(id, m));
        QVERIFY(s.search("replaced").isEmpty());
    }

    void renameSettingsAndStates() {
        ConversationStore s;
        QVERIFY(s.open(freshPath()));
        ChatSettings cs;
        cs.systemText = "You are terse.";
        cs.seed = 42;
        const qint64 id = s.createConversation("t", cs);
        QVERIFY(s.renameConversation(id, "renamed"));
        QCOMPARE(s.conversation(id)->title, QStringLiteral("renamed"));
        QCOMPARE(s.conversationSettings(id), cs);
        cs.topK = 5;
        QVERIFY(s.setConversationSettings(id, cs));
        QCOMPARE(s.conversationSettings(id).topK, 5);
        QVERIFY(!s.engineState(id));
        const QByteArray blob(300 * 1024, '\x5a');
        const QByteArray tokens("\x01\x00\x00\x00\x2a\x00\x00\x00", 8);
        QVERIFY(s.saveEngineState(id, {9, "model-key", tokens, blob}));
        const auto st = s.engineState(id);
        QVERIFY(st);
        QCOMPARE(st->blob, blob);
        QCOMPARE(st->tokens, tokens);
        QCOMPARE(st->messageId, qint64(9));
        QCOMPARE(st->modelKey, QStringLiteral("model-key"));
        QVERIFY(s.clearEngineState(id));
        QVERIFY(!s.engineState(id));
    }

    void exportMarkdownAndJsonRoundTrip() {
        ConversationStore s;
        QVERIFY(s.open(freshPath()));
        ChatSettings cs;
        cs.systemText = "Be brief.";
        cs.temperature = 0.2;
        const qint64 id = s.createConversation("Code help", cs);
        s.addMessage(id, MessageRole::User, "Write a loop in C");
        s.addMessage(id, MessageRole::Assistant, "```c\nfor (int i = 0; i < 3; ++i) {}\n```\n- one\n- two");
        const QString md = s.exportMarkdown(id);
        QVERIFY(md.startsWith("# Code help\n"));
        QVERIFY(md.contains("> Be brief."));
        QVERIFY(md.contains("## User\n\nWrite a loop in C"));
        QVERIFY(md.contains("## Assistant\n\n```c\nfor (int i = 0; i < 3; ++i) {}\n```"));

        const QJsonObject json = s.exportJson(id);
        QCOMPARE(json["format"].toString(), QStringLiteral("mmfree-conversation"));
        QCOMPARE(json["messages"].toArray().size(), 2);
        // Through text, as a file would carry it.
        const QJsonObject reread = QJsonDocument::fromJson(QJsonDocument(json).toJson()).object();
        QString error;
        const qint64 copy = s.importJson(reread, &error);
        QVERIFY2(copy > 0, qPrintable(error));
        QVERIFY(copy != id);
        QCOMPARE(s.conversation(copy)->title, QStringLiteral("Code help"));
        QCOMPARE(s.conversationSettings(copy), cs);
        const auto a = s.messages(id), b = s.messages(copy);
        QCOMPARE(b.size(), a.size());
        for (int i = 0; i < a.size(); ++i) {
            QCOMPARE(b[i].role, a[i].role);
            QCOMPARE(b[i].content, a[i].content);
        }
        QCOMPARE(s.exportMarkdown(copy), md);
    }

    // The typed role and the name the database and the JSON export keep, both ways.
    void messageRolesMapToStoredNames() {
        const QList<QPair<MessageRole, QString>> pairs{{MessageRole::System, "system"}, {MessageRole::User, "user"},
                                                       {MessageRole::Assistant, "assistant"}};
        for (const auto& [role, name] : pairs) {
            QCOMPARE(messageRoleName(role), name);
            QCOMPARE(messageRoleFromName(name), std::optional<MessageRole>(role));
        }
        for (const QString& unknown : {QString("User"), QString("wizard"), QString(""), QString(" user")})
            QVERIFY2(!messageRoleFromName(unknown), qPrintable(unknown));

        ConversationStore s;
        QVERIFY(s.open(freshPath()));
        const qint64 id = s.createConversation("roles", ChatSettings{});
        for (const auto& [role, name] : pairs) QVERIFY(s.addMessage(id, role, name));
        QSqlQuery q(s.database());
        QVERIFY(q.exec(QStringLiteral("SELECT role, content FROM messages WHERE conversation_id=%1 ORDER BY id").arg(id)));
        for (const auto& [role, name] : pairs) {
            QVERIFY(q.next());
            QCOMPARE(q.value(0).toString(), name);   // SQLite keeps the names
        }
        const QList<ChatMessage> back = s.messages(id);
        QCOMPARE(back.size(), pairs.size());
        for (int i = 0; i < back.size(); ++i) QCOMPARE(back[i].role, pairs[i].first);
        const QJsonArray exported = s.exportJson(id).value("messages").toArray();
        QCOMPARE(exported[2].toObject().value("role").toString(), QStringLiteral("assistant"));
    }

    void importRejectsBadFiles() {
        ConversationStore s;
        QVERIFY(s.open(freshPath()));
        QString error;
        QCOMPARE(s.importJson(QJsonObject{{"title", "x"}}, &error), qint64(0));
        QVERIFY(error.contains("mmfree-conversation"));
        QCOMPARE(s.importJson(QJsonObject{{"format", "mmfree-conversation"}, {"version", 7}, {"messages", QJsonArray{}}}, &error), qint64(0));
        QVERIFY(error.contains("newer"));
        const QJsonArray bad{QJsonObject{{"role", "user"}, {"content", "ok"}}, QJsonObject{{"role", "wizard"}, {"content", "?"}}};
        QCOMPARE(s.importJson(QJsonObject{{"format", "mmfree-conversation"}, {"version", 1}, {"messages", bad}}, &error), qint64(0));
        QVERIFY2(error.contains("wizard") && error.contains('2'), qPrintable(error));
        QVERIFY(s.conversations().isEmpty());   // nothing half-imported
    }
};

QTEST_GUILESS_MAIN(StoreTest)
#include "test_store.moc"
