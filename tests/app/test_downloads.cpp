// SPDX-License-Identifier: Apache-2.0
// Downloads against a loopback server shaped like the Hugging Face Hub: every fault ends in a
// verified file in place or a clear error with no corrupt file under a real name, and resuming
// fetches only the missing bytes (counted by the server).
#include <QtTest>

#include <QDir>
#include <QFile>
#include <QNetworkAccessManager>
#include <QTemporaryDir>

#include "core/hf_client.h"
#include "core/model_download.h"
#include "hub_test_server.h"

namespace {

const QString kRepo = QStringLiteral("test-org/TinyLM");

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Deterministic incompressible-looking bytes, so offsets and corruptions are meaningful.
QByteArray pseudoRandom(qint64 n, quint32 seed) {
    QByteArray b(n, Qt::Uninitialized);
    quint32 s = seed;
    for (qint64 i = 0; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        b[i] = char(s >> 24);
    }
    return b;
}

bool waitFor(ModelDownload& d, std::initializer_list<ModelDownload::State> states, int ms = 20000) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
        for (auto s : states)
            if (d.state() == s) return true;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    return false;
}

bool waitDone(ModelDownload& d, int ms = 20000) {
    return waitFor(d, {ModelDownload::State::Finished, ModelDownload::State::Failed, ModelDownload::State::Cancelled}, ms);
}

QStringList partFiles(const QString& dir) {
    QStringList out;
    QDirIterator it(dir, {QStringLiteral("*.part")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) out << it.next();
    return out;
}

} // namespace

class TestDownloads : public QObject {
    Q_OBJECT

    QNetworkAccessManager nam_;
    QByteArray config_, tokenizer_, weights_;

    struct Fixture {
        HubTestServer server;
        HubClient hub;
        QTemporaryDir tmp;
        explicit Fixture(QNetworkAccessManager* nam) : hub(nam) {}
        QString dir() const { return tmp.path() + QStringLiteral("/test-org--TinyLM"); }
    };

    std::unique_ptr<Fixture> fixture(bool redirect = true) {
        auto f = std::make_unique<Fixture>(&nam_);
        if (!f->server.listen()) qFatal("cannot listen on 127.0.0.1");
        f->hub.setEndpoint(f->server.url());
        f->hub.setToken({});
        f->server.addRepo(kRepo);
        f->server.addFile(kRepo, QStringLiteral("config.json"), config_, false);
        f->server.addFile(kRepo, QStringLiteral("tokenizer.model"), tokenizer_, true);
        f->server.addFile(kRepo, QStringLiteral("model.safetensors"), weights_, true);
        f->server.addFile(kRepo, QStringLiteral(".gitattributes"), "*.safetensors filter=lfs\n", false);
        f->server.setRedirectLfs(redirect);
        return f;
    }

    std::unique_ptr<ModelDownload> download(Fixture& f, int stallMs = 5000) {
        auto d = std::make_unique<ModelDownload>(&f.hub, kRepo, f.dir());
        ModelDownload::Options o;
        o.maxRetries = 3;
        o.retryBaseMs = 20;
        o.retryMaxMs = 100;
        o.stallTimeoutMs = stallMs;
        o.reserveBytes = 0;
        d->setOptions(o);
        return d;
    }

    void expectComplete(Fixture& f) {
        QCOMPARE(readFile(f.dir() + QStringLiteral("/config.json")), config_);
        QCOMPARE(readFile(f.dir() + QStringLiteral("/tokenizer.model")), tokenizer_);
        QCOMPARE(readFile(f.dir() + QStringLiteral("/model.safetensors")), weights_);
        QVERIFY(!QFile::exists(f.dir() + QStringLiteral("/.gitattributes")));
        QVERIFY(partFiles(f.dir()).isEmpty());
        DownloadManifest m;
        QVERIFY(DownloadManifest::load(f.dir(), &m));
        QVERIFY(m.complete);
    }

private slots:
    void initTestCase() {
        QFile cfg(QStringLiteral(MMFREE_TEST_DATA "/tiny-b/config.json"));
        QVERIFY(cfg.open(QIODevice::ReadOnly));
        config_ = cfg.readAll();
        tokenizer_ = pseudoRandom(300 * 1000, 7);
        weights_ = pseudoRandom(3 * 1000 * 1000 + 123, 11);
    }

