// SPDX-License-Identifier: Apache-2.0
#include "model_catalog.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>
#include <QThread>
#include <memory>

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
    : QAbstractListModel(parent), hub_(hub), modelsDir_(defaultModelsDirectory()), hfCacheDir_(hfHubCacheDirectory()) {
    qRegisterMetaType<ValidationReport>();
    qRegisterMetaType<NetError>();
    qRegisterMetaType<QList<HubSearchResult>>();
    // The same demo model the app opens on first run.
    demoPath_ = AppSettings::defaultModelPath();
}

ModelCatalog::~ModelCatalog() {
    // Live downloads are children; destroying them keeps their .part files for next time.
    qDeleteAll(downloads_);
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

// ---------------------------------------------------------------- persistence

void ModelCatalog::loadSettings() {
    addedRepos_.clear();
    importedPaths_.clear();
    QFile f(modelsDir_ + QStringLiteral("/library.json"));
    if (!f.open(QIODevice::ReadOnly)) return;
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    for (const QJsonValue& v : o.value(QStringLiteral("added")).toArray())
        if (HubClient::isValidRepoId(v.toString())) addedRepos_ << v.toString();
    for (const QJsonValue& v : o.value(QStringLiteral("imported")).toArray()) importedPaths_ << v.toString();
}

void ModelCatalog::saveSettings() const {
    QDir().mkpath(modelsDir_);
    QSaveFile f(modelsDir_ + QStringLiteral("/library.json"));
    if (!f.open(QIODevice::WriteOnly)) return;
    f.write(QJsonDocument(QJsonObject{{QStringLiteral("added"), QJsonArray::fromStringList(addedRepos_)},
                                      {QStringLiteral("imported"), QJsonArray::fromStringList(importedPaths_)}})
                .toJson());
    f.commit();
}

QString ModelCatalog::downloadDirFor(const QString& repoId) const {
    QString name = repoId;
    return modelsDir_ + u'/' + name.replace(u'/', QStringLiteral("--"));
}

// ---------------------------------------------------------------- scanning

void ModelCatalog::refresh() {
    beginResetModel();
    entries_.clear();
    loadSettings();

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
    for (const QString& id : std::as_const(addedRepos_)) addRepoId(id);
    const QDir models(modelsDir_);
    for (const QString& sub : models.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        DownloadManifest m;
        if (DownloadManifest::load(models.filePath(sub), &m) && HubClient::isValidRepoId(m.repoId)) addRepoId(m.repoId);
    }
    QHash<QString, HfCachedModel> cached;
    for (const HfCachedModel& c : scanHfCache(hfCacheDir_)) {
        cached.insert(c.repoId, c);
        addRepoId(c.repoId);
    }
    for (auto it = downloads_.cbegin(); it != downloads_.cend(); ++it) addRepoId(it.key());

    for (const QString& id : std::as_const(repos)) {
        Entry e;
        e.id = id;
        e.name = id.section(u'/', 1);
        const QString shape = releaseShape(id);
        e.source = !shape.isEmpty() ? Source::Release : addedRepos_.contains(id) || !cached.contains(id) ? Source::Hub : Source::Cache;
        if (!shape.isEmpty()) {
            const mmfree::ModelConfig c = mmfree::release_config(shape.toStdString());
            e.memory = MemoryEstimate::fromConfig(c);
            e.haveMemory = true;
            e.downloadBytes = MemoryEstimate::checkpointBytes(c);
        }
        if (hubConfigs_.contains(id)) {
            e.memory = MemoryEstimate::fromConfig(hubConfigs_[id]);
            e.haveMemory = true;
            if (e.downloadBytes < 0) e.downloadBytes = MemoryEstimate::checkpointBytes(hubConfigs_[id]);
        }
        if (hubInfo_.contains(id)) {
            qint64 n = 0;
            for (const HubFile& f : hubInfo_[id].files)
                if (ModelDownload::isModelFile(f.path)) n += std::max<qint64>(f.size, 0);
            e.downloadBytes = n;
            e.downloadExact = true;
        }
        if (cached.contains(id)) {
            e.cacheRepoDir = cached[id].repoDir;
            e.path = cached[id].snapshotDir;
        }
        if (downloads_.contains(id)) e.download = downloads_[id];
        updateFromDisk(e);
        entries_ << e;
    }

    for (const QString& p : std::as_const(importedPaths_)) {
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
        if ((e.state == State::Installed || e.state == State::Broken) && !e.haveMemory && !loadedDetails_.contains(e.path))
            loadDetailsAsync(e.id);
}

void ModelCatalog::updateFromDisk(Entry& e) {
    if (e.source == Source::Demo || e.source == Source::Imported) {
        if (!QFileInfo::exists(e.path)) {
            e.state = State::Broken;
            e.problem = tr("%1 no longer exists (moved or deleted?)").arg(QDir::toNativeSeparators(e.path));
            return;
        }
        applyValidation(e, loadedDetails_.contains(e.path) ? loadedDetails_[e.path] : validateModel(e.path, false));
        return;
    }
    const QString dir = downloadDirFor(e.id);
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

void ModelCatalog::loadDetailsAsync(const QString& id) {
    const Entry* e = entry(id);
    if (!e || e->path.isEmpty() || detailsPending_.contains(e->path)) return;
    const QString path = e->path;
    detailsPending_ << path;
    auto report = std::make_shared<ValidationReport>();
    QThread* worker = QThread::create([path, report] { *report = validateModel(path, true); });
    connect(worker, &QThread::finished, this, [this, path, report] {
        detailsPending_.removeAll(path);
        loadedDetails_.insert(path, *report);
        for (Entry& e : entries_)
            if (e.path == path) {
                applyValidation(e, *report);
                rowChanged(e.id);
            }
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
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
            if (ModelDownload::progressOnDisk(downloadDirFor(e.id), &done, &total) && total > 0) return double(done) / double(total);
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
        return e.state != State::Available || (e.source == Source::Hub && addedRepos_.contains(e.id));
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
        loadSettings();
        addedRepos_ << repoId;
        saveSettings();
        refresh();
    }
    fetchDetails(repoId);
    return true;
}

void ModelCatalog::fetchDetails(const QString& repoId) {
    // Adding a repo selects it, and selecting asks again: one request of each kind is enough.
    if (detailsInFlight_.contains(repoId)) return;
    detailsInFlight_.insert(repoId);
    hub_->fetchModelInfo(repoId, QStringLiteral("main"), this, [this, repoId](const HubModelInfo& info, const NetError& e) {
        Entry* entry = find(repoId);
        if (!e.ok()) {
            if (entry && entry->state == State::Available) {
                entry->problem = e.message;
                rowChanged(repoId);
            }
            emit notice(e.message);
            return;
        }
        hubInfo_.insert(repoId, info);
        if (entry && entry->state == State::Available) {
            qint64 n = 0;
            for (const HubFile& f : info.files)
                if (ModelDownload::isModelFile(f.path)) n += std::max<qint64>(f.size, 0);
            entry->downloadBytes = n;
            entry->downloadExact = true;
            entry->problem.clear();
            if (!info.modelType.isEmpty() && info.modelType != QLatin1String("hgrn_bit"))
                entry->problem = tr("This is a \"%1\" model, not a MatMul-free one; the engine cannot run it.").arg(info.modelType);
            rowChanged(repoId);
        }
    });
    hub_->fetchFile(repoId, QStringLiteral("main"), QStringLiteral("config.json"), this,
                    [this, repoId](const QByteArray& bytes, const NetError& e) {
                        detailsInFlight_.remove(repoId);   // the info sets downloadExact, which keeps the page from asking again
                        if (!e.ok()) return;
                        try {
                            hubConfigs_.insert(repoId, mmfree::parse_config_json(bytes.toStdString()));
                        } catch (const std::exception&) {
                            return;   // the download's validation will say what is wrong
                        }
                        if (Entry* entry = find(repoId)) {
                            entry->memory = MemoryEstimate::fromConfig(hubConfigs_[repoId]);
                            entry->haveMemory = true;
                            if (entry->downloadBytes < 0) entry->downloadBytes = MemoryEstimate::checkpointBytes(hubConfigs_[repoId]);
                            rowChanged(repoId);
                        }
                    });
}

void ModelCatalog::search(const QString& text) {
    hub_->search(text, QStringLiteral("hgrn_bit"), 50, this,
                 [this](const QList<HubSearchResult>& results, const NetError& e) { emit searchFinished(results, e); });
}

// ---------------------------------------------------------------- downloads

void ModelCatalog::attachDownload(Entry& e, ModelDownload* d) {
    const QString id = e.id;
    e.download = d;
    downloads_.insert(id, d);
    connect(d, &ModelDownload::progressChanged, this, [this, id] { rowChanged(id); });
    connect(d, &ModelDownload::notice, this, &ModelCatalog::notice);
    connect(d, &ModelDownload::stateChanged, this, [this, id, d](ModelDownload::State s) {
        Entry* e = find(id);
        if (s == ModelDownload::State::Finished || s == ModelDownload::State::Cancelled) {
            downloads_.remove(id);
            d->deleteLater();
            if (e) {
                e->download = nullptr;
                e->problem.clear();
                updateFromDisk(*e);
                rowChanged(id);
            }
            if (s == ModelDownload::State::Finished) emit downloadFinished(id);
            return;
        }
        if (e) {
            updateFromDisk(*e);
            rowChanged(id);
        }
        if (s == ModelDownload::State::Failed) emit downloadFailed(id, d->error().message);
    });
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
    auto* d = new ModelDownload(hub_, id, downloadDirFor(id), this);
    d->setOptions(downloadOptions_);
    attachDownload(*e, d);
    e->problem.clear();
    e->state = State::Downloading;
    rowChanged(id);
    d->start();   // may finish at once (already complete on disk): the handlers above cope
    return true;
}

void ModelCatalog::pauseDownload(const QString& id) {
    if (downloads_.contains(id)) downloads_[id]->pause();
}

void ModelCatalog::resumeDownload(const QString& id) {
    if (downloads_.contains(id)) downloads_[id]->resume();
    else startDownload(id);
}

void ModelCatalog::cancelDownload(const QString& id) {
    if (downloads_.contains(id)) {
        downloads_[id]->cancel();   // → Cancelled → the handler refreshes the row
        return;
    }
    // A download interrupted in an earlier session: its folder holds only what it fetched.
    const QString dir = downloadDirFor(id);
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

void ModelCatalog::importPath(const QString& pathIn) {
    const QString path = cleanPath(pathIn);
    auto report = std::make_shared<ValidationReport>();
    QThread* worker = QThread::create([path, report] { *report = validateModel(path, true); });
    connect(worker, &QThread::finished, this, [this, path, report] {
        loadedDetails_.insert(path, *report);
        QString id = idForPath(path);
        if (report->ok() && id.isEmpty()) {
            loadSettings();
            if (!importedPaths_.contains(path)) importedPaths_ << path;
            saveSettings();
            refresh();
            id = path;
        }
        emit importFinished(id, *report);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

qint64 ModelCatalog::remove(const QString& id, QString* messageOut) {
    QString message;
    qint64 freed = 0;
    Entry* e = find(id);
    if (!e) {
        message = tr("%1 is not in the library").arg(id);
    } else if (e->source == Source::Demo) {
        message = tr("The built-in demo model is part of the application and cannot be deleted.");
    } else if (e->source == Source::Imported) {
        loadSettings();
        importedPaths_.removeAll(e->id);
        saveSettings();
        message = tr("Removed %1 from the library; its files in %2 were left in place.").arg(e->name, QDir::toNativeSeparators(e->path));
    } else {
        const QString name = e->name;
        if (downloads_.contains(id)) downloads_[id]->cancel();
        e = find(id);
        const QString dir = downloadDirFor(id);
        const bool ownCopy = QFileInfo::exists(dir);
        const QString target = ownCopy ? dir : e->cacheRepoDir;
        if (!target.isEmpty() && QFileInfo::exists(target)) {
            const qint64 before = modelDiskBytes(target);
            QDir(target).removeRecursively();
            const qint64 left = QFileInfo::exists(target) ? modelDiskBytes(target) : 0;
            freed = before - left;
            message = left > 0 ? tr("Deleted %1 partly: %2 freed, %3 could not be removed from %4.")
                                     .arg(name, formatBytes(freed), formatBytes(left), QDir::toNativeSeparators(target))
                  : ownCopy ? tr("Deleted %1: %2 freed.").arg(name, formatBytes(freed))
                            : tr("Deleted %1 from the Hugging Face cache: %2 freed.").arg(name, formatBytes(freed));
        } else {
            message = tr("Removed %1 from the library.").arg(name);
        }
        if (e && e->source == Source::Hub && !ownCopy) {
            // Not on disk any more (or never was): a repository added by hand leaves the list.
            loadSettings();
            if (target.isEmpty() || !QFileInfo::exists(target)) addedRepos_.removeAll(id);
            saveSettings();
        }
    }
    refresh();
    if (messageOut) *messageOut = message;
    emit removed(id, freed, message);
    return freed;
}
