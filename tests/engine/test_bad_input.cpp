// SPDX-License-Identifier: Apache-2.0
// Every kind of broken input gets a specific error (never a crash), in the library and the CLI.
#include <QtTest>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "mmfree/error.h"
#include "mmfree/generate.h"
#include "mmfree/inspect.h"
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

// A refusal a person can read: one line, no library internals, no raw bytes, bounded length.
void check_message(const QString& m) {
    QVERIFY2(!m.contains('\n'), qPrintable(m));
    QVERIFY2(m.size() < 600, qPrintable(QString("%1 chars: %2").arg(m.size()).arg(m.left(200))));
    for (const char* internal : {"json.exception", "sentencepiece_processor", ".cc(", "basic_filebuf", "filesystem error",
                                 "bad_alloc", "unexpected error", "what()"})
        QVERIFY2(!m.contains(internal), qPrintable(m));
    for (QChar c : m) QVERIFY2(c.unicode() >= 0x20, qPrintable("control character in: " + m));
}

// Runs `body`; if it is still running after a few seconds it is blocked on a FIFO: the watchdog
// then opens every FIFO for writing (so the reader wakes up) and the test fails instead of hanging.
bool finishes_without_blocking(const QStringList& fifos, const std::function<void()>& body) {
    std::atomic<bool> done{false}, rescued{false};
    std::thread watchdog([&] {
        for (int i = 0; i < 500 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (done) return;
        rescued = true;
        while (!done)
            for (const QString& f : fifos) {
                const int fd = ::open(f.toLocal8Bit().constData(), O_WRONLY | O_NONBLOCK);
                if (fd >= 0) ::close(fd);
            }
    });
    body();
    done = true;
    watchdog.join();
    return !rescued;
}

// The error of `body`, as load_error does for loading.
Error error_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const Error& e) {
        return e;
    } catch (const std::exception& e) {
        return Error(ErrorCode::Internal, std::string("not an mmfree::Error: ") + e.what());
    }
    return Error(ErrorCode::Internal, "no error");
}

// Offset of the value of a scalar GGUF metadata entry (after its u64 key length, key, u32 type).
qsizetype gguf_value_at(const QByteArray& file, const QByteArray& key) {
    const quint64 n = quint64(key.size());
    const qsizetype at = file.indexOf(QByteArray(reinterpret_cast<const char*>(&n), 8) + key);
    if (at < 0) qFatal("key %s not in the file", key.constData());
    return at + 8 + key.size() + 4;
}

