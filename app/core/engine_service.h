// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QByteArray>
#include <QHash>
#include <QMetaType>
#include <QMutex>
#include <QObject>
#include <QSet>
#include <QString>
#include <QThread>
#include <QVector>
#include <atomic>
#include <chrono>
#include <memory>

#include "core/chat_settings.h"
#include "mmfree/error.h"
#include "mmfree/generate.h"
#include "mmfree/metrics.h"

namespace mmfree {
class Scheduler;
}
struct ServiceGuard;

struct ModelInfo {
    QString path;
    QString name;            // folder name
    QString key;             // the weights' fingerprint
    QString backend;         // "cpu", "vulkan", …
    QString device;
    QString fallbackNote;    // why a requested GPU backend was replaced by the CPU
    qint64 parameters = 0;
    int vocabSize = 0;
    int layers = 0;
    int hidden = 0;
    bool packed = false;     // loaded from its packed copy (ModelPack), not the original files
    int slotCount = 0;       // replies (chats and API requests) that can stream at once
};

// Who asked for a generation: the dashboard keeps the app's chats and API traffic apart.
enum class RequestOrigin { Chat, Api };

struct GenerationRequest {
    quint64 id = 0;
    qint64 conversationId = 0;
    QString transcript;          // the whole conversation (or completion text) as the model should see it
    ChatSettings settings;
    // A state saved with the conversation (GenerationOutcome::promptState of an earlier reply,
    // maybe from before a restart): the reply resumes from it when the transcript's tokens start
    // with resumeTokens. Ignored when it does not fit the loaded model.
    QByteArray resumeTokens;     // int32 token ids
    QByteArray resumeState;      // L×D floats
};

struct GenerationOutcome {
    quint64 id = 0;
    qint64 conversationId = 0;
    QString text;                // the reply, stop string excluded
    mmfree::StopReason stopReason = mmfree::StopReason::MaxTokens;
    double ttftMs = 0;
    double decodeTokS = 0;
    int promptTokens = 0;        // the whole prompt
    int cachedTokens = 0;        // of those, resumed from the scheduler's prefix cache instead of prefilled
    int generatedTokens = 0;
    bool resumedState() const { return cachedTokens > 0; }
    QString modelKey;
    // For a conversation's reply whose prompt was (partly) read anew: the state after the
    // prompt's tokens but the last, and those tokens, for the store (resumeTokens/resumeState).
    QByteArray promptStateTokens;
    QByteArray promptState;
};

// The stop reason as the API and the logs spell it ("eos", "stop", "length", "cancelled").
QString stopReasonName(mmfree::StopReason reason);

// Nanoseconds on std::chrono::steady_clock: one clock for every thread.
inline qint64 steadyClockNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One generated token's figures, for the status line and the dashboard.
struct TokenSample {
    int index = 0;               // 0 = the first generated token
    double latencyMs = 0;        // since the previous token of the same stream (the first: since submit)
    qint64 producedNs = 0;       // steadyClockNs() when it was produced
    mmfree::StageTimes stages;   // valid when the backend timed this token's forward pass
};

Q_DECLARE_METATYPE(ModelInfo)
Q_DECLARE_METATYPE(GenerationRequest)
Q_DECLARE_METATYPE(GenerationOutcome)
Q_DECLARE_METATYPE(mmfree::StageTimes)
Q_DECLARE_METATYPE(QVector<TokenSample>)
Q_DECLARE_METATYPE(mmfree::DeviceMemoryBudget)

// The engine as the app sees it: one continuously batched mmfree::Scheduler per loaded model,
// shared by every chat (each reply its own request, so several stream at once) and by the
// local API server. Lives on the UI thread and never blocks it: a model loads on a thread of its
// own, replies run on the scheduler's thread, and every event comes back as a queued signal.
class EngineService : public QObject {
    Q_OBJECT
public:
    enum class ModelState { None, Loading, Ready, Failed };
    Q_ENUM(ModelState)

    explicit EngineService(QObject* parent = nullptr);
    ~EngineService() override;   // waits for a load in progress; cancels running replies
    static constexpr int kMetricsBatchMs = 50;
    static constexpr int kDefaultSlots = 8;

    static void registerMetaTypes();

    // Sequence slots of the next model loaded (replies and API requests streaming at once).
    void setSlotCount(int count) { slotCount_ = std::max(1, count); }
    // Thread-safe. Sleeps this long after every token: tests and demos use it to watch replies
    // stream from a tiny, very fast model (it paces every stream of the scheduler).
    void setPacingMs(int ms) { pacingMs_->store(ms); }

    ModelState modelState() const { return state_; }
    ModelInfo modelInfo() const { return info_; }
    QString requestedModelPath() const { return requestedPath_; }
    QString modelError() const { return error_; }      // the last load failure ("" after a success)
    mmfree::ErrorCode modelErrorCode() const { return errorCode_; }   // what the app branches on
    bool hasModel() const { return scheduler_ != nullptr; }
    std::shared_ptr<mmfree::Scheduler> scheduler() const { return scheduler_; }
    int activeStreams() const { return int(streams_.size()); }

public slots:
    // Loads on a background thread; the current model keeps serving until the new one is
    // complete, and stays when the load fails. A folder whose packed copy matches its weight
    // fingerprint loads from the pack.
    void loadModel(const QString& path, const QString& backend);
    void unloadModel();
    // Packs a folder model in the background (a downloaded or imported one, before its first
    // use); nothing to do when its pack is current. Reports through packingStarted/Finished.
    void pack(const QString& path);
    // Submits one reply; its events arrive as the signals below. Fails at once (generationFailed)
    // without a model or when the scheduler's queue is full.
    void generate(const GenerationRequest& request);
    void cancel(quint64 requestId);   // unknown or finished ids are ignored

signals:
    void modelStateChanged();
    void modelLoading(const QString& path);
    void modelLoaded(const ModelInfo& info);
    void modelLoadFailed(const QString& path, const QString& message);
    void generationStarted(quint64 id, bool resumedState);
    void textReceived(quint64 id, const QString& text);
    // Every generated token's figures, batched per stream: the first token at once, then at most
    // every kMetricsBatchMs and at the end of the reply. `backend` names who measured.
    void tokenMetrics(quint64 id, const QString& backend, const QVector<TokenSample>& samples);
    void deviceMemory(const QString& backend, const mmfree::DeviceMemoryBudget& budget);
    void generationFinished(const GenerationOutcome& outcome);
    void generationFailed(quint64 id, const QString& message);
    void activeStreamsChanged(int streams);
    // A folder model loaded from its original files is packed once, in the background, right
    // after it is running (ModelPack): later loads take the pack.
    void packingStarted(const QString& folder);
    void packingFinished(const QString& folder, qint64 bytes, const QString& error);

private:
    struct Stream;
    void finishStream(quint64 id);

    std::shared_ptr<ServiceGuard> guard_;
    std::shared_ptr<mmfree::Scheduler> scheduler_;
    ModelState state_ = ModelState::None;
    ModelInfo info_;
    QString requestedPath_;
    QString error_;
    mmfree::ErrorCode errorCode_ = mmfree::ErrorCode::Internal;
    quint64 loadTicket_ = 0;          // only the latest load may install its model
    QList<QThread*> loaders_;
    int slotCount_ = kDefaultSlots;
    std::shared_ptr<std::atomic<int>> pacingMs_ = std::make_shared<std::atomic<int>>(0);
    QHash<quint64, std::shared_ptr<Stream>> streams_;   // by GenerationRequest::id, UI thread only
};
