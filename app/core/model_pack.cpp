// SPDX-License-Identifier: Apache-2.0
#include "core/model_pack.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include "format/loaders.h"

namespace ModelPack {

bool isPackable(const QString& path) {
    const QFileInfo info(path);
    return info.isDir() && QFileInfo::exists(QDir(path).filePath(QStringLiteral("config.json")));
}

// A subfolder: the engine would take a *.gguf directly in a folder without config.json for the model.
QString packDirectory(const QString& folder) { return QDir(folder).filePath(QStringLiteral("mmfree-pack")); }

QString packFile(const QString& folder, const QString& fingerprint) {
    return QDir(packDirectory(folder)).filePath(fingerprint + QStringLiteral(".gguf"));
}

QString existingPack(const QString& folder) {
    const QStringList packs = QDir(packDirectory(folder)).entryList({QStringLiteral("*.gguf")}, QDir::Files);
    return packs.isEmpty() ? QString() : QDir(packDirectory(folder)).filePath(packs.first());
}

qint64 diskBytes(const QString& folder) {
    qint64 total = 0;
    for (const QFileInfo& f : QDir(packDirectory(folder)).entryInfoList(QDir::Files)) total += f.size();
    return total;
}

bool remove(const QString& folder) {
    QDir dir(packDirectory(folder));
    return !dir.exists() || dir.removeRecursively();
}

// Every file of the folder itself (not the pack folder): name → [size, modified, metadata changed]
// (ms since the epoch). Any write, rename or date change moves the last one, which no program can
// set back, so weights rewritten with the same size and date still read as changed.
static QJsonObject fileStamps(const QString& folder) {
    QJsonObject stamps;
    for (const QFileInfo& f : QDir(folder).entryInfoList(QDir::Files | QDir::Hidden, QDir::Name))
        stamps.insert(f.fileName(), QJsonArray{double(f.size()), double(f.lastModified().toMSecsSinceEpoch()),
                                               double(f.metadataChangeTime().toMSecsSinceEpoch())});
    return stamps;
}

static QString recordFile(const QString& folder) { return QDir(packDirectory(folder)).filePath(QStringLiteral("fingerprint.json")); }

void rememberFingerprint(const QString& folder, const QString& fingerprint) {
    QDir().mkpath(packDirectory(folder));
    QSaveFile file(recordFile(folder));
    if (!file.open(QIODevice::WriteOnly)) return;   // not remembered: the next switch hashes again
    file.write(QJsonDocument(QJsonObject{{"fingerprint", fingerprint}, {"files", fileStamps(folder)}}).toJson());
    file.commit();
}

QString fingerprint(const QString& folder, bool* remembered) {
    if (remembered) *remembered = true;
    QFile file(recordFile(folder));
    if (file.open(QIODevice::ReadOnly)) {
        const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
        const QString value = record.value(QStringLiteral("fingerprint")).toString();
        if (!value.isEmpty() && record.value(QStringLiteral("files")).toObject() == fileStamps(folder)) return value;
    }
    if (remembered) *remembered = false;
    return QString::fromStdString(mmfree::hf_folder_fingerprint(folder.toStdString()));
}

} // namespace ModelPack
