// SPDX-License-Identifier: Apache-2.0
// mmfree-loadgen: C concurrent clients stream chat completions from an OpenAI-compatible server
// (sampling as chat clients do: temperature 0.7, top_p 0.95) and the tool reports, per level of
// concurrency, the aggregate generated tok/s and the time to first token (p50/p99), as JSON; from
// `mmfree serve` also the share of the wall time its engine thread spent in each phase.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const char* kUsage = R"(usage: mmfree-loadgen [--url http://127.0.0.1:8080] [--api-key K] [--clients 1,16,64,256]
                      [--requests N] [--max-tokens N] [--temperature T] [--top-p P] [--model ID]
                      [--warmup SECONDS] [-o OUT.json]

Each of C clients sends N streamed chat completions one after another (max_tokens each, EOS
ignored so every reply has the same length); levels run one after another. Prints JSON.
Every prompt is new (a random tag per level, then the client and request), so a server's prefix
cache never answers one from an earlier run or level.
--warmup S: first, the first level's clients stream unmeasured requests until S seconds have
passed, as `mmfree bench` warms up before it times (a GPU that has idled runs its first few
hundred milliseconds of work at a fraction of its clock). Default 0: the first level meets the
server as it is.
)";

struct Options {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string api_key, model, out;
    std::vector<int> clients = {1, 16, 64, 256};
    int requests = 3;
    int max_tokens = 64;
    double temperature = 0.7, top_p = 0.95;
    double warmup_s = 0;
};

struct Sample {
    bool ok = false;
    double ttft_ms = 0, total_ms = 0;
    int tokens = 0;
    std::string error;
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const double rank = p / 100.0 * double(v.size() - 1);
    const size_t lo = size_t(rank), hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (rank - double(lo));
}

// Four random letters (a few tokens, where digits would be one each): a level's prompts start
// "Run <tag>", so none of them repeats a prompt of an earlier level or run.
std::string random_tag() {
    std::random_device rd;
    std::string tag;
    for (int i = 0; i < 4; ++i) tag += char('a' + rd() % 26);
    return tag;
}

Sample stream_one(const Options& o, const std::string& tag, int client, int k) {
    httplib::Client cli(o.host, o.port);
    cli.set_read_timeout(600, 0);
    cli.set_tcp_nodelay(true);
    json body = {{"messages", {{{"role", "user"}, {"content", "Run " + tag + ", client " + std::to_string(client) +
                                                                  ", story " + std::to_string(k) + ": tell me about a dragon who learns to sing."}}}},
                 {"max_tokens", o.max_tokens}, {"temperature", o.temperature}, {"top_p", o.top_p}, {"stream", true},
                 {"stream_options", {{"include_usage", true}}}, {"ignore_eos", true}};
    if (!o.model.empty()) body["model"] = o.model;
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = body.dump();
    req.set_header("Content-Type", "application/json");
    if (!o.api_key.empty()) req.set_header("Authorization", "Bearer " + o.api_key);

    Sample s;
    const auto t0 = Clock::now();
    std::string buffer;
    bool first = true, done = false;
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        buffer.append(data, n);
        for (size_t end; (end = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, end + 2)) {
            const std::string event = buffer.substr(0, end);
            if (event.rfind("data: ", 0) != 0) continue;
            if (event == "data: [DONE]") { done = true; continue; }
            const json chunk = json::parse(event.substr(6), nullptr, false);
            if (chunk.is_discarded()) continue;
            if (chunk.contains("error")) s.error = chunk["error"].value("message", "error event");
            if (chunk.contains("usage") && chunk["usage"].is_object()) s.tokens = chunk["usage"].value("completion_tokens", 0);
            if (first && chunk.contains("choices"))
                for (const auto& c : chunk["choices"])
                    if (c.contains("delta") && c["delta"].value("content", "") != "") {
                        s.ttft_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                        first = false;
                    }
        }
        return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const bool sent = cli.send(req, res, err);
    s.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!sent) s.error = "connection failed (" + std::to_string(int(err)) + ")";
    else if (res.status != 200) s.error = "HTTP " + std::to_string(res.status);
    s.ok = s.error.empty() && done && !first;
    return s;
}

