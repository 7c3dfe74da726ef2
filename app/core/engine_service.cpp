// SPDX-License-Identifier: Apache-2.0
#include "core/engine_service.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMutexLocker>

#include <cstring>

#include "core/model_pack.h"
#include "format/gguf_model.h"
#include "format/loaders.h"
#include "mmfree/backend.h"
#include "mmfree/error.h"
#include "mmfree/model.h"
#include "mmfree/scheduler.h"
#include "mmfree/tokenizer.h"

// The scheduler calls back on its own thread and may outlive this object (the API server shares
// it): callbacks reach the service only through this guard, which the destructor clears.
struct ServiceGuard {
    QMutex mutex;
    EngineService* service = nullptr;
    template <typename F>
    void post(F&& f) {
        QMutexLocker lock(&mutex);
        if (service) QMetaObject::invokeMethod(service, std::forward<F>(f), Qt::QueuedConnection);
    }
};

struct EngineService::Stream {
    quint64 id = 0;
    mmfree::Scheduler::RequestId schedulerId = 0;
    // The one it runs on. Weak: the request's callbacks hold this stream, and a scheduler must
    // never be owned by its own requests (it would be destroyed, and joined, on its own thread).
    std::weak_ptr<mmfree::Scheduler> scheduler;
    QString backend;
    // Scheduler thread only:
    qint64 submittedNs = 0, lastNs = 0, lastBatchNs = 0;
    int index = 0;
    QVector<TokenSample> batch;
};

QString stopReasonName(mmfree::StopReason reason) {
    switch (reason) {
    case mmfree::StopReason::Eos: return QStringLiteral("eos");
    case mmfree::StopReason::StopString: return QStringLiteral("stop");
    case mmfree::StopReason::MaxTokens: return QStringLiteral("length");
    case mmfree::StopReason::Cancelled: return QStringLiteral("cancelled");
    }
    return {};
}

EngineService::EngineService(QObject* parent) : QObject(parent) {
    registerMetaTypes();
    guard_ = std::make_shared<ServiceGuard>();
    guard_->service = this;
}

EngineService::~EngineService() {
    {
        QMutexLocker lock(&guard_->mutex);
        guard_->service = nullptr;
    }
    for (QThread* t : std::as_const(loaders_)) t->wait();
    for (const auto& s : std::as_const(streams_))
        if (const auto sched = s->scheduler.lock()) sched->cancel(s->schedulerId);
    streams_.clear();
    scheduler_.reset();
}

void EngineService::registerMetaTypes() {
    qRegisterMetaType<ModelInfo>();
    qRegisterMetaType<GenerationRequest>();
    qRegisterMetaType<GenerationOutcome>();
    qRegisterMetaType<mmfree::StageTimes>();
    qRegisterMetaType<QVector<TokenSample>>();
    qRegisterMetaType<mmfree::DeviceMemoryBudget>();
}

// Writes `folder`'s pack from its converted weights, replacing packs of earlier weights; reports
// on the service's thread. Runs on a loader thread.
static void writePack(const std::shared_ptr<ServiceGuard>& guard, const QString& folder, const QString& pack, const mmfree::Model& model) {
    guard->post([guard, folder] {
        if (guard->service) emit guard->service->packingStarted(folder);
    });
    const QString part = pack + QStringLiteral(".part");
    QString error;
    // One packer at a time: two quick loads of the same folder must not write it twice.
    static QMutex packing;
    QMutexLocker packLock(&packing);
    if (!QFileInfo::exists(pack)) try {   // (another load may have packed it meanwhile)
        ModelPack::remove(folder);   // packs of earlier weights
        QDir().mkpath(ModelPack::packDirectory(folder));
        mmfree::write_gguf_model(model, part.toStdString());
        if (!QFile::rename(part, pack)) error = EngineService::tr("cannot write %1").arg(QDir::toNativeSeparators(pack));
        else ModelPack::rememberFingerprint(folder, QFileInfo(pack).completeBaseName());
    } catch (const std::exception& e) {
        error = QString::fromStdString(e.what());
    }
    if (!error.isEmpty()) ModelPack::remove(folder);
    const qint64 bytes = ModelPack::diskBytes(folder);
    guard->post([guard, folder, bytes, error] {
        if (guard->service) emit guard->service->packingFinished(folder, bytes, error);
    });
}

void EngineService::pack(const QString& path) {
    const QString folder = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    if (!ModelPack::isPackable(folder)) return;
    auto guard = guard_;
    QThread* packer = QThread::create([guard, folder] {
        try {
            const QString pack = ModelPack::packFile(folder, ModelPack::fingerprint(folder));
            if (QFileInfo::exists(pack)) return;
            const auto model = mmfree::load_model(folder.toStdString());
            writePack(guard, folder, pack, *model);
        } catch (const std::exception& e) {
            const QString error = QString::fromStdString(e.what());
            guard->post([guard, folder, error] {
                if (guard->service) emit guard->service->packingFinished(folder, 0, error);
            });
        }
    });
    packer->setObjectName(QStringLiteral("mmfree-pack"));
    packer->setParent(this);
    loaders_ << packer;
    connect(packer, &QThread::finished, this, [this, packer] {
        loaders_.removeOne(packer);
        packer->deleteLater();
    });
    packer->start();
}

