// SPDX-License-Identifier: Apache-2.0
// The model library: memory needs from configs, Hugging Face cache discovery (used in place),
// import validation file by file, downloads through the catalog, delete with bytes freed.
#include <QtTest>

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QTemporaryDir>

#include "core/hf_cache.h"
#include "core/hf_client.h"
#include "core/hub_metadata.h"
#include "core/model_catalog.h"
#include "core/model_library.h"
#include "core/model_scanner.h"
#include "core/model_memory.h"
#include "core/model_validator.h"
#include "hub_test_server.h"
#include "mmfree/model.h"

namespace {

const QString kTinyB = QStringLiteral(MMFREE_TEST_DATA "/tiny-b");

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeFile(const QString& path, const QByteArray& data) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(data);
}

// A model folder: tiny-b's config and weights, optionally with a tokenizer.
void makeModelFolder(const QString& dir, bool tokenizer = false) {
    QDir().mkpath(dir);
    QFile::copy(kTinyB + QStringLiteral("/config.json"), dir + QStringLiteral("/config.json"));
    QFile::copy(kTinyB + QStringLiteral("/model.safetensors"), dir + QStringLiteral("/model.safetensors"));
    if (tokenizer)
        QFile::copy(QStringLiteral(MMFREE_TEST_DATA "/mistral-v1.tokenizer.model"), dir + QStringLiteral("/tokenizer.model"));
}

// A Hugging Face cache entry as huggingface_hub writes it: blobs named by hash, snapshot symlinks.
qint64 makeCacheEntry(const QString& hub, const QString& repoId) {
    const QString repoDir = hub + QStringLiteral("/models--") + QString(repoId).replace(u'/', QStringLiteral("--"));
    const QString rev = QStringLiteral("0123456789abcdef0123456789abcdef01234567");
    QDir().mkpath(repoDir + QStringLiteral("/blobs"));
    QDir().mkpath(repoDir + QStringLiteral("/snapshots/") + rev);
    writeFile(repoDir + QStringLiteral("/refs/main"), rev.toLatin1());
    qint64 bytes = 0;
    for (const QString& name : {QStringLiteral("config.json"), QStringLiteral("model.safetensors")}) {
        const QByteArray content = readFile(kTinyB + u'/' + name);
        const QString blob = HubTestServer::sha256(content);
        writeFile(repoDir + QStringLiteral("/blobs/") + blob, content);
        QFile::link(QStringLiteral("../../blobs/") + blob, repoDir + QStringLiteral("/snapshots/") + rev + u'/' + name);
        bytes += content.size();
    }
    return bytes;
}

bool waitForState(ModelCatalog& c, const QString& id, ModelCatalog::State s, int ms = 20000) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
        if (const auto* e = c.entry(id); e && e->state == s) return true;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    return false;
}

} // namespace

class TestModelCatalog : public QObject {
    Q_OBJECT
    QNetworkAccessManager nam_;

