// SPDX-License-Identifier: Apache-2.0
#include "core/engine_worker.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>
#include <random>

#include "mmfree/backend.h"
#include "mmfree/error.h"
#include "mmfree/generate.h"
#include "mmfree/model.h"
#include "mmfree/session.h"
#include "mmfree/tokenizer.h"

EngineWorker::EngineWorker(QObject* parent) : QObject(parent) { registerMetaTypes(); }

EngineWorker::~EngineWorker() = default;

void EngineWorker::registerMetaTypes() {
    qRegisterMetaType<ModelInfo>();
    qRegisterMetaType<GenerationRequest>();
    qRegisterMetaType<GenerationOutcome>();
    qRegisterMetaType<mmfree::StageTimes>();
    qRegisterMetaType<QVector<TokenSample>>();
    qRegisterMetaType<mmfree::DeviceMemoryBudget>();
}

qsizetype EngineWorker::resumePoint(const QString& transcript, const QString& covered) {
    qsizetype t = 0, c = 0;
    while (c < covered.size()) {
        if (covered[c].isSpace() || (t < transcript.size() && transcript[t].isSpace())) {
            while (c < covered.size() && covered[c].isSpace()) ++c;
            while (t < transcript.size() && transcript[t].isSpace()) ++t;
            continue;
        }
        if (t >= transcript.size() || transcript[t] != covered[c]) return -1;
        ++t;
        ++c;
    }
    return t;
}

void EngineWorker::cancel(quint64 upToId) {
    quint64 prev = cancelledUpTo_.load();
    while (prev < upToId && !cancelledUpTo_.compare_exchange_weak(prev, upToId)) {}
}

void EngineWorker::unloadModel() {
    ready_ = false;
    session_.reset();
    tokenizer_.reset();
    info_ = {};
}

void EngineWorker::loadModel(const QString& path, const QString& backend) {
    emit modelLoading(path);
    // The previous model keeps running until the new one is complete (a failed load changes nothing).
    try {
        const std::filesystem::path fsPath = QDir::cleanPath(QFileInfo(path).absoluteFilePath()).toStdString();
        auto model = mmfree::load_model(fsPath);
        auto tokenizer = mmfree::Tokenizer::for_model(*model);
        mmfree::BackendOptions options;
        options.backend = backend.isEmpty() ? std::string("auto") : backend.toStdString();
        std::string note;
        auto executor = mmfree::create_executor(model, options, &note);
        ModelInfo info;
        info.path = QString::fromStdString(fsPath.string());
        info.name = QFileInfo(info.path).fileName();
        info.backend = QString::fromStdString(executor->backend_name());
        info.device = QString::fromStdString(executor->device_name());
        info.fallbackNote = QString::fromStdString(note);
        info.parameters = qint64(model->parameter_count());
        const auto& c = model->config;
        info.vocabSize = c.vocab_size;
        info.layers = c.num_layers;
        info.hidden = c.hidden_size;
        // The engine's fingerprint of every byte of the weights: a state saved with other weights
        // (retrained, re-downloaded, another shard set) never matches, whatever the path or dates say.
        info.key = QString::fromStdString(model->fingerprint);
        ready_ = false;
        session_ = std::make_unique<mmfree::Session>(std::move(executor));
        tokenizer_ = std::move(tokenizer);
        info_ = info;
        ready_ = true;
        emit modelLoaded(info_);
        emit deviceMemory(info_.backend, session_->executor().device_memory_budget());
    } catch (const std::exception& e) {
        emit modelLoadFailed(path, QString::fromStdString(e.what()));
    }
}