// The server's engine-thread seconds by phase (mmfree_engine_seconds_total{phase="…"}), or empty
// when the server does not publish them (not mmfree serve, or /metrics behind a proxy).
std::map<std::string, double> engine_seconds(const Options& o) {
    httplib::Client cli(o.host, o.port);
    httplib::Headers auth;
    if (!o.api_key.empty()) auth.emplace("Authorization", "Bearer " + o.api_key);
    std::map<std::string, double> phases;
    const auto res = cli.Get("/metrics", auth);
    if (!res || res->status != 200) return phases;
    std::istringstream lines(res->body);
    const std::string prefix = "mmfree_engine_seconds_total{phase=\"";
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(prefix, 0) != 0) continue;
        const auto quote = line.find('"', prefix.size());
        const auto space = line.find(' ', quote);
        if (quote == std::string::npos || space == std::string::npos) continue;
        phases[line.substr(prefix.size(), quote - prefix.size())] = std::strtod(line.c_str() + space + 1, nullptr);
    }
    return phases;
}

json run_level(const Options& o, int clients) {
    const auto engine_before = engine_seconds(o);
    const std::string tag = random_tag();
    std::vector<Sample> samples;
    std::mutex m;
    std::vector<std::thread> threads;
    const auto t0 = Clock::now();
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            for (int k = 0; k < o.requests; ++k) {
                Sample s = stream_one(o, tag, c, k);
                std::lock_guard lock(m);
                samples.push_back(std::move(s));
            }
        });
    for (auto& t : threads) t.join();
    const double wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> ttft, per_stream;
    long tokens = 0;
    int errors = 0;
    std::string first_error;
    for (const auto& s : samples) {
        if (!s.ok) {
            if (first_error.empty()) first_error = s.error.empty() ? "incomplete stream" : s.error;
            ++errors;
            continue;
        }
        ttft.push_back(s.ttft_ms);
        tokens += s.tokens;
        if (s.tokens > 1 && s.total_ms > s.ttft_ms) per_stream.push_back((s.tokens - 1) / ((s.total_ms - s.ttft_ms) / 1000.0));
    }
    double mean_stream = 0;
    for (double v : per_stream) mean_stream += v / double(per_stream.size());
    json level = {{"clients", clients},
                  {"requests", samples.size()},
                  {"errors", errors},
                  {"generated_tokens", tokens},
                  {"wall_s", wall_s},
                  {"aggregate_tok_s", tokens / wall_s},
                  {"per_stream_tok_s_mean", mean_stream},
                  {"ttft_ms_p50", percentile(ttft, 50)},
                  {"ttft_ms_p99", percentile(ttft, 99)},
                  {"ttft_ms_max", ttft.empty() ? 0 : *std::max_element(ttft.begin(), ttft.end())}};
    if (!first_error.empty()) level["first_error"] = first_error;
    // Where the server's engine thread spent this level's wall time (the rest: waiting for work).
    const auto engine_after = engine_seconds(o);
    for (const auto& [phase, seconds] : engine_after)
        if (engine_before.count(phase)) level["engine_share"][phase] = (seconds - engine_before.at(phase)) / wall_s;
    return level;
}

// --warmup: the first level's clients stream until the time is up, each at least once; nothing is
// measured, but a failed request stops the run (the levels would fail the same way).
void warm_up(const Options& o) {
    const std::string tag = random_tag();
    const auto t0 = Clock::now();
    const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    std::string first_error;
    std::mutex m;
    std::vector<std::thread> threads;
    for (int c = 0; c < o.clients.front(); ++c)
        threads.emplace_back([&, c] {
            int k = 0;
            do {   // at least one request each, however slow the server
                const Sample s = stream_one(o, tag, c, k++);
                if (s.ok) continue;
                std::lock_guard lock(m);
                if (first_error.empty()) first_error = s.error.empty() ? "incomplete stream" : s.error;
                return;
            } while (elapsed() < o.warmup_s);
        });
    for (auto& t : threads) t.join();
    if (!first_error.empty()) throw std::runtime_error("warm-up request failed: " + first_error);
}