    struct Fixture {
        QTemporaryDir tmp;
        HubTestServer server;
        HubClient hub;
        ModelCatalog catalog;
        explicit Fixture(QNetworkAccessManager* nam) : hub(nam), catalog(&hub) {
            server.listen();
            hub.setEndpoint(server.url());
            hub.setToken({});
            catalog.setModelsDirectory(tmp.path() + QStringLiteral("/models"));
            catalog.setHfCacheDirectory(tmp.path() + QStringLiteral("/hf/hub"));
            catalog.setDemoModelPath({});
            ModelDownload::Options o;
            o.retryBaseMs = 10;
            o.reserveBytes = 0;
            catalog.setDownloadOptions(o);
        }
    };

private slots:
    // The remembered models on their own: kept across instances, edits re-read the file first.
    void libraryPersistsAddedReposAndImports() {
        QTemporaryDir tmp;
        ModelLibrary a, b;
        a.setDirectory(tmp.path());
        b.setDirectory(tmp.path());
        a.load();
        QVERIFY(a.addedRepos().isEmpty() && a.importedPaths().isEmpty());
        a.addRepo(QStringLiteral("someone/Tiny"));
        b.addImport(QStringLiteral("/models/tiny.gguf"));   // b has not seen a's edit: it must not drop it
        a.addRepo(QStringLiteral("someone/Tiny"));          // no duplicates
        ModelLibrary c;
        c.setDirectory(tmp.path());
        c.load();
        QCOMPARE(c.addedRepos(), QStringList{QStringLiteral("someone/Tiny")});
        QCOMPARE(c.importedPaths(), QStringList{QStringLiteral("/models/tiny.gguf")});
        c.removeRepo(QStringLiteral("someone/Tiny"));
        c.removeImport(QStringLiteral("/models/tiny.gguf"));
        a.load();
        QVERIFY(a.addedRepos().isEmpty() && a.importedPaths().isEmpty());
        // A hand-edited file with a bad id keeps the good ones.
        writeFile(tmp.filePath(QStringLiteral("library.json")), R"({"added":["not a repo","owner/Good"],"imported":[]})");
        a.load();
        QCOMPARE(a.addedRepos(), QStringList{QStringLiteral("owner/Good")});
    }

    // What is on disk, without a hub or a list: download folders by manifest, cache entries, deletion.
    void scannerFindsAndDeletesModelFolders() {
        QTemporaryDir tmp;
        ModelScanner scanner;
        scanner.setModelsDirectory(tmp.path() + QStringLiteral("/models"));
        scanner.setHfCacheDirectory(tmp.path() + QStringLiteral("/hf/hub"));
        QCOMPARE(scanner.downloadDirFor(QStringLiteral("owner/Name")), tmp.path() + QStringLiteral("/models/owner--Name"));
        QVERIFY(scanner.downloadedRepos().isEmpty());
        QDir().mkpath(tmp.path() + QStringLiteral("/models/stray-folder"));   // no manifest: not a download
        QVERIFY(scanner.downloadedRepos().isEmpty());
        const qint64 bytes = makeCacheEntry(tmp.path() + QStringLiteral("/hf/hub"), QStringLiteral("someone/TinyCached"));
        const QList<HfCachedModel> cached = scanner.cachedRepos();
        QCOMPARE(cached.size(), 1);
        QCOMPARE(cached.first().repoId, QStringLiteral("someone/TinyCached"));
        const ModelScanner::Deletion d = ModelScanner::deleteFolder(cached.first().repoDir);
        QVERIFY(d.freed >= bytes);
        QCOMPARE(d.left, qint64(0));
        QVERIFY(!QFileInfo::exists(cached.first().repoDir));
        QVERIFY(scanner.cachedRepos().isEmpty());
        QCOMPARE(ModelScanner::deleteFolder(cached.first().repoDir).freed, qint64(0));   // already gone
    }

