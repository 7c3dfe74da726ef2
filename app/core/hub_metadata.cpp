// SPDX-License-Identifier: Apache-2.0
#include "hub_metadata.h"

#include <algorithm>

#include "model_download.h"

void HubMetadata::fetch(const QString& repoId) {
    // Adding a repo selects it, and selecting asks again: one request of each kind is enough.
    if (inFlight_.contains(repoId)) return;
    inFlight_.insert(repoId);
    hub_->fetchModelInfo(repoId, QStringLiteral("main"), this, [this, repoId](const HubModelInfo& info, const NetError& e) {
        if (!e.ok()) {
            emit infoFailed(repoId, e.message);
            return;
        }
        info_.insert(repoId, info);
        emit infoArrived(repoId);
    });
    hub_->fetchFile(repoId, QStringLiteral("main"), QStringLiteral("config.json"), this,
                    [this, repoId](const QByteArray& bytes, const NetError& e) {
                        inFlight_.remove(repoId);   // the info sets an exact size, which keeps the page from asking again
                        if (!e.ok()) return;
                        try {
                            configs_.insert(repoId, mmfree::parse_config_json(bytes.toStdString()));
                        } catch (const std::exception&) {
                            return;   // the download's validation will say what is wrong
                        }
                        emit configArrived(repoId);
                    });
}

void HubMetadata::search(const QString& text) {
    hub_->search(text, QStringLiteral("hgrn_bit"), 50, this,
                 [this](const QList<HubSearchResult>& results, const NetError& e) { emit searchFinished(results, e); });
}

const HubModelInfo* HubMetadata::info(const QString& repoId) const {
    const auto it = info_.constFind(repoId);
    return it == info_.cend() ? nullptr : &*it;
}

const mmfree::ModelConfig* HubMetadata::config(const QString& repoId) const {
    const auto it = configs_.constFind(repoId);
    return it == configs_.cend() ? nullptr : &*it;
}

qint64 HubMetadata::modelBytes(const HubModelInfo& info) {
    qint64 n = 0;
    for (const HubFile& f : info.files)
        if (ModelDownload::isModelFile(f.path)) n += std::max<qint64>(f.size, 0);
    return n;
}
