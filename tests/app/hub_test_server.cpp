// SPDX-License-Identifier: Apache-2.0
#include "hub_test_server.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrlQuery>

struct HubTestServer::Transfer {
    QPointer<QTcpSocket> socket;
    QByteArray body;        // exactly the bytes this response carries (corruption applied)
    qint64 pos = 0;
    qint64 limit = 0;       // stop after this many bytes …
    enum { Finish, Drop, Stall } atLimit = Finish;
    int logIndex = -1;
    QTimer timer;
};

namespace {

QByteArray reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 302: return "Found";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 416: return "Range Not Satisfiable";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

} // namespace

HubTestServer::HubTestServer(QObject* parent) : QObject(parent) {
    connect(&server_, &QTcpServer::newConnection, this, &HubTestServer::onNewConnection);
}

HubTestServer::~HubTestServer() {
    for (Transfer* t : transfers_) delete t;
    // Sockets are children of the QTcpServer member; close them while our handlers still make sense.
    for (QTcpSocket* s : server_.findChildren<QTcpSocket*>()) {
        s->disconnect(this);
        s->abort();
        delete s;
    }
}

bool HubTestServer::listen() { return server_.listen(QHostAddress::LocalHost, 0); }

QUrl HubTestServer::url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port())); }

QString HubTestServer::sha256(const QByteArray& data) {
    return QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
}

QString HubTestServer::gitOid(const QByteArray& data) {
    QByteArray blob = "blob " + QByteArray::number(data.size());
    blob.append('\0');
    blob += data;
    return QString::fromLatin1(QCryptographicHash::hash(blob, QCryptographicHash::Sha1).toHex());
}

void HubTestServer::addRepo(const QString& repoId, const QStringList& tags, const QString& modelType) {
    Repo& r = repos_[repoId];
    r.sha = QString::fromLatin1(QCryptographicHash::hash(repoId.toUtf8(), QCryptographicHash::Sha1).toHex());
    r.tags = tags;
    r.modelType = modelType;
}

void HubTestServer::addFile(const QString& repoId, const QString& path, const QByteArray& content, bool lfs) {
    File& f = repos_[repoId].files[path];
    f.content = content;
    f.lfs = lfs;
}

void HubTestServer::setGated(const QString& repoId, const QString& token) { repos_[repoId].token = token; }

void HubTestServer::setFault(const QString& repoId, const QString& path, const Fault& fault) {
    repos_[repoId].files[path].fault = fault;
}

QList<HubTestServer::Request> HubTestServer::fileRequests(const QString& repoId, const QString& path) const {
    QList<Request> out;
    for (const Request& r : log_)
        if (r.path.contains(QStringLiteral("/resolve/")) || r.path.startsWith(QStringLiteral("/cdn/")))
            if (r.path.startsWith(u'/' + repoId + u'/') || r.path.startsWith(QStringLiteral("/cdn/") + repoId + u'/'))
                if (r.path.endsWith(u'/' + path)) out << r;
    return out;
}

qint64 HubTestServer::bodyBytesSent(const QString& repoId, const QString& path) const {
    qint64 n = 0;
    for (const Request& r : fileRequests(repoId, path)) n += r.bodySent;
    return n;
}

void HubTestServer::clearLog() {
    log_.clear();
    for (Transfer* t : transfers_) t->logIndex = -1;   // bytes of older responses are no longer counted
}

void HubTestServer::onNewConnection() {
    while (QTcpSocket* s = server_.nextPendingConnection()) {
        connect(s, &QTcpSocket::readyRead, this, [this, s] { onReadable(s); });
        connect(s, &QTcpSocket::disconnected, this, [this, s] {
            buffers_.remove(s);
            s->deleteLater();
        });
    }
}

void HubTestServer::onReadable(QTcpSocket* socket) {
    QByteArray& buf = buffers_[socket];
    buf += socket->readAll();
    const int end = buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const QList<QByteArray> lines = buf.left(end).split('\n');
    buf.clear();
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    QHash<QByteArray, QByteArray> headers;
    for (int i = 1; i < lines.size(); ++i) {
        const int colon = lines[i].indexOf(':');
        if (colon > 0) headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
    }
    handle(socket, requestLine.value(0), QString::fromUtf8(requestLine.value(1)), headers);
}

void HubTestServer::sendSimple(QTcpSocket* socket, int status, const QByteArray& body,
                               const QList<QPair<QByteArray, QByteArray>>& extra, const QByteArray& contentType) {
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason(status) + "\r\n";
    head += "Content-Type: " + contentType + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    for (const auto& h : extra) head += h.first + ": " + h.second + "\r\n";
    head += "Connection: close\r\n\r\n";
    socket->write(head + body);
    socket->disconnectFromHost();
    if (!log_.isEmpty()) log_.last().status = status;
}

