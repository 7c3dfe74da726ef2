// SPDX-License-Identifier: Apache-2.0
#pragma once
// A loopback HTTP/1.1 server shaped like the Hugging Face Hub, for download tests: model info
// with LFS hashes, search, `resolve` URLs (optionally redirected to a "CDN" path), gated repos,
// and per-file faults (Range ignored, dropped or stalled connections, error statuses, a
// corrupted byte, throttling). It counts every body byte it sends so tests can prove that a
// resume fetched only what was missing.
#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMap>
#include <QObject>
#include <QSet>
#include <QString>
#include <QTcpServer>
#include <QUrl>

class QTcpSocket;

class HubTestServer : public QObject {
    Q_OBJECT
public:
    struct Fault {
        bool ignoreRange = false;     // answer 200 + the whole file to Range requests
        qint64 dropAfter = -1;        // close the connection after this many body bytes …
        int dropTimes = 0;            // … for this many requests
        qint64 stallAfter = -1;       // stop sending (connection stays open) after this many body bytes …
        int stallTimes = 0;           // … for this many requests
        int status = 0;               // answer this status instead of the file …
        int statusTimes = 0;          // … for this many requests (-1: always)
        qint64 corruptAt = -1;        // flip the byte at this file offset …
        int corruptTimes = 0;         // … in this many responses (-1: always)
    };
    struct Request {
        QString path;                 // decoded path without the query
        QString query;
        QByteArray range;             // the Range header as sent
        QByteArray authorization;
        int status = 0;
        qint64 bodyStart = 0;         // first file offset of the body
        qint64 bodySent = 0;          // body bytes written to the socket
    };

    explicit HubTestServer(QObject* parent = nullptr);
    ~HubTestServer() override;

    bool listen();
    quint16 port() const { return server_.serverPort(); }
    QUrl url() const;

    void addRepo(const QString& repoId, const QStringList& tags = {QStringLiteral("hgrn_bit")},
                 const QString& modelType = QStringLiteral("hgrn_bit"));
    void addFile(const QString& repoId, const QString& path, const QByteArray& content, bool lfs);
    // Only this bearer token may read the repo; others get 401 (no token) or 403 (wrong token).
    void setGated(const QString& repoId, const QString& token);
    void setFault(const QString& repoId, const QString& path, const Fault& fault);
    void setRedirectLfs(bool on) { redirectLfs_ = on; }       // LFS files via 302 to /cdn/…
    void setCdnHost(const QString& host) { cdnHost_ = host; } // e.g. "localhost": another host name, same server
    void setBytesPerSecond(qint64 rate) { rate_ = rate; }     // 0 = as fast as possible

    static QString sha256(const QByteArray& data);
    static QString gitOid(const QByteArray& data);

    // Statistics for assertions.
    QList<Request> requests() const { return log_; }
    QList<Request> fileRequests(const QString& repoId, const QString& path) const;
    qint64 bodyBytesSent(const QString& repoId, const QString& path) const;
    void clearLog();

private:
    struct File {
        QByteArray content;
        bool lfs = false;
        Fault fault;
    };
    struct Repo {
        QString sha;
        QStringList tags;
        QString modelType;
        QString token;        // non-empty: gated
        QMap<QString, File> files;
    };
    struct Transfer;          // one response body being sent

    void onNewConnection();
    void onReadable(QTcpSocket* socket);
    void handle(QTcpSocket* socket, const QByteArray& method, const QString& target, const QHash<QByteArray, QByteArray>& headers);
    void sendSimple(QTcpSocket* socket, int status, const QByteArray& body, const QList<QPair<QByteArray, QByteArray>>& extra = {},
                    const QByteArray& contentType = "application/json");
    void serveFile(QTcpSocket* socket, const QString& repoId, const QString& path, const QHash<QByteArray, QByteArray>& headers,
                   bool viaCdn);
    void pump(Transfer* t);
    bool authorized(QTcpSocket* socket, const Repo& repo, const QHash<QByteArray, QByteArray>& headers);

    QTcpServer server_;
    QMap<QString, Repo> repos_;
    QList<Request> log_;
    QHash<QTcpSocket*, QByteArray> buffers_;
    QList<Transfer*> transfers_;
    bool redirectLfs_ = false;
    QString cdnHost_;
    qint64 rate_ = 0;
};
