// SPDX-License-Identifier: Apache-2.0
// ApiServer: cpp-httplib routes → validated scheduler requests → OpenAI JSON or SSE streams.
#include "serve/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "mmfree/error.h"
#include "mmfree/model.h"
#include "mmfree/scheduler.h"
#include "mmfree/server.h"
#include "mmfree/tokenizer.h"

namespace mmfree {

using nlohmann::json;
using serve::ApiError;
using serve::dump;
using serve::Endpoint;
using serve::GenerationPlan;

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kHeartbeat = std::chrono::seconds(2);   // an SSE comment after this much silence finds gone clients
// A stream's later tokens reach its HTTP thread in batches at most this far apart: waking that
// thread for every token cost the scheduler's thread a futex call and, on a busy machine, its
// core (15-26 % of its time at 64 streams on 2 cores). The first token and the end wake it at once.
constexpr auto kStreamFlush = std::chrono::milliseconds(5);
// A non-streaming answer not ready after kCommitAfter probes its client every kDisconnectProbe.
constexpr auto kCommitAfter = std::chrono::seconds(1);
constexpr auto kDisconnectProbe = std::chrono::milliseconds(500);

std::string random_id(const char* prefix) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* hex = "0123456789abcdef";
    std::string id = prefix;
    for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
    return id;
}

const char* finish_reason(StopReason r) { return r == StopReason::MaxTokens ? "length" : "stop"; }

// A Prometheus histogram with fixed upper bounds.
struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;   // per bucket (not cumulative); the last is +Inf
    double sum = 0;
    uint64_t total = 0;
    explicit Histogram(std::vector<double> b) : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}
    void add(double v) {
        size_t i = 0;
        while (i < bounds.size() && v > bounds[i]) ++i;
        ++counts[i];
        sum += v;
        ++total;
    }
    void write(std::ostream& out, const std::string& name, const std::string& help) const {
        out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " histogram\n";
        uint64_t cumulative = 0;
        for (size_t i = 0; i < bounds.size(); ++i) {
            cumulative += counts[i];
            out << name << "_bucket{le=\"" << bounds[i] << "\"} " << cumulative << '\n';
        }
        out << name << "_bucket{le=\"+Inf\"} " << total << '\n' << name << "_sum " << sum << '\n' << name << "_count " << total << '\n';
    }
};

// One generation request of a client: its choices as scheduler requests, and the events they
// send back (on the scheduler's thread) until the HTTP thread consumes them.
struct Job {
    struct Event {
        int choice = 0;
        bool finished = false;
        TokenEvent token;
        FinishEvent finish;
    };
    std::shared_ptr<Scheduler> scheduler;
    GenerationPlan plan;
    std::string id, model_id, fingerprint;
    std::time_t created = std::time(nullptr);

    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Event> events;
    std::vector<Scheduler::RequestId> ids;
    int unfinished = 0;
    Clock::time_point last_wake{};   // the scheduler's thread's last wake-up of the HTTP thread for a token

    void cancel_all() {
        std::vector<Scheduler::RequestId> to_cancel;
        {
            std::lock_guard lock(mutex);
            if (unfinished == 0) return;
            to_cancel = ids;
        }
        for (auto id : to_cancel) scheduler->cancel(id);
    }
};

// Per choice, what a client has been sent so far.
struct ChoiceState {
    std::string text;
    std::vector<TokenEvent> tokens;   // kept for logprobs
    FinishEvent finish;
    bool done = false;
};

// cpp-httplib listens with a backlog of 5 (compiled into Debian's library): a burst of clients
// connecting at once overflows it and some connections fail. Listening again on the bound socket
// widens the queue.
class HttpServer : public httplib::Server {
public:
    void widen_backlog(int backlog) { ::listen(svr_sock_, backlog); }
};

} // namespace

struct ApiServer::Impl {
    ServerOptions opt;
    HttpServer http;
    std::thread listener;
    std::atomic<bool> started{false}, stopping{false}, listener_done{false};
    int bound_port = 0;

    mutable std::mutex scheduler_mutex;
    std::shared_ptr<Scheduler> scheduler;

