// SPDX-License-Identifier: Apache-2.0
#include "model_download.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStorageInfo>
#include <QThread>
#include <algorithm>
#include <filesystem>
#include <memory>

namespace {

QString bytesText(qint64 n) { return QLocale::c().formattedDataSize(n, 1, QLocale::DataSizeSIFormat); }

// sha256 for LFS files; for plain git files the blob id, sha1("blob <size>\0" + content).
// Runs on a worker thread: multi-gigabyte weights take seconds to hash.
QString hashFile(const QString& path, bool gitBlob) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    QCryptographicHash h(gitBlob ? QCryptographicHash::Sha1 : QCryptographicHash::Sha256);
    if (gitBlob) {
        const QByteArray header = "blob " + QByteArray::number(f.size());
        h.addData(header);
        h.addData(QByteArrayView("\0", 1));
    }
    QByteArray buf(4 << 20, Qt::Uninitialized);
    for (;;) {
        const qint64 n = f.read(buf.data(), buf.size());
        if (n < 0) return {};
        if (n == 0) break;
        h.addData(QByteArrayView(buf.constData(), n));
    }
    return QString::fromLatin1(h.result().toHex());
}

qint64 fileSize(const QString& path) {
    QFileInfo fi(path);
    return fi.exists() ? fi.size() : -1;
}

} // namespace

// ---------------------------------------------------------------- manifest

QString DownloadManifest::fileName() { return QStringLiteral(".mmfree-download.json"); }

bool DownloadManifest::save(const QString& dir, QString* error) const {
    QJsonArray files;
    for (const File& f : this->files)
        files.append(QJsonObject{{QStringLiteral("path"), f.path},
                                 {QStringLiteral("size"), f.size},
                                 {QStringLiteral("sha256"), f.sha256},
                                 {QStringLiteral("oid"), f.gitOid},
                                 {QStringLiteral("done"), f.done}});
    const QJsonObject o{{QStringLiteral("repo"), repoId},
                        {QStringLiteral("revision"), revision},
                        {QStringLiteral("complete"), complete},
                        {QStringLiteral("files"), files}};
    QSaveFile out(dir + u'/' + fileName());
    if (!out.open(QIODevice::WriteOnly) || out.write(QJsonDocument(o).toJson()) < 0 || !out.commit()) {
        if (error) *error = out.errorString();
        return false;
    }
    return true;
}

bool DownloadManifest::load(const QString& dir, DownloadManifest* out) {
    QFile f(dir + u'/' + fileName());
    if (!f.open(QIODevice::ReadOnly)) return false;
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    if (o.isEmpty()) return false;
    DownloadManifest m;
    m.repoId = o.value(QStringLiteral("repo")).toString();
    m.revision = o.value(QStringLiteral("revision")).toString();
    m.complete = o.value(QStringLiteral("complete")).toBool();
    for (const QJsonValue& v : o.value(QStringLiteral("files")).toArray()) {
        const QJsonObject fo = v.toObject();
        File file;
        file.path = fo.value(QStringLiteral("path")).toString();
        file.size = fo.value(QStringLiteral("size")).toInteger(-1);
        file.sha256 = fo.value(QStringLiteral("sha256")).toString();
        file.gitOid = fo.value(QStringLiteral("oid")).toString();
        file.done = fo.value(QStringLiteral("done")).toBool();
        // A manifest is data from disk: refuse paths that would escape the folder.
        if (file.path.isEmpty() || file.path.startsWith(u'/') || file.path.split(u'/').contains(QStringLiteral("..")))
            return false;
        m.files << file;
    }
    if (m.repoId.isEmpty()) return false;
    *out = m;
    return true;
}

// ---------------------------------------------------------------- download

ModelDownload::ModelDownload(HubClient* hub, const QString& repoId, const QString& targetDir, QObject* parent)
    : QObject(parent), hub_(hub), repoId_(repoId), dir_(targetDir) {
    stallTimer_.setSingleShot(true);
    retryTimer_.setSingleShot(true);
    connect(&stallTimer_, &QTimer::timeout, this, [this] {
        if (!reply_) return;
        abortReason_ = AbortReason::Stall;
        reply_->abort();
    });
    connect(&retryTimer_, &QTimer::timeout, this, [this] {
        if (state_ == State::Waiting) startRequest();
    });
    clock_.start();
}

