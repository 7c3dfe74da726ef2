// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QList>
#include <QObject>
#include <QString>
#include <memory>

#include "core/app_settings.h"

class ChatController;
class ConversationStore;
class EngineService;
class HubClient;
class MetricsHub;
class ModelCatalog;
class QNetworkAccessManager;
namespace mmfree {
class ApiServer;
}

// A compute device as Preferences offers it.
struct DeviceChoice {
    QString backend;
    bool usable = true;
    QString reason;       // why not usable
};

// The application: creates and owns the conversation store, the engine (one scheduler shared by
// the chats and the API server), the chat logic, the model catalogue, the metrics hub and the
// local API server. Widgets get what they need from here; they display and forward, and every
// model switch goes through useModel().
class StudioApp : public QObject {
    Q_OBJECT
public:
    explicit StudioApp(QObject* parent = nullptr);
    ~StudioApp() override;

    // Opens (creating when needed) the conversation database; false with lastError() set.
    bool openStore(const QString& databasePath);
    QString lastError() const { return lastError_; }

    ConversationStore* store() const { return store_.get(); }
    EngineService* engine() const { return engine_; }
    ChatController* chat() const { return chat_; }
    ModelCatalog* catalog() const { return catalog_; }
    HubClient* hub() const { return hub_; }
    MetricsHub* metrics() const { return metrics_; }

    // The one place models switch: remembers the choice and loads it on a background thread with
    // the preferred backend (empty: AppSettings::backend()); once it runs it is the one opened
    // next time. The running model serves until the new one is ready, and stays when it fails.
    void useModel(const QString& path, const QString& backend = {});
    void reloadModel();   // the requested model again, e.g. after the backend changed

    // Compute devices, listed on a background thread (probing a GPU can take seconds);
    // devicesListed() says when they are known.
    QList<DeviceChoice> devices() const { return devices_; }
    bool devicesKnown() const { return devicesKnown_; }
    void listDevices();

    // The local API server, serving the loaded model from the same scheduler as the chats.
    // Applies and remembers `settings` (starting, restarting or stopping the server); false with
    // apiError() when it cannot start (port taken, all interfaces without a key).
    bool applyApiServer(const AppSettings::ApiServerSettings& settings);
    bool apiRunning() const;
    QString apiAddress() const;      // "http://127.0.0.1:8080" while running
    quint64 apiRequests() const;     // generation requests answered or running
    QString apiError() const { return apiError_; }

signals:
    void devicesListed();
    void apiServerChanged();

private:
    std::unique_ptr<ConversationStore> store_;
    QNetworkAccessManager* network_;
    HubClient* hub_;
    EngineService* engine_;
    ChatController* chat_;
    ModelCatalog* catalog_;
    MetricsHub* metrics_;
    std::unique_ptr<mmfree::ApiServer> api_;
    QString apiError_;
    QString pendingModel_;   // asked for with useModel, until it runs
    QString lastError_;
    QList<DeviceChoice> devices_;
    bool devicesKnown_ = false;
    bool listing_ = false;
};
