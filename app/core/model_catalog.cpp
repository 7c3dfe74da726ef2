// SPDX-License-Identifier: Apache-2.0
#include "model_catalog.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include "core/app_settings.h"
#include "hf_cache.h"

namespace {

QString releaseShape(const QString& repoId) {
    if (repoId == QLatin1String("ridger/MMfreeLM-370M")) return QStringLiteral("370M");
    if (repoId == QLatin1String("ridger/MMfreeLM-1.3B")) return QStringLiteral("1.3B");
    if (repoId == QLatin1String("ridger/MMfreeLM-2.7B")) return QStringLiteral("2.7B");
    return {};
}

QString cleanPath(const QString& path) {
    const QString canonical = QFileInfo(path).canonicalFilePath();
    return canonical.isEmpty() ? QDir::cleanPath(QFileInfo(path).absoluteFilePath()) : canonical;
}

} // namespace

ModelCatalog::ModelCatalog(HubClient* hub, QObject* parent)
    : QAbstractListModel(parent), hubMetadata_(hub), downloads_(hub) {
    qRegisterMetaType<NetError>();
    qRegisterMetaType<QList<HubSearchResult>>();
    setModelsDirectory(defaultModelsDirectory());
    scanner_.setHfCacheDirectory(hfHubCacheDirectory());
    // The same demo model the app opens on first run.
    demoPath_ = AppSettings::defaultModelPath();
    connect(&hubMetadata_, &HubMetadata::infoArrived, this, &ModelCatalog::applyHubInfo);
    connect(&hubMetadata_, &HubMetadata::configArrived, this, &ModelCatalog::applyHubConfig);
    connect(&hubMetadata_, &HubMetadata::infoFailed, this, [this](const QString& repoId, const QString& message) {
        if (Entry* entry = find(repoId); entry && entry->state == State::Available) {
            entry->problem = message;
            rowChanged(repoId);
        }
        emit notice(message);
    });
    connect(&hubMetadata_, &HubMetadata::searchFinished, this, &ModelCatalog::searchFinished);
    connect(&importer_, &ModelImporter::checked, this, &ModelCatalog::applyCheck);
    connect(&downloads_, &ModelDownloads::progressChanged, this, &ModelCatalog::rowChanged);
    connect(&downloads_, &ModelDownloads::notice, this, &ModelCatalog::notice);
    connect(&downloads_, &ModelDownloads::stateChanged, this, &ModelCatalog::downloadChanged);
    connect(&downloads_, &ModelDownloads::ended, this, &ModelCatalog::downloadEnded);
}

void ModelCatalog::setModelsDirectory(const QString& dir) {
    scanner_.setModelsDirectory(dir);
    library_.setDirectory(dir);
}

ModelCatalog::~ModelCatalog() {
    // The downloads that stop as the catalog goes must not update rows that are going too.
    disconnect(&downloads_, nullptr, this, nullptr);
}

QString ModelCatalog::defaultModelsDirectory() {
    const QString env = qEnvironmentVariable("MMFREE_MODELS_DIR");
    if (!env.isEmpty()) return env;
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/models");
}

QStringList ModelCatalog::releasedRepos() {
    return {QStringLiteral("ridger/MMfreeLM-370M"), QStringLiteral("ridger/MMfreeLM-1.3B"), QStringLiteral("ridger/MMfreeLM-2.7B")};
}

QString ModelCatalog::stateName(State s) {
    switch (s) {
    case State::Available: return tr("available");
    case State::Downloading: return tr("downloading");
    case State::Paused: return tr("paused");
    case State::Installed: return tr("installed");
    case State::Broken: return tr("broken");
    }
    return {};
}

QString ModelCatalog::stateText(const Entry& e) {
    if (e.failed) return tr("failed");
    if (e.waiting) return tr("waiting to retry");
    return stateName(e.state);
}

// ---------------------------------------------------------------- scanning