ModelDownload::~ModelDownload() {
    if (reply_) {
        abortReason_ = AbortReason::Pause;   // keep the .part for next time
        reply_->disconnect(this);
        reply_->abort();
        reply_->deleteLater();
    }
    part_.close();
}

bool ModelDownload::isModelFile(const QString& path) {
    const QString name = path.section(u'/', -1);
    if (name.startsWith(u'.')) return false;
    if (name.endsWith(QStringLiteral(".safetensors")) || name.endsWith(QStringLiteral(".json"))) return true;
    if (name == QStringLiteral("tokenizer.model")) return true;
    // The model card and licence are small and tell people what they may do with the weights.
    return !path.contains(u'/') && (name == QStringLiteral("README.md") || name.startsWith(QStringLiteral("LICENSE")));
}

bool ModelDownload::hasUnfinished(const QString& dir) {
    DownloadManifest m;
    return DownloadManifest::load(dir, &m) && !m.complete;
}

bool ModelDownload::progressOnDisk(const QString& dir, qint64* done, qint64* total) {
    DownloadManifest m;
    if (!DownloadManifest::load(dir, &m)) return false;
    *done = *total = 0;
    for (const auto& f : m.files) {
        const qint64 size = std::max<qint64>(f.size, 0);
        *total += size;
        *done += f.done ? size : std::clamp<qint64>(fileSize(dir + u'/' + f.path + QStringLiteral(".part")), 0, size);
    }
    return true;
}

QString ModelDownload::stateName(State s) {
    switch (s) {
    case State::Idle: return QStringLiteral("idle");
    case State::FetchingInfo: return QStringLiteral("asking the hub");
    case State::Downloading: return QStringLiteral("downloading");
    case State::Verifying: return QStringLiteral("verifying");
    case State::Waiting: return QStringLiteral("waiting to retry");
    case State::Paused: return QStringLiteral("paused");
    case State::Finished: return QStringLiteral("finished");
    case State::Failed: return QStringLiteral("failed");
    case State::Cancelled: return QStringLiteral("cancelled");
    }
    return {};
}

QString ModelDownload::partPath(int i) const { return finalPath(i) + QStringLiteral(".part"); }
QString ModelDownload::finalPath(int i) const { return dir_ + u'/' + manifest_.files[i].path; }

QString ModelDownload::currentFile() const {
    return fileIndex_ >= 0 && fileIndex_ < manifest_.files.size() ? manifest_.files[fileIndex_].path : QString();
}

qint64 ModelDownload::bytesTotal() const {
    qint64 n = 0;
    for (const auto& f : manifest_.files) n += std::max<qint64>(f.size, 0);
    return n;
}

qint64 ModelDownload::bytesDone() const {
    qint64 n = 0;
    for (int i = 0; i < manifest_.files.size(); ++i) {
        if (manifest_.files[i].done) n += std::max<qint64>(manifest_.files[i].size, 0);
        else if (i == fileIndex_) n += partBytes_;
    }
    return n;
}

double ModelDownload::bytesPerSecond() const {
    if (state_ != State::Downloading || speedSamples_.isEmpty()) return 0;
    // From the oldest sample to now: samples are taken at most every 200 ms, and a rate from the
    // last sample alone would read 0 until a second one exists.
    const auto& a = speedSamples_.first();
    const qint64 ms = clock_.elapsed() - a.first;
    return ms > 0 ? double(bytesDone() - a.second) * 1000.0 / double(ms) : 0.0;
}

qint64 ModelDownload::secondsLeft() const {
    const double speed = bytesPerSecond();
    if (speed <= 0) return -1;
    return qint64((bytesTotal() - bytesDone()) / speed + 0.5);
}

