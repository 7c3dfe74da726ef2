// SPDX-License-Identifier: Apache-2.0
#include "model_library.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include "hf_client.h"

void ModelLibrary::load() {
    addedRepos_.clear();
    importedPaths_.clear();
    QFile f(dir_ + QStringLiteral("/library.json"));
    if (!f.open(QIODevice::ReadOnly)) return;
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    for (const QJsonValue& v : o.value(QStringLiteral("added")).toArray())
        if (HubClient::isValidRepoId(v.toString())) addedRepos_ << v.toString();
    for (const QJsonValue& v : o.value(QStringLiteral("imported")).toArray()) importedPaths_ << v.toString();
}

void ModelLibrary::save() const {
    QDir().mkpath(dir_);
    QSaveFile f(dir_ + QStringLiteral("/library.json"));
    if (!f.open(QIODevice::WriteOnly)) return;
    f.write(QJsonDocument(QJsonObject{{QStringLiteral("added"), QJsonArray::fromStringList(addedRepos_)},
                                      {QStringLiteral("imported"), QJsonArray::fromStringList(importedPaths_)}})
                .toJson());
    f.commit();
}

void ModelLibrary::addRepo(const QString& repoId) {
    load();
    if (!addedRepos_.contains(repoId)) addedRepos_ << repoId;
    save();
}

void ModelLibrary::removeRepo(const QString& repoId) {
    load();
    addedRepos_.removeAll(repoId);
    save();
}

void ModelLibrary::addImport(const QString& path) {
    load();
    if (!importedPaths_.contains(path)) importedPaths_ << path;
    save();
}

void ModelLibrary::removeImport(const QString& path) {
    load();
    importedPaths_.removeAll(path);
    save();
}
