// SPDX-License-Identifier: Apache-2.0
#include "mmfree/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <utility>

#include "cpu/thread_pool.h"
#include "mmfree/error.h"
#include "runtime/stop_strings.h"
#include "serve/prefix_cache.h"

namespace mmfree {
namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

constexpr int kMaxTopLogprobs = 20;

void validate(const Request& r, int vocab, bool has_tokenizer) {
    auto bad = [](const std::string& what) { throw Error(ErrorCode::InvalidArgument, what); };
    if (r.prompt.empty()) bad("the prompt is empty: give at least one token");
    for (size_t i = 0; i < r.prompt.size(); ++i)
        if (r.prompt[i] < 0 || r.prompt[i] >= vocab)
            bad("prompt token " + std::to_string(r.prompt[i]) + " at position " + std::to_string(i) + " is outside the vocabulary (0.." +
                std::to_string(vocab - 1) + ")");
    const auto& o = r.options;
    if (o.max_tokens < 0) bad("max_tokens must not be negative");
    const auto& p = o.sampling;
    if (!(p.temperature >= 0) || !(p.top_p > 0 && p.top_p <= 1) || !(p.min_p >= 0 && p.min_p <= 1) || !(p.repetition_penalty > 0) ||
        p.top_k < 0 || !std::isfinite(p.frequency_penalty) || !std::isfinite(p.presence_penalty))
        bad("sampling parameters out of range: temperature ≥ 0, 0 < top_p ≤ 1, 0 ≤ min_p ≤ 1, repetition_penalty > 0, top_k ≥ 0, finite penalties");
    if (r.top_logprobs < 0 || r.top_logprobs > kMaxTopLogprobs) bad("top_logprobs must be between 0 and " + std::to_string(kMaxTopLogprobs));
    if (!has_tokenizer)
        for (const auto& s : o.stop_strings)
            if (!s.empty()) bad("stop strings need the model's tokenizer, and this scheduler has none");
}

} // namespace

struct Scheduler::Impl {
    // One request from submit() to on_finish.
    struct Job {
        Job(Request r, const Tokenizer* tokenizer)
            : req(std::move(r)), history(req.prompt), prompt_size(req.prompt.size()), sampler(req.options.sampling),
              stops(req.options.stop_strings) {
            if (tokenizer) decoder.emplace(*tokenizer);
        }
        // Until then, prompt chunks are fed by prefill; the prompt's last token goes through decode
        // with the running streams, which gives its logits.
        bool prefilling() const { return fed + 1 < prompt_size; }
        // Log-probabilities and penalties are computed on the host, from the whole row of logits.
        bool needs_host_logits() const { return req.logprobs || req.top_logprobs > 0 || sampler.has_penalties(); }

        RequestId id = 0;
        Request req;
        Clock::time_point submitted = Clock::now(), first_token{};
        int slot = -1;
        std::vector<int32_t> history;   // the prompt, then every generated token
        size_t prompt_size;
        size_t fed = 0;                 // tokens of history the slot's state covers
        bool cancelled = false;
        int32_t sampled = 0;            // this step's token, drawn in the parallel phase
        TokenEvent event;               // this step's log-probabilities (when asked for)
        Sampler sampler;
        std::optional<StreamingDecoder> decoder;
        StopStringFilter stops;
        FinishEvent fin;
        // Set while a step's tokens are delivered in parallel; the job ends after, on the engine
        // thread, once the executor is free (not while a step runs on the device).
        std::optional<std::pair<StopReason, std::string>> ending;
        // Device steps overlap delivery: the token its last step drew that is not delivered yet
        // (the input of the step that follows).
        std::optional<int32_t> drawn;
    };

    Impl(std::unique_ptr<Executor> e, std::shared_ptr<const Tokenizer> t, SchedulerOptions o)
        : exec(std::move(e)), tokenizer(std::move(t)), opt(o), vocab(exec->model().config.vocab_size), cache(o.prefix_cache_bytes) {
        if (opt.prefill_chunk < 1) throw Error(ErrorCode::InvalidArgument, "prefill_chunk must be at least 1");
        if (opt.max_queue < 0) throw Error(ErrorCode::InvalidArgument, "max_queue must not be negative");
        slot_jobs.resize(size_t(exec->slot_count()));
        const int threads = opt.sampling_threads > 0 ? opt.sampling_threads : int(std::thread::hardware_concurrency());
        // Its loops come a decode step apart: workers sleep in between, not spin, so the HTTP
        // threads that stream the tokens out get the cores.
        sampling_pool = std::make_unique<cpu::ThreadPool>(std::clamp(std::min(threads, exec->slot_count()), 1, 64), false);
        stats.slot_count = exec->slot_count();
    }

