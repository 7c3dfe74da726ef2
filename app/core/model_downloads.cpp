// SPDX-License-Identifier: Apache-2.0
#include "model_downloads.h"

ModelDownloads::~ModelDownloads() {
    // Destroying a live download keeps its .part files for next time.
    qDeleteAll(live_);
}

ModelDownload* ModelDownloads::create(const QString& repoId, const QString& dir) {
    auto* d = new ModelDownload(hub_, repoId, dir, this);
    d->setOptions(options_);
    live_.insert(repoId, d);
    connect(d, &ModelDownload::progressChanged, this, [this, repoId] { emit progressChanged(repoId); });
    connect(d, &ModelDownload::notice, this, &ModelDownloads::notice);
    connect(d, &ModelDownload::stateChanged, this, [this, repoId, d](ModelDownload::State s) {
        if (s == ModelDownload::State::Finished || s == ModelDownload::State::Cancelled) {
            live_.remove(repoId);
            d->deleteLater();
            emit ended(repoId, s);
            return;
        }
        emit stateChanged(repoId, s);
    });
    return d;
}