bool HubTestServer::authorized(QTcpSocket* socket, const Repo& repo, const QHash<QByteArray, QByteArray>& headers) {
    if (repo.token.isEmpty()) return true;
    const QByteArray auth = headers.value("authorization");
    if (auth == "Bearer " + repo.token.toUtf8()) return true;
    if (auth.isEmpty())
        sendSimple(socket, 401, R"({"error":"Access to this model is restricted."})",
                   {{"X-Error-Code", "GatedRepo"}, {"X-Error-Message", "Access to this model is restricted."}});
    else
        sendSimple(socket, 403, R"({"error":"Not in the authorized list."})");
    return false;
}

void HubTestServer::handle(QTcpSocket* socket, const QByteArray& method, const QString& target,
                           const QHash<QByteArray, QByteArray>& headers) {
    const QUrl u(target);
    Request req;
    req.path = QUrl::fromPercentEncoding(u.path(QUrl::FullyEncoded).toLatin1());
    req.query = u.query();
    req.range = headers.value("range");
    req.authorization = headers.value("authorization");
    log_ << req;
    if (method != "GET") return sendSimple(socket, 405, "{}");

    const QStringList parts = req.path.split(u'/', Qt::SkipEmptyParts);
    if (req.path == QStringLiteral("/api/models")) {
        const QUrlQuery q(u);
        const QString search = q.queryItemValue(QStringLiteral("search"), QUrl::FullyDecoded);
        const QString filter = q.queryItemValue(QStringLiteral("filter"));
        QJsonArray out;
        for (auto it = repos_.cbegin(); it != repos_.cend(); ++it) {
            if (!search.isEmpty() && !it.key().contains(search, Qt::CaseInsensitive)) continue;
            if (!filter.isEmpty() && !it->tags.contains(filter)) continue;
            out.append(QJsonObject{{QStringLiteral("id"), it.key()},
                                   {QStringLiteral("modelId"), it.key()},
                                   {QStringLiteral("downloads"), 42},
                                   {QStringLiteral("likes"), 7},
                                   {QStringLiteral("tags"), QJsonArray::fromStringList(it->tags)},
                                   {QStringLiteral("lastModified"), QStringLiteral("2024-06-01T00:00:00.000Z")}});
        }
        return sendSimple(socket, 200, QJsonDocument(out).toJson(QJsonDocument::Compact));
    }
    if (parts.size() >= 6 && parts[0] == QStringLiteral("api") && parts[1] == QStringLiteral("models") &&
        parts[4] == QStringLiteral("revision")) {
        const QString repoId = parts[2] + u'/' + parts[3];
        if (!repos_.contains(repoId))
            return sendSimple(socket, 404, R"({"error":"Repository not found"})", {{"X-Error-Code", "RepoNotFound"}});
        const Repo& repo = repos_[repoId];
        if (!authorized(socket, repo, headers)) return;
        QJsonArray siblings;
        for (auto it = repo.files.cbegin(); it != repo.files.cend(); ++it) {
            QJsonObject s{{QStringLiteral("rfilename"), it.key()},
                          {QStringLiteral("size"), it->content.size()},
                          {QStringLiteral("blobId"), gitOid(it->content)}};
            if (it->lfs)
                s.insert(QStringLiteral("lfs"), QJsonObject{{QStringLiteral("sha256"), sha256(it->content)},
                                                            {QStringLiteral("size"), it->content.size()},
                                                            {QStringLiteral("pointerSize"), 134}});
            siblings.append(s);
        }
        QJsonObject info{{QStringLiteral("id"), repoId},
                         {QStringLiteral("sha"), repo.sha},
                         {QStringLiteral("gated"), repo.token.isEmpty() ? QJsonValue(false) : QJsonValue(QStringLiteral("manual"))},
                         {QStringLiteral("tags"), QJsonArray::fromStringList(repo.tags)},
                         {QStringLiteral("siblings"), siblings}};
        if (!repo.modelType.isEmpty())
            info.insert(QStringLiteral("config"), QJsonObject{{QStringLiteral("model_type"), repo.modelType}});
        return sendSimple(socket, 200, QJsonDocument(info).toJson(QJsonDocument::Compact));
    }
    if (parts.size() >= 4 && parts[0] == QStringLiteral("cdn")) {
        const QString repoId = parts[1] + u'/' + parts[2];
        return serveFile(socket, repoId, parts.mid(3).join(u'/'), headers, true);
    }
    if (parts.size() >= 5 && parts[2] == QStringLiteral("resolve")) {
        const QString repoId = parts[0] + u'/' + parts[1];
        return serveFile(socket, repoId, parts.mid(4).join(u'/'), headers, false);
    }
    sendSimple(socket, 404, R"({"error":"no such route"})");
}