    void run();
    void start(std::unique_ptr<Job> job);
    void prefill_joining();
    void decode_running();
    // The device step begun by the last decode_running, if any: waits for it and keeps its tokens.
    void complete_step();
    // Hands every drawn token to its request (in parallel); returns the seconds it took.
    double deliver_drawn();
    // Finishes the jobs that ended; while a device step runs, they wait for complete_step.
    void finish_ended();
    void draw(Job& job, const float* logits);
    // Hands a token to its request (callbacks, stop rules) and says whether it ends; touches only
    // the job, so a step's rows are delivered in parallel.
    void deliver(Job& job, int32_t token);
    void finish(std::unique_ptr<Job> job, StopReason reason, const std::string& error = {});
    void finish_slot(int slot, StopReason reason, const std::string& error = {}) { finish(std::move(slot_jobs[size_t(slot)]), reason, error); }
    // Delivering a row costs a few µs: 16 rows or more per part, so that small steps stay on this thread.
    int delivery_parts(size_t rows) const { return std::clamp(int(rows / 16), 1, sampling_pool->size()); }
    int running_count() const {
        return int(std::count_if(slot_jobs.begin(), slot_jobs.end(), [](const auto& j) { return j != nullptr; }));
    }
    void publish_counts() {   // under mu
        stats.queued = int(queue.size());
        stats.running = running_count() + admitting;
        stats.prefix_cache_bytes = cache.bytes();
        stats.prefix_cache_entries = cache.entries();
    }

    std::unique_ptr<Executor> exec;
    std::shared_ptr<const Tokenizer> tokenizer;
    SchedulerOptions opt;
    int vocab;

    // Shared with the callers' threads, under mu.
    mutable std::mutex mu;
    std::condition_variable wake;
    std::deque<std::unique_ptr<Job>> queue;
    std::unordered_set<RequestId> cancel_requests;
    std::vector<std::pair<std::vector<int32_t>, std::vector<float>>> remembered;   // for the cache, from remember_prefix
    bool stopping = false;
    int admitting = 0;   // taken from the queue, not yet in a slot
    RequestId next_id = 1;
    SchedulerStats stats;

    // The engine thread's own.
    std::vector<std::unique_ptr<Job>> slot_jobs;   // by slot; null = free
    PrefixCache cache;
    std::vector<int32_t> step_slots, step_tokens, step_argmax;
    std::vector<sampling::Draw> step_draws;
    bool stepping = false;                 // a device step is begun and not yet completed
    std::vector<int32_t> flight_slots, flight_tokens;   // the running step's rows, and its tokens
    StageTimes step_stages;   // of the last decode step, for its tokens' events
    std::unique_ptr<cpu::ThreadPool> sampling_pool;   // rows of a step sample in parallel
    std::thread thread;
};

