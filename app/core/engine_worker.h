// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QByteArray>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QVector>
#include <atomic>
#include <chrono>
#include <memory>

#include "core/chat_settings.h"
#include "mmfree/metrics.h"

namespace mmfree {
class Session;
class Tokenizer;
}

struct ModelInfo {
    QString path;
    QString name;            // folder name
    QString key;             // the weights' fingerprint: identifies what a saved state belongs to
    QString backend;         // "cpu", "vulkan", …
    QString device;
    QString fallbackNote;    // why a requested GPU backend was replaced by the CPU
    qint64 parameters = 0;
    int vocabSize = 0;
    int layers = 0;
    int hidden = 0;
};

struct GenerationRequest {
    quint64 id = 0;
    qint64 conversationId = 0;
    QString transcript;          // the whole conversation as the model should see it
    ChatSettings settings;
    // A saved state and the transcript it covers: when `transcript` starts with `coveredText`,
    // the worker restores the state and feeds only the rest (no re-prefill of the history).
    QByteArray state;
    QString coveredText;
    QString stateModelKey;
};

struct GenerationOutcome {
    quint64 id = 0;
    qint64 conversationId = 0;
    QString text;                // the reply, stop string excluded
    QString stopReason;          // "eos", "stop", "length", "cancelled"
    double ttftMs = 0;
    double prefillTokS = 0;
    double decodeTokS = 0;
    int promptTokens = 0;        // tokens actually fed (only the new part when a state was resumed)
    int generatedTokens = 0;
    bool resumedState = false;
    QByteArray state;            // state after the reply, with the transcript it covers
    QString coveredText;
    QString modelKey;
};

// Nanoseconds on std::chrono::steady_clock: one clock for every thread.
inline qint64 steadyClockNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One generated token's figures, for the status line and the dashboard.
struct TokenSample {
    int index = 0;               // 0 = the first generated token
    double latencyMs = 0;
    qint64 producedNs = 0;       // steadyClockNs() when it was produced
    mmfree::StageTimes stages;   // valid when the backend timed this token's forward pass
};

Q_DECLARE_METATYPE(ModelInfo)
Q_DECLARE_METATYPE(GenerationRequest)
Q_DECLARE_METATYPE(GenerationOutcome)
Q_DECLARE_METATYPE(mmfree::StageTimes)
Q_DECLARE_METATYPE(QVector<TokenSample>)
Q_DECLARE_METATYPE(mmfree::DeviceMemoryBudget)

// Runs the engine. Lives on its own QThread (see ChatController): its slots are invoked through
// queued connections and may block for as long as a model load or a reply takes; the UI thread
// only ever talks to it through signals. cancel() is the one call safe from any thread.
class EngineWorker : public QObject {
    Q_OBJECT
public:
    explicit EngineWorker(QObject* parent = nullptr);
    ~EngineWorker() override;
    static constexpr int kMetricsBatchMs = 50;

    // Thread-safe. Stops the running generation and any queued one with an id ≤ upToId:
    // a request id, not a flag, so a stop pressed before the worker picked the request up
    // is not lost when the next generation resets its state.
    void cancel(quint64 upToId);
    // Thread-safe. Sleeps this long after every token: tests and demos use it to watch a reply
    // stream from a tiny, very fast model.
    void setPacingMs(int ms) { pacingMs_.store(ms); }
    bool hasModel() const { return ready_.load(); }

    static void registerMetaTypes();

    // Where `transcript` continues past `covered` (the text a saved state has consumed), or -1.
    // Whitespace is not compared (a run matches any run, or none): the chat stores replies without
    // the leading space or newline the model wrote, and that must not cost a re-prefill.
    static qsizetype resumePoint(const QString& transcript, const QString& covered);

public slots:
    void loadModel(const QString& path, const QString& backend);
    void unloadModel();
    void generate(const GenerationRequest& request);

signals:
    void modelLoading(const QString& path);
    void modelLoaded(const ModelInfo& info);
    void modelLoadFailed(const QString& path, const QString& message);
    void generationStarted(quint64 id, bool resumedState);
    void textReceived(quint64 id, const QString& text);
    // Every generated token's figures, batched: the first token at once, then at most every
    // kMetricsBatchMs and at the end of the reply. A signal per token woke the UI thread
    // thousands of times a second, which cost a CPU backend (it uses every core) up to 19 % of
    // its speed. `backend` names who measured, for a listener that missed modelLoaded.
    void tokenMetrics(quint64 id, const QString& backend, const QVector<TokenSample>& samples);
    // After a load and after every generation; `available` false when the backend cannot tell.
    void deviceMemory(const QString& backend, const mmfree::DeviceMemoryBudget& budget);
    void generationFinished(const GenerationOutcome& outcome);
    void generationFailed(quint64 id, const QString& message);

private:
    std::unique_ptr<mmfree::Session> session_;
    std::unique_ptr<mmfree::Tokenizer> tokenizer_;
    ModelInfo info_;
    std::atomic<quint64> cancelledUpTo_{0};
    std::atomic<int> pacingMs_{0};
    std::atomic<bool> ready_{false};
};