void ModelCatalog::refresh() {
    beginResetModel();
    entries_.clear();
    library_.load();

    if (!demoPath_.isEmpty() && QFileInfo::exists(demoPath_)) {
        Entry e;
        e.id = QStringLiteral("demo");
        e.name = tr("Demo model (built in)");
        e.source = Source::Demo;
        e.path = demoPath_;
        e.location = tr("built in");
        updateFromDisk(e);
        entries_ << e;
    }

    QStringList repos = releasedRepos();
    auto addRepoId = [&repos](const QString& id) {
        if (!repos.contains(id)) repos << id;
    };
    for (const QString& id : library_.addedRepos()) addRepoId(id);
    for (const QString& id : scanner_.downloadedRepos()) addRepoId(id);
    QHash<QString, HfCachedModel> cached;
    for (const HfCachedModel& c : scanner_.cachedRepos()) {
        cached.insert(c.repoId, c);
        addRepoId(c.repoId);
    }
    for (const QString& id : downloads_.ids()) addRepoId(id);

    for (const QString& id : std::as_const(repos)) {
        Entry e;
        e.id = id;
        e.name = id.section(u'/', 1);
        const QString shape = releaseShape(id);
        e.source = !shape.isEmpty() ? Source::Release : library_.addedRepos().contains(id) || !cached.contains(id) ? Source::Hub : Source::Cache;
        if (!shape.isEmpty()) {
            const mmfree::ModelConfig c = mmfree::release_config(shape.toStdString());
            e.memory = MemoryEstimate::fromConfig(c);
            e.haveMemory = true;
            e.downloadBytes = MemoryEstimate::checkpointBytes(c);
        }
        if (const mmfree::ModelConfig* config = hubMetadata_.config(id)) {
            e.memory = MemoryEstimate::fromConfig(*config);
            e.haveMemory = true;
            if (e.downloadBytes < 0) e.downloadBytes = MemoryEstimate::checkpointBytes(*config);
        }
        if (const HubModelInfo* info = hubMetadata_.info(id)) {
            e.downloadBytes = HubMetadata::modelBytes(*info);
            e.downloadExact = true;
        }
        if (cached.contains(id)) {
            e.cacheRepoDir = cached[id].repoDir;
            e.path = cached[id].snapshotDir;
        }
        e.download = downloads_.find(id);
        updateFromDisk(e);
        entries_ << e;
    }

    for (const QString& p : library_.importedPaths()) {
        Entry e;
        e.id = p;
        e.name = QFileInfo(p).fileName();
        e.source = Source::Imported;
        e.path = p;
        e.location = tr("imported from %1").arg(QDir::toNativeSeparators(p));
        updateFromDisk(e);
        entries_ << e;
    }
    endResetModel();

    // Packed files carry their config inside: a full load (on a worker) tells their memory needs.
    for (const Entry& e : std::as_const(entries_))
        if ((e.state == State::Installed || e.state == State::Broken) && !e.haveMemory && !e.path.isEmpty() &&
            !importer_.report(e.path))
            importer_.check(e.path, false);
}

void ModelCatalog::updateFromDisk(Entry& e) {
    if (e.source == Source::Demo || e.source == Source::Imported) {
        if (!QFileInfo::exists(e.path)) {
            e.state = State::Broken;
            e.problem = tr("%1 no longer exists (moved or deleted?)").arg(QDir::toNativeSeparators(e.path));
            return;
        }
        const ValidationReport* full = importer_.report(e.path);
        applyValidation(e, full ? *full : validateModel(e.path, false));
        return;
    }
    const QString dir = scanner_.downloadDirFor(e.id);
    if (e.download && e.download->state() != ModelDownload::State::Finished &&
        e.download->state() != ModelDownload::State::Cancelled) {
        const auto s = e.download->state();
        e.state = s == ModelDownload::State::Paused || s == ModelDownload::State::Failed ? State::Paused : State::Downloading;
        e.failed = s == ModelDownload::State::Failed;
        e.waiting = s == ModelDownload::State::Waiting;
        e.problem = e.failed ? e.download->error().message : QString();
        // The config arrives first: the memory needs are known before the weights are.
        if (!e.haveMemory) applyConfig(e, dir);
        e.location = tr("downloading to %1").arg(QDir::toNativeSeparators(dir));
        if (e.download->bytesTotal() > 0) {
            e.downloadBytes = e.download->bytesTotal();
            e.downloadExact = true;
        }
        return;
    }
    DownloadManifest manifest;
    if (DownloadManifest::load(dir, &manifest)) {
        if (manifest.complete) {
            e.path = dir;
            e.location = tr("downloaded to %1").arg(QDir::toNativeSeparators(dir));
            applyValidation(e, validateModel(dir, false));
        } else {
            qint64 done = 0, total = 0;
            ModelDownload::progressOnDisk(dir, &done, &total);
            e.state = State::Paused;
            e.failed = e.waiting = false;
            if (!e.haveMemory) applyConfig(e, dir);
            e.diskBytes = modelDiskBytes(dir);
            e.downloadBytes = total;
            e.downloadExact = true;
            e.location = tr("partly downloaded to %1").arg(QDir::toNativeSeparators(dir));
            if (e.problem.isEmpty()) e.problem = tr("The download stopped at %1 of %2; resume to continue.").arg(formatBytes(done), formatBytes(total));
        }
        return;
    }
    if (!e.cacheRepoDir.isEmpty()) {
        e.location = tr("Hugging Face cache (%1), used in place").arg(QDir::toNativeSeparators(e.path));
        applyValidation(e, validateModel(e.path, false));
        return;
    }
    e.state = State::Available;
    e.path.clear();
    e.diskBytes = -1;
}