void Scheduler::Impl::run() {
    for (;;) {
        std::vector<std::unique_ptr<Job>> dropped, admitted;
        std::vector<std::pair<std::vector<int32_t>, std::vector<float>>> prefixes;
        {
            std::unique_lock lock(mu);
            wake.wait(lock, [&] {
                const bool free_slot = running_count() < int(slot_jobs.size());
                return stopping || !cancel_requests.empty() || !remembered.empty() || running_count() > 0 || (free_slot && !queue.empty());
            });
            if (stopping) break;
            prefixes.swap(remembered);
            for (RequestId id : cancel_requests) {
                auto q = std::find_if(queue.begin(), queue.end(), [&](const auto& j) { return j->id == id; });
                if (q != queue.end()) {
                    dropped.push_back(std::move(*q));
                    queue.erase(q);
                }
                for (auto& j : slot_jobs)
                    if (j && j->id == id) j->cancelled = true;
            }
            cancel_requests.clear();
            for (int free = int(slot_jobs.size()) - running_count(); free > 0 && !queue.empty(); --free) {
                admitted.push_back(std::move(queue.front()));
                queue.pop_front();
            }
            // The queue shrinks and the running count grows in one step, so submit() sees a
            // consistent number of waiting requests.
            admitting = int(admitted.size());
            publish_counts();
        }
        complete_step();   // before anything else uses the executor
        for (auto& j : dropped) finish(std::move(j), StopReason::Cancelled);
        for (auto& [tokens, state] : prefixes) cache.insert(std::move(tokens), std::move(state));   // before the requests after them
        for (auto& j : admitted) {
            start(std::move(j));
            std::lock_guard lock(mu);
            --admitting;
        }
        for (size_t s = 0; s < slot_jobs.size(); ++s)
            if (slot_jobs[s] && slot_jobs[s]->cancelled) finish_slot(int(s), StopReason::Cancelled);
        prefill_joining();
        decode_running();
        std::lock_guard lock(mu);
        publish_counts();
    }
    // Shutting down: everything still waiting or running ends as cancelled.
    complete_step();
    std::deque<std::unique_ptr<Job>> waiting;
    {
        std::lock_guard lock(mu);
        waiting.swap(queue);
    }
    for (size_t s = 0; s < slot_jobs.size(); ++s)
        if (slot_jobs[s]) finish_slot(int(s), StopReason::Cancelled);
    for (auto& j : waiting) finish(std::move(j), StopReason::Cancelled);
}

void Scheduler::Impl::start(std::unique_ptr<Job> job) {
    int slot = 0;
    while (slot_jobs[size_t(slot)]) ++slot;
    job->slot = slot;
    job->fin.prompt_tokens = int(job->prompt_size);
    try {
        const PrefixCache::Hit hit = opt.prefix_cache_bytes ? cache.longest_proper_prefix(job->history) : PrefixCache::Hit{};
        if (hit.length) exec->load_slot(slot, *hit.state);
        else exec->reset_slot(slot);
        job->fed = hit.length;
        job->fin.cached_tokens = int(hit.length);
        std::lock_guard lock(mu);
        if (opt.prefix_cache_bytes) {
            ++(hit.length ? stats.prefix_cache_hits : stats.prefix_cache_misses);
            stats.prefix_cache_tokens_saved += hit.length;
        }
    } catch (const std::exception& e) {
        finish(std::move(job), StopReason::Cancelled, e.what());
        return;
    }
    if (job->req.options.max_tokens == 0) {
        finish(std::move(job), StopReason::MaxTokens);
        return;
    }
    slot_jobs[size_t(slot)] = std::move(job);
}

// Prompt chunks of joining requests, earliest first, up to prefill_chunk tokens per step, in one
// pass: many short prompts join in one step and share each read of the weights (time to first
// token under a burst), while a long one still delays the running streams by at most one chunk.
void Scheduler::Impl::prefill_joining() {
    std::vector<Job*> joining;
    for (auto& j : slot_jobs)
        if (j && j->prefilling()) joining.push_back(j.get());
    if (joining.empty()) return;
    std::sort(joining.begin(), joining.end(), [](const Job* a, const Job* b) { return a->id < b->id; });
    std::vector<PromptPiece> pieces;
    std::vector<Job*> fed;
    for (size_t budget = size_t(opt.prefill_chunk); Job* j : joining) {
        if (budget == 0) break;
        const size_t n = std::min(budget, j->prompt_size - 1 - j->fed);
        pieces.push_back({j->slot, &j->history[j->fed], n});
        fed.push_back(j);
        budget -= n;
    }
    const auto t0 = Clock::now();
    try {
        exec->prefill_many(pieces);
    } catch (const std::exception& e) {
        const std::string why = e.what();
        for (Job* j : fed) finish_slot(j->slot, StopReason::Cancelled, why);
        std::lock_guard lock(mu);
        stats.prefill_seconds += seconds_since(t0);
        return;
    }
    for (size_t i = 0; i < fed.size(); ++i) {
        Job& j = *fed[i];
        j.fed += pieces[i].count;
        // The cache keeps the state after all but the prompt's last token, keyed by those tokens: a
        // resume re-feeds at least one token, which gives the logits the first sample needs. That
        // costs one token of work per hit and stores L×D floats per entry, where keeping the logits
        // row as well would add V floats (more than the state itself for the released models).
        if (j.prefilling() || j.fed <= size_t(j.fin.cached_tokens) || !(opt.prefix_cache_bytes || j.req.return_prompt_state)) continue;
        try {
            std::vector<int32_t> covered(j.history.begin(), j.history.begin() + std::ptrdiff_t(j.fed));
            std::vector<float> state = exec->save_slot(j.slot);
            if (j.req.return_prompt_state) {
                j.fin.prompt_state_tokens = covered;
                j.fin.prompt_state = state;
            }
            if (opt.prefix_cache_bytes) cache.insert(std::move(covered), std::move(state));
        } catch (const std::exception& e) {
            finish_slot(j.slot, StopReason::Cancelled, e.what());
        }
    }
    std::lock_guard lock(mu);
    stats.prefill_seconds += seconds_since(t0);
}

