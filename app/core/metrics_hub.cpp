// SPDX-License-Identifier: Apache-2.0
#include "core/metrics_hub.h"

#include <QFile>
#include <QSaveFile>
#include <QTextStream>
#include <algorithm>

#include "core/engine_service.h"
#include "mmfree/telemetry.h"

namespace telemetry = mmfree::telemetry;

MetricsHub::MetricsHub(QObject* parent) : MetricsHub(Options{}, parent) {}

MetricsHub::MetricsHub(const Options& options, QObject* parent) : QObject(parent), options_(options) {
    clock_.start();
    recentLatency_.reserve(kRecent);
    discoverProbes();
    timer_.setInterval(options_.sampleIntervalMs);
    connect(&timer_, &QTimer::timeout, this, &MetricsHub::sampleNow);
    timer_.start();
    sampleNow();
}

MetricsHub::~MetricsHub() = default;

void MetricsHub::discoverProbes() {
    telemetry::ProbeOptions po;
    po.sysfs_root = options_.sysfsRoot.toStdString();
    po.nvml_library = options_.nvmlLibrary.toStdString();
    telemetry::Probes found = telemetry::find_power_probes(po);
    for (const auto& p : found.available) {
        probes_.append({QString::fromStdString(p->name()), QString::fromStdString(p->device()), QString::fromStdString(p->source())});
        powerKeys_.append(QString(kPowerPrefix) + QString::fromStdString(p->name()));
    }
    for (const auto& u : found.unavailable) unavailable_.append({QString::fromStdString(u.name), QString::fromStdString(u.reason)});
    if (!found.available.empty()) {
        sampler_ = std::make_unique<telemetry::PowerSampler>(std::move(found.available), options_.powerIntervalMs);
        sampler_->resume();   // count energy all the time; a generation's share is a difference
    }
    nvml_ = std::make_unique<telemetry::NvmlMemory>(options_.nvmlLibrary.toStdString());
    if (!nvml_->available()) nvml_.reset();
}

void MetricsHub::attach(EngineService* engine) {
    connect(engine, &EngineService::generationStarted, this, &MetricsHub::onGenerationStarted);
    connect(engine, &EngineService::tokenMetrics, this, &MetricsHub::onTokenMetrics);
    connect(engine, &EngineService::generationFinished, this, &MetricsHub::onGenerationFinished);
    connect(engine, &EngineService::generationFailed, this, [this](quint64 id, const QString&) {
        if (!active_.remove(id)) return;
        current_.activeStreams = int(active_.size());
        if (active_.isEmpty()) {
            current_.generating = false;
            emit generationStateChanged(false);
        }
    });
    connect(engine, &EngineService::modelLoaded, this, &MetricsHub::onModelLoaded);
    connect(engine, &EngineService::deviceMemory, this, &MetricsHub::onDeviceMemory);
}

double MetricsHub::now() const { return clock_.nsecsElapsed() / 1e9; }

QStringList MetricsHub::seriesKeys() const {
    QStringList keys = {kTokensPerSecond, kLatency, kLatencyP50, kLatencyP95, kActiveStreams, kRss};
    if (series_.contains(kApiRequestsPerSecond)) keys << kApiRequestsPerSecond << kApiActive;
    if (nvml_ || series_.contains(kDeviceMemory)) keys << kDeviceMemory;
    if (series_.contains(kDeviceBudget)) keys << kDeviceBudget;
    keys << powerKeys_;
    QStringList stages;
    for (auto it = series_.begin(); it != series_.end(); ++it)
        if (it.key().startsWith("stage_")) stages << it.key();
    stages.sort();
    return keys + stages;
}

QVector<QPointF> MetricsHub::series(const QString& key) const { return series_.value(key); }

QVector<QPointF> MetricsHub::series(const QString& key, double fromSeconds) const {
    const auto it = series_.find(key);
    if (it == series_.end()) return {};
    const auto& v = *it;
    // Points are in time order: binary search the window's start.
    auto first = std::lower_bound(v.begin(), v.end(), fromSeconds, [](const QPointF& p, double t) { return p.x() < t; });
    return QVector<QPointF>(first, v.end());
}

void MetricsHub::append(const QString& key, double t, double v) { series_[key].append(QPointF(t, v)); }

void MetricsHub::trim(double now) {
    const double cut = now - options_.historySeconds;
    for (auto& v : series_) {
        if (v.isEmpty() || v.first().x() >= cut) continue;
        auto first = std::lower_bound(v.begin(), v.end(), cut, [](const QPointF& p, double t) { return p.x() < t; });
        v.erase(v.begin(), first);
    }
}

void MetricsHub::clear() {
    series_.clear();
    recentLatency_.clear();
    recentNext_ = 0;
    windowTokens_ = 0;
    windowLatencyMs_ = 0;
}

double MetricsHub::primaryEnergy() const {
    if (!sampler_ || current_.powerProbe.isEmpty()) return -1;
    for (const auto& f : sampler_->figures())
        if (QString::fromStdString(f.name) == current_.powerProbe) return f.energy_j;
    return -1;
}