void ModelCatalog::applyConfig(Entry& e, const QString& dir) {
    if (!QFileInfo::exists(QDir(dir).filePath(QStringLiteral("config.json")))) return;
    const ValidationReport r = validateModel(dir, false);   // headers only: the weights may still be missing
    if (!r.haveConfig) return;
    e.memory = MemoryEstimate::fromConfig(r.config);
    e.haveMemory = true;
}

void ModelCatalog::applyValidation(Entry& e, const ValidationReport& r) {
    e.failed = e.waiting = false;
    e.diskBytes = r.diskBytes;
    if (r.haveConfig) {
        e.memory = MemoryEstimate::fromConfig(r.config);
        e.haveMemory = true;
    }
    e.canChat = r.canChat;
    e.state = r.ok() ? State::Installed : State::Broken;
    e.problem = r.summary();
}

void ModelCatalog::applyCheck(const QString& path, const ValidationReport& report, bool isImport) {
    for (Entry& e : entries_)
        if (e.path == path) {
            applyValidation(e, report);
            rowChanged(e.id);
        }
    if (!isImport) return;
    QString id = idForPath(path);
    if (report.ok() && id.isEmpty()) {
        library_.addImport(path);
        refresh();
        id = path;
    }
    emit importFinished(id, report);
}

// ---------------------------------------------------------------- model interface

int ModelCatalog::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(entries_.size()); }

QHash<int, QByteArray> ModelCatalog::roleNames() const {
    auto r = QAbstractListModel::roleNames();
    r.insert(IdRole, "id");
    r.insert(StateRole, "state");
    r.insert(StateTextRole, "stateText");
    r.insert(SourceRole, "source");
    r.insert(PathRole, "path");
    r.insert(LocationRole, "location");
    r.insert(SizeTextRole, "sizeText");
    r.insert(MemoryTextRole, "memoryText");
    r.insert(ProgressRole, "progress");
    r.insert(StatusTextRole, "statusText");
    r.insert(ProblemRole, "problem");
    r.insert(CanChatRole, "canChat");
    r.insert(CanDeleteRole, "canDelete");
    return r;
}