    mutable std::mutex stats_mutex;
    ServerStats counters;
    std::map<std::pair<std::string, int>, uint64_t> responses;   // (route, status) → count
    Histogram ttft{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
    Histogram tok_s{{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}};

    std::mutex jobs_mutex;
    std::unordered_map<Job*, std::weak_ptr<Job>> jobs;

    explicit Impl(ServerOptions o) : opt(std::move(o)) {}

    std::shared_ptr<Scheduler> current() const {
        std::lock_guard lock(scheduler_mutex);
        return scheduler;
    }

    std::string model_id(const Scheduler& s) const {
        if (!opt.model_id.empty()) return opt.model_id;
        const auto stem = s.model().source.stem().string();
        return stem.empty() ? "mmfree" : stem;
    }

    // ---- responses ----------------------------------------------------------------------------

    static void send_json(httplib::Response& res, int status, const json& body) {
        res.status = status;
        res.set_content(dump(body), "application/json");
    }
    static void send_error(httplib::Response& res, const ApiError& e) { send_json(res, e.status, serve::error_json(e)); }

    ApiError unavailable() const {
        return stopping ? ApiError{503, "The server is shutting down.", "server_error", "", "shutting_down"}
                        : ApiError{503, "The model is loading; try again in a moment.", "server_error", "", "model_loading"};
    }

    // The scheduler, or 503 while there is none (loading) or the server stops.
    std::shared_ptr<Scheduler> require_scheduler() const {
        auto s = current();
        if (!s || stopping) throw unavailable();
        return s;
    }

    static json parse_body(const httplib::Request& req) {
        try {
            return json::parse(req.body);
        } catch (const json::exception& e) {
            throw ApiError{400, std::string("The request body is not valid JSON: ") + e.what(), "invalid_request_error", "", "invalid_json"};
        }
    }

    // Wraps a handler: ApiError → its JSON, anything else → 500, never an escaping exception.
    template <class F>
    httplib::Server::Handler guarded(F f) {
        return [f](const httplib::Request& req, httplib::Response& res) {
            try {
                f(req, res);
            } catch (const ApiError& e) {
                send_error(res, e);
            } catch (const Error& e) {
                const bool client = e.code() == ErrorCode::InvalidArgument;
                send_error(res, ApiError{client ? 400 : 500, e.what(), client ? "invalid_request_error" : "server_error", "", ""});
            } catch (const std::exception& e) {
                send_error(res, ApiError{500, std::string("Internal error: ") + e.what(), "server_error", "", ""});
            }
        };
    }

    // ---- security: CORS and the API key ---------------------------------------------------------

    bool origin_allowed(const std::string& origin) const {
        for (const auto& o : opt.cors_origins)
            if (o == "*" || o == origin) return true;
        return false;
    }

    httplib::Server::HandlerResponse pre_route(const httplib::Request& req, httplib::Response& res) {
        const std::string origin = req.get_header_value("Origin");
        const bool cors = !origin.empty() && origin_allowed(origin);
        if (cors) {
            res.set_header("Access-Control-Allow-Origin", origin);
            res.set_header("Vary", "Origin");
        }
        if (req.method == "OPTIONS") {
            if (!cors) {
                send_error(res, ApiError{403, "Cross-origin requests from this origin are not allowed (mmfree serve --cors-origin).",
                                         "invalid_request_error", "", "cors_not_allowed"});
                return httplib::Server::HandlerResponse::Handled;
            }
            res.status = 204;
            res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            const std::string asked = req.get_header_value("Access-Control-Request-Headers");
            res.set_header("Access-Control-Allow-Headers", asked.empty() ? "Authorization, Content-Type" : asked);
            res.set_header("Access-Control-Max-Age", "600");
            return httplib::Server::HandlerResponse::Handled;
        }
        if (!opt.api_key.empty() && req.path != "/health") {
            const std::string auth = req.get_header_value("Authorization");
            const std::string prefix = "Bearer ";
            const bool ok = auth.rfind(prefix, 0) == 0 && serve::constant_time_equal(opt.api_key, std::string_view(auth).substr(prefix.size()));
            if (!ok) {
                res.set_header("WWW-Authenticate", "Bearer");
                send_error(res, ApiError{401,
                                         auth.empty() ? "Missing API key: send it as 'Authorization: Bearer KEY'."
                                                      : "Incorrect API key provided.",
                                         "invalid_request_error", "", "invalid_api_key"});
                return httplib::Server::HandlerResponse::Handled;
            }
        }
        return httplib::Server::HandlerResponse::Unhandled;
    }

    // ---- generation -----------------------------------------------------------------------------

    std::shared_ptr<Job> submit(std::shared_ptr<Scheduler> sched, GenerationPlan plan) {
        auto job = std::make_shared<Job>();
        job->scheduler = sched;
        job->model_id = model_id(*sched);
        job->fingerprint = "mmfree-" + std::string(MMFREE_VERSION) + "-" + sched->backend_name();
        job->id = random_id(plan.endpoint == Endpoint::ChatCompletions ? "chatcmpl-" : "cmpl-");
        job->plan = std::move(plan);
        const auto& p = job->plan;
        const uint64_t base_seed = p.seeded ? p.options.sampling.seed : std::random_device{}() * 0x9E3779B97F4A7C15ull + std::random_device{}();
        job->unfinished = int(p.prompts.size()) * p.n;
        int choice = 0;
        try {
            for (const auto& prompt : p.prompts) {
                for (int j = 0; j < p.n; ++j, ++choice) {
                    Request r;
                    r.prompt = prompt;
                    r.options = p.options;
                    r.options.sampling.seed = base_seed + uint64_t(j);
                    apply_penalties(r, p);
                    r.logprobs = p.logprobs >= 0;
                    r.top_logprobs = std::max(0, p.logprobs);
                    // The callbacks hold the job: it lives until the last choice has finished.
                    r.on_token = [job, choice](const TokenEvent& t) {
                        std::lock_guard lock(job->mutex);
                        job->events.push_back({choice, false, t, {}});
                        if (const auto now = Clock::now(); now - job->last_wake >= kStreamFlush) {
                            job->last_wake = now;
                            job->changed.notify_all();
                        }
                    };
                    r.on_finish = [job, choice](const FinishEvent& f) {
                        std::lock_guard lock(job->mutex);
                        job->events.push_back({choice, true, {}, f});
                        --job->unfinished;
                        job->changed.notify_all();
                    };
                    const auto id = sched->submit(std::move(r));
                    std::lock_guard lock(job->mutex);
                    job->ids.push_back(id);
                }
            }
        } catch (...) {
            // The choices that were accepted stop; the ones never accepted will not finish.
            {
                std::lock_guard lock(job->mutex);
                job->unfinished -= int(p.prompts.size()) * p.n - choice;
            }
            job->cancel_all();
            throw;
        }
        {
            std::lock_guard lock(jobs_mutex);
            jobs[job.get()] = job;
        }
        std::lock_guard lock(stats_mutex);
        ++counters.completions;
        ++counters.active_requests;
        return job;
    }

    static void apply_penalties(Request& r, const GenerationPlan& p) {
        r.options.sampling.frequency_penalty = p.frequency_penalty;
        r.options.sampling.presence_penalty = p.presence_penalty;
    }

    void retire(Job* job) {
        {
            std::lock_guard lock(jobs_mutex);
            jobs.erase(job);
        }
        std::lock_guard lock(stats_mutex);
        --counters.active_requests;
    }

    void record_finish(const FinishEvent& f) {
        if (!f.error.empty() || f.reason == StopReason::Cancelled || f.tokens.empty()) return;
        std::lock_guard lock(stats_mutex);
        ttft.add(f.ttft_ms / 1000.0);
        if (f.decode_tok_s > 0) tok_s.add(f.decode_tok_s);
    }

    json token_logprobs_chat(const Tokenizer& tok, const TokenEvent& t) const {
        auto entry = [&](int32_t id, float lp) {
            const std::string bytes = tok.token_bytes(id);
            json b = json::array();
            for (unsigned char c : bytes) b.push_back(int(c));
            return json{{"token", bytes}, {"logprob", lp}, {"bytes", b}};
        };
        json e = entry(t.id, t.logprob);
        json top = json::array();
        for (const auto& [id, lp] : t.top_logprobs) top.push_back(entry(id, lp));
        e["top_logprobs"] = top;
        return e;
    }

    // The completions API's logprobs object for `tokens`, text offsets counted from `offset`.
    json token_logprobs_completion(const Tokenizer& tok, const std::vector<TokenEvent>& tokens, size_t offset) const {
        json l = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()}, {"text_offset", json::array()}};
        for (const auto& t : tokens) {
            const std::string bytes = tok.token_bytes(t.id);
            l["tokens"].push_back(bytes);
            l["token_logprobs"].push_back(t.logprob);
            json top = json::object();
            for (const auto& [id, lp] : t.top_logprobs) top[tok.token_bytes(id)] = lp;
            l["top_logprobs"].push_back(top);
            l["text_offset"].push_back(offset);
            offset += t.text.size();
        }
        return l;
    }

    json usage(const Job& job, const std::vector<ChoiceState>& choices) const {
        int prompt = 0, completion = 0, cached = 0;
        for (size_t i = 0; i < choices.size(); ++i) {
            completion += int(choices[i].finish.tokens.size());
            if (i % size_t(job.plan.n) == 0) {   // a prompt counts once, whatever its n
                prompt += choices[i].finish.prompt_tokens;
                cached += choices[i].finish.cached_tokens;
            }
        }
        return {{"prompt_tokens", prompt},
                {"completion_tokens", completion},
                {"total_tokens", prompt + completion},
                {"prompt_tokens_details", {{"cached_tokens", cached}}}};
    }

    // The first error among finished choices, as the API reports it.
    std::optional<ApiError> failure(const std::vector<ChoiceState>& choices) const {
        for (const auto& c : choices) {
            if (!c.finish.error.empty()) return ApiError{500, "Generation failed: " + c.finish.error, "server_error", "", ""};
            if (c.finish.reason == StopReason::Cancelled) return unavailable();
        }
        return std::nullopt;
    }

    // The whole answer of a job whose choices have all finished: its status and JSON body.
    std::pair<int, json> whole_answer(Job& job) {
        const auto n_choices = size_t(job.plan.prompts.size()) * size_t(job.plan.n);
        std::vector<ChoiceState> choices(n_choices);
        {
            std::lock_guard lock(job.mutex);
            for (auto& e : job.events) {
                auto& c = choices[size_t(e.choice)];
                if (e.finished) { c.finish = std::move(e.finish); c.done = true; }
                else c.tokens.push_back(std::move(e.token));
            }
            job.events.clear();
        }
        for (const auto& c : choices) record_finish(c.finish);
        if (auto err = failure(choices)) return {err->status, serve::error_json(*err)};

        const Tokenizer& tok = job.scheduler->tokenizer();
        const bool chat = job.plan.endpoint == Endpoint::ChatCompletions;
        json list = json::array();
        for (size_t i = 0; i < choices.size(); ++i) {
            const auto& c = choices[i];
            json logprobs = nullptr;
            if (job.plan.logprobs >= 0) {
                if (chat) {
                    logprobs = {{"content", json::array()}};
                    for (const auto& t : c.tokens) logprobs["content"].push_back(token_logprobs_chat(tok, t));
                } else {
                    logprobs = token_logprobs_completion(tok, c.tokens, 0);
                }
            }
            json choice = {{"index", i}, {"logprobs", logprobs}, {"finish_reason", finish_reason(c.finish.reason)}};
            if (chat) choice["message"] = {{"role", "assistant"}, {"content", c.finish.text}};
            else choice["text"] = c.finish.text;
            list.push_back(choice);
        }
        return {200,
                {{"id", job.id},
                 {"object", chat ? "chat.completion" : "text_completion"},
                 {"created", job.created},
                 {"model", job.model_id},
                 {"system_fingerprint", job.fingerprint},
                 {"choices", list},
                 {"usage", usage(job, choices)}}};
    }

    // A client that went away cancels what still runs for it.
    void cancel_abandoned(Job& job) {
        {
            std::lock_guard lock(job.mutex);
            if (job.unfinished == 0) return;
        }
        job.cancel_all();
        std::lock_guard lock(stats_mutex);
        ++counters.disconnects;
    }

    // A non-streaming answer. One that is ready within kCommitAfter is a plain response (any
    // status, with Content-Length). A longer one commits to 200 and a chunked body, and while it
    // waits writes a space now and then (JSON allows whitespace before a value): a plain handler
    // has no socket to watch, and a failed write is how a gone client shows, so its request is
    // cancelled instead of running on to max_tokens.
    void answer_whole(std::shared_ptr<Job> job, httplib::Response& res) {
        bool ready;
        {
            std::unique_lock lock(job->mutex);
            ready = job->changed.wait_for(lock, kCommitAfter, [&] { return job->unfinished == 0; });
        }
        if (ready) {
            const auto [status, body] = whole_answer(*job);
            send_json(res, status, body);
            retire(job.get());
            return;
        }
        res.status = 200;
        // Not the bare "application/json": cpp-httplib would gzip that for clients that accept
        // it, and the compressor holds the probing spaces back instead of writing them.
        res.set_chunked_content_provider(
            "application/json; charset=utf-8",
            [this, job](size_t, httplib::DataSink& sink) {
                bool finished;
                {
                    std::unique_lock lock(job->mutex);
                    finished = job->changed.wait_for(lock, kDisconnectProbe, [&] { return job->unfinished == 0; });
                }
                if (!finished) return sink.write(" ", 1);
                const auto [status, body] = whole_answer(*job);
                const std::string text = dump(body);
                if (!sink.write(text.data(), text.size())) return false;
                // A failure after the 200 went out: the error object, then a broken-off body, so
                // no client takes it for a success.
                if (status != 200) return false;
                sink.done();
                return true;
            },
            [this, job](bool success) {
                if (!success) cancel_abandoned(*job);
                retire(job.get());
            });
    }

    // One SSE chunk of the stream; `choice` is the choice object or null (the usage chunk).
    static std::string sse(const Job& job, json choices, const json& usage_value) {
        const bool chat = job.plan.endpoint == Endpoint::ChatCompletions;
        json chunk = {{"id", job.id},
                      {"object", chat ? "chat.completion.chunk" : "text_completion"},
                      {"created", job.created},
                      {"model", job.model_id},
                      {"system_fingerprint", job.fingerprint},
                      {"choices", std::move(choices)}};
        if (job.plan.include_usage) chunk["usage"] = usage_value;
        return "data: " + dump(chunk) + "\n\n";
    }

    // Turns the events that arrived into SSE text; returns true once every choice has finished.
    bool render(Job& job, std::vector<ChoiceState>& choices, std::deque<Job::Event>& events, std::string& out) {
        const Tokenizer& tok = job.scheduler->tokenizer();
        const bool chat = job.plan.endpoint == Endpoint::ChatCompletions;
        auto delta_chunk = [&](int index, const std::string& text, const std::vector<TokenEvent>& tokens, const char* reason) {
            auto& c = choices[size_t(index)];
            json choice = {{"index", index}, {"finish_reason", reason ? json(reason) : json(nullptr)}, {"logprobs", nullptr}};
            if (job.plan.logprobs >= 0 && !tokens.empty()) {
                if (chat) {
                    json content = json::array();
                    for (const auto& t : tokens) content.push_back(token_logprobs_chat(tok, t));
                    choice["logprobs"] = {{"content", content}};
                } else {
                    choice["logprobs"] = token_logprobs_completion(tok, tokens, c.text.size());
                }
            }
            if (chat) choice["delta"] = reason ? json::object() : json{{"content", text}};
            else choice["text"] = text;
            c.text += text;
            out += sse(job, json::array({choice}), nullptr);
        };
        for (auto& e : events) {
            auto& c = choices[size_t(e.choice)];
            if (!e.finished) {
                if (!e.token.text.empty() || job.plan.logprobs >= 0) delta_chunk(e.choice, e.token.text, {e.token}, nullptr);
                c.tokens.push_back(std::move(e.token));
                continue;
            }
            c.finish = std::move(e.finish);
            c.done = true;
            record_finish(c.finish);
            if (!c.finish.error.empty() || c.finish.reason == StopReason::Cancelled) continue;
            // Text the scheduler held back for a possible stop string that never came.
            if (!c.finish.tail_text.empty()) delta_chunk(e.choice, c.finish.tail_text, {}, nullptr);
            delta_chunk(e.choice, "", {}, finish_reason(c.finish.reason));
        }
        events.clear();
        for (const auto& c : choices)
            if (!c.done) return false;
        if (auto err = failure(choices)) {
            out += "data: " + dump(serve::error_json(*err)) + "\n\n";
        } else if (job.plan.include_usage) {
            out += sse(job, json::array(), usage(job, choices));
        }
        out += "data: [DONE]\n\n";
        return true;
    }

    void answer_stream(std::shared_ptr<Job> job, httplib::Response& res) {
        res.status = 200;
        res.set_header("Cache-Control", "no-cache");
        res.set_header("X-Accel-Buffering", "no");   // nginx: pass every chunk on at once
        auto choices = std::make_shared<std::vector<ChoiceState>>(job->plan.prompts.size() * size_t(job->plan.n));
        auto opened = std::make_shared<bool>(false);
        auto started = std::make_shared<bool>(false);   // a token has come: look again every kStreamFlush
        auto last_write = std::make_shared<Clock::time_point>(Clock::now());
        res.set_chunked_content_provider(
            "text/event-stream",
            [this, job, choices, opened, started, last_write](size_t, httplib::DataSink& sink) {
                std::string out;
                if (!*opened && job->plan.endpoint == Endpoint::ChatCompletions) {
                    // OpenAI opens each choice with the role before any content.
                    json list = json::array();
                    for (size_t i = 0; i < choices->size(); ++i)
                        list.push_back({{"index", i}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}});
                    out += sse(*job, list, nullptr);
                }
                *opened = true;
                std::deque<Job::Event> events;
                {
                    std::unique_lock lock(job->mutex);
                    // The opening chunk leaves at once; after it, wait for the scheduler.
                    if (out.empty()) job->changed.wait_for(lock, *started ? kStreamFlush : kHeartbeat, [&] { return !job->events.empty(); });
                    events.swap(job->events);
                }
                *started = *started || !events.empty();
                const bool done = render(*job, *choices, events, out);
                if (out.empty()) {
                    if (Clock::now() - *last_write < kHeartbeat) return true;   // nothing yet: look again
                    out = ": keep-alive\n\n";   // SSE comment: clients ignore it, a gone client fails the write
                }
                *last_write = Clock::now();
                if (!sink.write(out.data(), out.size())) return false;
                if (done) sink.done();
                return true;
            },
            [this, job](bool success) {
                if (!success) cancel_abandoned(*job);
                retire(job.get());
            });
    }

    void generation(const httplib::Request& req, httplib::Response& res, Endpoint endpoint) {
        auto sched = require_scheduler();
        const json body = parse_body(req);
        GenerationPlan plan = serve::parse_generation(body, endpoint, sched->model(), sched->tokenizer(), opt, model_id(*sched));
        std::shared_ptr<Job> job;
        try {
            job = submit(sched, std::move(plan));
        } catch (const Error& e) {
            if (e.code() == ErrorCode::Busy)
                throw ApiError{429, std::string("The server is busy: ") + e.what(), "rate_limit_exceeded", "", "server_busy"};
            throw;
        }
        if (job->plan.stream) return answer_stream(job, res);
        answer_whole(job, res);
    }

    // ---- the other endpoints --------------------------------------------------------------------

    json model_object(const Scheduler& s) const {
        return {{"id", model_id(s)}, {"object", "model"}, {"created", 0}, {"owned_by", "mmfree"},
                {"meta", {{"backend", s.backend_name()}, {"device", s.device_name()}, {"vocab_size", s.model().config.vocab_size},
                          {"slots", s.stats().slot_count}}}};
    }

    std::string metrics_text() {
        std::ostringstream out;
        auto gauge = [&](const char* name, const char* type, const char* help, double v) {
            out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << v << '\n';
        };
        const auto sched = current();
        gauge("mmfree_up", "gauge", "1 when a model is loaded and requests are taken", sched && !stopping ? 1 : 0);
        if (sched) {
            const auto s = sched->stats();
            gauge("mmfree_requests_total", "counter", "Requests the scheduler accepted", double(s.requests_total));
            gauge("mmfree_prompt_tokens_total", "counter", "Prompt tokens of accepted requests", double(s.prompt_tokens_total));
            gauge("mmfree_generated_tokens_total", "counter", "Tokens generated", double(s.generated_tokens_total));
            gauge("mmfree_queue_depth", "gauge", "Requests waiting for a slot", s.queued);
            gauge("mmfree_busy_slots", "gauge", "Slots running a request", s.running);
            gauge("mmfree_slots", "gauge", "Sequence slots of the executor", s.slot_count);
            gauge("mmfree_decode_steps_total", "counter", "Batched decode steps", s.decode_steps);
            out << "# HELP mmfree_engine_seconds_total The engine thread's time by phase (the rest is waiting for work)\n"
                   "# TYPE mmfree_engine_seconds_total counter\n";
            const std::pair<const char*, double> phases[] = {
                {"prefill", s.prefill_seconds}, {"decode", s.decode_seconds}, {"sampling", s.sampling_seconds}, {"emit", s.emit_seconds}};
            for (const auto& [phase, seconds] : phases) out << "mmfree_engine_seconds_total{phase=\"" << phase << "\"} " << seconds << '\n';
            gauge("mmfree_prefix_cache_hits_total", "counter", "Requests resumed from a cached prefix state", double(s.prefix_cache_hits));
            gauge("mmfree_prefix_cache_misses_total", "counter", "Requests without a cached prefix", double(s.prefix_cache_misses));
            gauge("mmfree_prefix_cache_tokens_saved_total", "counter", "Prompt tokens not prefilled thanks to the cache", double(s.prefix_cache_tokens_saved));
            gauge("mmfree_prefix_cache_bytes", "gauge", "Memory held by cached states", double(s.prefix_cache_bytes));
            gauge("mmfree_prefix_cache_entries", "gauge", "Cached states", double(s.prefix_cache_entries));
        }
        std::lock_guard lock(stats_mutex);
        out << "# HELP mmfree_http_responses_total HTTP responses by route and status\n# TYPE mmfree_http_responses_total counter\n";
        for (const auto& [key, count] : responses)
            out << "mmfree_http_responses_total{route=\"" << key.first << "\",code=\"" << key.second << "\"} " << count << '\n';
        gauge("mmfree_http_active_requests", "gauge", "Generation requests being answered", counters.active_requests);
        gauge("mmfree_http_disconnects_total", "counter", "Requests cancelled because the client went away", double(counters.disconnects));
        ttft.write(out, "mmfree_time_to_first_token_seconds", "Submit to first generated token");
        tok_s.write(out, "mmfree_decode_tokens_per_second", "Decode speed of each finished request");
        return out.str();
    }

    void count_response(const httplib::Request& req, const httplib::Response& res) {
        static const std::set<std::string> routes = {"/v1/models", "/v1/completions", "/v1/chat/completions", "/health",
                                                     "/metrics", "/tokenize", "/detokenize"};
        std::string route = routes.count(req.path) ? req.path : req.path.rfind("/v1/models/", 0) == 0 ? "/v1/models/{id}" : "other";
        std::lock_guard lock(stats_mutex);
        ++responses[{route, res.status}];
        ++counters.http_requests;
        if (res.status >= 400) ++counters.http_errors;
    }

    void routes() {
        http.set_pre_routing_handler([this](const auto& req, auto& res) { return pre_route(req, res); });
        // Statuses cpp-httplib sets itself (404 no route, 413 body too large, 400 bad request line)
        // get an OpenAI error body too; handlers' own errors already have one.
        http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
            ApiError e{res.status, "The request was not understood (HTTP " + std::to_string(res.status) + ").", "invalid_request_error", "", ""};
            if (res.status == 404) e = {404, "Unknown endpoint.", "invalid_request_error", "", "unknown_url"};
            if (res.status == 413) e = {413, "The request body is too large.", "invalid_request_error", "", "request_too_large"};
            send_error(res, e);
            return httplib::Server::HandlerResponse::Handled;
        }));
        http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            send_error(res, ApiError{500, "Internal error.", "server_error", "", ""});
        });
        http.set_logger([this](const auto& req, const auto& res) { count_response(req, res); });

        http.Get("/health", guarded([this](const httplib::Request&, httplib::Response& res) {
            if (!current() || stopping) return send_json(res, 503, {{"status", stopping ? "shutting down" : "loading"}});
            send_json(res, 200, {{"status", "ok"}});
        }));
        http.Get("/metrics", guarded([this](const httplib::Request&, httplib::Response& res) {
            res.set_content(metrics_text(), "text/plain; version=0.0.4");
        }));
        http.Get("/v1/models", guarded([this](const httplib::Request&, httplib::Response& res) {
            auto s = require_scheduler();
            send_json(res, 200, {{"object", "list"}, {"data", json::array({model_object(*s)})}});
        }));
        http.Get(R"(/v1/models/(.+))", guarded([this](const httplib::Request& req, httplib::Response& res) {
            auto s = require_scheduler();
            if (req.matches[1] != model_id(*s))
                throw ApiError{404, "The model '" + std::string(req.matches[1]) + "' does not exist.", "invalid_request_error", "model", "model_not_found"};
            send_json(res, 200, model_object(*s));
        }));
        http.Post("/v1/completions", guarded([this](const auto& req, auto& res) { generation(req, res, Endpoint::Completions); }));
        http.Post("/v1/chat/completions", guarded([this](const auto& req, auto& res) { generation(req, res, Endpoint::ChatCompletions); }));
        http.Post("/tokenize", guarded([this](const httplib::Request& req, httplib::Response& res) {
            auto s = require_scheduler();
            const json body = parse_body(req);
            if (!body.is_object() || !body.contains("content") || !body["content"].is_string())
                throw ApiError{400, "Give the text to tokenize as {\"content\": \"...\"}.", "invalid_request_error", "content", "invalid_type"};
            const bool special = body.value("add_special", false);
            const auto ids = s->tokenizer().encode(body["content"].get<std::string>(), special && s->model().add_bos);
            if (int(ids.size()) > opt.max_prompt_tokens * 4)
                throw ApiError{400, "Too much text to tokenize at once.", "invalid_request_error", "content", "context_length_exceeded"};
            send_json(res, 200, {{"tokens", ids}});
        }));
        http.Post("/detokenize", guarded([this](const httplib::Request& req, httplib::Response& res) {
            auto s = require_scheduler();
            const json body = parse_body(req);
            if (!body.is_object() || !body.contains("tokens") || !body["tokens"].is_array())
                throw ApiError{400, "Give the token ids as {\"tokens\": [1, 2, 3]}.", "invalid_request_error", "tokens", "invalid_type"};
            std::vector<int32_t> ids;
            const int V = s->model().config.vocab_size;
            for (const auto& v : body["tokens"]) {
                if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= V)
                    throw ApiError{400, "Token ids are integers in [0, " + std::to_string(V - 1) + "].", "invalid_request_error", "tokens", "invalid_value"};
                ids.push_back(int32_t(v.get<int64_t>()));
            }
            send_json(res, 200, {{"content", s->tokenizer().decode(ids)}});
        }));
    }
};

