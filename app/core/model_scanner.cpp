// SPDX-License-Identifier: Apache-2.0
#include "model_scanner.h"

#include <QDir>
#include <QFileInfo>

#include "hf_client.h"
#include "model_download.h"
#include "model_validator.h"

QString ModelScanner::downloadDirFor(const QString& repoId) const {
    QString name = repoId;
    return modelsDir_ + u'/' + name.replace(u'/', QStringLiteral("--"));
}

QStringList ModelScanner::downloadedRepos() const {
    QStringList out;
    const QDir models(modelsDir_);
    for (const QString& sub : models.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        DownloadManifest m;
        if (DownloadManifest::load(models.filePath(sub), &m) && HubClient::isValidRepoId(m.repoId)) out << m.repoId;
    }
    return out;
}

ModelScanner::Deletion ModelScanner::deleteFolder(const QString& dir) {
    Deletion d;
    if (dir.isEmpty() || !QFileInfo::exists(dir)) return d;
    const qint64 before = modelDiskBytes(dir);
    QDir(dir).removeRecursively();
    d.left = QFileInfo::exists(dir) ? modelDiskBytes(dir) : 0;
    d.freed = before - d.left;
    return d;
}
