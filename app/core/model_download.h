// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QElapsedTimer>
#include <QFile>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <functional>

#include "hf_client.h"

class QNetworkReply;

// What a download is fetching, written next to the files so that it can resume after the app
// restarts without asking the hub again (the revision stays pinned to the same commit).
struct DownloadManifest {
    QString repoId;
    QString revision;
    bool complete = false;
    struct File {
        QString path;
        qint64 size = -1;
        QString sha256;   // LFS files
        QString gitOid;   // everything else: git blob sha1
        bool done = false;
    };
    QList<File> files;

    static QString fileName();   // ".mmfree-download.json"
    bool save(const QString& dir, QString* error = nullptr) const;
    static bool load(const QString& dir, DownloadManifest* out);
};

// Downloads every file a model needs from one hub repository into one folder.
// Files arrive as "<name>.part" (resumed with HTTP Range), are verified against the hub's
// sha256 / git oid, and only then renamed into place, so the folder never holds a corrupt file
// under its real name. Transient failures are retried with exponential backoff.
class ModelDownload : public QObject {
    Q_OBJECT
public:
    enum class State { Idle, FetchingInfo, Downloading, Verifying, Waiting, Paused, Finished, Failed, Cancelled };
    Q_ENUM(State)

    struct Options {
        int maxRetries = 5;           // per file, reset whenever an attempt makes progress
        int retryBaseMs = 1000;       // backoff: base, 2·base, 4·base ... capped at retryMaxMs
        int retryMaxMs = 30000;
        int stallTimeoutMs = 30000;   // no byte for this long → the connection is considered stalled
        qint64 reserveBytes = 64ll << 20;   // keep this much free beyond the download itself
        std::function<qint64(const QString& dir)> freeSpace;   // tests override QStorageInfo
    };

    ModelDownload(HubClient* hub, const QString& repoId, const QString& targetDir, QObject* parent = nullptr);
    ~ModelDownload() override;

    // Which repository files make up a model: weights, config, tokenizer, index, README/licence.
    static bool isModelFile(const QString& path);
    // True when `dir` holds an unfinished download that start() would resume.
    static bool hasUnfinished(const QString& dir);
    // Progress of an unfinished download from what is on disk (for a paused one after a restart).
    static bool progressOnDisk(const QString& dir, qint64* done, qint64* total);

    void setOptions(const Options& o) { options_ = o; }
    const Options& options() const { return options_; }

    void start();    // resumes from the folder's manifest when there is one
    void pause();
    void resume();
    void cancel();   // stops and removes the partial files and the folder's manifest

    State state() const { return state_; }
    static QString stateName(State s);
    NetError error() const { return error_; }
    QString repoId() const { return repoId_; }
    QString targetDir() const { return dir_; }
    QString currentFile() const;
    int fileIndex() const { return fileIndex_; }
    int fileCount() const { return int(manifest_.files.size()); }
    qint64 bytesDone() const;
    qint64 bytesTotal() const;
    double bytesPerSecond() const;    // over the last few seconds; 0 when idle
    qint64 secondsLeft() const;       // -1 when unknown
    QString statusText() const;       // one line for the UI
    int rangeIgnoredCount() const { return rangeIgnored_; }   // server answered 200 to a Range request
    int retriesUsed() const { return totalRetries_; }

signals:
    void stateChanged(ModelDownload::State state);
    void progressChanged(qint64 done, qint64 total);
    void notice(const QString& text);   // e.g. "server ignored Range; restarting tokenizer.model"
    void finished();
    void failed(const NetError& error);

private:
    enum class AbortReason { None, Pause, Cancel, Stall, Overflow, BadRange, WriteError };

    void setState(State s);
    void fail(const NetError& e);
    void beginFiles();
    void startNextFile();
    void startRequest(const QUrl& url = {});   // empty: the file's resolve URL
    bool followRedirect(QNetworkReply* reply);
    void onReadyRead();
    void onReplyFinished();
    bool checkResponseStart();
    void retryOrFail(const NetError& e, bool madeProgress);
    void verifyCurrent();
    void onVerified(const QString& actual);
    void finishAll();
    void removePartialFiles();
    void sampleSpeed(bool force);
    QString partPath(int index) const;
    QString finalPath(int index) const;

    HubClient* hub_;
    QString repoId_;
    QString dir_;
    Options options_;
    DownloadManifest manifest_;
    State state_ = State::Idle;
    NetError error_;

    int fileIndex_ = -1;
    QPointer<QNetworkReply> reply_;
    QFile part_;
    qint64 offset_ = 0;         // bytes of the current file already in its .part when the request began
    qint64 partBytes_ = 0;      // bytes of the current file in its .part now
    bool responseChecked_ = false;
    bool responseUsable_ = false;
    AbortReason abortReason_ = AbortReason::None;
    bool pauseAfterVerify_ = false;
    int retries_ = 0;
    int totalRetries_ = 0;
    int rangeIgnored_ = 0;
    int redirects_ = 0;
    bool checksumRetried_ = false;
    quint64 verifyGeneration_ = 0;
    QTimer stallTimer_;
    QTimer retryTimer_;
    QElapsedTimer clock_;
    QList<QPair<qint64, qint64>> speedSamples_;   // (ms, bytesDone)
    qint64 lastProgressEmitMs_ = -1;
};