    void completeDownloadWithRedirects() {
        auto f = fixture(true);
        auto d = download(*f);
        QSignalSpy progress(d.get(), &ModelDownload::progressChanged);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Finished);
        expectComplete(*f);
        QVERIFY(progress.size() > 0);
        QCOMPARE(d->bytesDone(), d->bytesTotal());
        // Each file crossed the wire exactly once.
        QCOMPARE(f->server.bodyBytesSent(kRepo, QStringLiteral("model.safetensors")), qint64(weights_.size()));
        QCOMPARE(f->server.bodyBytesSent(kRepo, QStringLiteral("tokenizer.model")), qint64(tokenizer_.size()));
        // A second start on a finished folder does nothing over the network.
        f->server.clearLog();
        auto again = download(*f);
        again->start();
        QCOMPARE(again->state(), ModelDownload::State::Finished);
        QVERIFY(f->server.requests().isEmpty());
    }

    void droppedConnectionResumesWithRange() {
        auto f = fixture();
        HubTestServer::Fault fault;
        fault.dropAfter = 1000 * 1000;
        fault.dropTimes = 1;
        f->server.setFault(kRepo, QStringLiteral("model.safetensors"), fault);
        auto d = download(*f);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Finished);
        expectComplete(*f);
        const auto reqs = f->server.fileRequests(kRepo, QStringLiteral("model.safetensors"));
        QList<HubTestServer::Request> bodies;
        for (const auto& r : reqs)
            if (r.status == 200 || r.status == 206) bodies << r;
        QCOMPARE(bodies.size(), 2);
        QCOMPARE(bodies[1].range, QByteArray("bytes=1000000-"));
        QCOMPARE(bodies[1].status, 206);
        QCOMPARE(bodies[1].bodyStart, qint64(1000 * 1000));
        // Only the missing bytes were fetched again.
        QCOMPARE(f->server.bodyBytesSent(kRepo, QStringLiteral("model.safetensors")), qint64(weights_.size()));
        QCOMPARE(d->rangeIgnoredCount(), 0);
    }

    void serverIgnoringRangeIsDetected() {
        auto f = fixture(false);
        HubTestServer::Fault fault;
        fault.dropAfter = 1000 * 1000;
        fault.dropTimes = 1;
        fault.ignoreRange = true;
        f->server.setFault(kRepo, QStringLiteral("model.safetensors"), fault);
        auto d = download(*f);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Finished);
        expectComplete(*f);
        QCOMPARE(d->rangeIgnoredCount(), 1);
        const auto reqs = f->server.fileRequests(kRepo, QStringLiteral("model.safetensors"));
        QCOMPARE(reqs.size(), 2);
        QCOMPARE(reqs[1].range, QByteArray("bytes=1000000-"));
        QCOMPARE(reqs[1].status, 200);   // the whole file again, and the client restarted its count
        QCOMPARE(f->server.bodyBytesSent(kRepo, QStringLiteral("model.safetensors")), qint64(1000 * 1000 + weights_.size()));
    }

    void stalledConnectionTimesOutAndResumes() {
        auto f = fixture();
        HubTestServer::Fault fault;
        fault.stallAfter = 700 * 1000;
        fault.stallTimes = 1;
        f->server.setFault(kRepo, QStringLiteral("model.safetensors"), fault);
        auto d = download(*f, 300);
        QSignalSpy notices(d.get(), &ModelDownload::notice);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Finished);
        expectComplete(*f);
        QVERIFY(!notices.isEmpty());
        QVERIFY(notices.first().first().toString().contains(QStringLiteral("stalled")));
        const auto reqs = f->server.fileRequests(kRepo, QStringLiteral("model.safetensors"));
        QCOMPARE(reqs.last().bodyStart, qint64(700 * 1000));
        QCOMPARE(f->server.bodyBytesSent(kRepo, QStringLiteral("model.safetensors")), qint64(weights_.size()));
    }

    void serverErrorsAreRetriedWithBackoff() {
        auto f = fixture();
        HubTestServer::Fault fault;
        fault.status = 503;
        fault.statusTimes = 2;
        f->server.setFault(kRepo, QStringLiteral("tokenizer.model"), fault);
        auto d = download(*f);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Finished);
        QCOMPARE(d->retriesUsed(), 2);
        expectComplete(*f);
    }

    void persistentServerErrorFailsClearly() {
        auto f = fixture();
        HubTestServer::Fault fault;
        fault.status = 500;
        fault.statusTimes = -1;
        f->server.setFault(kRepo, QStringLiteral("model.safetensors"), fault);
        auto d = download(*f);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Failed);
        QCOMPARE(d->error().kind, NetError::Server);
        QCOMPARE(d->error().httpStatus, 500);
        QVERIFY2(d->error().message.contains(QStringLiteral("HTTP 500")), qPrintable(d->error().message));
        QVERIFY(d->error().message.contains(QStringLiteral("gave up after 3 retries")));
        QVERIFY(!QFile::exists(f->dir() + QStringLiteral("/model.safetensors")));
    }

    void missingRepositoryAndFileAre404() {
        auto f = fixture();
        ModelDownload missing(&f->hub, QStringLiteral("test-org/NoSuchModel"), f->tmp.path() + QStringLiteral("/x"));
        missing.start();
        QVERIFY(waitDone(missing));
        QCOMPARE(missing.error().kind, NetError::NotFound);
        QVERIFY2(missing.error().message.contains(QStringLiteral("no repository has this id")), qPrintable(missing.error().message));

        HubTestServer::Fault fault;
        fault.status = 404;
        fault.statusTimes = -1;
        f->server.setFault(kRepo, QStringLiteral("tokenizer.model"), fault);
        auto d = download(*f);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->error().kind, NetError::NotFound);
        QCOMPARE(d->retriesUsed(), 0);   // retrying a 404 cannot help
        QVERIFY(d->error().message.contains(QStringLiteral("tokenizer.model")));
    }

    void gatedRepositoryNeedsToken() {
        auto f = fixture();
        f->server.setGated(kRepo, QStringLiteral("hf_secret"));
        {
            auto d = download(*f);
            d->start();
            QVERIFY(waitDone(*d));
            QCOMPARE(d->error().kind, NetError::Unauthorized);
            QVERIFY2(d->error().message.contains(QStringLiteral("HF_TOKEN")), qPrintable(d->error().message));
        }
        {
            f->hub.setToken(QStringLiteral("hf_wrong"));
            auto d = download(*f);
            d->start();
            QVERIFY(waitDone(*d));
            QCOMPARE(d->error().kind, NetError::Forbidden);
            QVERIFY(d->error().message.contains(QStringLiteral("HF_TOKEN")));
        }
        f->hub.setToken(QStringLiteral("hf_secret"));
        f->server.setCdnHost(QStringLiteral("localhost"));   // LFS files come from "another host"
        f->server.clearLog();
        auto d = download(*f);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Finished);
        expectComplete(*f);
        // The token went to the hub, never to the host the LFS files were redirected to.
        bool sawToken = false, sawCdn = false;
        for (const auto& r : f->server.requests()) {
            if (r.path.startsWith(QStringLiteral("/api/"))) sawToken |= r.authorization == "Bearer hf_secret";
            if (r.path.startsWith(QStringLiteral("/cdn/"))) {
                sawCdn = true;
                QVERIFY2(r.authorization.isEmpty(), r.authorization.constData());
            }
        }
        QVERIFY(sawToken);
        QVERIFY(sawCdn);
    }

    void corruptedByteIsCaughtAndRefetchedOnce() {
        auto f = fixture();
        HubTestServer::Fault fault;
        fault.corruptAt = 123456;
        fault.corruptTimes = 1;
        f->server.setFault(kRepo, QStringLiteral("model.safetensors"), fault);
        auto d = download(*f);
        QSignalSpy notices(d.get(), &ModelDownload::notice);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Finished);
        expectComplete(*f);
        QVERIFY(!notices.isEmpty());
        QVERIFY(notices.last().first().toString().contains(QStringLiteral("corrupt")));
        QCOMPARE(f->server.bodyBytesSent(kRepo, QStringLiteral("model.safetensors")), qint64(2 * weights_.size()));
    }

    void persistentCorruptionNeverLandsInPlace() {
        auto f = fixture();
        HubTestServer::Fault fault;
        fault.corruptAt = 5;
        fault.corruptTimes = -1;
        f->server.setFault(kRepo, QStringLiteral("config.json"), fault);   // plain git file: checked by blob oid
        auto d = download(*f);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Failed);
        QCOMPARE(d->error().kind, NetError::Checksum);
        QVERIFY2(d->error().message.contains(QStringLiteral("config.json is corrupt")), qPrintable(d->error().message));
        QVERIFY(!QFile::exists(f->dir() + QStringLiteral("/config.json")));
        QVERIFY(partFiles(f->dir()).isEmpty());
        QVERIFY(ModelDownload::hasUnfinished(f->dir()));
    }

    void pauseAndResumeFetchOnlyMissingBytes() {
        auto f = fixture();
        f->server.setBytesPerSecond(4 * 1000 * 1000);
        auto d = download(*f);
        d->start();
        QTRY_VERIFY_WITH_TIMEOUT(d->currentFile() == QStringLiteral("model.safetensors") && d->bytesDone() > qint64(tokenizer_.size() + 500 * 1000), 20000);
        QVERIFY(d->bytesPerSecond() > 0);
        QVERIFY(d->secondsLeft() >= 0);
        QVERIFY(d->statusText().contains(QStringLiteral("left")));
        d->pause();
        QTRY_COMPARE(d->state(), ModelDownload::State::Paused);
        const qint64 have = QFileInfo(f->dir() + QStringLiteral("/model.safetensors.part")).size();
        QVERIFY(have > 0 && have < weights_.size());
        QVERIFY(!QFile::exists(f->dir() + QStringLiteral("/model.safetensors")));
        f->server.setBytesPerSecond(0);
        d->resume();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Finished);
        expectComplete(*f);
        const auto reqs = f->server.fileRequests(kRepo, QStringLiteral("model.safetensors"));
        QCOMPARE(reqs.last().range, QByteArray("bytes=") + QByteArray::number(have) + '-');
        QCOMPARE(reqs.last().bodySent, qint64(weights_.size()) - have);
    }

    void resumesAfterRestart() {
        auto f = fixture();
        f->server.setBytesPerSecond(4 * 1000 * 1000);
        {
            auto d = download(*f);
            d->start();
            QTRY_VERIFY_WITH_TIMEOUT(d->currentFile() == QStringLiteral("model.safetensors") && d->bytesDone() > qint64(tokenizer_.size() + 400 * 1000), 20000);
            // The app quits: the object goes away mid-transfer.
        }
        QCoreApplication::processEvents();
        QVERIFY(ModelDownload::hasUnfinished(f->dir()));
        const qint64 have = QFileInfo(f->dir() + QStringLiteral("/model.safetensors.part")).size();
        QVERIFY(have > 0);
        f->server.setBytesPerSecond(0);
        f->server.clearLog();
        auto d = download(*f);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->state(), ModelDownload::State::Finished);
        expectComplete(*f);
        // No new question to the hub, no re-download of finished files, only the missing tail.
        for (const auto& r : f->server.requests()) QVERIFY2(!r.path.startsWith(QStringLiteral("/api/")), qPrintable(r.path));
        QCOMPARE(f->server.bodyBytesSent(kRepo, QStringLiteral("tokenizer.model")), qint64(0));
        QCOMPARE(f->server.bodyBytesSent(kRepo, QStringLiteral("model.safetensors")), qint64(weights_.size()) - have);
    }

    void cancelRemovesEverything() {
        auto f = fixture();
        f->server.setBytesPerSecond(2 * 1000 * 1000);
        auto d = download(*f);
        d->start();
        QTRY_VERIFY_WITH_TIMEOUT(d->currentFile() == QStringLiteral("model.safetensors"), 20000);
        QVERIFY(QFile::exists(f->dir() + QStringLiteral("/config.json")));
        d->cancel();
        QCOMPARE(d->state(), ModelDownload::State::Cancelled);
        QVERIFY(!QFileInfo::exists(f->dir()));
    }

    void offlineIsReported() {
        auto f = fixture();
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
        const quint16 port = closed.serverPort();
        closed.close();   // nothing listens there any more: connection refused
        f->hub.setEndpoint(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
        auto d = download(*f);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->error().kind, NetError::Offline);
        QVERIFY2(d->error().message.contains(QStringLiteral("Cannot reach")), qPrintable(d->error().message));
    }

    void notEnoughDiskSpace() {
        auto f = fixture();
        auto d = download(*f);
        auto o = d->options();
        o.freeSpace = [](const QString&) { return qint64(1000 * 1000); };
        d->setOptions(o);
        d->start();
        QVERIFY(waitDone(*d));
        QCOMPARE(d->error().kind, NetError::DiskFull);
        QVERIFY2(d->error().message.contains(QStringLiteral("Not enough disk space")), qPrintable(d->error().message));
        QCOMPARE(f->server.bodyBytesSent(kRepo, QStringLiteral("model.safetensors")), qint64(0));
    }

    void foreignModelTypeAndMissingWeightsAreRefused() {
        auto f = fixture();
        f->server.addRepo(QStringLiteral("test-org/Llama"), {QStringLiteral("llama")}, QStringLiteral("llama"));
        f->server.addFile(QStringLiteral("test-org/Llama"), QStringLiteral("model.safetensors"), "x", true);
        ModelDownload llama(&f->hub, QStringLiteral("test-org/Llama"), f->tmp.path() + QStringLiteral("/llama"));
        llama.start();
        QVERIFY(waitDone(llama));
        QVERIFY(llama.error().message.contains(QStringLiteral("not a MatMul-free")));

        f->server.addRepo(QStringLiteral("test-org/BinOnly"));
        f->server.addFile(QStringLiteral("test-org/BinOnly"), QStringLiteral("pytorch_model.bin"), "x", true);
        ModelDownload bin(&f->hub, QStringLiteral("test-org/BinOnly"), f->tmp.path() + QStringLiteral("/bin"));
        bin.start();
        QVERIFY(waitDone(bin));
        QVERIFY(bin.error().message.contains(QStringLiteral("no .safetensors")));
    }

    void searchFindsHgrnBitModels() {
        auto f = fixture();
        f->server.addRepo(QStringLiteral("test-org/Llama"), {QStringLiteral("llama")}, QStringLiteral("llama"));
        f->server.addRepo(QStringLiteral("other/TinyLM-chat"));
        QList<HubSearchResult> results;
        NetError error{NetError::Other, 0, {}};
        bool done = false;
        f->hub.search(QStringLiteral("tiny"), QStringLiteral("hgrn_bit"), 20, this,
                      [&](const QList<HubSearchResult>& r, const NetError& e) { results = r; error = e; done = true; });
        QTRY_VERIFY(done);
        QVERIFY(error.ok());
        QStringList ids;
        for (const auto& r : results) ids << r.repoId;
        ids.sort();
        QCOMPARE(ids, (QStringList{QStringLiteral("other/TinyLM-chat"), QStringLiteral("test-org/TinyLM")}));
        const auto& q = f->server.requests().last();
        QVERIFY(q.query.contains(QStringLiteral("filter=hgrn_bit")));
    }

    void repoIdValidation() {
        QVERIFY(HubClient::isValidRepoId(QStringLiteral("ridger/MMfreeLM-370M")));
        QVERIFY(!HubClient::isValidRepoId(QStringLiteral("ridger")));
        QVERIFY(!HubClient::isValidRepoId(QStringLiteral("../etc/passwd")));
        QVERIFY(!HubClient::isValidRepoId(QStringLiteral("a/b/c")));
        QVERIFY(!HubClient::isValidRepoId(QStringLiteral("a/..")));
    }

    void endpointAndTokenFollowEnvironment() {
        qputenv("HF_ENDPOINT", "http://127.0.0.1:9/");
        qputenv("HF_TOKEN", "hf_env");
        HubClient hub(&nam_);
        QCOMPARE(hub.token(), QStringLiteral("hf_env"));
        QCOMPARE(hub.resolveUrl(QStringLiteral("a/b"), QStringLiteral("main"), QStringLiteral("dir/x y.json")).toString(QUrl::FullyEncoded),
                 QStringLiteral("http://127.0.0.1:9/a/b/resolve/main/dir/x%20y.json"));
        QCOMPARE(hub.request(QUrl(QStringLiteral("http://127.0.0.1:9/x"))).rawHeader("Authorization"), QByteArray("Bearer hf_env"));
        // Never to another host.
        QVERIFY(hub.request(QUrl(QStringLiteral("http://cdn.example/x"))).rawHeader("Authorization").isEmpty());
        qunsetenv("HF_ENDPOINT");
        qunsetenv("HF_TOKEN");
        QCOMPARE(HubClient::defaultEndpoint(), QUrl(QStringLiteral("https://huggingface.co")));
    }
};

QTEST_GUILESS_MAIN(TestDownloads)
#include "test_downloads.moc"