// One decode over every sequence past its prompt chunks, then one sample each. Where the device
// draws the tokens, the step is begun and left running while the previous step's tokens are
// delivered (complete_step collects it at the top of the next round); otherwise it runs here.
void Scheduler::Impl::decode_running() {
    bool host = false, sampled = false;
    for (auto& j : slot_jobs)
        if (j && !j->prefilling() && !j->ending) {
            host = host || j->needs_host_logits();
            sampled = sampled || !j->sampler.is_plain_argmax();
        }
    // Three ways to a step's tokens: the backend's argmax when every row is greedy (a GPU reads
    // back n ids); its own sampler when it has one and no row needs the logits on the host (n ids
    // again); else the logits, and every row (greedy ones too) drawn by its sampler on the host.
    host = host || (sampled && !exec->samples_on_device());
    if (!host && exec->samples_on_device()) {
        // A row per job past its prompt, fed the token its last step drew (or the prompt's last),
        // unless that token ends it (EOS, or its last token): delivering it will tell.
        step_slots.clear();
        step_tokens.clear();
        step_draws.clear();
        for (auto& j : slot_jobs) {
            if (!j || j->prefilling() || j->ending) continue;
            if (j->drawn && ((j->req.options.stop_at_eos && *j->drawn == exec->model().config.eos_token_id) ||
                             int(j->fin.tokens.size()) + 1 >= j->req.options.max_tokens))
                continue;
            step_slots.push_back(j->slot);
            step_tokens.push_back(j->drawn ? *j->drawn : j->history[j->fed]);
            step_draws.push_back(j->sampler.next_draw());
        }
        if (!step_slots.empty()) {
            const auto begun = Clock::now();
            try {
                exec->begin_decode_sample(step_slots.data(), step_tokens.data(), step_slots.size(), step_draws.data());
                stepping = true;
                flight_slots = step_slots;
            } catch (const std::exception& e) {
                const std::string why = e.what();
                for (int32_t s : step_slots) finish_slot(s, StopReason::Cancelled, why);
            }
            std::lock_guard lock(mu);
            stats.decode_seconds += seconds_since(begun);
        }
        const double emit_s = deliver_drawn();
        const auto finishing = Clock::now();
        finish_ended();
        std::lock_guard lock(mu);
        stats.emit_seconds += emit_s + seconds_since(finishing);
        return;
    }

    // Tokens a device step drew before are delivered first: their jobs' histories feed this step.
    double emit_s = deliver_drawn();
    finish_ended();
    step_slots.clear();
    step_tokens.clear();
    for (auto& j : slot_jobs)
        if (j && !j->prefilling()) {
            step_slots.push_back(j->slot);
            step_tokens.push_back(j->history[j->fed]);
        }
    const size_t n = step_slots.size();
    if (n == 0) {
        std::lock_guard lock(mu);
        stats.emit_seconds += emit_s;
        return;
    }
    step_argmax.resize(n);
    const float* logits = nullptr;   // the executor's, until its next call
    const auto decoding = Clock::now();
    try {
        if (host) logits = exec->decode_logits(step_slots.data(), step_tokens.data(), n);
        else exec->decode(step_slots.data(), step_tokens.data(), n, nullptr, step_argmax.data());
    } catch (const std::exception& e) {
        const std::string why = e.what();
        for (int32_t s : step_slots) finish_slot(s, StopReason::Cancelled, why);
        return;
    }
    const double decode_s = seconds_since(decoding);
    step_stages = exec->last_stage_times();
    // Each row is drawn on the host when it has to be (a pass over the vocabulary: ~0.1 ms) and
    // delivered to its request. Both spread over the pool in one loop: a part per core when
    // drawing, 16 rows or more per part otherwise, so that small steps stay on this thread.
    const auto rows_done = Clock::now();
    const int parts = host ? int(std::min<size_t>(n, size_t(sampling_pool->size()))) : delivery_parts(n);
    std::vector<double> part_sampling(size_t(parts), 0.0), part_delivery(size_t(parts), 0.0);
    sampling_pool->run([&](int part, int parts_run) {
        const auto [begin, end] = cpu::split_range(int(n), part, parts_run);
        auto t = Clock::now();
        for (int b = begin; b < end; ++b) {
            Job& j = *slot_jobs[size_t(step_slots[size_t(b)])];
            if (host) {
                draw(j, logits + size_t(b) * size_t(vocab));
                const auto drawn = Clock::now();
                part_sampling[size_t(part)] += std::chrono::duration<double>(drawn - t).count();
                t = drawn;
            }
            ++j.fed;
            deliver(j, host ? j.sampled : step_argmax[size_t(b)]);
            const auto delivered = Clock::now();
            part_delivery[size_t(part)] += std::chrono::duration<double>(delivered - t).count();
            t = delivered;
        }
    }, parts);
    // The loop's wall time, split between drawing and delivering as the threads' time was.
    const double loop_s = seconds_since(rows_done);
    double drawing = 0, delivering = 0;
    for (int p = 0; p < parts; ++p) drawing += part_sampling[size_t(p)], delivering += part_delivery[size_t(p)];
    const double sampling_s = drawing + delivering > 0 ? loop_s * drawing / (drawing + delivering) : 0.0;
    const auto finishing = Clock::now();
    finish_ended();
    std::lock_guard lock(mu);
    stats.decode_steps += 1;
    stats.decode_seconds += decode_s;
    stats.sampling_seconds += sampling_s;
    stats.emit_seconds += emit_s + loop_s - sampling_s + seconds_since(finishing);
}