QVariant ModelCatalog::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= entries_.size()) return {};
    const Entry& e = entries_[index.row()];
    switch (role) {
    case Qt::DisplayRole: return e.name;
    case Qt::ToolTipRole: return e.source == Source::Imported || e.source == Source::Demo ? e.path : e.id;
    case IdRole: return e.id;
    case StateRole: return int(e.state);
    case StateTextRole: return stateText(e);
    case SourceRole: return int(e.source);
    case PathRole: return e.path;
    case LocationRole: return e.location;
    case SizeTextRole:
        if ((e.state == State::Installed || e.state == State::Broken) && e.diskBytes >= 0) return tr("%1 on disk").arg(formatBytes(e.diskBytes));
        if (e.downloadBytes > 0)
            return (e.downloadExact ? tr("%1 download") : tr("≈ %1 download")).arg(formatBytes(e.downloadBytes));
        return tr("size unknown");
    case MemoryTextRole:
        if (!e.haveMemory) return tr("memory: not known yet");
        return tr("RAM %1 · GPU %2").arg(formatBytes(e.memory.cpuBytes), formatBytes(e.memory.gpuBytes));
    case ProgressRole: {
        if (e.download && e.download->bytesTotal() > 0)
            return double(e.download->bytesDone()) / double(e.download->bytesTotal());
        if (e.state == State::Paused) {
            qint64 done = 0, total = 0;
            if (ModelDownload::progressOnDisk(scanner_.downloadDirFor(e.id), &done, &total) && total > 0) return double(done) / double(total);
        }
        return -1.0;
    }
    case StatusTextRole:
        if (e.download && e.state == State::Downloading) return e.download->statusText();
        if (!e.problem.isEmpty()) return e.problem;
        return e.location;
    case ProblemRole: return e.problem;
    case CanChatRole: return e.canChat;
    case CanDeleteRole:
        if (e.source == Source::Demo) return false;
        if (e.source == Source::Imported) return true;
        return e.state != State::Available || (e.source == Source::Hub && library_.addedRepos().contains(e.id));
    default: return {};
    }
}

int ModelCatalog::rowOf(const QString& id) const {
    for (int i = 0; i < entries_.size(); ++i)
        if (entries_[i].id == id) return i;
    return -1;
}

const ModelCatalog::Entry* ModelCatalog::entry(const QString& id) const {
    const int row = rowOf(id);
    return row < 0 ? nullptr : &entries_[row];
}

ModelCatalog::Entry* ModelCatalog::find(const QString& id) {
    const int row = rowOf(id);
    return row < 0 ? nullptr : &entries_[row];
}

QString ModelCatalog::idForPath(const QString& path) const {
    if (path.isEmpty()) return {};
    const QString wanted = cleanPath(path);
    for (const Entry& e : entries_)
        if (!e.path.isEmpty() && cleanPath(e.path) == wanted) return e.id;
    return {};
}

void ModelCatalog::rowChanged(const QString& id) {
    const int row = rowOf(id);
    if (row >= 0) emit dataChanged(index(row), index(row));
}

// ---------------------------------------------------------------- hub

bool ModelCatalog::addRepo(const QString& repoIdIn, QString* error) {
    const QString repoId = repoIdIn.trimmed();
    if (!HubClient::isValidRepoId(repoId)) {
        if (error) *error = tr("\"%1\" is not a repository id; use the form owner/name, e.g. ridger/MMfreeLM-370M").arg(repoId);
        return false;
    }
    if (!entry(repoId)) {
        library_.addRepo(repoId);
        refresh();
    }
    fetchDetails(repoId);
    return true;
}

void ModelCatalog::fetchDetails(const QString& repoId) { hubMetadata_.fetch(repoId); }

void ModelCatalog::applyHubInfo(const QString& repoId) {
    Entry* entry = find(repoId);
    const HubModelInfo* info = hubMetadata_.info(repoId);
    if (!entry || !info || entry->state != State::Available) return;
    entry->downloadBytes = HubMetadata::modelBytes(*info);
    entry->downloadExact = true;
    entry->problem.clear();
    if (!info->modelType.isEmpty() && info->modelType != QLatin1String("hgrn_bit"))
        entry->problem = tr("This is a \"%1\" model, not a MatMul-free one; the engine cannot run it.").arg(info->modelType);
    rowChanged(repoId);
}

void ModelCatalog::applyHubConfig(const QString& repoId) {
    Entry* entry = find(repoId);
    const mmfree::ModelConfig* config = hubMetadata_.config(repoId);
    if (!entry || !config) return;
    entry->memory = MemoryEstimate::fromConfig(*config);
    entry->haveMemory = true;
    if (entry->downloadBytes < 0) entry->downloadBytes = MemoryEstimate::checkpointBytes(*config);
    rowChanged(repoId);
}

void ModelCatalog::search(const QString& text) { hubMetadata_.search(text); }

// ---------------------------------------------------------------- downloads

void ModelCatalog::downloadChanged(const QString& id, ModelDownload::State state) {
    if (Entry* e = find(id)) {
        updateFromDisk(*e);
        rowChanged(id);
    }
    if (state == ModelDownload::State::Failed)
        if (const ModelDownload* d = downloads_.find(id)) emit downloadFailed(id, d->error().message);
}