void EngineService::loadModel(const QString& path, const QString& backend) {
    requestedPath_ = path;
    state_ = ModelState::Loading;
    const quint64 ticket = ++loadTicket_;
    emit modelLoading(path);
    emit modelStateChanged();
    auto guard = guard_;
    const int slotCount = slotCount_;
    QThread* loader = QThread::create([guard, path, backend, slotCount, ticket] {
        try {
            const std::filesystem::path fsPath = QDir::cleanPath(QFileInfo(path).absoluteFilePath()).toStdString();
            const QString folder = QString::fromStdString(fsPath.string());
            // A folder checks its pack against the fingerprint of its files (remembered, or hashed:
            // far cheaper than converting them) and loads the pack when it matches.
            const bool packable = ModelPack::isPackable(folder);
            bool remembered = false;
            const QString fingerprint = packable ? ModelPack::fingerprint(folder, &remembered) : QString();
            const QString pack = packable ? ModelPack::packFile(folder, fingerprint) : QString();
            std::shared_ptr<const mmfree::Model> model;
            if (packable && QFileInfo::exists(pack)) {
                try {
                    model = mmfree::load_model(pack.toStdString());
                } catch (const std::exception&) {
                    QFile::remove(pack);   // damaged: rebuilt below from the original files
                }
            }
            const bool fromPack = model != nullptr;
            if (fromPack && !remembered) ModelPack::rememberFingerprint(folder, fingerprint);   // the next switch skips the hashing
            if (!model) model = mmfree::load_model(fsPath);
            std::shared_ptr<const mmfree::Tokenizer> tokenizer = mmfree::Tokenizer::for_model(*model);
            mmfree::BackendOptions options;
            options.backend = backend.isEmpty() ? std::string("auto") : backend.toStdString();
            options.slot_count = slotCount;
            std::string note;
            auto executor = mmfree::create_executor(model, options, &note);
            ModelInfo info;
            info.path = QString::fromStdString(fsPath.string());
            info.name = QFileInfo(info.path).fileName();
            info.backend = QString::fromStdString(executor->backend_name());
            info.device = QString::fromStdString(executor->device_name());
            info.fallbackNote = QString::fromStdString(note);
            info.parameters = qint64(model->parameter_count());
            info.vocabSize = model->config.vocab_size;
            info.layers = model->config.num_layers;
            info.hidden = model->config.hidden_size;
            info.slotCount = slotCount;
            info.key = packable ? fingerprint : QString::fromStdString(model->fingerprint);   // the original files' identity
            info.packed = fromPack;
            const mmfree::DeviceMemoryBudget budget = executor->device_memory_budget();
            auto scheduler = std::make_shared<mmfree::Scheduler>(std::move(executor), tokenizer);
            guard->post([guard, scheduler, info, budget, ticket]() mutable {
                EngineService* self = guard->service;
                if (!self || ticket != self->loadTicket_) return;   // a later load won
                self->scheduler_ = std::move(scheduler);
                self->info_ = info;
                self->error_.clear();
                self->state_ = ModelState::Ready;
                emit self->modelLoaded(info);
                emit self->deviceMemory(info.backend, budget);
                emit self->modelStateChanged();
            });
            // The model already runs; the pack is written from the converted weights in memory.
            if (packable && !fromPack) writePack(guard, folder, pack, *model);
        } catch (const std::exception& e) {
            const QString message = QString::fromStdString(e.what());
            const auto* error = dynamic_cast<const mmfree::Error*>(&e);
            const mmfree::ErrorCode code = error ? error->code() : mmfree::ErrorCode::Internal;
            guard->post([guard, path, message, code, ticket] {
                EngineService* self = guard->service;
                if (!self || ticket != self->loadTicket_) return;
                self->error_ = message;
                self->errorCode_ = code;
                self->state_ = self->scheduler_ ? ModelState::Ready : ModelState::Failed;   // the previous model stays
                emit self->modelLoadFailed(path, message);
                emit self->modelStateChanged();
            });
        }
    });
    loader->setObjectName(QStringLiteral("mmfree-load"));
    loader->setParent(this);   // deleted with the service at the latest (after the wait in the destructor)
    loaders_ << loader;
    connect(loader, &QThread::finished, this, [this, loader] {
        loaders_.removeOne(loader);
        loader->deleteLater();
    });
    loader->start();
}

void EngineService::unloadModel() {
    ++loadTicket_;
    for (const auto& s : std::as_const(streams_))
        if (const auto sched = s->scheduler.lock()) sched->cancel(s->schedulerId);
    scheduler_.reset();
    info_ = {};
    state_ = ModelState::None;
    emit modelStateChanged();
}