void Scheduler::Impl::complete_step() {
    if (!stepping) return;
    stepping = false;
    const auto waiting = Clock::now();
    flight_tokens.resize(flight_slots.size());
    std::string failure;
    try {
        exec->end_decode_sample(flight_tokens.data());
    } catch (const std::exception& e) {
        failure = e.what();
    }
    step_stages = exec->last_stage_times();
    for (size_t b = 0; b < flight_slots.size(); ++b) {
        Job& j = *slot_jobs[size_t(flight_slots[b])];   // a row's job is not finished while its step runs
        if (!failure.empty()) {
            j.ending.emplace(StopReason::Cancelled, failure);
            continue;
        }
        ++j.fed;   // the step fed it one token: the drawn one, delivered meanwhile, or the prompt's last
        if (!j.ending) j.drawn = flight_tokens[b];
    }
    finish_ended();
    std::lock_guard lock(mu);
    stats.decode_steps += 1;
    stats.decode_seconds += seconds_since(waiting);
}

double Scheduler::Impl::deliver_drawn() {
    std::vector<Job*> rows;
    for (auto& j : slot_jobs)
        if (j && j->drawn) rows.push_back(j.get());
    if (rows.empty()) return 0.0;
    const auto t0 = Clock::now();
    // Delivering a token (its text, the stop strings, the client's callback and wake-up) costs a
    // few µs: 256 rows of it on one thread were a quarter of a served step on the H100.
    sampling_pool->run([&](int part, int parts) {
        const auto [begin, end] = cpu::split_range(int(rows.size()), part, parts);
        for (int b = begin; b < end; ++b) {
            Job& j = *rows[size_t(b)];
            deliver(j, *std::exchange(j.drawn, std::nullopt));
        }
    }, delivery_parts(rows.size()));
    return seconds_since(t0);
}