void MetricsHub::onGenerationStarted(quint64 id, bool) {
    active_.insert(id);
    current_.activeStreams = int(active_.size());
    current_.generating = true;
    current_.tokens = 0;
    current_.joulesPerToken = current_.tokensPerJoule = -1;
    energyAtStart_ = primaryEnergy();
    emit generationStateChanged(true);
}

void MetricsHub::onTokenMetrics(quint64 id, const QString& backend, const QVector<TokenSample>& samples) {
    // A few appends per token, no allocation beyond the series' growth, no I/O.
    Q_UNUSED(id);
    const qint64 nowNs = steadyClockNs();
    const double hubNow = now();
    for (const TokenSample& s : samples) {
        current_.tokens = s.index + 1;
        // Token 0's time is only its sampling right after the prefill (TTFT covers it); counting
        // it would put a near-zero dip at the start of every reply in the graph and percentiles.
        if (s.index == 0) continue;
        const double t = hubNow - double(nowNs - s.producedNs) / 1e9;   // when it was produced
        append(kLatency, t, s.latencyMs);
        current_.latencyMs = s.latencyMs;
        ++windowTokens_;
        windowLatencyMs_ += s.latencyMs;
        if (recentLatency_.size() < kRecent) recentLatency_.append(s.latencyMs);
        else recentLatency_[recentNext_] = s.latencyMs;
        recentNext_ = (recentNext_ + 1) % kRecent;
        if (s.stages.valid) appendStages(backend, t, s.stages);
    }
}

void MetricsHub::onGenerationFinished(const GenerationOutcome& o) {
    active_.remove(o.id);
    current_.activeStreams = int(active_.size());
    current_.generating = !active_.isEmpty();
    current_.ttftMs = o.ttftMs;
    current_.decodeTokS = o.decodeTokS;
    current_.tokens = o.generatedTokens;
    sampleNow();   // close the window now, so the last tokens land in the throughput series
    const double e = primaryEnergy();
    if (energyAtStart_ >= 0 && e >= 0 && o.generatedTokens > 0) {
        current_.joulesPerToken = telemetry::joules_per_token(e - energyAtStart_, o.generatedTokens).value_or(-1);
        current_.tokensPerJoule = telemetry::tokens_per_joule(e - energyAtStart_, o.generatedTokens).value_or(-1);
    }
    emit generationStateChanged(false);
    emit updated();
}

void MetricsHub::onModelLoaded(const ModelInfo& info) {
    backend_ = info.backend;
    current_.stages = {};   // the next backend measures its own way, or not at all
    current_.budgetKnown = current_.budgetAvailable = false;
    // The probe that answers "what does this generation cost": the CPU package for CPU backends,
    // the GPU for GPU backends, the board for a plugin; otherwise whatever measures something.
    auto prefer = [this](const QString& prefix) -> QString {
        for (const auto& p : probes_)
            if (p.name.startsWith(prefix)) return p.name;
        return {};
    };
    QString pick;
    if (backend_.startsWith("cpu")) pick = prefer("rapl:");
    else if (backend_.startsWith("fpga") || backend_.startsWith("plugin")) pick = prefer("board");
    else pick = prefer("nvml:").isEmpty() ? prefer("hwmon:") : prefer("nvml:");
    if (pick.isEmpty() && !probes_.isEmpty()) pick = probes_.first().name;
    current_.powerProbe = pick;
}

void MetricsHub::appendStages(const QString& backend, double t, const mmfree::StageTimes& s) {
    backend_ = backend;
    current_.stages = s;
    if (!s.fused) append(kStageNormQuant, t, s.norm_quant_us);
    append(kStageBitLinear, t, s.bitlinear_us);
    if (!s.fused) append(kStageMlgru, t, s.mlgru_us);
    append(kStageLmHead, t, s.lm_head_us);
}

void MetricsHub::onDeviceMemory(const QString& backend, const mmfree::DeviceMemoryBudget& b) {
    backend_ = backend;
    current_.budgetKnown = true;
    current_.budgetAvailable = b.available;
    current_.budgetUsedBytes = b.used_bytes;
    current_.budgetBytes = b.budget_bytes;
}

