// SPDX-License-Identifier: Apache-2.0
// The continuously batched scheduler: requests → the executor's slots → one decode step for every
// running sequence at a time, prompt prefill in chunks between steps, per-request sampling, and a
// prefix-state cache. One engine thread owns the executor; every client (the CLI's `batch`, the
// HTTP server, the app's chats) talks to it through this thread-safe interface. No Qt.
// Where the executor draws the tokens itself (Executor::samples_on_device), a step runs on the
// device while the engine thread hands the previous step's tokens to their requests.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mmfree/backend.h"
#include "mmfree/generate.h"
#include "mmfree/sampler.h"
#include "mmfree/tokenizer.h"

namespace mmfree {

struct SchedulerOptions {
    int max_queue = 256;                          // waiting requests beyond this: submit() throws Error(Busy)
    int prefill_chunk = 256;                      // prompt tokens fed per step (all joining requests) between decode steps
    size_t prefix_cache_bytes = size_t(256) << 20; // LRU budget of saved states (0 = no cache)
    int sampling_threads = 0;                     // threads that sample a step's rows (0 = all cores)
};

// One token as it reaches a client.
struct TokenEvent {
    int32_t id = 0;
    std::string text;             // complete UTF-8 that became visible with this token (may be empty;
                                  // text held back for a possible stop string comes later)
    float logprob = 0;            // when Request::logprobs: log-probability of the chosen token in the distribution it
                                  // was drawn from (penalties and temperature applied; temperature 0 counts as 1),
                                  // over the whole vocabulary, before top-k/top-p/min-p
    std::vector<std::pair<int32_t, float>> top_logprobs;   // when Request::top_logprobs > 0
    StageTimes stages;            // the decode step that produced this token (the whole batch), when the
                                  // backend timed it (Executor::last_stage_times); valid = false otherwise
};

struct FinishEvent {
    StopReason reason = StopReason::MaxTokens;
    std::string error;            // non-empty when the request failed (reason then Cancelled)
    std::string text;             // the whole continuation, stop string excluded
    std::string tail_text;        // the end of `text` that no TokenEvent carried (held back for a possible
                                  // stop string, or an incomplete UTF-8 tail): a stream appends it last
    std::vector<int32_t> tokens;  // generated ids (EOS excluded)
    int prompt_tokens = 0;        // the whole prompt
    int cached_tokens = 0;        // of those, resumed from the prefix cache instead of prefilled
    double ttft_ms = 0;           // submit → first token
    double decode_tok_s = 0;
    // When Request::return_prompt_state and this request computed it: the state after every
    // prompt token but the last, and those tokens. A client that keeps it (the app persists each
    // conversation's) resumes a later request from it through Scheduler::remember_prefix.
    std::vector<int32_t> prompt_state_tokens;
    std::vector<float> prompt_state;
};

struct Request {
    std::vector<int32_t> prompt;  // token ids, BOS included when the model wants it (non-empty)
    GenerateOptions options;      // sampling (seed included), max_tokens, stop strings, stop_at_eos
    bool logprobs = false;        // fill TokenEvent::logprob (the logits are then read back every step)
    int top_logprobs = 0;         // 0 = none, at most 20; implies logprobs
    bool return_prompt_state = false;   // fill FinishEvent::prompt_state
    // Called on an engine thread, a request's tokens in order and never two at once for one
    // request (different requests' callbacks may run at the same time); must not block (queue
    // the work elsewhere).
    std::function<void(const TokenEvent&)> on_token;
    std::function<void(const FinishEvent&)> on_finish;   // exactly once per accepted request
};

struct SchedulerStats {
    int queued = 0, running = 0, slot_count = 0;   // not "slots": Qt defines that as a macro
    uint64_t requests_total = 0, prompt_tokens_total = 0, generated_tokens_total = 0;
    uint64_t prefix_cache_hits = 0, prefix_cache_misses = 0, prefix_cache_tokens_saved = 0;
    size_t prefix_cache_bytes = 0, prefix_cache_entries = 0;
    double decode_steps = 0;
    // The engine thread's time by phase: prompt chunks, batched decode (the backend's call),
    // sampling the step's rows, and handing the tokens to the clients (detokenizing, stop strings,
    // callbacks). What the rest of the wall clock is: waiting for work.
    double prefill_seconds = 0, decode_seconds = 0, sampling_seconds = 0, emit_seconds = 0;
};

class Scheduler {
public:
    // tokenizer may be null for id-level work: TokenEvent/FinishEvent text stays empty and stop
    // strings are refused.
    Scheduler(std::unique_ptr<Executor> executor, std::shared_ptr<const Tokenizer> tokenizer, SchedulerOptions options = {});
    // Cancels everything (on_finish with Cancelled) and joins the engine thread. When the last
    // owner lets go inside a callback (on the engine thread itself), it cannot join: the thread
    // then winds down on its own, cancelling what remains.
    ~Scheduler();

    using RequestId = uint64_t;
    // Queues a request; throws Error(InvalidArgument) for a bad one, Error(Busy) when the queue is full.
    RequestId submit(Request request);
    // Stops a queued or running request within one step; on_finish follows with Cancelled. Unknown ids are ignored.
    void cancel(RequestId id);
    // Puts a state saved earlier (FinishEvent::prompt_state, L×D floats, from this model's weights)
    // into the prefix cache, keyed by the tokens it covers, before any request submitted after
    // this call starts. Throws Error(InvalidArgument) for a state of the wrong size or a token
    // outside the vocabulary; does nothing when the cache is off.
    void remember_prefix(std::vector<int32_t> tokens, std::vector<float> state);

    SchedulerStats stats() const;
    const Model& model() const;
    const Tokenizer& tokenizer() const;   // throws Error(TokenizerMissing) when there is none
    bool has_tokenizer() const;
    std::string backend_name() const;
    std::string device_name() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;   // shared with the engine thread, which may outlive this object (see ~Scheduler)
};

} // namespace mmfree