    void memoryEstimateMatchesTheEngine() {
        auto model = mmfree::load_model(kTinyB.toStdString());
        const MemoryEstimate m = MemoryEstimate::fromConfig(model->config);
        QCOMPARE(m.packedWeights, qint64(model->packed_weight_bytes()));
        QCOMPARE(m.parameters, qint64(model->parameter_count()));
        QCOMPARE(m.embeddings, qint64(model->embeddings.size() * sizeof(float)));
        QVERIFY(m.cpuBytes > m.packedWeights + m.embeddings);
        // The 2.7B release: ~2.6 G ternary weights at 2 bits plus fp32 embeddings: about a gigabyte.
        const MemoryEstimate big = MemoryEstimate::fromConfig(mmfree::release_config("2.7B"));
        QVERIFY2(big.cpuBytes > 900'000'000 && big.cpuBytes < 1'200'000'000, qPrintable(formatBytes(big.cpuBytes)));
        QVERIFY(big.parameters > 2'600'000'000 && big.parameters < 3'000'000'000);
    }

    void releasesAreListed() {
        Fixture f(&nam_);
        QAbstractItemModelTester tester(&f.catalog, QAbstractItemModelTester::FailureReportingMode::QtTest);
        f.catalog.refresh();
        for (const QString& id : ModelCatalog::releasedRepos()) {
            const auto* e = f.catalog.entry(id);
            QVERIFY(e);
            QCOMPARE(e->state, ModelCatalog::State::Available);
            QVERIFY(e->haveMemory);
            QVERIFY(e->downloadBytes > 0);
            const QModelIndex idx = f.catalog.index(f.catalog.rowOf(id));
            QVERIFY(idx.data(ModelCatalog::SizeTextRole).toString().contains(QStringLiteral("download")));
            QVERIFY(idx.data(ModelCatalog::MemoryTextRole).toString().contains(QStringLiteral("RAM")));
        }
        QVERIFY(!f.catalog.entry(QStringLiteral("demo")));
    }

    void demoModelIsListedAndNotDeletable() {
        Fixture f(&nam_);
        const QString demo = f.tmp.path() + QStringLiteral("/demo");
        makeModelFolder(demo, false);
        f.catalog.setDemoModelPath(demo);
        f.catalog.refresh();
        const auto* e = f.catalog.entry(QStringLiteral("demo"));
        QVERIFY(e);
        QCOMPARE(e->state, ModelCatalog::State::Installed);
        QVERIFY(e->haveMemory);
        QVERIFY(!f.catalog.index(f.catalog.rowOf(QStringLiteral("demo"))).data(ModelCatalog::CanDeleteRole).toBool());
        QString message;
        QCOMPARE(f.catalog.remove(QStringLiteral("demo"), &message), qint64(0));
        QVERIFY(message.contains(QStringLiteral("cannot be deleted")));
        QVERIFY(QFile::exists(demo + QStringLiteral("/model.safetensors")));
    }

    void packedDemoModelCanChat() {
        const QString gguf = QStringLiteral(MMFREE_TEST_DATA "/../../resources/models/mmfree-demo.gguf");
        if (!QFileInfo::exists(gguf)) QSKIP("no embedded demo model in this checkout");
        Fixture f(&nam_);
        f.catalog.setDemoModelPath(gguf);
        f.catalog.refresh();
        // A packed file keeps its config inside: the full load runs on a worker thread.
        QTRY_VERIFY_WITH_TIMEOUT(f.catalog.entry(QStringLiteral("demo"))->haveMemory, 20000);
        const auto* e = f.catalog.entry(QStringLiteral("demo"));
        QCOMPARE(e->state, ModelCatalog::State::Installed);
        QVERIFY2(e->canChat, qPrintable(e->problem));   // its tokenizer is embedded
        QCOMPARE(e->diskBytes, QFileInfo(gguf).size());
    }

    void huggingFaceCacheIsUsedInPlaceAndDeletable() {
        Fixture f(&nam_);
        const QString hub = f.tmp.path() + QStringLiteral("/hf/hub");
        const qint64 bytes = makeCacheEntry(hub, QStringLiteral("ridger/MMfreeLM-370M"));
        makeCacheEntry(hub, QStringLiteral("someone/TinyCached"));
        // A cached model of another kind is not ours to list.
        writeFile(hub + QStringLiteral("/models--meta--llama/snapshots/abc/config.json"), R"({"model_type":"llama"})");

        const auto found = scanHfCache(hub);
        QCOMPARE(found.size(), 2);

        qputenv("HF_HOME", (f.tmp.path() + QStringLiteral("/hf")).toUtf8());
        QCOMPARE(hfHubCacheDirectory(), hub);
        qunsetenv("HF_HOME");

        f.catalog.refresh();
        const auto* release = f.catalog.entry(QStringLiteral("ridger/MMfreeLM-370M"));
        QVERIFY(release);
        QCOMPARE(release->state, ModelCatalog::State::Installed);
        QVERIFY2(release->path.startsWith(hub), qPrintable(release->path));   // no copy
        QVERIFY(release->path.contains(QStringLiteral("/snapshots/")));
        QCOMPARE(release->diskBytes, bytes);
        QVERIFY(release->location.contains(QStringLiteral("Hugging Face cache")));
        const auto* other = f.catalog.entry(QStringLiteral("someone/TinyCached"));
        QVERIFY(other);
        QCOMPARE(other->source, ModelCatalog::Source::Cache);
        QVERIFY(!f.catalog.entry(QStringLiteral("meta/llama")));
        QVERIFY(!QFileInfo::exists(f.catalog.modelsDirectory() + QStringLiteral("/ridger--MMfreeLM-370M")));
        // The engine loads it straight from the snapshot.
        QVERIFY(mmfree::load_model(release->path.toStdString()));

        QSignalSpy removed(&f.catalog, &ModelCatalog::removed);
        QString message;
        // Everything of the repository goes: blobs, snapshot links, refs.
        const qint64 repoBytes = modelDiskBytes(hub + QStringLiteral("/models--ridger--MMfreeLM-370M"));
        QVERIFY(repoBytes >= bytes);
        QCOMPARE(f.catalog.remove(QStringLiteral("ridger/MMfreeLM-370M"), &message), repoBytes);
        QVERIFY2(message.contains(formatBytes(repoBytes)), qPrintable(message));
        QVERIFY(!QFileInfo::exists(hub + QStringLiteral("/models--ridger--MMfreeLM-370M")));
        QCOMPARE(f.catalog.entry(QStringLiteral("ridger/MMfreeLM-370M"))->state, ModelCatalog::State::Available);
        QCOMPARE(removed.size(), 1);
        QCOMPARE(removed.first().at(1).toLongLong(), repoBytes);
    }

    void validationReportsFileByFile() {
        QTemporaryDir tmp;
        // A good folder with a matching tokenizer cannot be built from tiny-b (vocab 1000), so the
        // tokenizer problem is reported but is not fatal.
        const QString good = tmp.path() + QStringLiteral("/good");
        makeModelFolder(good, true);
        ValidationReport r = validateModel(good);
        QVERIFY2(r.ok(), qPrintable(r.summary()));
        QVERIFY(r.haveConfig);
        QCOMPARE(r.config.hidden_size, 128);
        QVERIFY(!r.canChat);
        QCOMPARE(r.problems.size(), 1);
        QCOMPARE(r.problems[0].file, QStringLiteral("tokenizer.model"));
        QCOMPARE(r.problems[0].code, mmfree::ErrorCode::UnsupportedModel);
        QVERIFY(!r.problems[0].fatal);
        QVERIFY2(r.problems[0].message.contains(QStringLiteral("vocab_size is 1000")), qPrintable(r.summary()));
        QVERIFY(!r.fingerprint.isEmpty());   // fully loaded

        const QString truncated = tmp.path() + QStringLiteral("/truncated");
        makeModelFolder(truncated);
        QFile w(truncated + QStringLiteral("/model.safetensors"));
        QVERIFY(w.resize(2'000'000));
        r = validateModel(truncated);
        QVERIFY(!r.ok());
        QCOMPARE(r.problems[0].file, QStringLiteral("model.safetensors"));
        QCOMPARE(r.problems[0].code, mmfree::ErrorCode::CorruptFile);
        QVERIFY2(r.problems[0].message.contains(QStringLiteral("truncated")), qPrintable(r.summary()));

        const QString noConfig = tmp.path() + QStringLiteral("/noconfig");
        makeModelFolder(noConfig);
        QFile::remove(noConfig + QStringLiteral("/config.json"));
        r = validateModel(noConfig);
        QVERIFY(!r.ok());
        QCOMPARE(r.problems[0].file, QStringLiteral("config.json"));
        QCOMPARE(r.problems[0].code, mmfree::ErrorCode::FileNotFound);
        QVERIFY(r.problems[0].message.contains(QStringLiteral("missing")));

        const QString badConfig = tmp.path() + QStringLiteral("/badconfig");
        makeModelFolder(badConfig);
        writeFile(badConfig + QStringLiteral("/config.json"), "{\"model_type\": \"hgrn_bit\", \"vocab_size\": ");
        r = validateModel(badConfig);
        QVERIFY(!r.ok());
        QCOMPARE(r.problems[0].file, QStringLiteral("config.json"));
        QCOMPARE(r.problems[0].code, mmfree::ErrorCode::CorruptFile);
        QVERIFY2(!r.summary().contains(QStringLiteral("json.exception")), qPrintable(r.summary()));

        const QString sharded = tmp.path() + QStringLiteral("/sharded");
        makeModelFolder(sharded);
        QFile::rename(sharded + QStringLiteral("/model.safetensors"), sharded + QStringLiteral("/model-00001-of-00002.safetensors"));
        writeFile(sharded + QStringLiteral("/model.safetensors.index.json"),
                  R"({"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})");
        r = validateModel(sharded);
        QVERIFY(!r.ok());
        QCOMPARE(r.problems.size(), 2);   // the missing shard + no tokenizer (not fatal)
        QCOMPARE(r.problems[0].file, QStringLiteral("model-00002-of-00002.safetensors"));
        QCOMPARE(r.problems[0].code, mmfree::ErrorCode::FileNotFound);
        QVERIFY(r.problems[0].message.contains(QStringLiteral("listed in model.safetensors.index.json")));
        QCOMPARE(r.problems[1].code, mmfree::ErrorCode::TokenizerMissing);
        QVERIFY(!r.problems[1].fatal);

        // Passes the cheap checks but not the engine: the shapes do not match the config.
        const QString wrongShape = tmp.path() + QStringLiteral("/wrongshape");
        makeModelFolder(wrongShape);
        QByteArray cfg = readFile(wrongShape + QStringLiteral("/config.json"));
        cfg.replace("\"hidden_size\": 128", "\"hidden_size\": 256");
        writeFile(wrongShape + QStringLiteral("/config.json"), cfg);
        r = validateModel(wrongShape);
        QVERIFY(!r.ok());
        QVERIFY2(r.summary().contains(QStringLiteral("model.")), qPrintable(r.summary()));
        QCOMPARE(r.problems.last().file, QStringLiteral("model.safetensors"));   // the full load's verdict
        QCOMPARE(r.problems.last().code, mmfree::ErrorCode::CorruptFile);
        QVERIFY(validateModel(wrongShape, false).ok());   // the header checks alone pass

        // A device where config.json should be: refused by type, never read.
        const QString device = tmp.path() + QStringLiteral("/device");
        makeModelFolder(device);
        QFile::remove(device + QStringLiteral("/config.json"));
        QVERIFY(QFile::link(QStringLiteral("/dev/zero"), device + QStringLiteral("/config.json")));
        r = validateModel(device);
        QVERIFY(!r.ok());
        QCOMPARE(r.problems[0].file, QStringLiteral("config.json"));
        QCOMPARE(r.problems[0].code, mmfree::ErrorCode::FileNotFound);

        r = validateModel(tmp.path() + QStringLiteral("/nothing-here"));
        QVERIFY(!r.ok());
        QVERIFY(r.problems[0].message.contains(QStringLiteral("does not exist")));
        QCOMPARE(r.problems[0].code, mmfree::ErrorCode::FileNotFound);
    }

