// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>

#include "model_download.h"

class HubClient;

// The downloads running now, one ModelDownload per repository: starts them, forwards their
// progress and ends, and lets a finished or cancelled one go.
class ModelDownloads : public QObject {
    Q_OBJECT
public:
    explicit ModelDownloads(HubClient* hub, QObject* parent = nullptr) : QObject(parent), hub_(hub) {}
    ~ModelDownloads() override;

    void setOptions(const ModelDownload::Options& o) { options_ = o; }

    // A new download of `repoId` into `dir`; call ModelDownload::start() once the row knows it.
    ModelDownload* create(const QString& repoId, const QString& dir);
    ModelDownload* find(const QString& repoId) const { return live_.value(repoId); }
    QStringList ids() const { return live_.keys(); }

signals:
    void progressChanged(const QString& repoId);
    // Any change of state but the end: paused, waiting, failed, running again.
    void stateChanged(const QString& repoId, ModelDownload::State state);
    // Finished or cancelled: the download is gone from the live list.
    void ended(const QString& repoId, ModelDownload::State state);
    void notice(const QString& text);

private:
    HubClient* hub_;
    ModelDownload::Options options_;
    QHash<QString, ModelDownload*> live_;
};