void EngineWorker::generate(const GenerationRequest& request) {
    if (!session_ || !tokenizer_) {
        emit generationFailed(request.id, tr("No model is loaded."));
        return;
    }
    const ChatSettings& s = request.settings;
    GenerationOutcome out;
    out.id = request.id;
    out.conversationId = request.conversationId;
    out.modelKey = info_.key;

    std::atomic<bool> cancel{cancelledUpTo_.load() >= request.id};
    if (cancel) {
        out.stopReason = QStringLiteral("cancelled");
        emit generationStarted(request.id, false);
        emit generationFinished(out);
        return;
    }
    try {
        // Resume from the saved state when it covers a prefix of this transcript.
        QString prompt = request.transcript;
        bool resumed = false;
        const qsizetype resumeAt = request.state.isEmpty() || request.stateModelKey != info_.key || request.coveredText.isEmpty()
                                       ? -1 : resumePoint(request.transcript, request.coveredText);
        if (resumeAt > 0 && resumeAt < request.transcript.size()) {
            try {
                session_->restore_state(std::vector<uint8_t>(request.state.begin(), request.state.end()));
                prompt = request.transcript.mid(resumeAt);
                resumed = true;
            } catch (const mmfree::Error&) {
                resumed = false;   // a foreign or damaged blob: read the history again
            }
        }
        if (!resumed) {
            session_->reset();
            prompt = request.transcript;
        }
        out.resumedState = resumed;
        emit generationStarted(request.id, resumed);

        mmfree::GenerateOptions options;
        options.max_tokens = s.maxTokens;
        options.stop_at_eos = s.stopAtEos;
        for (const auto& stop : s.stopStrings)
            if (!stop.isEmpty()) options.stop_strings.push_back(stop.toStdString());
        auto& sp = options.sampling;
        sp.temperature = float(s.temperature);
        sp.top_k = s.topK;
        sp.top_p = float(s.topP);
        sp.min_p = float(s.minP);
        sp.repetition_penalty = float(s.repetitionPenalty);
        sp.seed = s.seed >= 0 ? uint64_t(s.seed) : std::random_device{}();

        mmfree::GenerateCallbacks cb;
        cb.cancel = &cancel;
        cb.on_text = [&](std::string_view text) {
            emit textReceived(request.id, QString::fromUtf8(text.data(), qsizetype(text.size())));
        };
        QVector<TokenSample> batch;
        QElapsedTimer sinceBatch;
        sinceBatch.start();
        auto sendBatch = [&] {
            if (batch.isEmpty()) return;
            emit tokenMetrics(request.id, info_.backend, batch);
            batch.clear();
            sinceBatch.restart();
        };
        cb.on_token_metrics = [&](const mmfree::TokenMetrics& m) {
            TokenSample t;
            t.index = m.index;
            t.latencyMs = m.latency_ms;
            t.producedNs = steadyClockNs();
            if (m.index > 0) t.stages = m.stages;   // token 0's pass was the prefill's
            batch.append(t);
            if (m.index == 0 || sinceBatch.elapsed() >= kMetricsBatchMs) sendBatch();
            if (const int pace = pacingMs_.load(); pace > 0) QThread::msleep(pace);
            if (cancelledUpTo_.load() >= request.id) cancel = true;
        };
        const std::string promptUtf8 = prompt.toStdString();
        const auto result = mmfree::generate(*session_, *tokenizer_, promptUtf8, options, cb);
        sendBatch();   // before generationFinished, so listeners have every token when it arrives

        out.text = QString::fromStdString(result.text);
        switch (result.reason) {
        case mmfree::StopReason::Eos: out.stopReason = QStringLiteral("eos"); break;
        case mmfree::StopReason::StopString: out.stopReason = QStringLiteral("stop"); break;
        case mmfree::StopReason::MaxTokens: out.stopReason = QStringLiteral("length"); break;
        case mmfree::StopReason::Cancelled: out.stopReason = QStringLiteral("cancelled"); break;
        }
        out.ttftMs = result.metrics.ttft_ms;
        out.prefillTokS = result.metrics.prefill_tok_s;
        out.decodeTokS = result.metrics.decode_tok_s;
        out.promptTokens = result.metrics.prompt_tokens;
        out.generatedTokens = result.metrics.generated_tokens;
        // The state covers every fed token, including a stop string's: decode them all to know
        // exactly which transcript a later turn may resume from.
        mmfree::StreamingDecoder decoder(*tokenizer_);
        std::string fed;
        for (int32_t t : result.tokens) fed += decoder.push(t);
        fed += decoder.flush();
        out.coveredText = (resumed ? request.coveredText : QString()) + prompt + QString::fromStdString(fed);
        const auto bytes = session_->save_state();
        out.state = QByteArray(reinterpret_cast<const char*>(bytes.data()), qsizetype(bytes.size()));
        emit deviceMemory(info_.backend, session_->executor().device_memory_budget());
        emit generationFinished(out);
    } catch (const std::exception& e) {
        session_->reset();
        emit generationFailed(request.id, QString::fromStdString(e.what()));
    }
}
