// SPDX-License-Identifier: Apache-2.0
#include "core/studio_app.h"

#include <QDir>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QThread>

#include "core/chat_controller.h"
#include "core/conversation_store.h"
#include "core/engine_service.h"
#include "core/hf_client.h"
#include "core/metrics_hub.h"
#include "core/model_catalog.h"
#include "mmfree/backend.h"
#include "mmfree/server.h"

StudioApp::StudioApp(QObject* parent)
    : QObject(parent),
      store_(std::make_unique<ConversationStore>()),
      network_(new QNetworkAccessManager(this)),
      hub_(new HubClient(network_, this)),
      engine_(new EngineService(this)),
      chat_(new ChatController(store_.get(), engine_, this)),
      catalog_(new ModelCatalog(hub_, this)),
      metrics_(new MetricsHub(this)) {
    metrics_->attach(engine_);
    metrics_->setApiSource([this] {
        MetricsHub::ApiFigures f;
        if (!api_ || !api_->running()) return f;
        const mmfree::ServerStats s = api_->stats();
        f.requests = s.completions;
        f.active = s.active_requests;
        return f;
    });
    // The API server always serves the model the chats use: weights loaded once.
    connect(engine_, &EngineService::modelLoaded, this, [this](const ModelInfo& info) {
        if (api_) api_->set_scheduler(engine_->scheduler());
        // A chosen model becomes the one to open next time only once it runs.
        if (!pendingModel_.isEmpty() && QDir::cleanPath(QFileInfo(pendingModel_).absoluteFilePath()) == QDir::cleanPath(info.path))
            AppSettings::setModelPath(pendingModel_);
        pendingModel_.clear();
    });
    // Downloaded and imported folders are packed once, in the background, before their first use.
    connect(catalog_, &ModelCatalog::downloadFinished, engine_, [this](const QString& id) {
        if (const auto* e = catalog_->entry(id); e && !e->path.isEmpty()) engine_->pack(e->path);
    });
    connect(catalog_, &ModelCatalog::importFinished, engine_, [this](const QString& id, const ValidationReport& report) {
        if (const auto* e = catalog_->entry(id); e && report.ok() && !e->path.isEmpty()) engine_->pack(e->path);
    });
}

StudioApp::~StudioApp() {
    if (api_) api_->stop();   // before the engine: running API requests end first
    delete chat_;
    chat_ = nullptr;
    delete engine_;
    engine_ = nullptr;
}

bool StudioApp::openStore(const QString& databasePath) {
    if (store_->open(databasePath)) return true;
    lastError_ = store_->lastError();
    return false;
}

void StudioApp::useModel(const QString& path, const QString& backend) {
    if (path.isEmpty()) return;
    pendingModel_ = path;
    engine_->loadModel(path, backend.isEmpty() ? AppSettings::backend() : backend);
}

void StudioApp::reloadModel() {
    if (!engine_->requestedModelPath().isEmpty()) engine_->loadModel(engine_->requestedModelPath(), AppSettings::backend());
}

void StudioApp::listDevices() {
    if (listing_) return;
    listing_ = true;
    QThread* t = QThread::create([this] {
        QList<DeviceChoice> found;
        for (const auto& d : mmfree::list_devices())
            found << DeviceChoice{QString::fromStdString(d.backend), d.usable, QString::fromStdString(d.reason)};
        QMetaObject::invokeMethod(this, [this, found] {
            devices_ = found;
            devicesKnown_ = true;
            listing_ = false;
            emit devicesListed();
        }, Qt::QueuedConnection);
    });
    t->setObjectName(QStringLiteral("mmfree-devices"));
    connect(t, &QThread::finished, t, &QObject::deleteLater);
    // The app object outlives the probe: wait for it when the app goes away first.
    connect(this, &QObject::destroyed, t, [t] { t->wait(); });
    t->start();
}

bool StudioApp::applyApiServer(const AppSettings::ApiServerSettings& settings) {
    AppSettings::setApiServer(settings);
    apiError_.clear();
    if (api_) {
        api_->stop();
        api_.reset();
    }
    if (settings.enabled) {
        mmfree::ServerOptions o;
        o.host = settings.allInterfaces ? "0.0.0.0" : "127.0.0.1";
        o.port = settings.port;
        o.api_key = settings.apiKey.toStdString();
        for (const QString& origin : settings.corsOrigins)
            if (!origin.trimmed().isEmpty()) o.cors_origins.push_back(origin.trimmed().toStdString());
        try {
            api_ = std::make_unique<mmfree::ApiServer>(o, engine_->scheduler());
            api_->start();
        } catch (const std::exception& e) {
            api_.reset();
            apiError_ = QString::fromStdString(e.what());
        }
    }
    emit apiServerChanged();
    return apiError_.isEmpty();
}

bool StudioApp::apiRunning() const { return api_ && api_->running(); }

QString StudioApp::apiAddress() const { return apiRunning() ? QString::fromStdString(api_->url()) : QString(); }

quint64 StudioApp::apiRequests() const { return apiRunning() ? api_->stats().completions : 0; }