ApiServer::ApiServer(ServerOptions options, std::shared_ptr<Scheduler> scheduler) : impl_(std::make_unique<Impl>(std::move(options))) {
    impl_->scheduler = std::move(scheduler);
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::set_scheduler(std::shared_ptr<Scheduler> scheduler) {
    std::lock_guard lock(impl_->scheduler_mutex);
    impl_->scheduler = std::move(scheduler);
}

void ApiServer::start() {
    auto& d = *impl_;
    if (d.started) return;
    const auto& o = d.opt;
    if (!is_loopback_host(o.host) && o.api_key.empty())
        throw Error(ErrorCode::InvalidArgument, "serving on " + o.host +
                                                    " lets other machines in: set an API key (--api-key KEY or MMFREE_API_KEY), or bind 127.0.0.1");
    if (o.port < 0 || o.port > 65535) throw Error(ErrorCode::InvalidArgument, "the port must be in 0..65535");
    // A client that disconnects must not kill the process with SIGPIPE (writes report the error instead).
    std::signal(SIGPIPE, SIG_IGN);
    const size_t threads = size_t(std::max(1, o.max_connections));
    d.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    d.http.set_payload_max_length(o.max_body_bytes);
    d.http.set_read_timeout(o.read_timeout_s, 0);
    d.http.set_write_timeout(o.write_timeout_s, 0);
    d.http.set_keep_alive_timeout(o.keep_alive_timeout_s);
    d.http.set_keep_alive_max_count(1000);
    d.http.set_tcp_nodelay(true);   // each SSE chunk leaves at once
    // cpp-httplib's default also sets SO_REUSEPORT, which lets a second server share a port in use
    // without an error; only SO_REUSEADDR (a restart may bind while old connections linger).
    d.http.set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    d.routes();
    const std::string host = o.host == "localhost" ? "127.0.0.1" : o.host;
    if (o.port == 0) {
        d.bound_port = d.http.bind_to_any_port(host);
        if (d.bound_port <= 0) throw Error(ErrorCode::DeviceError, "cannot listen on " + o.host + ": no free port");
    } else {
        if (!d.http.bind_to_port(host, o.port))
            throw Error(ErrorCode::DeviceError, "cannot listen on " + o.host + ":" + std::to_string(o.port) +
                                                    " (in use, or not an address of this machine): choose another --port or --host");
        d.bound_port = o.port;
    }
    d.http.widen_backlog(std::max(1024, o.max_connections));
    d.started = true;
    d.listener = std::thread([&d] {
        d.http.listen_after_bind();
        d.listener_done = true;
    });
    // cpp-httplib's stop() does nothing until the accept loop has started, so a stop() right after
    // start() would leave the listener running and its join() waiting forever: return once it runs.
    while (!d.http.is_running() && !d.listener_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void ApiServer::stop() {
    auto& d = *impl_;
    if (!d.started || d.stopping.exchange(true)) return;
    std::vector<std::shared_ptr<Job>> running;
    {
        std::lock_guard lock(d.jobs_mutex);
        for (auto& [ptr, weak] : d.jobs)
            if (auto j = weak.lock()) running.push_back(j);
    }
    for (auto& j : running) j->cancel_all();
    d.http.stop();
    if (d.listener.joinable()) d.listener.join();
}

bool ApiServer::running() const { return impl_->started && !impl_->stopping; }
int ApiServer::port() const { return impl_->bound_port; }

std::string ApiServer::url() const {
    const std::string& h = impl_->opt.host;
    return "http://" + (h.find(':') != std::string::npos && h.front() != '[' ? "[" + h + "]" : h) + ":" + std::to_string(impl_->bound_port);
}

ServerStats ApiServer::stats() const {
    std::lock_guard lock(impl_->stats_mutex);
    return impl_->counters;
}

} // namespace mmfree