void EngineService::generate(const GenerationRequest& request) {
    if (!scheduler_) {
        emit generationFailed(request.id, tr("No model is loaded."));
        return;
    }
    auto stream = std::make_shared<Stream>();
    stream->id = request.id;
    stream->scheduler = scheduler_;
    stream->backend = info_.backend;
    const quint64 id = request.id;
    const QString modelKey = info_.key;
    const qint64 conversation = request.conversationId;
    auto guard = guard_;
    auto pacing = pacingMs_;

    mmfree::Request r;
    try {
        r.prompt = scheduler_->tokenizer().encode(request.transcript.toStdString(), scheduler_->model().add_bos);
    } catch (const std::exception& e) {
        emit generationFailed(id, QString::fromStdString(e.what()));
        return;
    }
    r.options = generationOptions(request.settings);
    r.return_prompt_state = conversation > 0;
    if (!request.resumeState.isEmpty() && request.resumeTokens.size() % qsizetype(sizeof(int32_t)) == 0 &&
        request.resumeState.size() % qsizetype(sizeof(float)) == 0) {
        std::vector<int32_t> tokens(size_t(request.resumeTokens.size()) / sizeof(int32_t));
        std::vector<float> state(size_t(request.resumeState.size()) / sizeof(float));
        std::memcpy(tokens.data(), request.resumeTokens.constData(), size_t(request.resumeTokens.size()));
        std::memcpy(state.data(), request.resumeState.constData(), size_t(request.resumeState.size()));
        try {
            scheduler_->remember_prefix(std::move(tokens), std::move(state));
        } catch (const mmfree::Error&) {
            // another model's state (or a damaged one): the reply reads its whole prompt
        }
    }
    r.on_token = [guard, stream, pacing, id](const mmfree::TokenEvent& e) {
        const qint64 now = steadyClockNs();
        TokenSample t;
        t.index = stream->index++;
        t.latencyMs = double(now - (stream->lastNs ? stream->lastNs : stream->submittedNs)) / 1e6;
        t.producedNs = now;
        t.stages = e.stages;
        stream->lastNs = now;
        stream->batch.append(t);
        if (t.index == 0 || now - stream->lastBatchNs >= qint64(kMetricsBatchMs) * 1000000) {
            guard->post([guard, id, backend = stream->backend, samples = stream->batch] {
                if (guard->service) emit guard->service->tokenMetrics(id, backend, samples);
            });
            stream->batch.clear();
            stream->lastBatchNs = now;
        }
        if (!e.text.empty())
            guard->post([guard, id, text = QString::fromStdString(e.text)] {
                if (guard->service) emit guard->service->textReceived(id, text);
            });
        if (const int pace = pacing->load(); pace > 0) QThread::msleep(pace);
    };
    r.on_finish = [guard, stream, id, conversation, modelKey](const mmfree::FinishEvent& f) {
        GenerationOutcome out;
        out.id = id;
        out.conversationId = conversation;
        out.text = QString::fromStdString(f.text);
        out.stopReason = f.reason;
        out.ttftMs = f.ttft_ms;
        out.decodeTokS = f.decode_tok_s;
        out.promptTokens = f.prompt_tokens;
        out.cachedTokens = f.cached_tokens;
        out.generatedTokens = int(f.tokens.size());
        out.modelKey = modelKey;
        out.promptStateTokens = QByteArray(reinterpret_cast<const char*>(f.prompt_state_tokens.data()),
                                           qsizetype(f.prompt_state_tokens.size() * sizeof(int32_t)));
        out.promptState = QByteArray(reinterpret_cast<const char*>(f.prompt_state.data()), qsizetype(f.prompt_state.size() * sizeof(float)));
        guard->post([guard, id, out, samples = stream->batch, backend = stream->backend, tail = QString::fromStdString(f.tail_text),
                     error = QString::fromStdString(f.error)] {
            EngineService* self = guard->service;
            if (!self) return;
            // Listeners get every token and the held-back tail before the end of the reply.
            if (!samples.isEmpty()) emit self->tokenMetrics(id, backend, samples);
            if (!tail.isEmpty()) emit self->textReceived(id, tail);
            self->finishStream(id);
            if (error.isEmpty()) emit self->generationFinished(out);
            else emit self->generationFailed(id, error);
        });
    };
    emit generationStarted(id, false);
    stream->submittedNs = steadyClockNs();
    streams_.insert(id, stream);
    try {
        stream->schedulerId = scheduler_->submit(std::move(r));
    } catch (const std::exception& e) {
        streams_.remove(id);
        emit generationFailed(id, QString::fromStdString(e.what()));
        return;
    }
    emit activeStreamsChanged(activeStreams());
}

void EngineService::cancel(quint64 requestId) {
    if (const auto s = streams_.value(requestId))
        if (const auto sched = s->scheduler.lock()) sched->cancel(s->schedulerId);
}

void EngineService::finishStream(quint64 id) {
    if (streams_.remove(id)) emit activeStreamsChanged(activeStreams());
}