    void importAddsValidModelsOnly() {
        Fixture f(&nam_);
        f.catalog.refresh();
        const QString good = f.tmp.path() + QStringLiteral("/mine");
        makeModelFolder(good);
        QSignalSpy done(&f.catalog, &ModelCatalog::importFinished);
        f.catalog.importPath(good);
        QTRY_COMPARE(done.size(), 1);
        const QString id = done.first().at(0).toString();
        auto report = done.first().at(1).value<ValidationReport>();
        QVERIFY(report.ok());
        const auto* e = f.catalog.entry(id);
        QVERIFY(e);
        QCOMPARE(e->source, ModelCatalog::Source::Imported);
        QCOMPARE(e->state, ModelCatalog::State::Installed);
        QVERIFY(e->haveMemory);
        QVERIFY(e->problem.contains(QStringLiteral("tokenizer.model")));   // no tokenizer: listed, chat disabled
        QCOMPARE(f.catalog.idForPath(good + QStringLiteral("/")), id);

        // The library remembers it across restarts.
        {
            ModelCatalog again(&f.hub);
            again.setModelsDirectory(f.catalog.modelsDirectory());
            again.setHfCacheDirectory(f.tmp.path() + QStringLiteral("/hf/hub"));
            again.setDemoModelPath({});
            again.refresh();
            QVERIFY(again.entry(id));
        }

        const QString bad = f.tmp.path() + QStringLiteral("/broken");
        makeModelFolder(bad);
        QFile(bad + QStringLiteral("/model.safetensors")).resize(100);
        done.clear();
        f.catalog.importPath(bad);
        QTRY_COMPARE(done.size(), 1);
        report = done.first().at(1).value<ValidationReport>();
        QVERIFY(!report.ok());
        QVERIFY(done.first().at(0).toString().isEmpty());
        QVERIFY(!f.catalog.entry(bad));

        // Removing an import leaves the person's files alone.
        QString message;
        QCOMPARE(f.catalog.remove(id, &message), qint64(0));
        QVERIFY(message.contains(QStringLiteral("left in place")));
        QVERIFY(!f.catalog.entry(id));
        QVERIFY(QFile::exists(good + QStringLiteral("/model.safetensors")));
    }

