// SPDX-License-Identifier: Apache-2.0
#include "model_validator.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QtEndian>

#include "mmfree/error.h"
#include "mmfree/tokenizer.h"
#include "model_memory.h"

namespace {

using Problem = ValidationReport::Problem;

// Reads a safetensors header and checks it against the file size: the cheap test that catches
// truncated downloads without mapping gigabytes.
QString checkSafetensors(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return QStringLiteral("cannot be read: %1").arg(f.errorString());
    const qint64 size = f.size();
    if (size < 8) return QStringLiteral("is only %1 bytes; a safetensors file starts with an 8-byte header length").arg(size);
    const QByteArray lenBytes = f.read(8);
    const quint64 headerLen = qFromLittleEndian<quint64>(lenBytes.constData());
    if (headerLen > quint64(size - 8) || headerLen > (100u << 20))
        return QStringLiteral("is truncated or not safetensors: its header claims %1 bytes, the file has %2")
            .arg(headerLen).arg(size);
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.read(qint64(headerLen)), &pe);
    if (!doc.isObject()) return QStringLiteral("has a damaged header (%1)").arg(pe.errorString());
    qint64 dataEnd = 0;
    const QJsonObject tensors = doc.object();
    for (auto it = tensors.begin(); it != tensors.end(); ++it) {
        if (it.key() == QLatin1String("__metadata__")) continue;
        const auto offsets = it.value().toObject().value(QStringLiteral("data_offsets")).toArray();
        if (offsets.size() != 2) return QStringLiteral("has a damaged header: tensor %1 has no data_offsets").arg(it.key());
        dataEnd = std::max<qint64>(dataEnd, offsets.at(1).toInteger());
    }
    const qint64 needed = 8 + qint64(headerLen) + dataEnd;
    if (needed > size)
        return QStringLiteral("is truncated: its header says %1, the file has %2 (an interrupted copy or download?)")
            .arg(formatBytes(needed), formatBytes(size));
    return {};
}

// The engine's messages name the file they are about; attribute them to it.
QString fileNamedIn(const QString& message, const QStringList& candidates) {
    for (const QString& c : candidates)
        if (message.contains(c)) return c;
    return {};
}

} // namespace

bool ValidationReport::ok() const {
    for (const Problem& p : problems)
        if (p.fatal) return false;
    return true;
}

QString ValidationReport::summary() const {
    QStringList lines;
    for (const Problem& p : problems) lines << (p.file.isEmpty() ? p.message : p.file + QStringLiteral(": ") + p.message);
    return lines.join(u'\n');
}

qint64 modelDiskBytes(const QString& path) {
    const QFileInfo fi(path);
    if (fi.isFile()) return fi.size();
    qint64 n = 0;
    QSet<QString> seen;   // the HF cache may link several names to one blob
    QDirIterator it(path, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QFileInfo f(it.next());
        const QString target = f.canonicalFilePath();
        if (target.isEmpty() || seen.contains(target)) continue;
        seen.insert(target);
        n += QFileInfo(target).size();
    }
    return n;
}