void MetricsHub::sampleNow() {
    const double t = now();
    const double window = t - lastSampleAt_;
    lastSampleAt_ = t;
    // One stream: throughput from the engine's own per-token times, so a busy UI thread
    // delivering the queued signals late does not make the engine look slower than it is.
    // Several: every stream's tokens over the window's wall time (their latencies overlap).
    if (windowTokens_ > 0 && windowLatencyMs_ > 0) {
        const double perStream = windowTokens_ / (windowLatencyMs_ / 1000.0);
        current_.tokensPerSecond = active_.size() > 1 && window > 0 ? std::max(perStream, windowTokens_ / window) : perStream;
        append(kTokensPerSecond, t, current_.tokensPerSecond);
        std::vector<double> recent(recentLatency_.begin(), recentLatency_.end());
        current_.p50Ms = telemetry::percentile(recent, 50);
        current_.p95Ms = telemetry::percentile(recent, 95);
        append(kLatencyP50, t, current_.p50Ms);
        append(kLatencyP95, t, current_.p95Ms);
    } else if (!current_.generating) {
        current_.tokensPerSecond = 0;
        append(kTokensPerSecond, t, 0);
    }
    windowTokens_ = 0;
    windowLatencyMs_ = 0;
    append(kActiveStreams, t, current_.activeStreams);
    if (apiSource_) {
        const ApiFigures api = apiSource_();
        current_.apiActive = api.active;
        current_.apiRequestsPerSecond = apiSeen_ && window > 0 && api.requests >= lastApiRequests_
                                            ? double(api.requests - lastApiRequests_) / window : 0.0;
        lastApiRequests_ = api.requests;
        apiSeen_ = true;
        append(kApiRequestsPerSecond, t, current_.apiRequestsPerSecond);
        append(kApiActive, t, api.active);
    }

    if (const auto m = telemetry::read_process_memory(options_.procRoot.toStdString())) {
        current_.rssBytes = m->rss_bytes;
        current_.peakRssBytes = m->peak_rss_bytes;
        append(kRss, t, m->rss_bytes / 1048576.0);
    }
    // The executor's budget reading is this process's own use: it takes the device memory series
    // over from NVML's whole-GPU figure, which would mix two different quantities in one line.
    if (current_.budgetAvailable) {
        append(kDeviceMemory, t, current_.budgetUsedBytes / 1048576.0);
        append(kDeviceBudget, t, current_.budgetBytes / 1048576.0);
    } else if (nvml_) {
        const auto devices = nvml_->read();
        if (!devices.empty()) {
            current_.deviceUsedBytes = devices.front().used_bytes;
            current_.deviceTotalBytes = devices.front().total_bytes;
            current_.deviceName = QString::fromStdString(devices.front().device);
            append(kDeviceMemory, t, devices.front().used_bytes / 1048576.0);
        }
    }
    if (sampler_) {
        if (current_.powerProbe.isEmpty() && !probes_.isEmpty()) current_.powerProbe = probes_.first().name;
        double energyNow = -1;
        for (const auto& f : sampler_->figures()) {
            const QString name = QString::fromStdString(f.name);
            if (f.last_watts) append(QString(kPowerPrefix) + name, t, *f.last_watts);
            if (name == current_.powerProbe) {
                current_.powerW = f.last_watts.value_or(-1);
                current_.powerSource = QString::fromStdString(f.source);
                energyNow = f.energy_j;
            }
        }
        // Live energy per token while a reply streams.
        if (current_.generating && energyAtStart_ >= 0 && energyNow >= 0 && current_.tokens > 0) {
            current_.joulesPerToken = telemetry::joules_per_token(energyNow - energyAtStart_, current_.tokens).value_or(-1);
            current_.tokensPerJoule = telemetry::tokens_per_joule(energyNow - energyAtStart_, current_.tokens).value_or(-1);
        }
    }
    trim(t);
    emit updated();
}

bool MetricsHub::exportCsv(const QString& path, QString* error) const {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error) *error = f.errorString();
        return false;
    }
    QTextStream out(&f);
    out << "series,time_s,value\n";
    const QStringList keys = seriesKeys();
    for (const auto& key : keys)
        for (const auto& p : series_.value(key))
            out << key << ',' << QString::number(p.x(), 'g', 17) << ',' << QString::number(p.y(), 'g', 17) << '\n';
    out.flush();
    if (!f.commit()) {
        if (error) *error = f.errorString();
        return false;
    }
    return true;
}

QHash<QString, QVector<QPointF>> MetricsHub::readCsv(const QString& path, QString* error) {
    QHash<QString, QVector<QPointF>> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
        if (error) *error = f.errorString();
        return out;
    }
    QTextStream in(&f);
    const QString header = in.readLine();
    if (header != "series,time_s,value") {
        if (error) *error = QStringLiteral("not a dashboard CSV (header is \"%1\")").arg(header);
        return out;
    }
    int line = 1;
    while (!in.atEnd()) {
        ++line;
        const QString row = in.readLine();
        if (row.isEmpty()) continue;
        // Keys may contain ':' but never ','; the two numbers are the last two fields.
        const int b = row.lastIndexOf(','), a = row.lastIndexOf(',', b - 1);
        bool okT = false, okV = false;
        const double t = a > 0 ? row.mid(a + 1, b - a - 1).toDouble(&okT) : 0;
        const double v = b > 0 ? row.mid(b + 1).toDouble(&okV) : 0;
        if (!okT || !okV) {
            if (error) *error = QStringLiteral("line %1 is not \"series,time_s,value\"").arg(line);
            return {};
        }
        out[row.left(a)].append(QPointF(t, v));
    }
    return out;
}
