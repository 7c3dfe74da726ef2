// SPDX-License-Identifier: Apache-2.0
#include "hf_client.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QRegularExpression>
#include <QUrlQuery>

namespace {

QString encodePath(const QString& path) {
    QStringList parts;
    for (const QString& p : path.split(u'/', Qt::SkipEmptyParts)) parts << QString::fromLatin1(QUrl::toPercentEncoding(p));
    return parts.join(u'/');
}

QString baseOf(const QUrl& endpoint) {
    QString s = endpoint.toString(QUrl::StripTrailingSlash);
    while (s.endsWith(u'/')) s.chop(1);
    return s;
}

} // namespace

QString NetError::kindName(Kind k) {
    switch (k) {
    case None: return QStringLiteral("ok");
    case Offline: return QStringLiteral("offline");
    case Unauthorized: return QStringLiteral("unauthorized");
    case Forbidden: return QStringLiteral("forbidden");
    case NotFound: return QStringLiteral("not found");
    case Server: return QStringLiteral("server error");
    case Tls: return QStringLiteral("TLS");
    case Stalled: return QStringLiteral("stalled");
    case Interrupted: return QStringLiteral("interrupted");
    case DiskFull: return QStringLiteral("disk full");
    case Checksum: return QStringLiteral("checksum mismatch");
    case Protocol: return QStringLiteral("protocol");
    case Cancelled: return QStringLiteral("cancelled");
    case Other: return QStringLiteral("error");
    }
    return {};
}

HubClient::HubClient(QNetworkAccessManager* nam, QObject* parent)
    : QObject(parent), nam_(nam), endpoint_(defaultEndpoint()), token_(defaultToken()) {}

QUrl HubClient::defaultEndpoint() {
    const QString env = qEnvironmentVariable("HF_ENDPOINT").trimmed();
    return QUrl(env.isEmpty() ? QStringLiteral("https://huggingface.co") : env);
}

QString HubClient::defaultToken() {
    for (const char* var : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
        const QString t = qEnvironmentVariable(var).trimmed();
        if (!t.isEmpty()) return t;
    }
    // `huggingface-cli login` stores the token here; reusing it saves people a step.
    QString home = qEnvironmentVariable("HF_HOME");
    if (home.isEmpty()) {
        const QString xdg = qEnvironmentVariable("XDG_CACHE_HOME");
        home = (xdg.isEmpty() ? QDir::homePath() + QStringLiteral("/.cache") : xdg) + QStringLiteral("/huggingface");
    }
    QFile f(qEnvironmentVariable("HF_TOKEN_PATH", home + QStringLiteral("/token")));
    if (f.open(QIODevice::ReadOnly)) return QString::fromUtf8(f.readAll()).trimmed();
    return {};
}

bool HubClient::isValidRepoId(const QString& repoId) {
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$"));
    return re.match(repoId).hasMatch() && !repoId.contains(QStringLiteral(".."));
}

QUrl HubClient::resolveUrl(const QString& repoId, const QString& revision, const QString& path) const {
    return QUrl(baseOf(endpoint_) + u'/' + repoId + QStringLiteral("/resolve/") +
                QString::fromLatin1(QUrl::toPercentEncoding(revision)) + u'/' + encodePath(path));
}

QNetworkRequest HubClient::request(const QUrl& url) const {
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("mmfree-studio/" MMFREE_VERSION));
    // The token goes only to the configured hub, never to a third-party host.
    if (!token_.isEmpty() && url.host() == endpoint_.host() && url.port() == endpoint_.port())
        req.setRawHeader("Authorization", "Bearer " + token_.toUtf8());
    // API calls follow redirects only within the hub (renamed repositories); file downloads
    // handle the hub's redirects to its CDN themselves (ModelDownload), without the token.
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::SameOriginRedirectPolicy);
    return req;
}

