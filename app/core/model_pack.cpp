// SPDX-License-Identifier: Apache-2.0
#include "core/model_pack.h"

#include <QDir>
#include <QFileInfo>

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

} // namespace ModelPack