ValidationReport validateModel(const QString& path, bool fullLoad) {
    ValidationReport r;
    r.path = path;
    const QFileInfo info(path);
    if (!info.exists()) {
        r.problems << Problem{path, QStringLiteral("does not exist")};
        return r;
    }
    r.diskBytes = modelDiskBytes(path);
    QStringList names;   // files we know about, for attributing engine errors

    if (info.isDir()) {
        const QDir dir(path);
        const bool hasGguf = !dir.entryList({QStringLiteral("*.gguf")}, QDir::Files).isEmpty();
        // config.json
        const QString configPath = dir.filePath(QStringLiteral("config.json"));
        if (!QFile::exists(configPath)) {
            if (!hasGguf)
                r.problems << Problem{QStringLiteral("config.json"),
                                      QStringLiteral("is missing; a model folder needs config.json next to the weights")};
        } else {
            QFile f(configPath);
            if (!f.open(QIODevice::ReadOnly)) {
                r.problems << Problem{QStringLiteral("config.json"), QStringLiteral("cannot be read: %1").arg(f.errorString())};
            } else {
                try {
                    r.config = mmfree::parse_config_json(f.readAll().toStdString());
                    r.haveConfig = true;
                } catch (const std::exception& e) {
                    QString m = QString::fromStdString(e.what());
                    if (m.startsWith(QStringLiteral("config.json: "))) m = m.mid(13);
                    r.problems << Problem{QStringLiteral("config.json"), m};
                }
            }
        }
        // Weights: a shard index, or the safetensors files themselves.
        QStringList shards;
        const QString indexPath = dir.filePath(QStringLiteral("model.safetensors.index.json"));
        if (QFile::exists(indexPath)) {
            QFile f(indexPath);
            f.open(QIODevice::ReadOnly);
            const QJsonObject map = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("weight_map")).toObject();
            if (map.isEmpty())
                r.problems << Problem{QStringLiteral("model.safetensors.index.json"), QStringLiteral("has no weight_map")};
            QSet<QString> unique;
            for (auto it = map.begin(); it != map.end(); ++it) unique.insert(it.value().toString());
            shards = QStringList(unique.begin(), unique.end());
            shards.sort();
            for (const QString& s : std::as_const(shards))
                if (!QFile::exists(dir.filePath(s)))
                    r.problems << Problem{s, QStringLiteral("is missing (listed in model.safetensors.index.json)")};
        } else {
            shards = dir.entryList({QStringLiteral("*.safetensors")}, QDir::Files, QDir::Name);
            if (shards.isEmpty() && !hasGguf && r.haveConfig)
                r.problems << Problem{QStringLiteral("model.safetensors"), QStringLiteral("is missing: no *.safetensors weights in the folder")};
        }
        for (const QString& s : std::as_const(shards)) {
            names << s;
            if (!QFile::exists(dir.filePath(s))) continue;
            const QString m = checkSafetensors(dir.filePath(s));
            if (!m.isEmpty()) r.problems << Problem{s, m};
        }
        // Tokenizer: without it the model computes logits but cannot chat.
        const QString tokPath = dir.filePath(QStringLiteral("tokenizer.model"));
        if (!QFile::exists(tokPath)) {
            r.problems << Problem{QStringLiteral("tokenizer.model"),
                                  QStringLiteral("is missing: the model loads, but chat needs its SentencePiece tokenizer"), false};
        } else {
            try {
                auto tok = mmfree::Tokenizer::load(tokPath.toStdString());
                if (r.haveConfig && tok->vocab_size() > r.config.vocab_size)
                    r.problems << Problem{QStringLiteral("tokenizer.model"),
                                          QStringLiteral("has %1 pieces but config.json says vocab_size %2: it belongs to another "
                                                         "model; the model loads, but chat is disabled")
                                              .arg(tok->vocab_size()).arg(r.config.vocab_size), false};
                else
                    r.canChat = true;
            } catch (const std::exception& e) {
                r.problems << Problem{QStringLiteral("tokenizer.model"), QString::fromStdString(e.what())};
            }
        }
        names << QStringLiteral("config.json") << QStringLiteral("tokenizer_config.json") << QStringLiteral("tokenizer.model")
              << QStringLiteral("model.safetensors.index.json");
    }
    if (!r.ok() || !fullLoad) return r;

    // The engine has the final word: tensor names, shapes, dtypes, finite values.
    try {
        auto model = mmfree::load_model(path.toStdString());
        r.config = model->config;
        r.haveConfig = true;
        if (info.isFile() || !model->tokenizer_model.empty()) {
            // A packed file carries its tokenizer inside; the engine's own check is the one that counts.
            r.problems.erase(std::remove_if(r.problems.begin(), r.problems.end(),
                                            [](const Problem& p) { return p.file == QLatin1String("tokenizer.model"); }),
                             r.problems.end());
            try {
                mmfree::Tokenizer::for_model(*model);
                r.canChat = true;
            } catch (const std::exception& e) {
                r.canChat = false;
                r.problems << Problem{info.fileName(), QString::fromStdString(e.what()), false};
            }
        }
    } catch (const std::exception& e) {
        const QString m = QString::fromStdString(e.what());
        QString file = info.isFile() ? info.fileName() : fileNamedIn(m, names);
        QString text = m;
        // Drop the path prefix the engine adds; the file column already says where.
        const int at = text.indexOf(file.isEmpty() ? QStringLiteral("\x01") : file);
        if (at >= 0 && text.mid(at + file.size()).startsWith(QStringLiteral(": "))) text = text.mid(at + file.size() + 2);
        r.problems << Problem{file, text};
    }
    return r;
}
