// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointF>
#include <QStringList>
#include <QTimer>
#include <QVector>
#include <memory>

#include <QSet>
#include <functional>

#include "core/engine_service.h"
#include "mmfree/metrics.h"

namespace mmfree::telemetry {
class PowerSampler;
class NvmlMemory;
}

// Collects what the dashboard plots: per-token latency and throughput from the engine worker's
// signals, process and GPU memory and power from a timer on this (the UI) thread, and probe
// readings from a PowerSampler thread. Nothing here ever runs on the engine thread — the worker
// only emits a queued signal per token — so watching cannot slow generation down.
//
// Series are (seconds since the hub started, value), kept for `historySeconds()`.
class MetricsHub : public QObject {
    Q_OBJECT
public:
    // Series keys. Power series are "power_w:<probe>" (e.g. "power_w:nvml:0").
    static constexpr const char* kTokensPerSecond = "tokens_per_s";
    static constexpr const char* kLatency = "latency_ms";
    static constexpr const char* kLatencyP50 = "latency_p50_ms";
    static constexpr const char* kLatencyP95 = "latency_p95_ms";
    static constexpr const char* kRss = "rss_mb";
    static constexpr const char* kDeviceMemory = "device_memory_mb";
    static constexpr const char* kDeviceBudget = "device_budget_mb";
    // Per decoded token, µs. A fused backend reports only BitLinear (which then includes norm/quant
    // and the MLGRU) and lm_head: the other two are not recorded rather than recorded as zero.
    static constexpr const char* kStageNormQuant = "stage_norm_quant_us";
    static constexpr const char* kStageBitLinear = "stage_bitlinear_us";
    static constexpr const char* kStageMlgru = "stage_mlgru_us";
    static constexpr const char* kStageLmHead = "stage_lm_head_us";
    static constexpr const char* kPowerPrefix = "power_w:";
    // Parallel streams: replies (chats and API requests) running at once, and the local API
    // server's traffic as its own series.
    static constexpr const char* kActiveStreams = "active_streams";
    static constexpr const char* kApiRequestsPerSecond = "api_requests_per_s";
    static constexpr const char* kApiActive = "api_active_requests";

    // What the local API server reports at each sample (StudioApp provides it while it runs).
    struct ApiFigures {
        quint64 requests = 0;   // generation requests accepted so far
        int active = 0;         // not yet answered
    };

    struct ProbeInfo {
        QString name, device, source;   // source: "measured" or "modeled"
    };
    struct UnavailableInfo {
        QString name, reason;
    };

    // The latest figures, for the large numbers above the charts.
    struct Current {
        bool generating = false;
        int activeStreams = 0;         // replies streaming now (each chat reply and API request one)
        double tokensPerSecond = 0;    // last sampling window, every stream together
        int apiActive = 0;             // API requests not yet answered
        double apiRequestsPerSecond = 0;
        double latencyMs = 0;          // last token
        double p50Ms = 0, p95Ms = 0;   // over the recent tokens
        double ttftMs = 0;             // last finished generation (the engine's own figure)
        double decodeTokS = 0;
        int tokens = 0;                // in the current / last generation
        quint64 rssBytes = 0, peakRssBytes = 0;
        quint64 deviceUsedBytes = 0, deviceTotalBytes = 0;
        QString deviceName;            // the GPU the device memory belongs to
        // The executor's own figures (VK_EXT_memory_budget): this process's use and its budget.
        // budgetKnown: the backend answered; budgetAvailable: and it could tell.
        bool budgetKnown = false, budgetAvailable = false;
        quint64 budgetUsedBytes = 0, budgetBytes = 0;
        mmfree::StageTimes stages;     // the last decoded token's; valid = false until one arrives
        double powerW = -1;            // primary probe; -1 = none
        QString powerProbe, powerSource;
        double joulesPerToken = -1, tokensPerJoule = -1;   // current / last generation; -1 = unknown
    };

    // Probe discovery options for tests (fake sysfs root, absent NVML); defaults read the machine.
    struct Options {
        QString sysfsRoot = QStringLiteral("/sys");
        QString procRoot = QStringLiteral("/proc");
        QString nvmlLibrary = QStringLiteral("libnvidia-ml.so.1");
        int sampleIntervalMs = 500;     // memory + power figures
        int powerIntervalMs = 250;      // the probe thread
        double historySeconds = 600;
    };

    explicit MetricsHub(QObject* parent = nullptr);
    MetricsHub(const Options& options, QObject* parent = nullptr);
    ~MetricsHub() override;

    // Connects to the engine's signals (they arrive queued from the scheduler's thread).
    void attach(EngineService* engine);
    // Polled at every sample; none (the default) while the API server is off.
    void setApiSource(std::function<ApiFigures()> source) { apiSource_ = std::move(source); }

    double now() const;                              // seconds since the hub started
    double historySeconds() const { return options_.historySeconds; }
    QStringList seriesKeys() const;                  // in a stable, display-friendly order
    QVector<QPointF> series(const QString& key) const;
    QVector<QPointF> series(const QString& key, double fromSeconds) const;
    Current current() const { return current_; }
    QList<ProbeInfo> probes() const { return probes_; }
    QList<UnavailableInfo> unavailableProbes() const { return unavailable_; }
    QString backend() const { return backend_; }   // from the last model load or measurement

    // Every series as CSV: "series,time_s,value" rows, values exact (round-trip precision).
    bool exportCsv(const QString& path, QString* error = nullptr) const;
    static QHash<QString, QVector<QPointF>> readCsv(const QString& path, QString* error = nullptr);

    void clear();

public slots:
    // The worker's signals; public so tests (and other sources) can feed the hub directly.
    void onGenerationStarted(quint64 id, bool resumedState);
    void onTokenMetrics(quint64 id, const QString& backend, const QVector<TokenSample>& samples);
    void onGenerationFinished(const GenerationOutcome& outcome);
    void onModelLoaded(const ModelInfo& info);
    void onDeviceMemory(const QString& backend, const mmfree::DeviceMemoryBudget& budget);
    void sampleNow();   // memory + power; the timer calls it

signals:
    void updated();     // after every sample: a view refreshes at this rate, not per token
    void generationStateChanged(bool generating);

private:
    void append(const QString& key, double t, double v);
    void appendStages(const QString& backend, double t, const mmfree::StageTimes& stages);
    void trim(double now);
    void discoverProbes();
    double primaryEnergy() const;

    Options options_;
    QElapsedTimer clock_;
    QTimer timer_;
    QHash<QString, QVector<QPointF>> series_;
    QStringList powerKeys_;
    Current current_;
    QList<ProbeInfo> probes_;
    QList<UnavailableInfo> unavailable_;
    QString backend_;
    std::unique_ptr<mmfree::telemetry::PowerSampler> sampler_;
    std::unique_ptr<mmfree::telemetry::NvmlMemory> nvml_;

    // Tokens since the last sample, for the window's throughput and the rolling percentiles.
    int windowTokens_ = 0;
    double windowLatencyMs_ = 0;
    QVector<double> recentLatency_;   // ring of the last kRecent tokens
    int recentNext_ = 0;
    static constexpr int kRecent = 64;
    QSet<quint64> active_;            // generations running
    double lastSampleAt_ = 0;
    std::function<ApiFigures()> apiSource_;
    quint64 lastApiRequests_ = 0;
    bool apiSeen_ = false;
    double energyAtStart_ = -1;
};