QString ModelDownload::statusText() const {
    switch (state_) {
    case State::Downloading: {
        QString s = QStringLiteral("%1 of %2").arg(bytesText(bytesDone()), bytesText(bytesTotal()));
        const double speed = bytesPerSecond();
        if (speed > 0) s += QStringLiteral(" · %1/s").arg(bytesText(qint64(speed)));
        const qint64 left = secondsLeft();
        if (left >= 0)
            s += left >= 3600 ? QStringLiteral(" · %1 h %2 min left").arg(left / 3600).arg((left % 3600) / 60)
               : left >= 60   ? QStringLiteral(" · %1 min %2 s left").arg(left / 60).arg(left % 60)
                              : QStringLiteral(" · %1 s left").arg(left);
        return s;
    }
    case State::Verifying: return QStringLiteral("Verifying %1 …").arg(currentFile());
    case State::Waiting: return QStringLiteral("Retrying after: %1").arg(error_.message);
    case State::Paused: return QStringLiteral("Paused at %1 of %2").arg(bytesText(bytesDone()), bytesText(bytesTotal()));
    case State::Failed: return error_.message;
    case State::FetchingInfo: return QStringLiteral("Asking the hub which files %1 has …").arg(repoId_);
    default: return stateName(state_);
    }
}

void ModelDownload::setState(State s) {
    if (s == state_) return;
    state_ = s;
    if (s != State::Downloading) speedSamples_.clear();
    emit stateChanged(s);
}

void ModelDownload::fail(const NetError& e) {
    stallTimer_.stop();
    retryTimer_.stop();
    part_.close();
    error_ = e;
    setState(State::Failed);
    emit failed(e);
}

void ModelDownload::start() {
    if (state_ != State::Idle && state_ != State::Failed && state_ != State::Cancelled) return;
    error_ = {};
    QDir().mkpath(dir_);
    DownloadManifest existing;
    if (DownloadManifest::load(dir_, &existing) && existing.repoId == repoId_) {
        manifest_ = existing;   // resume after a restart: same files, same revision
        if (manifest_.complete) { fileIndex_ = -1; setState(State::Finished); emit finished(); return; }
        beginFiles();
        return;
    }
    setState(State::FetchingInfo);
    hub_->fetchModelInfo(repoId_, QStringLiteral("main"), this, [this](const HubModelInfo& info, const NetError& e) {
        if (state_ != State::FetchingInfo) return;   // cancelled meanwhile
        if (!e.ok()) return fail(e);
        if (!info.modelType.isEmpty() && info.modelType != QStringLiteral("hgrn_bit"))
            return fail({NetError::Other, 0, QStringLiteral("%1 is a \"%2\" model, not a MatMul-free one (hgrn_bit); the engine "
                                                            "cannot run it.").arg(repoId_, info.modelType)});
        DownloadManifest m;
        m.repoId = repoId_;
        m.revision = info.revision.isEmpty() ? QStringLiteral("main") : info.revision;
        bool weights = false;
        for (const HubFile& f : info.files) {
            if (!isModelFile(f.path) || f.path.split(u'/').contains(QStringLiteral(".."))) continue;
            weights |= f.path.endsWith(QStringLiteral(".safetensors"));
            m.files << DownloadManifest::File{f.path, f.size, f.sha256, f.gitOid, false};
        }
        if (!weights)
            return fail({NetError::NotFound, 0, QStringLiteral("%1 has no .safetensors weights; the engine reads safetensors "
                                                               "only (pytorch_model.bin is not supported).").arg(repoId_)});
        // Small files first: config and tokenizer are there (and checkable) long before the weights.
        std::stable_sort(m.files.begin(), m.files.end(), [](const auto& a, const auto& b) { return a.size < b.size; });
        manifest_ = m;
        QString err;
        if (!manifest_.save(dir_, &err))
            return fail({NetError::DiskFull, 0, QStringLiteral("Cannot write to %1: %2").arg(dir_, err)});
        beginFiles();
    });
}

