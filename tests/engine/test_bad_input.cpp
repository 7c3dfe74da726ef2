// SPDX-License-Identifier: Apache-2.0
// Every kind of broken input gets a specific error (never a crash), in the library and the CLI.
#include <QtTest>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <filesystem>

#include "mmfree/error.h"
#include "mmfree/generate.h"
#include "mmfree/model.h"
#include "mmfree/session.h"
#include "mmfree/tokenizer.h"

using namespace mmfree;

static BackendOptions cpu_backend() {
    BackendOptions o;
    o.backend = "cpu";
    return o;
}
namespace fs = std::filesystem;

namespace {

const QString kGolden = MMFREE_TEST_DATA "/tiny-a";

QByteArray read_all(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(path));
    return f.readAll();
}

void write_all(const QString& path, const QByteArray& data) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) qFatal("cannot write %s", qPrintable(path));
    f.write(data);
}

// A writable copy of the golden tiny-a model folder.
QString copy_model(const QTemporaryDir& dir) {
    const QString to = dir.path() + "/model";
    QDir().mkpath(to);
    for (const char* f : {"config.json", "model.safetensors"}) QFile::copy(kGolden + "/" + f, to + "/" + f);
    QFile::setPermissions(to + "/model.safetensors", QFile::ReadOwner | QFile::WriteOwner);
    QFile::setPermissions(to + "/config.json", QFile::ReadOwner | QFile::WriteOwner);
    return to;
}

struct Safetensors {
    QJsonObject header;
    QByteArray data;
};

Safetensors split(const QByteArray& file) {
    quint64 n;
    std::memcpy(&n, file.constData(), 8);
    return {QJsonDocument::fromJson(file.mid(8, qsizetype(n))).object(), file.mid(8 + qsizetype(n))};
}

QByteArray join(const QJsonObject& header, const QByteArray& data) {
    const QByteArray h = QJsonDocument(header).toJson(QJsonDocument::Compact);
    quint64 n = quint64(h.size());
    return QByteArray(reinterpret_cast<const char*>(&n), 8) + h + data;
}

// Loads and returns the error; fails the test when loading succeeds or throws something else.
Error load_error(const QString& path) {
    try {
        load_model(path.toStdString());
    } catch (const Error& e) {
        return e;
    }
    return Error(ErrorCode::Internal, "loaded without error");
}

} // namespace

#define EXPECT_LOAD_ERROR(path, expected_code, fragment)                                                   \
    do {                                                                                                  \
        const Error err = load_error(path);                                                               \
        QVERIFY2(err.code() == (expected_code), err.what());                                              \
        QVERIFY2(QString(err.what()).contains(fragment), qPrintable(QString("message: ") + err.what()));  \
    } while (0)

class TestBadInput : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString model_;
    QString st() const { return model_ + "/model.safetensors"; }