    void downloadThroughCatalogThenDelete() {
        Fixture f(&nam_);
        const QString repo = QStringLiteral("test-org/TinyB");
        f.server.addRepo(repo);
        f.server.addFile(repo, QStringLiteral("config.json"), readFile(kTinyB + QStringLiteral("/config.json")), false);
        f.server.addFile(repo, QStringLiteral("model.safetensors"), readFile(kTinyB + QStringLiteral("/model.safetensors")), true);
        f.catalog.refresh();

        QString error;
        QVERIFY(!f.catalog.addRepo(QStringLiteral("not a repo"), &error));
        QVERIFY(error.contains(QStringLiteral("owner/name")));
        QVERIFY(f.catalog.addRepo(repo, &error));
        const auto* e = f.catalog.entry(repo);
        QVERIFY(e);
        QCOMPARE(e->state, ModelCatalog::State::Available);
        // The hub's listing gives the exact size, its config.json the memory needs.
        QTRY_VERIFY(f.catalog.entry(repo)->downloadExact && f.catalog.entry(repo)->haveMemory);
        const qint64 total = readFile(kTinyB + QStringLiteral("/config.json")).size() + readFile(kTinyB + QStringLiteral("/model.safetensors")).size();
        QCOMPARE(f.catalog.entry(repo)->downloadBytes, total);

        QSignalSpy finished(&f.catalog, &ModelCatalog::downloadFinished);
        QVERIFY(f.catalog.startDownload(repo, &error));
        QVERIFY(waitForState(f.catalog, repo, ModelCatalog::State::Installed));
        QCOMPARE(finished.size(), 1);
        e = f.catalog.entry(repo);
        QCOMPARE(e->path, f.catalog.modelsDirectory() + QStringLiteral("/test-org--TinyB"));
        QVERIFY(mmfree::load_model(e->path.toStdString()));
        QVERIFY(!f.catalog.startDownload(repo, &error));
        QVERIFY(error.contains(QStringLiteral("already installed")));

        // The added repository survives a restart, installed.
        {
            ModelCatalog again(&f.hub);
            again.setModelsDirectory(f.catalog.modelsDirectory());
            again.setHfCacheDirectory(f.tmp.path() + QStringLiteral("/hf/hub"));
            again.setDemoModelPath({});
            again.refresh();
            QVERIFY(again.entry(repo));
            QCOMPARE(again.entry(repo)->state, ModelCatalog::State::Installed);
        }

        const qint64 onDisk = modelDiskBytes(e->path);
        QVERIFY(onDisk >= total);
        QString message;
        QCOMPARE(f.catalog.remove(repo, &message), onDisk);
        QVERIFY2(message.contains(QStringLiteral("freed")), qPrintable(message));
        QVERIFY(!QFileInfo::exists(f.catalog.modelsDirectory() + QStringLiteral("/test-org--TinyB")));
        QCOMPARE(f.catalog.entry(repo)->state, ModelCatalog::State::Available);
        // A second delete of a repo that is no longer on disk takes it off the list.
        f.catalog.remove(repo, &message);
        QVERIFY(!f.catalog.entry(repo));
    }