void HubTestServer::serveFile(QTcpSocket* socket, const QString& repoId, const QString& path,
                              const QHash<QByteArray, QByteArray>& headers, bool viaCdn) {
    if (!repos_.contains(repoId))
        return sendSimple(socket, 404, R"({"error":"Repository not found"})", {{"X-Error-Code", "RepoNotFound"}});
    Repo& repo = repos_[repoId];
    if (!viaCdn && !authorized(socket, repo, headers)) return;
    if (!repo.files.contains(path))
        return sendSimple(socket, 404, R"({"error":"Entry not found"})", {{"X-Error-Code", "EntryNotFound"}});
    File& file = repo.files[path];
    Fault& fault = file.fault;
    if (fault.status && fault.statusTimes != 0) {
        if (fault.statusTimes > 0) --fault.statusTimes;
        return sendSimple(socket, fault.status, R"({"error":"injected"})");
    }
    if (!viaCdn && redirectLfs_ && file.lfs)
    {
        QUrl cdn = url();
        if (!cdnHost_.isEmpty()) cdn.setHost(cdnHost_);
        return sendSimple(socket, 302, {}, {{"Location", cdn.toString().toUtf8() + "/cdn/" + repoId.toUtf8() + '/' + path.toUtf8()}});
    }

    const qint64 size = file.content.size();
    qint64 start = 0;
    bool partial = false;
    const QByteArray range = headers.value("range");
    if (range.startsWith("bytes=") && !fault.ignoreRange) {
        const QByteArray spec = range.mid(6);
        start = spec.left(spec.indexOf('-')).toLongLong();
        if (start >= size)
            return sendSimple(socket, 416, {}, {{"Content-Range", "bytes */" + QByteArray::number(size)}});
        partial = true;
    }
    auto* t = new Transfer;
    t->socket = socket;
    t->body = file.content.mid(start);
    if (fault.corruptAt >= start && fault.corruptAt < size && fault.corruptTimes != 0) {
        if (fault.corruptTimes > 0) --fault.corruptTimes;
        t->body[fault.corruptAt - start] = char(t->body[fault.corruptAt - start] ^ 0x5a);
    }
    t->limit = t->body.size();
    // Fault offsets are file offsets; they apply once the body reaches them.
    if (fault.dropAfter >= 0 && fault.dropTimes > 0 && fault.dropAfter > start) {
        --fault.dropTimes;
        t->limit = fault.dropAfter - start;
        t->atLimit = Transfer::Drop;
    } else if (fault.stallAfter >= 0 && fault.stallTimes > 0 && fault.stallAfter > start) {
        --fault.stallTimes;
        t->limit = fault.stallAfter - start;
        t->atLimit = Transfer::Stall;
    }
    t->logIndex = int(log_.size()) - 1;
    log_.last().status = partial ? 206 : 200;
    log_.last().bodyStart = start;

    QByteArray head = partial ? "HTTP/1.1 206 Partial Content\r\n" : "HTTP/1.1 200 OK\r\n";
    head += "Content-Type: application/octet-stream\r\nContent-Length: " + QByteArray::number(t->body.size()) + "\r\n";
    if (partial)
        head += "Content-Range: bytes " + QByteArray::number(start) + '-' + QByteArray::number(size - 1) + '/' +
                QByteArray::number(size) + "\r\n";
    if (!fault.ignoreRange) head += "Accept-Ranges: bytes\r\n";
    head += "ETag: \"" + (file.lfs ? sha256(file.content) : gitOid(file.content)).toLatin1() + "\"\r\nConnection: close\r\n\r\n";
    socket->write(head);
    transfers_ << t;
    connect(&t->timer, &QTimer::timeout, this, [this, t] { pump(t); });
    t->timer.start(rate_ > 0 ? 10 : 1);
    pump(t);
}

void HubTestServer::pump(Transfer* t) {
    auto done = [this, t] {
        t->timer.stop();
        transfers_.removeOne(t);
        t->timer.disconnect();
        QTimer::singleShot(0, this, [t] { delete t; });
    };
    if (!t->socket || t->socket->state() != QAbstractSocket::ConnectedState) return done();
    // Keep the socket's buffer short so "sent" stays close to "received".
    if (t->socket->bytesToWrite() > (256 << 10)) return;
    const qint64 chunk = rate_ > 0 ? std::max<qint64>(rate_ / 100, 1) : (256 << 10);
    const qint64 n = std::min(chunk, t->limit - t->pos);
    if (n > 0) {
        const qint64 written = t->socket->write(t->body.constData() + t->pos, n);
        if (written > 0) {
            t->pos += written;
            if (t->logIndex >= 0) log_[t->logIndex].bodySent += written;
        }
    }
    if (t->pos < t->limit) return;
    switch (t->atLimit) {
    case Transfer::Finish:
    case Transfer::Drop:
        t->socket->disconnectFromHost();   // after the buffered bytes are flushed
        break;
    case Transfer::Stall:
        break;                              // keep the connection open and silent
    }
    done();
}