void ModelDownload::beginFiles() {
    // Free space: what is still missing, plus a reserve so the system is not left with nothing.
    qint64 needed = 0;
    for (int i = 0; i < manifest_.files.size(); ++i) {
        const auto& f = manifest_.files[i];
        if (f.done || f.size < 0) continue;
        needed += f.size - std::clamp<qint64>(fileSize(partPath(i)), 0, f.size);
    }
    const qint64 available = options_.freeSpace ? options_.freeSpace(dir_) : QStorageInfo(dir_).bytesAvailable();
    if (available >= 0 && needed + options_.reserveBytes > available)
        return fail({NetError::DiskFull, 0,
                     QStringLiteral("Not enough disk space in %1: %2 still has to be downloaded (plus %3 kept free), only %4 "
                                    "is available. Free some space or choose another models folder.")
                         .arg(dir_, bytesText(needed), bytesText(options_.reserveBytes), bytesText(available))});
    fileIndex_ = -1;
    startNextFile();
}

void ModelDownload::startNextFile() {
    for (;;) {
        ++fileIndex_;
        if (fileIndex_ >= manifest_.files.size()) return finishAll();
        auto& f = manifest_.files[fileIndex_];
        if (!f.done) break;
        if (QFileInfo::exists(finalPath(fileIndex_))) continue;
        f.done = false;   // someone removed a finished file: fetch it again
        break;
    }
    retries_ = 0;
    checksumRetried_ = false;
    const QString part = partPath(fileIndex_);
    QDir().mkpath(QFileInfo(part).absolutePath());
    partBytes_ = std::max<qint64>(fileSize(part), 0);
    const qint64 expected = manifest_.files[fileIndex_].size;
    if (expected >= 0 && partBytes_ > expected) { QFile::remove(part); partBytes_ = 0; }
    if (expected >= 0 && partBytes_ == expected) return verifyCurrent();   // finished before the restart
    startRequest();
}

void ModelDownload::startRequest(const QUrl& url) {
    const QString part = partPath(fileIndex_);
    part_.close();
    part_.setFileName(part);
    if (!part_.open(QIODevice::ReadWrite)) {
        return fail({NetError::DiskFull, 0, QStringLiteral("Cannot write %1: %2").arg(part, part_.errorString())});
    }
    offset_ = part_.size();
    partBytes_ = offset_;
    part_.seek(offset_);
    responseChecked_ = false;
    responseUsable_ = false;
    abortReason_ = AbortReason::None;

    // Retries start over at the hub: the CDN address it redirects to is signed and expires.
    if (url.isEmpty()) redirects_ = 0;
    QNetworkRequest req = hub_->request(
        url.isEmpty() ? hub_->resolveUrl(manifest_.repoId, manifest_.revision, manifest_.files[fileIndex_].path) : url);
    // Redirects are followed here, not by Qt, so that the token is never sent on to another host.
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (offset_ > 0) req.setRawHeader("Range", "bytes=" + QByteArray::number(offset_) + '-');
    // Identity encoding: byte offsets must refer to the file itself, not to a compressed stream.
    req.setRawHeader("Accept-Encoding", "identity");
    reply_ = hub_->network()->get(req);
    connect(reply_, &QNetworkReply::readyRead, this, &ModelDownload::onReadyRead);
    connect(reply_, &QNetworkReply::finished, this, &ModelDownload::onReplyFinished);
    stallTimer_.start(options_.stallTimeoutMs);
    setState(State::Downloading);
    sampleSpeed(true);
}

bool ModelDownload::checkResponseStart() {
    responseChecked_ = true;
    const int status = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 206) {
        static const QRegularExpression re(QStringLiteral("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)"));
        const auto m = re.match(QString::fromLatin1(reply_->rawHeader("Content-Range")));
        if (m.hasMatch() && m.captured(1).toLongLong() == offset_) return responseUsable_ = true;
        // A range we did not ask for: the bytes cannot be placed; start the file over.
        abortReason_ = AbortReason::BadRange;
        reply_->abort();
        return responseUsable_ = false;
    }
    if (status == 200) {
        if (offset_ > 0) {
            // The server ignored Range and sends the whole file: keep it, drop what we had.
            ++rangeIgnored_;
            emit notice(QStringLiteral("%1: the server does not support resuming; downloading the file from the start")
                            .arg(currentFile()));
            part_.resize(0);
            part_.seek(0);
            offset_ = partBytes_ = 0;
        }
        return responseUsable_ = true;
    }
    return responseUsable_ = false;   // an error status: its body is not file content
}