NetError HubClient::classify(QNetworkReply* reply, const QString& what, bool haveToken) {
    NetError e;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    e.httpStatus = status;
    const QByteArray hubCode = reply->rawHeader("X-Error-Code");
    const QString hubMessage = QString::fromUtf8(reply->rawHeader("X-Error-Message"));
    const QString host = reply->url().host();
    auto withHub = [&](QString m) { return hubMessage.isEmpty() ? m : m + QStringLiteral(" The hub says: ") + hubMessage; };

    if (status == 401 || (hubCode == "GatedRepo" && status != 403)) {
        e.kind = NetError::Unauthorized;
        e.message = haveToken
            ? withHub(QStringLiteral("The hub did not accept the access token for %1 (HTTP %2). Check that HF_TOKEN holds a "
                                     "valid token and that your account was granted access to this repository.").arg(what).arg(status))
            : withHub(QStringLiteral("The hub refused access to %1 (HTTP %2). If the repository is gated or private, accept its "
                                     "terms on its web page and set HF_TOKEN to a Hugging Face access token.").arg(what).arg(status));
        return e;
    }
    if (status == 403) {
        e.kind = NetError::Forbidden;
        e.message = withHub(QStringLiteral("Access to %1 is restricted (HTTP 403): the repository is gated. Request access on its "
                                           "web page, then set HF_TOKEN to a token of the account that has access.").arg(what));
        return e;
    }
    if (status == 404) {
        e.kind = NetError::NotFound;
        const QString detail = hubCode == "RevisionNotFound" ? QStringLiteral("the revision does not exist")
                             : hubCode == "EntryNotFound"    ? QStringLiteral("the file is not in the repository")
                             : hubCode == "RepoNotFound"     ? QStringLiteral("no repository has this id")
                                                             : QStringLiteral("check the repository id");
        e.message = withHub(QStringLiteral("%1 was not found on the hub (HTTP 404): %2.").arg(what, detail));
        return e;
    }
    if (status == 429 || status >= 500) {
        e.kind = NetError::Server;
        e.message = withHub(QStringLiteral("The hub (%1) answered HTTP %2 for %3; it is busy or failing, try again later.")
                                .arg(host).arg(status).arg(what));
        return e;
    }
    if (status >= 400 && status != 416) {
        e.kind = NetError::Other;
        e.message = withHub(QStringLiteral("The hub answered HTTP %1 for %2.").arg(status).arg(what));
        return e;
    }
    switch (reply->error()) {
    case QNetworkReply::NoError:
        return e;
    case QNetworkReply::HostNotFoundError:
    case QNetworkReply::ConnectionRefusedError:
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyNotFoundError:
    case QNetworkReply::UnknownNetworkError:
        e.kind = NetError::Offline;
        e.message = QStringLiteral("Cannot reach %1 (%2). Check the network connection%3.")
                        .arg(host, reply->errorString(),
                             qEnvironmentVariableIsSet("HF_ENDPOINT") ? QStringLiteral(" and HF_ENDPOINT") : QString());
        return e;
    case QNetworkReply::SslHandshakeFailedError:
        e.kind = NetError::Tls;
        e.message = QStringLiteral("The TLS certificate of %1 could not be verified (%2); nothing was downloaded from it.")
                        .arg(host, reply->errorString());
        return e;
    case QNetworkReply::TimeoutError:
    case QNetworkReply::ProxyTimeoutError:
        e.kind = NetError::Stalled;
        e.message = QStringLiteral("The connection to %1 timed out.").arg(host);
        return e;
    case QNetworkReply::RemoteHostClosedError:
    case QNetworkReply::ProxyConnectionClosedError:
        e.kind = NetError::Interrupted;
        e.message = QStringLiteral("%1 closed the connection while sending %2.").arg(host, what);
        return e;
    case QNetworkReply::OperationCanceledError:
        e.kind = NetError::Cancelled;
        e.message = QStringLiteral("Cancelled.");
        return e;
    default:
        e.kind = NetError::Other;
        e.message = QStringLiteral("Fetching %1 failed: %2").arg(what, reply->errorString());
        return e;
    }
}

HubModelInfo HubClient::parseModelInfo(const QByteArray& json, const QString& repoId, NetError* error) {
    HubModelInfo info;
    info.repoId = repoId;
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (!doc.isObject()) {
        if (error) *error = {NetError::Protocol, 0, QStringLiteral("The hub's answer about %1 is not a JSON object (%2).").arg(repoId, pe.errorString())};
        return info;
    }
    const QJsonObject o = doc.object();
    if (o.contains(QStringLiteral("id"))) info.repoId = o.value(QStringLiteral("id")).toString(repoId);
    info.revision = o.value(QStringLiteral("sha")).toString();
    const QJsonValue gated = o.value(QStringLiteral("gated"));
    info.gated = gated.isString() ? gated.toString() : QString();
    for (const QJsonValue& t : o.value(QStringLiteral("tags")).toArray()) info.tags << t.toString();
    info.modelType = o.value(QStringLiteral("config")).toObject().value(QStringLiteral("model_type")).toString();
    for (const QJsonValue& v : o.value(QStringLiteral("siblings")).toArray()) {
        const QJsonObject s = v.toObject();
        HubFile f;
        f.path = s.value(QStringLiteral("rfilename")).toString();
        if (f.path.isEmpty()) continue;
        f.size = s.value(QStringLiteral("size")).toInteger(-1);
        f.gitOid = s.value(QStringLiteral("blobId")).toString();
        const QJsonObject lfs = s.value(QStringLiteral("lfs")).toObject();
        if (!lfs.isEmpty()) {
            f.lfs = true;
            f.sha256 = lfs.value(QStringLiteral("sha256")).toString(lfs.value(QStringLiteral("oid")).toString());
            if (lfs.contains(QStringLiteral("size"))) f.size = lfs.value(QStringLiteral("size")).toInteger(f.size);
        }
        info.files << f;
    }
    if (error) *error = {};
    return info;
}

