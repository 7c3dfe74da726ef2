// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QList>
#include <QString>

// A MatMul-free model found in the Hugging Face cache, used in place (never copied):
// <hub>/models--<owner>--<name>/snapshots/<revision>/ holds symlinks into ../../blobs/.
struct HfCachedModel {
    QString repoId;        // "ridger/MMfreeLM-370M"
    QString repoDir;       // <hub>/models--ridger--MMfreeLM-370M (deleting frees its blobs)
    QString snapshotDir;   // the folder to load
    QString revision;
};

// $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
QString hfHubCacheDirectory();

// Every cached repository whose config.json says model_type "hgrn_bit". The snapshot is the one
// refs/main points to, else the most recently modified one.
QList<HfCachedModel> scanHfCache(const QString& hubDir);