std::vector<int> parse_list(const std::string& csv) {
    std::vector<int> v;
    std::stringstream ss(csv);
    for (std::string item; std::getline(ss, item, ',');) {
        const int x = std::stoi(item);
        if (x < 1) throw std::invalid_argument("--clients takes positive integers");
        v.push_back(x);
    }
    return v;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "-h" || a == "--help") { std::fputs(kUsage, stdout); return 0; }
            if (i + 1 >= argc) throw std::invalid_argument("option " + a + " needs a value");
            const std::string v = argv[++i];
            if (a == "--url") {
                const auto scheme = v.find("://");
                const std::string hostport = scheme == std::string::npos ? v : v.substr(scheme + 3);
                const auto colon = hostport.rfind(':');
                if (v.rfind("https://", 0) == 0) throw std::invalid_argument("--url: plain http only");
                o.host = hostport.substr(0, colon);
                o.port = colon == std::string::npos ? 80 : std::stoi(hostport.substr(colon + 1));
            } else if (a == "--api-key") o.api_key = v;
            else if (a == "--model") o.model = v;
            else if (a == "--clients") o.clients = parse_list(v);
            else if (a == "--requests") o.requests = std::stoi(v);
            else if (a == "--max-tokens") o.max_tokens = std::stoi(v);
            else if (a == "--temperature") o.temperature = std::stod(v);
            else if (a == "--top-p") o.top_p = std::stod(v);
            else if (a == "--warmup") o.warmup_s = std::stod(v);
            else if (a == "-o") o.out = v;
            else throw std::invalid_argument("unknown option " + a);
        }
        if (o.requests < 1 || o.max_tokens < 1) throw std::invalid_argument("--requests and --max-tokens must be ≥ 1");
        if (!(o.warmup_s >= 0) || !std::isfinite(o.warmup_s)) throw std::invalid_argument("--warmup takes seconds ≥ 0");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmfree-loadgen: %s\n\n%s", e.what(), kUsage);
        return 2;
    }

    httplib::Client probe(o.host, o.port);
    httplib::Headers auth;
    if (!o.api_key.empty()) auth.emplace("Authorization", "Bearer " + o.api_key);
    auto models = probe.Get("/v1/models", auth);
    if (!models || models->status != 200) {
        std::fprintf(stderr, "mmfree-loadgen: no server answers GET /v1/models at %s:%d\n", o.host.c_str(), o.port);
        return 1;
    }
    const json listed = json::parse(models->body, nullptr, false);
    json report = {{"url", "http://" + o.host + ":" + std::to_string(o.port)},
                   {"model", listed.is_discarded() ? json(nullptr) : listed["data"][0]},
                   {"requests_per_client", o.requests},
                   {"max_tokens", o.max_tokens},
                   {"temperature", o.temperature},
                   {"top_p", o.top_p},
                   {"warmup_s", o.warmup_s},
                   {"levels", json::array()}};
    if (o.warmup_s > 0) {
        try {
            warm_up(o);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "mmfree-loadgen: %s\n", e.what());
            return 1;
        }
    }
    for (int c : o.clients) {
        report["levels"].push_back(run_level(o, c));
        std::fprintf(stderr, "mmfree-loadgen: %s\n", report["levels"].back().dump().c_str());
    }
    const std::string text = report.dump(2) + "\n";
    if (!o.out.empty()) {
        std::ofstream(o.out) << text;
    }
    std::fputs(text.c_str(), stdout);
    int errors = 0;
    for (const auto& l : report["levels"]) errors += l["errors"].get<int>();
    return errors ? 1 : 0;
}