void Scheduler::Impl::finish_ended() {
    if (stepping) return;   // complete_step calls again: finishing reads the slot's state back
    for (size_t s = 0; s < slot_jobs.size(); ++s)
        if (auto& j = slot_jobs[s]; j && j->ending) {
            auto [reason, error] = std::move(*j->ending);
            finish_slot(int(s), reason, error);
        }
}

// The token, and its log-probabilities when asked for: log-softmax of what the sampler drew from
// (temperature 0 counts as 1). Runs on a sampling thread; touches only the job.
void Scheduler::Impl::draw(Job& job, const float* logits) {
    job.sampled = job.sampler.sample(logits, size_t(vocab), job.history);
    job.event = {};
    if (!job.req.logprobs && job.req.top_logprobs == 0) return;
    const std::vector<float>& l = job.sampler.adjusted_logits();
    const float t = job.req.options.sampling.temperature > 0 ? job.req.options.sampling.temperature : 1.0f;
    float mx = l[0] / t;
    for (float x : l) mx = std::max(mx, x / t);
    double sum = 0;
    for (float x : l) sum += std::exp(double(x / t - mx));
    const double log_z = double(mx) + std::log(sum);
    job.event.logprob = float(double(l[size_t(job.sampled)] / t) - log_z);
    if (job.req.top_logprobs > 0) {
        std::vector<int32_t> ids(l.size());
        for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(i);
        const size_t k = std::min(ids.size(), size_t(job.req.top_logprobs));
        auto higher = [&](int32_t a, int32_t b) { return l[size_t(a)] > l[size_t(b)] || (l[size_t(a)] == l[size_t(b)] && a < b); };
        std::partial_sort(ids.begin(), ids.begin() + std::ptrdiff_t(k), ids.end(), higher);
        for (size_t i = 0; i < k; ++i) job.event.top_logprobs.push_back({ids[i], float(double(l[size_t(ids[i])] / t) - log_z)});
    }
}

void Scheduler::Impl::deliver(Job& job, int32_t token) {
    const auto now = Clock::now();
    if (job.fin.tokens.empty()) {
        job.first_token = now;
        job.fin.ttft_ms = ms_between(job.submitted, now);
    }
    if (job.req.options.stop_at_eos && token == exec->model().config.eos_token_id) {
        job.ending.emplace(StopReason::Eos, std::string());
        return;
    }
    job.history.push_back(token);
    job.fin.tokens.push_back(token);
    TokenEvent ev = std::exchange(job.event, {});   // the log-probabilities, when asked for
    ev.id = token;
    ev.stages = job.fin.tokens.size() > 1 ? step_stages : StageTimes{};   // the first token's pass was the prefill's
    if (job.decoder) {
        ev.text = job.stops.push(job.decoder->push(token));
        job.fin.text += ev.text;
    }
    if (job.req.on_token) {
        try {
            job.req.on_token(ev);
        } catch (const std::exception& e) {
            job.ending.emplace(StopReason::Cancelled, std::string("the token callback failed: ") + e.what());
            return;
        }
    }
    if (job.stops.stopped()) job.ending.emplace(StopReason::StopString, std::string());
    else if (int(job.fin.tokens.size()) >= job.req.options.max_tokens) job.ending.emplace(StopReason::MaxTokens, std::string());
}

void Scheduler::Impl::finish(std::unique_ptr<Job> job, StopReason reason, const std::string& error) {
    FinishEvent& fin = job->fin;
    if (reason != StopReason::StopString && job->decoder) {
        fin.tail_text = job->stops.flush() + job->decoder->flush();
        fin.text += fin.tail_text;
    }
    fin.reason = reason;
    fin.error = error;
    if (fin.tokens.size() > 1)
        fin.decode_tok_s = double(fin.tokens.size() - 1) / std::max(1e-9, ms_between(job->first_token, Clock::now()) / 1000.0);
    // What the slot ended with (prompt + the generated tokens fed back) is the likeliest prefix of
    // a follow-up request: a chat resending its history plus a new message.
    if (job->slot >= 0 && error.empty() && opt.prefix_cache_bytes && job->fed >= job->prompt_size) {
        try {
            cache.insert(std::vector<int32_t>(job->history.begin(), job->history.begin() + std::ptrdiff_t(job->fed)), exec->save_slot(job->slot));
        } catch (const std::exception&) {
            // a state that cannot be read back is simply not cached
        }
    }
    {
        std::lock_guard lock(mu);
        stats.prompt_tokens_total += job->prompt_size;
        stats.generated_tokens_total += fin.tokens.size();
        publish_counts();   // before on_finish: a client that saw its request end sees it gone from the counts
    }
    if (job->req.on_finish) {
        try {
            job->req.on_finish(fin);
        } catch (const std::exception&) {
            // the client's own failure; the scheduler carries on
        }
    }
}