private slots:
    void init() {
        dir_.~QTemporaryDir();
        new (&dir_) QTemporaryDir();
        model_ = copy_model(dir_);
        load_model(model_.toStdString());  // the untouched copy loads
    }

    void truncated_file() {
        const QByteArray f = read_all(st());
        write_all(st(), f.left(f.size() / 2));
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "truncated");
    }
    void shorter_than_header() {
        write_all(st(), "abc");
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "truncated");
    }
    void header_length_larger_than_file() {
        QByteArray f = read_all(st());
        const quint64 huge = quint64(f.size()) * 10;
        f.replace(0, 8, QByteArray(reinterpret_cast<const char*>(&huge), 8));
        write_all(st(), f);
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "header length");
    }
    void invalid_header_json() {
        QByteArray f = read_all(st());
        f[9] = '#';
        write_all(st(), f);
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "invalid header");
    }
    void offsets_outside_file() {
        auto s = split(read_all(st()));
        QJsonObject t = s.header["model.norm.weight"].toObject();
        const qint64 len = s.data.size();
        t["data_offsets"] = QJsonArray{len, len + 256};
        s.header["model.norm.weight"] = t;
        write_all(st(), join(s.header, s.data));
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "model.norm.weight");
    }
    void overlapping_offsets() {
        auto s = split(read_all(st()));
        // Point one tensor at another's bytes (same size: [H] f32 vectors).
        QJsonObject a = s.header["model.norm.weight"].toObject();
        QJsonObject b = s.header["lm_head.norm.weight"].toObject();
        a["data_offsets"] = b["data_offsets"];
        s.header["model.norm.weight"] = a;
        write_all(st(), join(s.header, s.data));
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "overlapping");
    }
    void unknown_dtype() {
        auto s = split(read_all(st()));
        QJsonObject t = s.header["model.norm.weight"].toObject();
        t["dtype"] = "F8_E4M3";
        s.header["model.norm.weight"] = t;
        write_all(st(), join(s.header, s.data));
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "unknown dtype");
    }
    void missing_tensor() {
        auto s = split(read_all(st()));
        s.header.remove("model.layers.1.mlp.down_proj.weight");
        write_all(st(), join(s.header, s.data));
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "model.layers.1.mlp.down_proj.weight");
    }
    void wrongly_shaped_tensor() {
        auto s = split(read_all(st()));
        QJsonObject t = s.header["model.layers.0.attn.i_proj.weight"].toObject();
        const QJsonArray shape = t["shape"].toArray();
        // Same byte count, different shape: only the shape check can catch it.
        t["shape"] = QJsonArray{shape[0].toInt() / 2, shape[1].toInt() * 2};
        s.header["model.layers.0.attn.i_proj.weight"] = t;
        write_all(st(), join(s.header, s.data));
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "shape");
    }
    void non_finite_weight() {
        auto s = split(read_all(st()));
        const QJsonArray offs = s.header["model.layers.0.attn.f_proj.weight"].toObject()["data_offsets"].toArray();
        const float nan = std::numeric_limits<float>::quiet_NaN();
        s.data.replace(offs[0].toInt() + 40, 4, QByteArray(reinterpret_cast<const char*>(&nan), 4));
        write_all(st(), join(s.header, s.data));
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "non-finite");
    }

    void bad_config_data() {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<QString>("fragment");
        QTest::newRow("zero layers") << "num_hidden_layers" << QJsonValue(0) << "num_hidden_layers";
        QTest::newRow("negative hidden") << "hidden_size" << QJsonValue(-64) << "hidden_size";
        QTest::newRow("absurd vocab") << "vocab_size" << QJsonValue(1e12) << "vocab_size";
        QTest::newRow("string size") << "hidden_size" << QJsonValue("64") << "hidden_size";
        QTest::newRow("short conv") << "use_short_conv" << QJsonValue(true) << "use_short_conv";
        QTest::newRow("other architecture") << "model_type" << QJsonValue("llama") << "hgrn_bit";
        QTest::newRow("zero eps") << "rms_norm_eps" << QJsonValue(0) << "rms_norm_eps";
    }
    void bad_config() {
        QFETCH(QString, field);
        QFETCH(QJsonValue, value);
        QFETCH(QString, fragment);
        QJsonObject cfg = QJsonDocument::fromJson(read_all(model_ + "/config.json")).object();
        cfg[field] = value;
        write_all(model_ + "/config.json", QJsonDocument(cfg).toJson());
        const Error e = load_error(model_);
        QVERIFY2(e.code() == ErrorCode::CorruptFile || e.code() == ErrorCode::UnsupportedModel, e.what());
        QVERIFY2(QString(e.what()).contains(fragment), e.what());
    }
    void config_not_json() {
        write_all(model_ + "/config.json", "{ not json");
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "config.json");
    }
    void missing_paths() {
        EXPECT_LOAD_ERROR(dir_.path() + "/nope", ErrorCode::FileNotFound, "does not exist");
        QFile::remove(model_ + "/config.json");
        EXPECT_LOAD_ERROR(model_, ErrorCode::FileNotFound, "config.json");
    }
    void unreadable_file() {
        if (geteuid() == 0) {
            // root reads everything: simulate with a directory where the file should be.
            QFile::remove(st());
            QDir().mkpath(st());
        } else {
            QFile::setPermissions(st(), QFileDevice::Permissions());
        }
        const Error e = load_error(model_);
        QVERIFY2(e.code() == ErrorCode::FileNotFound, e.what());
    }

    void missing_tokenizer_for_text() {
        auto m = load_model(kGolden.toStdString());
        try {
            Tokenizer::for_model(*m);
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(e.code(), ErrorCode::TokenizerMissing);
            QVERIFY(QString(e.what()).contains("tokenizer.model"));
        }
    }
    void empty_prompt_and_bad_ids() {
        auto m = load_model(kGolden.toStdString());
        Session s(create_executor(m, cpu_backend()));
        QVERIFY_THROWS_EXCEPTION(Error, s.prefill({}));
        try {
            s.prefill({1, m->config.vocab_size});
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(e.code(), ErrorCode::InvalidArgument);
            QVERIFY(QString(e.what()).contains("outside the vocabulary"));
        }
        QVERIFY_THROWS_EXCEPTION(Error, s.step(-1));
        auto tok = Tokenizer::load(MMFREE_TEST_DATA "/mistral-v1.tokenizer.model");
        QVERIFY_THROWS_EXCEPTION(Error, generate(s, *tok, "", GenerateOptions{}));
    }
    void corrupt_state_blob() {
        auto m = load_model(kGolden.toStdString());
        Session s(create_executor(m, cpu_backend()));
        auto blob = s.save_state();
        blob.resize(blob.size() - 3);
        QVERIFY_THROWS_EXCEPTION(Error, s.restore_state(blob));
        QVERIFY_THROWS_EXCEPTION(Error, s.restore_state({1, 2, 3}));
    }

    // The CLI turns each error into a message and a non-zero exit, never a crash.
    void cli_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exit_code");
        QTest::addColumn<QString>("fragment");
        QTest::newRow("run without tokenizer") << QStringList{"run", "-m", kGolden, "-p", "hi"} << 1 << "tokenizer.model";
        QTest::newRow("empty prompt") << QStringList{"run", "-m", kGolden, "-p", ""} << 2 << "empty";
        QTest::newRow("id out of range") << QStringList{"logits", "-m", kGolden, "--ids", "1,99999", "-o", "/tmp/x.st"} << 2 << "vocabulary";
        QTest::newRow("bad ids") << QStringList{"logits", "-m", kGolden, "--ids", "1,x", "-o", "/tmp/x.st"} << 2 << "--ids";
        QTest::newRow("missing model") << QStringList{"info", "-m", "/no/such/model"} << 1 << "does not exist";
        QTest::newRow("unknown option") << QStringList{"run", "--bogus", "1"} << 2 << "--bogus";
        QTest::newRow("unknown backend") << QStringList{"logits", "-m", kGolden, "--ids", "1", "--backend", "tpu", "-o", "/tmp/x.st"} << 2 << "unknown backend";
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << 2 << "unknown command";
    }
    void cli() {
        QFETCH(QStringList, args);
        QFETCH(int, exit_code);
        QFETCH(QString, fragment);
        QProcess p;
        p.start(MMFREE_CLI, args);
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(p.exitCode() == exit_code, qPrintable(QString("exit %1: %2").arg(p.exitCode()).arg(err)));
        QVERIFY2(err.contains(fragment), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TestBadInput)
#include "test_bad_input.moc"