void ModelDownload::onReadyRead() {
    if (!reply_) return;
    if (!responseChecked_) checkResponseStart();
    const QByteArray data = reply_->readAll();
    if (!responseUsable_ || data.isEmpty()) return;
    stallTimer_.start(options_.stallTimeoutMs);
    const qint64 expected = manifest_.files[fileIndex_].size;
    if (expected >= 0 && partBytes_ + data.size() > expected) {
        abortReason_ = AbortReason::Overflow;
        reply_->abort();
        return;
    }
    if (part_.write(data) != data.size()) {
        abortReason_ = AbortReason::WriteError;
        reply_->abort();
        return;
    }
    partBytes_ += data.size();
    sampleSpeed(false);
    const qint64 now = clock_.elapsed();
    if (lastProgressEmitMs_ < 0 || now - lastProgressEmitMs_ >= 100) {
        lastProgressEmitMs_ = now;
        emit progressChanged(bytesDone(), bytesTotal());
    }
}

void ModelDownload::sampleSpeed(bool force) {
    const qint64 now = clock_.elapsed();
    if (!force && !speedSamples_.isEmpty() && now - speedSamples_.last().first < 200) return;
    speedSamples_.append({now, bytesDone()});
    while (speedSamples_.size() > 2 && now - speedSamples_.first().first > 5000) speedSamples_.removeFirst();
}

void ModelDownload::onReplyFinished() {
    QNetworkReply* reply = reply_;
    if (!reply) return;
    if (!responseChecked_ && reply->error() == QNetworkReply::NoError) checkResponseStart();
    if (responseUsable_ && reply->isOpen()) {
        const QByteArray rest = reply->readAll();
        const qint64 expected = manifest_.files[fileIndex_].size;
        if (!rest.isEmpty() && abortReason_ == AbortReason::None) {
            if (expected >= 0 && partBytes_ + rest.size() > expected) abortReason_ = AbortReason::Overflow;
            else if (part_.write(rest) != rest.size()) abortReason_ = AbortReason::WriteError;
            else partBytes_ += rest.size();
        }
    }
    reply_ = nullptr;
    reply->deleteLater();
    stallTimer_.stop();
    part_.flush();
    const bool madeProgress = partBytes_ > offset_;
    const AbortReason reason = abortReason_;
    abortReason_ = AbortReason::None;
    const QString file = currentFile();

    switch (reason) {
    case AbortReason::Pause:
        part_.close();
        emit progressChanged(bytesDone(), bytesTotal());
        return setState(State::Paused);
    case AbortReason::Cancel:
        return;   // cancel() cleans up
    case AbortReason::Stall:
        return retryOrFail({NetError::Stalled, 0, QStringLiteral("The connection stalled: no data for %1 s while downloading %2.")
                                                      .arg(options_.stallTimeoutMs / 1000.0).arg(file)}, madeProgress);
    case AbortReason::BadRange:
        part_.resize(0);
        partBytes_ = 0;
        return retryOrFail({NetError::Protocol, 206, QStringLiteral("The server sent a different part of %1 than asked for; "
                                                                    "restarting the file.").arg(file)}, false);
    case AbortReason::Overflow:
        part_.resize(0);
        partBytes_ = 0;
        return retryOrFail({NetError::Protocol, 0, QStringLiteral("The server sent more bytes of %1 than the hub lists; the "
                                                                  "partial file was discarded.").arg(file)}, false);
    case AbortReason::WriteError: {
        const qint64 free = QStorageInfo(dir_).bytesAvailable();
        return fail({NetError::DiskFull, 0, QStringLiteral("Writing %1 failed (%2)%3. The partial file is kept; free some space "
                                                           "and resume.").arg(partPath(fileIndex_), part_.errorString(),
                                                           free >= 0 ? QStringLiteral(", %1 free").arg(bytesText(free)) : QString())});
    }
    case AbortReason::None: break;
    }

    if (followRedirect(reply)) return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const qint64 expected = manifest_.files[fileIndex_].size;
    if (status == 416) {
        // Nothing left to send from our offset: either the part is complete or it is wrong.
        if (expected >= 0 && partBytes_ == expected) return verifyCurrent();
        part_.resize(0);
        partBytes_ = 0;
        return retryOrFail({NetError::Protocol, 416, QStringLiteral("The server rejected resuming %1; restarting it.").arg(file)}, false);
    }
    NetError e = HubClient::classify(reply, manifest_.repoId + u'/' + file, !hub_->token().isEmpty());
    if (e.ok() && !responseUsable_)
        e = {NetError::Protocol, status, QStringLiteral("Unexpected answer HTTP %1 for %2.").arg(status).arg(file)};
    if (e.ok()) {
        if (expected < 0 || partBytes_ == expected) {
            if (expected < 0) manifest_.files[fileIndex_].size = partBytes_;
            return verifyCurrent();
        }
        e = {NetError::Interrupted, status, QStringLiteral("The connection ended after %1 of %2 of %3.")
                                                .arg(bytesText(partBytes_), bytesText(expected), file)};
    }
    retryOrFail(e, madeProgress);
}