void ModelCatalog::downloadEnded(const QString& id, ModelDownload::State state) {
    if (Entry* e = find(id)) {
        e->download = nullptr;
        e->problem.clear();
        updateFromDisk(*e);
        rowChanged(id);
    }
    if (state == ModelDownload::State::Finished) emit downloadFinished(id);
}

bool ModelCatalog::startDownload(const QString& id, QString* error) {
    Entry* e = find(id);
    if (!e) {
        if (error) *error = tr("%1 is not in the library").arg(id);
        return false;
    }
    if (e->source == Source::Demo || e->source == Source::Imported) {
        if (error) *error = tr("%1 is already on this computer").arg(e->name);
        return false;
    }
    if (e->download) {
        e->download->resume();
        return true;
    }
    if (e->state == State::Installed) {
        if (error) *error = tr("%1 is already installed").arg(e->name);
        return false;
    }
    ModelDownload* d = downloads_.create(id, scanner_.downloadDirFor(id));
    e->download = d;
    e->problem.clear();
    e->state = State::Downloading;
    rowChanged(id);
    d->start();   // may finish at once (already complete on disk): the handlers above cope
    return true;
}

void ModelCatalog::pauseDownload(const QString& id) {
    if (ModelDownload* d = downloads_.find(id)) d->pause();
}

void ModelCatalog::resumeDownload(const QString& id) {
    if (ModelDownload* d = downloads_.find(id)) d->resume();
    else startDownload(id);
}

void ModelCatalog::cancelDownload(const QString& id) {
    if (ModelDownload* d = downloads_.find(id)) {
        d->cancel();   // → Cancelled → downloadEnded refreshes the row
        return;
    }
    // A download interrupted in an earlier session: its folder holds only what it fetched.
    const QString dir = scanner_.downloadDirFor(id);
    if (ModelDownload::hasUnfinished(dir)) {
        QDir(dir).removeRecursively();
        if (Entry* e = find(id)) {
            e->problem.clear();
            updateFromDisk(*e);
            rowChanged(id);
        }
    }
}

// ---------------------------------------------------------------- import and delete

void ModelCatalog::importPath(const QString& path) { importer_.check(cleanPath(path), true); }

qint64 ModelCatalog::remove(const QString& id, QString* messageOut) {
    QString message;
    qint64 freed = 0;
    Entry* e = find(id);
    if (!e) {
        message = tr("%1 is not in the library").arg(id);
    } else if (e->source == Source::Demo) {
        message = tr("The built-in demo model is part of the application and cannot be deleted.");
    } else if (e->source == Source::Imported) {
        library_.removeImport(e->id);
        message = tr("Removed %1 from the library; its files in %2 were left in place.").arg(e->name, QDir::toNativeSeparators(e->path));
    } else {
        const QString name = e->name;
        if (ModelDownload* d = downloads_.find(id)) d->cancel();
        e = find(id);
        const QString dir = scanner_.downloadDirFor(id);
        const bool ownCopy = QFileInfo::exists(dir);
        const QString target = ownCopy ? dir : e->cacheRepoDir;
        if (!target.isEmpty() && QFileInfo::exists(target)) {
            const ModelScanner::Deletion deleted = ModelScanner::deleteFolder(target);
            const qint64 left = deleted.left;
            freed = deleted.freed;
            message = left > 0 ? tr("Deleted %1 partly: %2 freed, %3 could not be removed from %4.")
                                     .arg(name, formatBytes(freed), formatBytes(left), QDir::toNativeSeparators(target))
                  : ownCopy ? tr("Deleted %1: %2 freed.").arg(name, formatBytes(freed))
                            : tr("Deleted %1 from the Hugging Face cache: %2 freed.").arg(name, formatBytes(freed));
        } else {
            message = tr("Removed %1 from the library.").arg(name);
        }
        if (e && e->source == Source::Hub && !ownCopy) {
            // Not on disk any more (or never was): a repository added by hand leaves the list.
            if (target.isEmpty() || !QFileInfo::exists(target)) library_.removeRepo(id);
        }
    }
    refresh();
    if (messageOut) *messageOut = message;
    emit removed(id, freed, message);
    return freed;
}
