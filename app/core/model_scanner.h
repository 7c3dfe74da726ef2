// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QList>
#include <QString>
#include <QStringList>

#include "hf_cache.h"

// Where models live on disk: the app's own download folders (<models dir>/<owner>--<name>, each
// with its manifest) and the Hugging Face cache, used in place. Finds them and deletes them;
// knows nothing about the hub or the list shown.
class ModelScanner {
public:
    void setModelsDirectory(const QString& dir) { modelsDir_ = dir; }
    QString modelsDirectory() const { return modelsDir_; }
    void setHfCacheDirectory(const QString& dir) { hfCacheDir_ = dir; }

    QString downloadDirFor(const QString& repoId) const;
    // Repositories with a download folder (finished or not), by the id in their manifest.
    QStringList downloadedRepos() const;
    // MatMul-free repositories in the Hugging Face cache.
    QList<HfCachedModel> cachedRepos() const { return scanHfCache(hfCacheDir_); }

    struct Deletion {
        qint64 freed = 0;   // bytes
        qint64 left = 0;    // bytes that could not be removed
    };
    // Removes a model folder (a download folder or a cache entry with its blobs).
    static Deletion deleteFolder(const QString& dir);

private:
    QString modelsDir_;
    QString hfCacheDir_;
};