const QString kDemo = MMFREE_TEST_DATA "/../../resources/models/mmfree-demo.gguf";

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
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "damaged header");
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
        QTest::newRow("bos -1") << "bos_token_id" << QJsonValue(-1) << "bos_token_id";
        QTest::newRow("eos -1") << "eos_token_id" << QJsonValue(-1) << "eos_token_id";
        QTest::newRow("huge model_type") << "model_type" << QJsonValue(QString(100000, 'x')) << "hgrn_bit";
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
        check_message(e.what());
    }
    void config_not_json() {
        write_all(model_ + "/config.json", "{ not json");
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "config.json");
        check_message(load_error(model_).what());   // no "[json.exception.parse_error.101] …"
    }

    // --- hostile files (issue 20, part 3) ---------------------------------------------------

    void device_file_as_config() {
        QFile::remove(model_ + "/config.json");
        QVERIFY(QFile::link("/dev/zero", model_ + "/config.json"));
        const Error e = load_error(model_);   // used to read /dev/zero until memory ran out
        QVERIFY2(e.code() == ErrorCode::FileNotFound, e.what());
        QVERIFY2(QString(e.what()).contains("config.json") && QString(e.what()).contains("device"), e.what());
        check_message(e.what());
        const ModelInspection in = inspect_model(model_.toStdString());
        QVERIFY(!in.usable());
        QCOMPARE(in.files.front().file, std::string("config.json"));
        QCOMPARE(in.files.front().code, ErrorCode::FileNotFound);
    }
    void device_file_as_tokenizer() {
        QVERIFY(QFile::link("/dev/zero", model_ + "/tokenizer.model"));
        const Error e = error_of([&] { Tokenizer::load((model_ + "/tokenizer.model").toStdString()); });
        QVERIFY2(e.code() == ErrorCode::FileNotFound && QString(e.what()).contains("device"), e.what());
        check_message(e.what());
        const Error viaModel = error_of([&] { Tokenizer::for_model(*load_model(model_.toStdString())); });
        QVERIFY2(QString(viaModel.what()).contains("tokenizer.model"), viaModel.what());
        const ModelInspection in = inspect_model(model_.toStdString());
        QVERIFY(in.usable());   // the weights are fine; only chat is impossible
        QVERIFY(!in.can_chat());
    }
    void oversized_small_files() {
        // A regular file far beyond any real config is refused by size, before it is read.
        QFile f(model_ + "/config.json");
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        QVERIFY(f.resize(qint64(64) << 20));
        f.close();
        const Error e = load_error(model_);
        QVERIFY2(e.code() == ErrorCode::CorruptFile && QString(e.what()).contains("config.json"), e.what());
        check_message(e.what());
    }
    void fifos_never_block_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("model.safetensors") << "model.safetensors";
        QTest::newRow("config.json") << "config.json";
        QTest::newRow("tokenizer.model") << "tokenizer.model";
        QTest::newRow("tokenizer_config.json") << "tokenizer_config.json";
        QTest::newRow("index") << "model.safetensors.index.json";
        QTest::newRow("x.gguf") << "x.gguf";
    }
    void fifos_never_block() {
        QFETCH(QString, file);
        QString target = model_;
        if (file == "model.safetensors.index.json") QFile::remove(st());
        if (file == "x.gguf") target = dir_.path() + "/x.gguf";
        const QString fifo = file == "x.gguf" ? target : model_ + "/" + file;
        QFile::remove(fifo);
        QVERIFY(::mkfifo(fifo.toLocal8Bit().constData(), 0600) == 0);
        QString loadMessage, inspectMessage;
        const bool unblocked = finishes_without_blocking({fifo}, [&] {
            loadMessage = error_of([&] {
                auto m = load_model(target.toStdString());
                Tokenizer::for_model(*m);
            }).what();
            const ModelInspection in = inspect_model(target.toStdString());
            for (const FileCheck& c : in.files)
                if (!c.ok) inspectMessage += QString::fromStdString(c.message);
        });
        QVERIFY2(unblocked, "a FIFO blocked the load");
        QVERIFY2(loadMessage.contains("FIFO"), qPrintable(loadMessage));
        QVERIFY2(inspectMessage.contains("FIFO"), qPrintable(inspectMessage));
        check_message(loadMessage);
    }
    void directory_and_long_names() {
        QFile::remove(model_ + "/config.json");
        QDir().mkpath(model_ + "/config.json");
        Error e = load_error(model_);   // was "unexpected error: basic_filebuf::underflow … Is a directory"
        QVERIFY2(QString(e.what()).contains("directory"), e.what());
        check_message(e.what());
        const QString longName = dir_.path() + "/" + QString(5000, 'n');   // was "filesystem error: … File name too long"
        e = load_error(longName);
        QVERIFY2(e.code() == ErrorCode::FileNotFound, e.what());
        check_message(e.what());
        const ModelInspection in = inspect_model(longName.toStdString());
        QVERIFY(!in.usable());
        check_message(QString::fromStdString(in.files.front().message));
    }
    void tokenizer_messages_in_words() {
        write_all(model_ + "/tokenizer.model", "this is not a protobuf \x01\x02\xff");
        const Error e = error_of([&] { Tokenizer::load((model_ + "/tokenizer.model").toStdString()); });
        QCOMPARE(e.code(), ErrorCode::CorruptFile);
        QVERIFY2(QString(e.what()).contains("not a SentencePiece model"), e.what());
        check_message(e.what());   // no "sentencepiece_processor.cc(1101)"
    }
    void tokenizer_with_fewer_pieces_than_vocab() {
        Model m;
        m.source = "a-model";
        m.config.vocab_size = 32064;   // the tokenizer has 32000: ids 32000… could never be turned into text
        m.tokenizer_path = MMFREE_TEST_DATA "/mistral-v1.tokenizer.model";
        Error e = error_of([&] { Tokenizer::for_model(m); });
        QVERIFY2(e.code() == ErrorCode::UnsupportedModel && QString(e.what()).contains("32000 pieces"), e.what());
        m.config.vocab_size = 31999;   // more pieces than ids: refused as before
        e = error_of([&] { Tokenizer::for_model(m); });
        QCOMPARE(e.code(), ErrorCode::UnsupportedModel);
        m.config.vocab_size = 32000;
        QCOMPARE(Tokenizer::for_model(m)->vocab_size(), 32000);
    }
    void duplicate_tensor_names() {
        const auto s = split(read_all(st()));
        QByteArray header = QJsonDocument(s.header).toJson(QJsonDocument::Compact);
        // The same name again, pointing at another tensor's bytes: which one is meant?
        const QByteArray dup = ",\"model.norm.weight\":" + QJsonDocument(s.header["lm_head.norm.weight"].toObject()).toJson(QJsonDocument::Compact);
        header.insert(header.size() - 1, dup);
        const quint64 n = quint64(header.size());
        write_all(st(), QByteArray(reinterpret_cast<const char*>(&n), 8) + header + s.data);
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "twice");
        check_message(load_error(model_).what());
    }
    // Found by fuzz_safetensors: a float where an integer belongs (converting 2.2e40 was undefined behaviour).
    void float_in_shape() {
        auto s = split(read_all(st()));
        QJsonObject t = s.header["model.norm.weight"].toObject();
        t["shape"] = QJsonArray{2.2e40};
        s.header["model.norm.weight"] = t;
        write_all(st(), join(s.header, s.data));
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "not a list of integers");
        t["shape"] = QJsonArray{64};
        t["data_offsets"] = QJsonArray{-4, 252};
        s.header["model.norm.weight"] = t;
        write_all(st(), join(s.header, s.data));
        EXPECT_LOAD_ERROR(model_, ErrorCode::CorruptFile, "data_offsets");
    }
    // Found by fuzz_tokenizer: SentencePiece ends the process on an empty piece; refused before.
    void tokenizer_with_an_empty_piece() {
        const QString seed = MMFREE_TEST_DATA "/../fuzz/corpus/tokenizer/regression-empty-piece.model";
        const Error e = error_of([&] { Tokenizer::load(seed.toStdString()); });
        QVERIFY2(e.code() == ErrorCode::CorruptFile && QString(e.what()).contains("not a SentencePiece model"), e.what());
        check_message(e.what());
    }
    void gguf_unknown_token_out_of_range() {
        QByteArray f = read_all(kDemo);
        const quint32 huge = 8000;   // the demo vocabulary has 8000 ids: 0 … 7999
        f.replace(gguf_value_at(f, "tokenizer.ggml.unknown_token_id"), 4, QByteArray(reinterpret_cast<const char*>(&huge), 4));
        write_all(dir_.path() + "/unk.gguf", f);
        const Error e = load_error(dir_.path() + "/unk.gguf");
        QVERIFY2(e.code() == ErrorCode::CorruptFile && QString(e.what()).contains("unknown_token_id"), e.what());
        check_message(e.what());
    }
    void gguf_nan_token_score() {
        QByteArray f = read_all(kDemo);
        // scores: u32 element type, u64 count, then the floats; poison token 5's score.
        const qsizetype first = gguf_value_at(f, "tokenizer.ggml.scores") + 4 + 8;
        const float nan = std::numeric_limits<float>::quiet_NaN();
        f.replace(first + 5 * 4, 4, QByteArray(reinterpret_cast<const char*>(&nan), 4));
        write_all(dir_.path() + "/nan.gguf", f);
        const Error e = load_error(dir_.path() + "/nan.gguf");
        QVERIFY2(e.code() == ErrorCode::CorruptFile && QString(e.what()).contains("scores") && QString(e.what()).contains("token 5"), e.what());
        check_message(e.what());
    }
    void gguf_binary_key_and_huge_value() {
        QByteArray f = read_all(kDemo);
        // A key of raw bytes (same length) with an unknown value type: the message names the key.
        const QByteArray key = "hgrn_bit.ternary_layout";
        const qsizetype at = f.indexOf(key);
        QVERIFY(at > 0);
        f.replace(at, 8, QByteArray("\x01\x02\x1b[31m\xff", 8));
        const quint32 unknown_type = 99;
        f.replace(at + key.size(), 4, QByteArray(reinterpret_cast<const char*>(&unknown_type), 4));
        write_all(dir_.path() + "/binary-key.gguf", f);
        Error e = load_error(dir_.path() + "/binary-key.gguf");
        QCOMPARE(e.code(), ErrorCode::CorruptFile);
        QVERIFY2(QString(e.what()).contains("\\x1B[31m"), e.what());
        check_message(e.what());

        QByteArray g = read_all(kDemo);
        const QByteArray arch = "general.architecture";
        const qsizetype len_at = gguf_value_at(g, arch);   // u64 length, then "hgrn_bit"
        const QByteArray big(8 + 64 * 1563, 'q');   // the header grows by whole 64-byte alignment units
        const quint64 n = quint64(big.size());
        g.replace(len_at, 8 + 8, QByteArray(reinterpret_cast<const char*>(&n), 8) + big);
        write_all(dir_.path() + "/huge-value.gguf", g);
        e = load_error(dir_.path() + "/huge-value.gguf");
        QVERIFY2(e.code() == ErrorCode::UnsupportedModel, e.what());
        check_message(e.what());
    }
    void inspect_reports_file_by_file() {
        ModelInspection in = inspect_model(model_.toStdString());
        QVERIFY(in.usable());
        QVERIFY(in.loaded);
        QVERIFY(in.have_config);
        QCOMPARE(in.config.vocab_size, 512);
        QCOMPARE(in.fingerprint, load_model(model_.toStdString())->fingerprint);
        QVERIFY(!in.tokenizer_found);
        QVERIFY(!in.can_chat());
        // A broken shape passes the header checks and is caught by the full load, on the weights file.
        auto s = split(read_all(st()));
        s.header.remove("model.norm.weight");
        write_all(st(), join(s.header, s.data));
        in = inspect_model(model_.toStdString(), false);
        QVERIFY(in.usable());
        in = inspect_model(model_.toStdString());
        QVERIFY(!in.usable());
        const FileCheck& bad = in.files.back();
        QCOMPARE(bad.file, std::string("model.safetensors"));
        QCOMPARE(bad.code, ErrorCode::CorruptFile);
        QVERIFY2(QString::fromStdString(bad.message).contains("model.norm.weight"), bad.message.c_str());
        // The packed demo model: header, config and embedded tokenizer without a full load.
        in = inspect_model(kDemo.toStdString(), false);
        QVERIFY(in.usable());
        QCOMPARE(in.config.vocab_size, 8000);
        QVERIFY(in.tokenizer_matches);
    }
    void missing_paths() {
        EXPECT_LOAD_ERROR(dir_.path() + "/nope", ErrorCode::FileNotFound, "does not exist");
        EXPECT_LOAD_ERROR(dir_.path() + "/Modèles/nope", ErrorCode::FileNotFound, "Modèles/nope");   // UTF-8 names stay readable
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

    // `mmfree info` shows the weights' identity, the key saved states are stored under.
    void cli_info_prints_fingerprint() {
        QProcess p;
        p.start(MMFREE_CLI, {"info", "-m", kGolden});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        const std::string fp = load_model(kGolden.toStdString())->fingerprint;
        QCOMPARE(fp.size(), size_t(32));
        QVERIFY2(out.contains(QString::fromStdString("\nfingerprint: " + fp + "\n")), qPrintable(out));
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
