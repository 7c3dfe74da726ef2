// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <functional>

class QNetworkAccessManager;
class QNetworkReply;
class QNetworkRequest;

// Why a hub request or a download failed, in a form the UI can both show and react to
// (retry or not, offer HF_TOKEN, ...). `message` is written for a person.
struct NetError {
    enum Kind {
        None,
        Offline,          // host not found, connection refused, network down
        Unauthorized,     // 401: private, gated without a token, or a bad token
        Forbidden,        // 403: gated repository whose terms were not accepted
        NotFound,         // 404: no such repository / revision / file
        Server,           // 5xx or 429: worth retrying
        Tls,              // certificate could not be verified
        Stalled,          // no data for the stall timeout
        Interrupted,      // connection dropped mid-file
        DiskFull,         // not enough free space, or a write failed
        Checksum,         // sha256 / git oid of a finished file does not match the hub
        Protocol,         // unexpected answer (bad JSON, Content-Range mismatch ...)
        Cancelled,
        Other,
    };
    Kind kind = None;
    int httpStatus = 0;
    QString message;

    bool ok() const { return kind == None; }
    // Transient failures are retried with backoff; the others need a person.
    bool retryable() const { return kind == Offline || kind == Server || kind == Stalled || kind == Interrupted; }
    static QString kindName(Kind k);
};

// One file of a repository as the hub describes it.
struct HubFile {
    QString path;          // "model.safetensors", "tokenizer.model", maybe "sub/dir/x.json"
    qint64 size = -1;
    QString gitOid;        // git blob sha1 (all files)
    QString sha256;        // LFS files only: sha256 of the content
    bool lfs = false;
};

struct HubModelInfo {
    QString repoId;
    QString revision;      // the commit sha the files belong to (pin downloads to it)
    QString modelType;     // config.model_type when the hub reports it
    QString gated;         // "", "auto" or "manual"
    QStringList tags;
    QList<HubFile> files;
};

struct HubSearchResult {
    QString repoId;
    qint64 downloads = 0;
    qint64 likes = 0;
    QStringList tags;
    QString lastModified;
};

Q_DECLARE_METATYPE(NetError)
Q_DECLARE_METATYPE(HubSearchResult)

// Minimal Hugging Face Hub API client: model info (with LFS hashes), search, resolve URLs.
// The endpoint follows HF_ENDPOINT and the token HF_TOKEN, like the Hugging Face tools, so
// tests point it at a loopback server and gated repositories work with a personal token.
class HubClient : public QObject {
    Q_OBJECT
public:
    explicit HubClient(QNetworkAccessManager* nam, QObject* parent = nullptr);

    static QUrl defaultEndpoint();   // $HF_ENDPOINT or https://huggingface.co
    static QString defaultToken();   // $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, or $HF_HOME/token
    static bool isValidRepoId(const QString& repoId);

    QUrl endpoint() const { return endpoint_; }
    void setEndpoint(const QUrl& url) { endpoint_ = url; }
    QString token() const { return token_; }
    void setToken(const QString& token) { token_ = token; }
    QNetworkAccessManager* network() const { return nam_; }

    QUrl resolveUrl(const QString& repoId, const QString& revision, const QString& path) const;
    // A request with the user agent and, for the hub's own host, the bearer token.
    QNetworkRequest request(const QUrl& url) const;

    using InfoCallback = std::function<void(const HubModelInfo&, const NetError&)>;
    using SearchCallback = std::function<void(const QList<HubSearchResult>&, const NetError&)>;
    using BytesCallback = std::function<void(const QByteArray&, const NetError&)>;

    // Callbacks run on this object's thread; they are dropped if `context` is destroyed first.
    void fetchModelInfo(const QString& repoId, const QString& revision, QObject* context, InfoCallback done);
    void search(const QString& text, const QString& filter, int limit, QObject* context, SearchCallback done);
    // Small files only (config.json): the whole body in memory.
    void fetchFile(const QString& repoId, const QString& revision, const QString& path, QObject* context,
                   BytesCallback done);

    // Turns a finished reply into a NetError (None on success); `what` names the thing asked for.
    static NetError classify(QNetworkReply* reply, const QString& what, bool haveToken);

    // Parsers, public for tests.
    static HubModelInfo parseModelInfo(const QByteArray& json, const QString& repoId, NetError* error);
    static QList<HubSearchResult> parseSearch(const QByteArray& json, NetError* error);

private:
    QNetworkAccessManager* nam_;
    QUrl endpoint_;
    QString token_;
};
