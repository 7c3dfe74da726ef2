// SPDX-License-Identifier: Apache-2.0
// The tokenizer against the SentencePiece library's own encoder (ids in tests/data/tokenizer_cases.json
// were written by `spm_encode`), with BOS as the released models use it, and the streaming decoder.
#include <QtTest>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "mmfree/error.h"
#include "mmfree/tokenizer.h"

using namespace mmfree;

static const char* kTokenizer = MMFREE_TEST_DATA "/mistral-v1.tokenizer.model";

static bool valid_utf8(const std::string& s) {
    return QString::fromUtf8(s.data(), qsizetype(s.size())).toUtf8() == QByteArray(s.data(), qsizetype(s.size()));
}

class TestTokenizer : public QObject {
    Q_OBJECT
    std::unique_ptr<Tokenizer> tok_;

private slots:
    void initTestCase() { tok_ = Tokenizer::load(kTokenizer); }

    void cases_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QList<int>>("ids");
        QFile f(MMFREE_TEST_DATA "/tokenizer_cases.json");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto cases = QJsonDocument::fromJson(f.readAll()).object()["cases"].toArray();
        QVERIFY(cases.size() >= 6);
        for (const auto& c : cases) {
            QList<int> ids;
            for (const auto& v : c.toObject()["ids"].toArray()) ids << v.toInt();
            const QString text = c.toObject()["text"].toString();
            QTest::newRow(qPrintable(text.left(24))) << text << ids;
        }
    }

    // English, Chinese, Japanese, Russian, emoji: same ids as spm_encode, BOS (1) first.
    void cases() {
        QFETCH(QString, text);
        QFETCH(QList<int>, ids);
        const std::string utf8 = text.toStdString();
        std::vector<int32_t> expected = {1};
        expected.insert(expected.end(), ids.begin(), ids.end());
        QCOMPARE(tok_->encode(utf8, true), expected);
        QCOMPARE(tok_->encode(utf8, false), std::vector<int32_t>(ids.begin(), ids.end()));
        QCOMPARE(QString::fromStdString(tok_->decode(expected)), text);

        // Streaming: every piece is complete UTF-8 and the pieces add up to the whole text.
        StreamingDecoder dec(*tok_, /*strip_leading_space=*/true);
        std::string streamed;
        for (int32_t id : expected) {
            const std::string piece = dec.push(id);
            QVERIFY2(valid_utf8(piece), "a streamed piece split a character");
            streamed += piece;
        }
        streamed += dec.flush();
        QCOMPARE(QString::fromStdString(streamed), text);
    }

    void known_ids() {
        QCOMPARE(tok_->encode("The", false), std::vector<int32_t>{415});
        QCOMPARE(tok_->encode("Once", false), std::vector<int32_t>{5713});
        QCOMPARE(tok_->bos_id(), 1);
        QCOMPARE(tok_->eos_id(), 2);
        QCOMPARE(tok_->vocab_size(), 32000);
    }

    // 🇩 (U+1F1E9) has no piece of its own: it arrives as four byte-fallback tokens
    // (<0xF0><0x9F><0x87><0xA9>, ids 3 + byte). Nothing is emitted until the last one.
    void byte_fallback_is_held_until_complete() {
        const std::vector<int32_t> ids = {3 + 0xF0, 3 + 0x9F, 3 + 0x87, 3 + 0xA9};
        QCOMPARE(tok_->decode(ids), std::string("\xF0\x9F\x87\xA9"));
        StreamingDecoder dec(*tok_);
        for (size_t i = 0; i + 1 < ids.size(); ++i) QCOMPARE(dec.push(ids[i]), std::string());
        QCOMPARE(dec.push(ids.back()), std::string("\xF0\x9F\x87\xA9"));
        QCOMPARE(dec.flush(), std::string());
    }

    // A continuation keeps the space before its first word; an unfinished character at the end
    // becomes U+FFFD on flush rather than broken bytes.
    void continuation_and_flush() {
        StreamingDecoder dec(*tok_);
        QCOMPARE(dec.push(415), std::string(" The"));
        QCOMPARE(dec.push(3 + 0x87), std::string("\xEF\xBF\xBD"));  // a lone continuation byte: U+FFFD
        QCOMPARE(dec.push(3 + 0xF0), std::string());                   // the start of a 4-byte character…
        QCOMPARE(dec.flush(), std::string("\xEF\xBF\xBD"));           // …that never finished
    }

    void missing_file_is_a_clear_error() {
        try {
            Tokenizer::load("/nonexistent/tokenizer.model");
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(e.code(), ErrorCode::TokenizerMissing);
            QVERIFY(QString(e.what()).contains("/nonexistent/tokenizer.model"));
        }
    }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
