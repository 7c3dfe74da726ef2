// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QAbstractListModel>
#include <QHash>
#include <QList>
#include <QPointer>
#include <QString>

#include "hf_client.h"
#include "hub_metadata.h"
#include "model_download.h"
#include "model_downloads.h"
#include "model_importer.h"
#include "model_library.h"
#include "model_memory.h"
#include "model_scanner.h"
#include "model_validator.h"

// The list behind the Models page: the released MatMul-free checkpoints, the built-in demo
// model, repositories added by id or from a search, models found in the Hugging Face cache (used
// in place) and imported folders/files. Each row says where the model is, what it needs on disk
// and in memory, and its state. It composes the parts that do the work: ModelLibrary (what the
// user asked to remember), ModelScanner (what is on disk), HubMetadata (what the hub says),
// ModelImporter (full checks off the UI thread) and ModelDownloads (the running downloads).
class ModelCatalog : public QAbstractListModel {
    Q_OBJECT
public:
    enum class Source { Demo, Release, Hub, Cache, Imported };
    enum class State { Available, Downloading, Paused, Installed, Broken };
    Q_ENUM(State)

    struct Entry {
        QString id;                 // repo id; "demo"; or the path of an imported model
        QString name;
        Source source = Source::Hub;
        State state = State::Available;
        QString path;               // what to load (empty while not on disk)
        QString location;           // where `path` is, in words
        qint64 downloadBytes = -1;  // size of the files to download
        bool downloadExact = false; // from the hub's listing (else an estimate from the config)
        qint64 diskBytes = -1;      // bytes on disk now
        bool haveMemory = false;
        MemoryEstimate memory;
        bool canChat = false;
        QString problem;            // why Broken, or why the last download stopped
        bool failed = false;        // the download gave up (checksum, retries used up): not merely paused
        bool waiting = false;       // the download waits to retry after a network error
        QString cacheRepoDir;       // Hugging Face cache entry to delete
        QPointer<ModelDownload> download;
    };

    enum Role {
        IdRole = Qt::UserRole + 1,
        StateRole,
        StateTextRole,
        SourceRole,
        PathRole,
        LocationRole,
        SizeTextRole,
        MemoryTextRole,
        ProgressRole,     // 0..1, or -1 when nothing is being downloaded
        StatusTextRole,   // progress line (speed, time left) or the problem
        ProblemRole,
        CanChatRole,
        CanDeleteRole,
    };

    explicit ModelCatalog(HubClient* hub, QObject* parent = nullptr);
    ~ModelCatalog() override;

    static QString defaultModelsDirectory();   // $MMFREE_MODELS_DIR, else <app data>/models
    static QStringList releasedRepos();        // ridger/MMfreeLM-370M, -1.3B, -2.7B

    // Configuration (tests point these at temporary folders); call refresh() afterwards.
    void setModelsDirectory(const QString& dir);
    QString modelsDirectory() const { return scanner_.modelsDirectory(); }
    void setHfCacheDirectory(const QString& dir) { scanner_.setHfCacheDirectory(dir); }
    void setDemoModelPath(const QString& path) { demoPath_ = path; }
    void setDownloadOptions(const ModelDownload::Options& o) { downloads_.setOptions(o); }
    HubClient* hub() const { return hubMetadata_.hub(); }

    // Rescans the disk: own downloads, the Hugging Face cache, imports. Cheap checks only
    // (headers, config); the engine loads a model when it is used or imported.
    void refresh();

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    int rowOf(const QString& id) const;
    const Entry* entry(const QString& id) const;
    const Entry& entryAt(int row) const { return entries_[row]; }
    QString idForPath(const QString& path) const;   // the entry that loads from `path`, if any

    static QString stateName(State s);
    // The state in words for one entry: "failed" and "waiting to retry" are downloads' own.
    static QString stateText(const Entry& e);

    // Adds a repository by id (and asks the hub for its size and config).
    bool addRepo(const QString& repoId, QString* error = nullptr);
    // Asks the hub for the exact download size and the config (memory needs) of a repository.
    void fetchDetails(const QString& repoId);
    void search(const QString& text);
    bool startDownload(const QString& id, QString* error = nullptr);
    void pauseDownload(const QString& id);
    void resumeDownload(const QString& id);
    void cancelDownload(const QString& id);
    // Validates on a worker thread, then adds it; importFinished reports file by file.
    void importPath(const QString& path);
    // Deletes the files (own downloads and Hugging Face cache entries) or, for imports and repos
    // added by hand that are not on disk, removes the entry. Returns the bytes freed.
    qint64 remove(const QString& id, QString* message = nullptr);

signals:
    void searchFinished(const QList<HubSearchResult>& results, const NetError& error);
    void importFinished(const QString& id, const ValidationReport& report);
    void downloadFinished(const QString& id);
    void downloadFailed(const QString& id, const QString& message);
    void removed(const QString& id, qint64 bytesFreed, const QString& message);
    void notice(const QString& text);

private:
    void updateFromDisk(Entry& e);
    void applyValidation(Entry& e, const ValidationReport& r);
    void applyConfig(Entry& e, const QString& dir);   // memory needs from a config.json already on disk
    void applyHubInfo(const QString& repoId);
    void applyHubConfig(const QString& repoId);
    void applyCheck(const QString& path, const ValidationReport& report, bool isImport);
    void downloadChanged(const QString& id, ModelDownload::State state);
    void downloadEnded(const QString& id, ModelDownload::State state);
    void rowChanged(const QString& id);
    Entry* find(const QString& id);

    ModelLibrary library_;
    ModelScanner scanner_;
    HubMetadata hubMetadata_;
    ModelImporter importer_;
    QString demoPath_;
    ModelDownloads downloads_;
    QList<Entry> entries_;
};
