// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>

#include "hf_client.h"
#include "mmfree/model.h"

// What the hub says about repositories before they are downloaded: the file listing (exact
// download size, model type) and config.json (memory needs). One request of each kind per
// repository at a time; answers are kept for the session.
class HubMetadata : public QObject {
    Q_OBJECT
public:
    explicit HubMetadata(HubClient* hub, QObject* parent = nullptr) : QObject(parent), hub_(hub) {}
    HubClient* hub() const { return hub_; }

    void fetch(const QString& repoId);
    void search(const QString& text);

    const HubModelInfo* info(const QString& repoId) const;
    const mmfree::ModelConfig* config(const QString& repoId) const;
    // Bytes of the model files in a listing (what a download fetches).
    static qint64 modelBytes(const HubModelInfo& info);

signals:
    void infoArrived(const QString& repoId);
    void infoFailed(const QString& repoId, const QString& message);
    void configArrived(const QString& repoId);
    void searchFinished(const QList<HubSearchResult>& results, const NetError& error);

private:
    HubClient* hub_;
    QSet<QString> inFlight_;
    QHash<QString, HubModelInfo> info_;
    QHash<QString, mmfree::ModelConfig> configs_;
};
