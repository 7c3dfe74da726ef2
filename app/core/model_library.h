// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QString>
#include <QStringList>

// The models the user asked the library to remember: repositories added by id and imported
// folders/files, kept in <models dir>/library.json. Every change re-reads the file first, so two
// catalogs on one folder (the app and a test, two windows) do not undo each other's edits.
class ModelLibrary {
public:
    void setDirectory(const QString& dir) { dir_ = dir; }
    QString directory() const { return dir_; }

    void load();   // re-reads library.json; a missing or unreadable file means an empty library
    const QStringList& addedRepos() const { return addedRepos_; }
    const QStringList& importedPaths() const { return importedPaths_; }

    void addRepo(const QString& repoId);
    void removeRepo(const QString& repoId);
    void addImport(const QString& path);
    void removeImport(const QString& path);

private:
    void save() const;

    QString dir_;
    QStringList addedRepos_;
    QStringList importedPaths_;
};