QList<HubSearchResult> HubClient::parseSearch(const QByteArray& json, NetError* error) {
    QList<HubSearchResult> out;
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    if (!doc.isArray()) {
        if (error) *error = {NetError::Protocol, 0, QStringLiteral("The hub's search answer is not a JSON list.")};
        return out;
    }
    for (const QJsonValue& v : doc.array()) {
        const QJsonObject o = v.toObject();
        HubSearchResult r;
        r.repoId = o.value(QStringLiteral("id")).toString(o.value(QStringLiteral("modelId")).toString());
        if (r.repoId.isEmpty()) continue;
        r.downloads = o.value(QStringLiteral("downloads")).toInteger();
        r.likes = o.value(QStringLiteral("likes")).toInteger();
        r.lastModified = o.value(QStringLiteral("lastModified")).toString();
        for (const QJsonValue& t : o.value(QStringLiteral("tags")).toArray()) r.tags << t.toString();
        out << r;
    }
    if (error) *error = {};
    return out;
}

void HubClient::fetchModelInfo(const QString& repoId, const QString& revision, QObject* context, InfoCallback done) {
    const QString rev = revision.isEmpty() ? QStringLiteral("main") : revision;
    QUrl url(baseOf(endpoint_) + QStringLiteral("/api/models/") + repoId + QStringLiteral("/revision/") +
             QString::fromLatin1(QUrl::toPercentEncoding(rev)));
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("blobs"), QStringLiteral("true"));   // sizes + LFS sha256 of every file
    url.setQuery(q);
    QNetworkReply* reply = nam_->get(request(url));
    const bool haveToken = !token_.isEmpty();
    connect(reply, &QNetworkReply::finished, context, [reply, repoId, haveToken, done = std::move(done)] {
        reply->deleteLater();
        NetError e = classify(reply, repoId, haveToken);
        if (!e.ok()) return done({}, e);
        HubModelInfo info = parseModelInfo(reply->readAll(), repoId, &e);
        done(info, e);
    });
    // If the context dies first, the reply must not linger.
    connect(context, &QObject::destroyed, reply, [reply] { reply->abort(); reply->deleteLater(); });
}

void HubClient::search(const QString& text, const QString& filter, int limit, QObject* context, SearchCallback done) {
    QUrl url(baseOf(endpoint_) + QStringLiteral("/api/models"));
    QUrlQuery q;
    if (!text.trimmed().isEmpty()) q.addQueryItem(QStringLiteral("search"), text.trimmed());
    if (!filter.isEmpty()) q.addQueryItem(QStringLiteral("filter"), filter);
    q.addQueryItem(QStringLiteral("sort"), QStringLiteral("downloads"));
    q.addQueryItem(QStringLiteral("direction"), QStringLiteral("-1"));
    q.addQueryItem(QStringLiteral("limit"), QString::number(limit));
    url.setQuery(q);
    QNetworkReply* reply = nam_->get(request(url));
    const bool haveToken = !token_.isEmpty();
    connect(reply, &QNetworkReply::finished, context, [reply, haveToken, done = std::move(done)] {
        reply->deleteLater();
        NetError e = classify(reply, QStringLiteral("the model search"), haveToken);
        if (!e.ok()) return done({}, e);
        const auto results = parseSearch(reply->readAll(), &e);
        done(results, e);
    });
    connect(context, &QObject::destroyed, reply, [reply] { reply->abort(); reply->deleteLater(); });
}

void HubClient::fetchFile(const QString& repoId, const QString& revision, const QString& path, QObject* context,
                          BytesCallback done) {
    QNetworkReply* reply = nam_->get(request(resolveUrl(repoId, revision.isEmpty() ? QStringLiteral("main") : revision, path)));
    const bool haveToken = !token_.isEmpty();
    const QString what = repoId + u'/' + path;
    connect(reply, &QNetworkReply::finished, context, [reply, what, haveToken, done = std::move(done)] {
        reply->deleteLater();
        const NetError e = classify(reply, what, haveToken);
        done(e.ok() ? reply->readAll() : QByteArray(), e);
    });
    connect(context, &QObject::destroyed, reply, [reply] { reply->abort(); reply->deleteLater(); });
}