    void interruptedDownloadShowsAsPausedAndCanBeCancelled() {
        Fixture f(&nam_);
        const QString repo = QStringLiteral("test-org/TinyB");
        const QByteArray weights = readFile(kTinyB + QStringLiteral("/model.safetensors"));
        f.server.addRepo(repo);
        f.server.addFile(repo, QStringLiteral("model.safetensors"), weights, true);
        // What a previous session left behind: a manifest and half a file.
        const QString dir = f.catalog.modelsDirectory() + QStringLiteral("/test-org--TinyB");
        DownloadManifest m;
        m.repoId = repo;
        m.revision = QStringLiteral("main");
        const QByteArray config = readFile(kTinyB + QStringLiteral("/config.json"));
        m.files << DownloadManifest::File{QStringLiteral("config.json"), config.size(), {}, HubTestServer::gitOid(config), true};
        m.files << DownloadManifest::File{QStringLiteral("model.safetensors"), weights.size(), HubTestServer::sha256(weights), {}, false};
        QDir().mkpath(dir);
        writeFile(dir + QStringLiteral("/config.json"), config);
        QVERIFY(m.save(dir));
        writeFile(dir + QStringLiteral("/model.safetensors.part"), weights.left(weights.size() / 2));

        f.catalog.refresh();
        const auto* e = f.catalog.entry(repo);
        QVERIFY(e);
        QCOMPARE(e->state, ModelCatalog::State::Paused);
        const double progress = f.catalog.index(f.catalog.rowOf(repo)).data(ModelCatalog::ProgressRole).toDouble();
        QVERIFY(progress > 0.45 && progress < 0.55);

        // Resume finishes it with only the second half from the server.
        f.catalog.resumeDownload(repo);
        QVERIFY(waitForState(f.catalog, repo, ModelCatalog::State::Installed));
        QCOMPARE(f.server.bodyBytesSent(repo, QStringLiteral("model.safetensors")), weights.size() - weights.size() / 2);

        // Same again, but cancelled: the folder goes away.
        f.catalog.remove(repo);
        QDir().mkpath(dir);
        QVERIFY(m.save(dir));
        writeFile(dir + QStringLiteral("/config.json"), config);
        writeFile(dir + QStringLiteral("/model.safetensors.part"), weights.left(1000));
        f.catalog.refresh();
        QCOMPARE(f.catalog.entry(repo)->state, ModelCatalog::State::Paused);
        f.catalog.cancelDownload(repo);
        QVERIFY(!QFileInfo::exists(dir));
        QCOMPARE(f.catalog.entry(repo)->state, ModelCatalog::State::Available);
    }