bool ModelDownload::followRedirect(QNetworkReply* reply) {
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) return false;
    const QUrl target = reply->url().resolved(QUrl::fromEncoded(reply->rawHeader("Location")));
    const bool loopback = target.host() == QLatin1String("127.0.0.1") || target.host() == QLatin1String("localhost");
    if (!target.isValid() || target.scheme().isEmpty()) {
        fail({NetError::Protocol, status, QStringLiteral("The hub redirected %1 to an invalid address.").arg(currentFile())});
    } else if (reply->url().scheme() == QLatin1String("https") && target.scheme() != QLatin1String("https") && !loopback) {
        fail({NetError::Tls, status, QStringLiteral("The hub redirected %1 from HTTPS to an unencrypted address (%2); refused.")
                                         .arg(currentFile(), target.host())});
    } else if (++redirects_ > 10) {
        fail({NetError::Protocol, status, QStringLiteral("Too many redirects while downloading %1.").arg(currentFile())});
    } else {
        startRequest(target);
    }
    return true;
}

void ModelDownload::retryOrFail(const NetError& e, bool madeProgress) {
    part_.close();
    if (madeProgress) retries_ = 0;   // a flaky link that keeps delivering is worth following
    const bool retryable = e.retryable() || e.kind == NetError::Protocol;
    if (!retryable || retries_ >= options_.maxRetries) {
        NetError final = e;
        if (retryable && retries_ > 0) final.message += QStringLiteral(" (gave up after %1 retries)").arg(retries_);
        return fail(final);
    }
    ++retries_;
    ++totalRetries_;
    const int delay = std::min<qint64>(qint64(options_.retryBaseMs) << std::min(retries_ - 1, 20), options_.retryMaxMs);
    error_ = e;
    emit notice(QStringLiteral("%1 — retrying in %2 s").arg(e.message).arg(delay / 1000.0));
    setState(State::Waiting);
    retryTimer_.start(delay);
}