Scheduler::Scheduler(std::unique_ptr<Executor> executor, std::shared_ptr<const Tokenizer> tokenizer, SchedulerOptions options) {
    if (!executor) throw Error(ErrorCode::InvalidArgument, "the scheduler needs an executor");
    impl_ = std::make_shared<Impl>(std::move(executor), std::move(tokenizer), options);
    // The thread holds the state too, so it may finish after this object is gone.
    impl_->thread = std::thread([impl = impl_] { impl->run(); });
}

Scheduler::~Scheduler() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    // A callback holding the last reference (a client's request object that owns the scheduler)
    // ends it on the engine thread, which cannot join itself.
    if (std::this_thread::get_id() == impl_->thread.get_id()) impl_->thread.detach();
    else impl_->thread.join();
}

Scheduler::RequestId Scheduler::submit(Request request) {
    validate(request, impl_->vocab, impl_->tokenizer != nullptr);
    auto job = std::make_unique<Impl::Job>(std::move(request), impl_->tokenizer.get());
    RequestId id;
    {
        std::lock_guard lock(impl_->mu);
        if (impl_->stopping) throw Error(ErrorCode::Cancelled, "the scheduler is shutting down");
        // Requests about to take a free slot are not waiting.
        const int free_slots = impl_->stats.slot_count - impl_->stats.running;
        if (int(impl_->queue.size()) >= impl_->opt.max_queue + std::max(0, free_slots))
            throw Error(ErrorCode::Busy, "every queue place is taken (" + std::to_string(impl_->queue.size()) + " requests waiting): try again shortly");
        id = job->id = impl_->next_id++;
        ++impl_->stats.requests_total;
        impl_->queue.push_back(std::move(job));
        impl_->stats.queued = int(impl_->queue.size());
    }
    impl_->wake.notify_all();
    return id;
}

void Scheduler::cancel(RequestId id) {
    {
        std::lock_guard lock(impl_->mu);
        impl_->cancel_requests.insert(id);
    }
    impl_->wake.notify_all();
}

void Scheduler::remember_prefix(std::vector<int32_t> tokens, std::vector<float> state) {
    const ModelConfig& c = impl_->exec->model().config;
    const size_t want = size_t(c.num_layers) * size_t(c.state_dim());
    if (state.size() != want)
        throw Error(ErrorCode::InvalidArgument, "a saved state of " + std::to_string(state.size()) + " floats does not fit this model (" +
                                                    std::to_string(want) + "): it was made by other weights");
    for (int32_t t : tokens)
        if (t < 0 || t >= impl_->vocab) throw Error(ErrorCode::InvalidArgument, "a saved state's token " + std::to_string(t) + " is outside the vocabulary");
    if (tokens.empty() || impl_->opt.prefix_cache_bytes == 0) return;
    {
        std::lock_guard lock(impl_->mu);
        impl_->remembered.emplace_back(std::move(tokens), std::move(state));
    }
    impl_->wake.notify_all();
}

SchedulerStats Scheduler::stats() const {
    std::lock_guard lock(impl_->mu);
    return impl_->stats;
}

const Model& Scheduler::model() const { return impl_->exec->model(); }

const Tokenizer& Scheduler::tokenizer() const {
    if (!impl_->tokenizer) throw Error(ErrorCode::TokenizerMissing, "this scheduler runs without a tokenizer (token ids only)");
    return *impl_->tokenizer;
}

bool Scheduler::has_tokenizer() const { return impl_->tokenizer != nullptr; }
std::string Scheduler::backend_name() const { return impl_->exec->backend_name(); }
std::string Scheduler::device_name() const { return impl_->exec->device_name(); }

} // namespace mmfree