    void failedDownloadIsReportedOnTheRow() {
        Fixture f(&nam_);
        const QString repo = QStringLiteral("test-org/Gated");
        f.server.addRepo(repo);
        f.server.addFile(repo, QStringLiteral("model.safetensors"), "x", true);
        f.server.setGated(repo, QStringLiteral("hf_x"));
        f.catalog.refresh();
        QVERIFY(f.catalog.addRepo(repo));
        QSignalSpy failed(&f.catalog, &ModelCatalog::downloadFailed);
        QVERIFY(f.catalog.startDownload(repo));
        QTRY_COMPARE(failed.size(), 1);
        QVERIFY(failed.first().at(1).toString().contains(QStringLiteral("HF_TOKEN")));
        const QModelIndex idx = f.catalog.index(f.catalog.rowOf(repo));
        QVERIFY(idx.data(ModelCatalog::StatusTextRole).toString().contains(QStringLiteral("HF_TOKEN")));
    }

    // Hub details on their own: asking twice while the first answer is on its way sends one
    // request of each kind, and the answers are kept.
    void hubMetadataAsksOnceAndKeepsTheAnswers() {
        Fixture f(&nam_);
        const QByteArray config = readFile(kTinyB + QStringLiteral("/config.json"));
        const QByteArray weights = readFile(kTinyB + QStringLiteral("/model.safetensors"));
        f.server.addRepo(QStringLiteral("a/Tiny"));
        f.server.addFile(QStringLiteral("a/Tiny"), QStringLiteral("config.json"), config, false);
        f.server.addFile(QStringLiteral("a/Tiny"), QStringLiteral("model.safetensors"), weights, true);
        HubMetadata metadata(&f.hub);
        QSignalSpy info(&metadata, &HubMetadata::infoArrived);
        QSignalSpy configs(&metadata, &HubMetadata::configArrived);
        metadata.fetch(QStringLiteral("a/Tiny"));
        metadata.fetch(QStringLiteral("a/Tiny"));
        QTRY_COMPARE(info.size(), 1);
        QTRY_COMPARE(configs.size(), 1);
        int configRequests = 0, infoRequests = 0;
        for (const auto& r : f.server.requests()) {
            if (r.path.endsWith(QStringLiteral("/config.json"))) ++configRequests;
            else if (r.path.startsWith(QStringLiteral("/api/models/a/Tiny"))) ++infoRequests;
        }
        QCOMPARE(configRequests, 1);
        QCOMPARE(infoRequests, 1);
        QVERIFY(metadata.info(QStringLiteral("a/Tiny")));
        QCOMPARE(HubMetadata::modelBytes(*metadata.info(QStringLiteral("a/Tiny"))), qint64(config.size() + weights.size()));
        QVERIFY(metadata.config(QStringLiteral("a/Tiny")));
        QCOMPARE(metadata.config(QStringLiteral("a/Tiny"))->hidden_size,
                 mmfree::parse_config_json(config.toStdString()).hidden_size);
        QVERIFY(!metadata.info(QStringLiteral("a/Other")) && !metadata.config(QStringLiteral("a/Other")));
    }

    void searchGoesThroughTheHub() {
        Fixture f(&nam_);
        f.server.addRepo(QStringLiteral("a/MMfree-chat"));
        f.server.addRepo(QStringLiteral("b/llama"), {QStringLiteral("llama")}, QStringLiteral("llama"));
        QSignalSpy spy(&f.catalog, &ModelCatalog::searchFinished);
        f.catalog.search(QString());
        QTRY_COMPARE(spy.size(), 1);
        const auto results = spy.first().at(0).value<QList<HubSearchResult>>();
        QCOMPARE(results.size(), 1);
        QCOMPARE(results[0].repoId, QStringLiteral("a/MMfree-chat"));
    }
};

QTEST_GUILESS_MAIN(TestModelCatalog)
#include "test_model_catalog.moc"