void ModelDownload::verifyCurrent() {
    part_.close();
    setState(State::Verifying);
    emit progressChanged(bytesDone(), bytesTotal());
    const auto& f = manifest_.files[fileIndex_];
    const bool lfs = !f.sha256.isEmpty();
    if (!lfs && f.gitOid.isEmpty()) return onVerified(QString());   // nothing to compare against: size was checked
    const QString path = partPath(fileIndex_);
    auto result = std::make_shared<QString>();
    QThread* worker = QThread::create([path, lfs, result] { *result = hashFile(path, !lfs); });
    const quint64 generation = ++verifyGeneration_;
    connect(worker, &QThread::finished, this, [this, result, generation] {
        if (generation == verifyGeneration_ && state_ == State::Verifying) onVerified(*result);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

void ModelDownload::onVerified(const QString& actual) {
    auto& f = manifest_.files[fileIndex_];
    const QString expected = (f.sha256.isEmpty() ? f.gitOid : f.sha256).toLower();
    const QString part = partPath(fileIndex_);
    if (!expected.isEmpty() && actual.toLower() != expected) {
        QFile::remove(part);   // never keep bytes known to be wrong
        partBytes_ = 0;
        const NetError e{NetError::Checksum, 0,
                         QStringLiteral("%1 is corrupt: its %2 is %3, the hub says %4. The file was deleted.")
                             .arg(f.path, f.sha256.isEmpty() ? QStringLiteral("git oid") : QStringLiteral("sha256"),
                                  actual.isEmpty() ? QStringLiteral("unreadable") : actual.left(16) + QStringLiteral("…"),
                                  expected.left(16) + QStringLiteral("…"))};
        if (checksumRetried_ || pauseAfterVerify_) return fail(e);
        // One fresh attempt: corruption in transit is usually a one-off.
        checksumRetried_ = true;
        ++totalRetries_;
        emit notice(e.message + QStringLiteral(" Downloading it once more."));
        return startRequest();
    }
    // rename(2) replaces atomically: readers see the old file or the verified one, never a mix.
    std::error_code ec;
    std::filesystem::rename(std::filesystem::path(part.toStdString()), std::filesystem::path(finalPath(fileIndex_).toStdString()), ec);
    if (ec) return fail({NetError::DiskFull, 0, QStringLiteral("Cannot move %1 into place: %2").arg(part, QString::fromStdString(ec.message()))});
    f.done = true;
    partBytes_ = 0;
    manifest_.save(dir_);
    emit progressChanged(bytesDone(), bytesTotal());
    if (pauseAfterVerify_) {
        pauseAfterVerify_ = false;
        return setState(State::Paused);
    }
    startNextFile();
}

void ModelDownload::finishAll() {
    fileIndex_ = -1;
    manifest_.complete = true;
    manifest_.save(dir_);
    setState(State::Finished);
    emit progressChanged(bytesDone(), bytesTotal());
    emit finished();
}

void ModelDownload::pause() {
    switch (state_) {
    case State::Downloading:
        if (reply_) {
            abortReason_ = AbortReason::Pause;
            reply_->abort();   // finished → onReplyFinished → Paused
        }
        break;
    case State::Waiting:
        retryTimer_.stop();
        setState(State::Paused);
        break;
    case State::Verifying:
        pauseAfterVerify_ = true;
        break;
    default: break;
    }
}

void ModelDownload::resume() {
    if (state_ == State::Paused) {
        error_ = {};
        if (fileIndex_ < 0 || fileIndex_ >= manifest_.files.size()) { fileIndex_ = -1; return startNextFile(); }
        return startRequest();
    }
    if (state_ == State::Failed || state_ == State::Idle) {
        state_ = State::Idle;
        start();
    }
}

void ModelDownload::cancel() {
    if (state_ == State::Finished || state_ == State::Cancelled) return;
    retryTimer_.stop();
    stallTimer_.stop();
    ++verifyGeneration_;   // a hash still running is ignored
    if (reply_) {
        abortReason_ = AbortReason::Cancel;
        QNetworkReply* r = reply_;
        reply_ = nullptr;
        r->disconnect(this);
        r->abort();
        r->deleteLater();
    }
    part_.close();
    removePartialFiles();
    error_ = {NetError::Cancelled, 0, QStringLiteral("Cancelled.")};
    setState(State::Cancelled);
}

void ModelDownload::removePartialFiles() {
    // Only what this download wrote: its parts, its finished files and its manifest.
    for (int i = 0; i < manifest_.files.size(); ++i) {
        QFile::remove(partPath(i));
        if (manifest_.files[i].done) QFile::remove(finalPath(i));
    }
    QFile::remove(dir_ + u'/' + DownloadManifest::fileName());
    // Remove now-empty folders (nested file paths), deepest first; rmdir refuses non-empty ones.
    QStringList dirs;
    for (const auto& f : manifest_.files)
        for (QString d = QFileInfo(f.path).path(); d != QStringLiteral(".") && !d.isEmpty(); d = QFileInfo(d).path())
            dirs << dir_ + u'/' + d;
    std::sort(dirs.begin(), dirs.end(), [](const QString& a, const QString& b) { return a.size() > b.size(); });
    for (const QString& d : dirs) QDir().rmdir(d);
    QDir().rmdir(dir_);
}
