// SPDX-License-Identifier: Apache-2.0
// The HTTP API over real loopback HTTP with the demo model on the CPU: validation errors, auth,
// CORS, limits, SSE framing, token equality with the scheduler, the prefix cache, /metrics,
// tokenize/detokenize, disconnects and shutdown.
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include "mmfree/error.h"
#include "server_test_util.h"

using namespace mmfree;
using namespace testutil;

namespace {

// Waits until /metrics shows no busy slot and nothing queued (every request let go of its slot).
bool settles(const Client& c, int seconds = 20) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < until) {
        const auto m = c.get("/metrics").body;
        if (metric(m, "mmfree_busy_slots") == 0 && metric(m, "mmfree_queue_depth") == 0 && metric(m, "mmfree_http_active_requests") == 0)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// The greedy continuation of `prompt` from a scheduler of its own (no HTTP): the reference.
FinishEvent reference_greedy(const std::vector<int32_t>& prompt, int max_tokens, std::vector<std::string> stops = {}) {
    auto sched = Demo::get().scheduler(1, 0);
    std::promise<FinishEvent> done;
    Request r;
    r.prompt = prompt;
    r.options.sampling.temperature = 0;
    r.options.sampling.repetition_penalty = 1;
    r.options.sampling.top_k = 0;
    r.options.sampling.top_p = 1;
    r.options.sampling.min_p = 0;
    r.options.max_tokens = max_tokens;
    r.options.stop_strings = std::move(stops);
    r.on_finish = [&](const FinishEvent& f) { done.set_value(f); };
    sched->submit(std::move(r));
    return done.get_future().get();
}

std::vector<int32_t> encode(const std::string& text) {
    const auto& d = Demo::get();
    return d.tokenizer->encode(text, d.model->add_bos);
}

// A plain TCP connection to the server (for what an HTTP client library would not do); -1 on failure.
int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

} // namespace

class TestServer : public QObject {
    Q_OBJECT

    std::shared_ptr<Scheduler> sched_;
    std::unique_ptr<ApiServer> server_;
    int port_ = 0;

    Client client() const { return Client(port_); }

private Q_SLOTS:
    void initTestCase() {
        sched_ = Demo::get().scheduler(4);
        ServerOptions o = loopback_options();
        o.max_prompt_tokens = 256;
        o.max_body_bytes = 64 << 10;
        o.max_tokens_limit = 512;
        o.max_n = 4;
        server_ = std::make_unique<ApiServer>(o, sched_);
        server_->start();
        port_ = server_->port();
        QVERIFY(port_ > 0);
    }

    void cleanupTestCase() { server_.reset(); }

    void health_and_models() {
        auto c = client();
        auto h = c.get("/health");
        QCOMPARE(h.status, 200);
        QCOMPARE(h.json_body()["status"], "ok");
        auto m = c.get("/v1/models");
        QCOMPARE(m.status, 200);
        auto j = m.json_body();
        QCOMPARE(j["object"], "list");
        QCOMPARE(j["data"][0]["id"], "mmfree-demo");
        QCOMPARE(j["data"][0]["object"], "model");
        QCOMPARE(c.get("/v1/models/mmfree-demo").status, 200);
        auto missing = c.get("/v1/models/gpt-4");
        QCOMPARE(missing.status, 404);
        QCOMPARE(missing.json_body()["error"]["code"], "model_not_found");
        auto unknown = c.get("/v1/nothing");
        QCOMPARE(unknown.status, 404);
        QVERIFY(unknown.json_body()["error"]["message"].is_string());
    }

    void validation_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("param");
        const QString chat = "/v1/chat/completions", comp = "/v1/completions";
        const QString msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
        auto row = [&](const char* name, const QString& path, const QString& body, int status, const QString& param) {
            QTest::newRow(name) << path << body << status << param;
        };
        row("not json", chat, "{\"messages\": [", 400, "");
        row("not an object", chat, "[1,2]", 400, "");
        row("messages missing", chat, "{}", 400, "messages");
        row("messages empty", chat, "{\"messages\":[]}", 400, "messages");
        row("messages not array", chat, "{\"messages\":\"Hi\"}", 400, "messages");
        row("role unknown", chat, "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", 400, "messages[0].role");
        row("role missing", chat, "{\"messages\":[{\"content\":\"x\"}]}", 400, "messages[0].role");
        row("content number", chat, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", 400, "messages[0].content");
        row("content image", chat, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}", 400, "messages[0].content[0]");
        row("temperature type", chat, "{" + msgs + ",\"temperature\":\"hot\"}", 400, "temperature");
        row("temperature range", chat, "{" + msgs + ",\"temperature\":2.5}", 400, "temperature");
        row("top_p zero", chat, "{" + msgs + ",\"top_p\":0}", 400, "top_p");
        row("top_k negative", chat, "{" + msgs + ",\"top_k\":-1}", 400, "top_k");
        row("min_p range", chat, "{" + msgs + ",\"min_p\":1.5}", 400, "min_p");
        row("frequency_penalty", chat, "{" + msgs + ",\"frequency_penalty\":3}", 400, "frequency_penalty");
        row("presence_penalty", chat, "{" + msgs + ",\"presence_penalty\":\"x\"}", 400, "presence_penalty");
        row("repetition_penalty", chat, "{" + msgs + ",\"repetition_penalty\":0}", 400, "repetition_penalty");
        row("max_tokens zero", chat, "{" + msgs + ",\"max_tokens\":0}", 400, "max_tokens");
        row("max_tokens huge", chat, "{" + msgs + ",\"max_tokens\":100000}", 400, "max_tokens");
        row("max_tokens fraction", chat, "{" + msgs + ",\"max_tokens\":1.5}", 400, "max_tokens");
        row("max_completion_tokens", chat, "{" + msgs + ",\"max_completion_tokens\":-3}", 400, "max_completion_tokens");
        row("n zero", chat, "{" + msgs + ",\"n\":0}", 400, "n");
        row("n too many", chat, "{" + msgs + ",\"n\":50}", 400, "n");
        row("stop type", chat, "{" + msgs + ",\"stop\":3}", 400, "stop");
        row("stop five", chat, "{" + msgs + ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", 400, "stop");
        row("stop list type", chat, "{" + msgs + ",\"stop\":[\"a\",1]}", 400, "stop");
        row("seed type", chat, "{" + msgs + ",\"seed\":\"x\"}", 400, "seed");
        row("stream type", chat, "{" + msgs + ",\"stream\":\"yes\"}", 400, "stream");
        row("stream_options alone", chat, "{" + msgs + ",\"stream_options\":{\"include_usage\":true}}", 400, "stream_options");
        row("top_logprobs alone", chat, "{" + msgs + ",\"top_logprobs\":2}", 400, "top_logprobs");
        row("top_logprobs range", chat, "{" + msgs + ",\"logprobs\":true,\"top_logprobs\":21}", 400, "top_logprobs");
        row("logprobs type", chat, "{" + msgs + ",\"logprobs\":3}", 400, "logprobs");
        row("user type", chat, "{" + msgs + ",\"user\":7}", 400, "user");
        row("model unknown", chat, "{" + msgs + ",\"model\":\"gpt-4o\"}", 404, "model");
        row("model type", chat, "{" + msgs + ",\"model\":1}", 400, "model");
        row("prompt missing", comp, "{}", 400, "prompt");
        row("prompt object", comp, "{\"prompt\":{}}", 400, "prompt");
        row("prompt bad id", comp, "{\"prompt\":[1,-5]}", 400, "prompt");
        row("prompt id too big", comp, "{\"prompt\":[1,99999999]}", 400, "prompt");
        row("prompt mixed", comp, "{\"prompt\":[\"a\",[1,2]]}", 400, "prompt");
        row("prompts times n", comp, "{\"prompt\":[\"a\",\"b\",\"c\"],\"n\":2}", 400, "prompt");
        row("logprobs range", comp, "{\"prompt\":\"a\",\"logprobs\":30}", 400, "logprobs");
        row("prompt too long", comp, "{\"prompt\":\"" + QString("word ").repeated(400) + "\"}", 400, "prompt");
        row("tokenize no content", "/tokenize", "{\"text\":\"a\"}", 400, "content");
        row("detokenize bad id", "/detokenize", "{\"tokens\":[1,\"x\"]}", 400, "tokens");
        row("detokenize out of range", "/detokenize", "{\"tokens\":[99999999]}", 400, "tokens");
    }

    void validation() {
        QFETCH(QString, path);
        QFETCH(QString, body);
        QFETCH(int, status);
        QFETCH(QString, param);
        auto c = client();
        auto r = c.send("POST", path.toStdString(), body.toStdString());
        QCOMPARE(r.status, status);
        auto j = r.json_body();
        QVERIFY2(j.is_object() && j.contains("error"), r.body.c_str());
        const auto& e = j["error"];
        QVERIFY(e["message"].is_string() && !e["message"].get<std::string>().empty());
        QVERIFY(e["type"].is_string());
        QVERIFY(e.contains("code"));
        if (param.isEmpty()) QVERIFY(e["param"].is_null());
        else QCOMPARE(QString::fromStdString(e["param"].get<std::string>()), param);
        QVERIFY(settles(c));
    }

    void unknown_fields_are_ignored() {
        auto r = client().post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                                        {"max_tokens", 2}, {"tool_choice", "none"}, {"frobnicate", {1, 2}}, {"temperature", nullptr}});
        QCOMPARE(r.status, 200);
    }

    void body_too_large() {
        const std::string big = "{\"prompt\":\"" + std::string(100 << 10, 'a') + "\"}";
        auto r = client().send("POST", "/v1/completions", big);
        QCOMPARE(r.status, 413);
        QCOMPARE(r.json_body()["error"]["code"], "request_too_large");
        QCOMPARE(client().get("/health").status, 200);
    }

    void completion_matches_scheduler_greedy() {
        const std::string prompt = "Once upon a time";
        auto r = client().post("/v1/completions", {{"model", "mmfree-demo"}, {"prompt", prompt}, {"max_tokens", 12}, {"temperature", 0},
                                                   {"ignore_eos", true}, {"logprobs", 0}});
        QCOMPARE(r.status, 200);
        auto j = r.json_body();
        QCOMPARE(j["object"], "text_completion");
        QVERIFY(j["id"].get<std::string>().rfind("cmpl-", 0) == 0);
        const auto ref = reference_greedy(encode(prompt), 12);
        QCOMPARE(j["choices"][0]["text"].get<std::string>(), ref.text);
        QCOMPARE(j["choices"][0]["finish_reason"], "length");
        QCOMPARE(j["usage"]["completion_tokens"].get<int>(), 12);
        QCOMPARE(j["usage"]["prompt_tokens"].get<int>(), int(encode(prompt).size()));
        QCOMPARE(j["usage"]["total_tokens"].get<int>(), 12 + int(encode(prompt).size()));
        // Token by token: the logprobs list names the same tokens the scheduler chose.
        const auto& toks = j["choices"][0]["logprobs"]["tokens"];
        QCOMPARE(int(toks.size()), 12);
        for (size_t i = 0; i < ref.tokens.size(); ++i) QCOMPARE(toks[i].get<std::string>(), Demo::get().tokenizer->token_bytes(ref.tokens[i]));
    }

    void stream_matches_scheduler_greedy() {
        const std::vector<ChatTemplate::Message> history = {{"user", "Tell me a story about a cat."}};
        const std::string transcript = ChatTemplate{}.build_prompt(history);
        QCOMPARE(transcript, std::string("User: Tell me a story about a cat.\nAssistant:"));
        auto r = client().send("POST", "/v1/chat/completions",
                               json{{"messages", {{{"role", "user"}, {"content", "Tell me a story about a cat."}}}}, {"max_tokens", 16},
                                    {"temperature", 0}, {"stream", true}, {"logprobs", true}, {"stream_options", {{"include_usage", true}}}}
                                   .dump(),
                               [](const char*, size_t) { return true; });
        QCOMPARE(r.status, 200);
        QVERIFY(r.headers.find("Content-Type")->second.rfind("text/event-stream", 0) == 0);
        // SSE framing: only "data: …" blocks separated by blank lines, the last one [DONE].
        QVERIFY(r.body.size() > 2 && r.body.substr(r.body.size() - 2) == "\n\n");
        const auto events = sse_events(r.body);
        QVERIFY(events.size() >= 4);
        QCOMPARE(events.back(), std::string("[DONE]"));
        std::string text;
        std::vector<std::string> token_bytes;
        std::string finish;
        json usage;
        for (size_t i = 0; i + 1 < events.size(); ++i) {
            auto chunk = json::parse(events[i]);
            QCOMPARE(chunk["object"], "chat.completion.chunk");
            QVERIFY(chunk.contains("usage"));
            if (chunk["choices"].empty()) { usage = chunk["usage"]; continue; }
            QVERIFY(chunk["usage"].is_null());
            const auto& ch = chunk["choices"][0];
            if (i == 0) QCOMPARE(ch["delta"]["role"], "assistant");
            if (ch["delta"].contains("content")) text += ch["delta"]["content"].get<std::string>();
            if (ch["logprobs"].is_object())
                for (const auto& t : ch["logprobs"]["content"]) {
                    std::string b;
                    for (int x : t["bytes"]) b += char(x);
                    token_bytes.push_back(b);
                    QVERIFY(t["logprob"].get<double>() <= 0);
                }
            if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
        }
        QVERIFY(usage.is_object());
        const auto ref = reference_greedy(encode(transcript), 16, ChatTemplate{}.stop_strings);
        QCOMPARE(text, ref.text);
        QCOMPARE(finish, std::string(ref.reason == StopReason::MaxTokens ? "length" : "stop"));
        QCOMPARE(usage["completion_tokens"].get<int>(), int(ref.tokens.size()));
        QCOMPARE(int(token_bytes.size()), int(ref.tokens.size()));
        for (size_t i = 0; i < ref.tokens.size(); ++i) QCOMPARE(token_bytes[i], Demo::get().tokenizer->token_bytes(ref.tokens[i]));
        // The same request without streaming says the same.
        auto whole = client().post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "Tell me a story about a cat."}}}},
                                                            {"max_tokens", 16}, {"temperature", 0}});
        QCOMPARE(whole.json_body()["choices"][0]["message"]["content"].get<std::string>(), text);
        QCOMPARE(whole.json_body()["object"], "chat.completion");
    }

    // Concurrent greedy streams over HTTP give exactly the tokens `mmfree batch --greedy` gives.
    void streams_match_mmfree_batch() {
        const std::vector<std::string> prompts = {"Once upon a time", "The little dragon said", "In the morning, the king"};
        QTemporaryDir dir;
        {
            QFile f(dir.path() + "/prompts.jsonl");
            QVERIFY(f.open(QIODevice::WriteOnly));
            for (const auto& p : prompts) f.write((json{{"prompt", p}}.dump() + "\n").c_str());
        }
        QProcess batch;
        batch.start(MMFREE_CLI, {"batch", "-m", MMFREE_DEMO_MODEL, "--backend", "cpu", "--prompts", dir.path() + "/prompts.jsonl", "--greedy",
                                 "-n", "16", "--ignore-eos", "-o", dir.path() + "/out.jsonl"});
        QVERIFY(batch.waitForFinished(120000));
        QVERIFY2(batch.exitCode() == 0, batch.readAllStandardError().constData());
        QFile out(dir.path() + "/out.jsonl");
        QVERIFY(out.open(QIODevice::ReadOnly));
        std::vector<json> expected;
        for (const auto& line : out.readAll().split('\n'))
            if (!line.trimmed().isEmpty()) expected.push_back(json::parse(line.toStdString()));
        QCOMPARE(expected.size(), prompts.size());

        // As JSON carries them: a lone byte of a split character becomes U+FFFD.
        auto as_json_text = [](const std::string& bytes) { return json::parse(json(bytes).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>(); };
        std::vector<std::string> streamed_text(prompts.size());
        std::vector<std::vector<std::string>> streamed_tokens(prompts.size());
        std::vector<std::thread> clients;
        for (size_t i = 0; i < prompts.size(); ++i)
            clients.emplace_back([&, i] {
                auto r = client().send("POST", "/v1/completions",
                                       json{{"prompt", prompts[i]}, {"max_tokens", 16}, {"temperature", 0}, {"ignore_eos", true}, {"stream", true},
                                            {"logprobs", 0}}.dump(),
                                       [](const char*, size_t) { return true; });
                for (const auto& e : sse_events(r.body)) {
                    if (e == "[DONE]") continue;
                    const auto c = json::parse(e);
                    for (const auto& ch : c["choices"]) {
                        streamed_text[i] += ch["text"].get<std::string>();
                        if (ch["logprobs"].is_object())
                            for (const auto& t : ch["logprobs"]["tokens"]) streamed_tokens[i].push_back(t.get<std::string>());
                    }
                }
            });
        for (auto& t : clients) t.join();
        for (size_t i = 0; i < prompts.size(); ++i) {
            const auto ids = expected[i]["ids"].get<std::vector<int32_t>>();
            QCOMPARE(int(ids.size()), 16);
            QCOMPARE(int(streamed_tokens[i].size()), 16);
            for (size_t k = 0; k < ids.size(); ++k) QCOMPARE(streamed_tokens[i][k], as_json_text(Demo::get().tokenizer->token_bytes(ids[k])));
            QCOMPARE(streamed_text[i], expected[i]["text"].get<std::string>());
        }
    }

    void stop_strings_cut_the_text() {
        const std::string prompt = "Once upon a time";
        const auto ref = reference_greedy(encode(prompt), 24);
        QVERIFY(ref.text.size() > 8);
        const std::string stop = ref.text.substr(ref.text.size() / 2, 3);
        auto r = client().post("/v1/completions", {{"prompt", prompt}, {"max_tokens", 24}, {"temperature", 0}, {"ignore_eos", true},
                                                   {"stop", {"\x01never", stop}}});
        auto j = r.json_body();
        QCOMPARE(j["choices"][0]["finish_reason"], "stop");
        QCOMPARE(j["choices"][0]["text"].get<std::string>(), ref.text.substr(0, ref.text.find(stop)));
    }

    void seeds_and_n() {
        const json body = {{"prompt", "The dragon"}, {"max_tokens", 10}, {"temperature", 1.0}, {"seed", 42}, {"n", 2}, {"ignore_eos", true}};
        auto a = client().post("/v1/completions", body).json_body();
        auto b = client().post("/v1/completions", body).json_body();
        QCOMPARE(int(a["choices"].size()), 2);
        QCOMPARE(a["choices"][0]["index"].get<int>(), 0);
        QCOMPARE(a["choices"][1]["index"].get<int>(), 1);
        QCOMPARE(a["choices"], b["choices"]);   // same seed, same tokens
        QCOMPARE(a["usage"]["completion_tokens"].get<int>(), 20);
        QCOMPARE(a["usage"]["prompt_tokens"].get<int>(), int(encode("The dragon").size()));   // the prompt counts once
        // Several prompts: choices are prompt-major.
        auto m = client().post("/v1/completions", {{"prompt", {"A", "B"}}, {"max_tokens", 1}, {"n", 2}}).json_body();
        QCOMPARE(int(m["choices"].size()), 4);
        QCOMPARE(m["choices"][3]["index"].get<int>(), 3);
    }

    void token_id_prompt_equals_text_prompt() {
        auto ids = client().post("/tokenize", {{"content", "The dragon"}}).json_body()["tokens"];
        auto a = client().post("/v1/completions", {{"prompt", ids}, {"max_tokens", 6}, {"temperature", 0}}).json_body();
        auto b = client().post("/v1/completions", {{"prompt", "The dragon"}, {"max_tokens", 6}, {"temperature", 0}}).json_body();
        QCOMPARE(a["choices"][0]["text"], b["choices"][0]["text"]);
    }

    void tokenize_detokenize() {
        const std::string text = "Grüße, 世界! 🐉";
        auto t = client().post("/tokenize", {{"content", text}});
        QCOMPARE(t.status, 200);
        auto ids = t.json_body()["tokens"];
        QCOMPARE(ids.get<std::vector<int32_t>>(), Demo::get().tokenizer->encode(text, false));
        auto d = client().post("/detokenize", {{"tokens", ids}});
        QCOMPARE(d.status, 200);
        QCOMPARE(d.json_body()["content"].get<std::string>(), text);
        auto with_bos = client().post("/tokenize", {{"content", text}, {"add_special", true}}).json_body()["tokens"];
        if (Demo::get().model->add_bos) QCOMPARE(with_bos[0].get<int>(), Demo::get().model->config.bos_token_id);
    }

    void unicode_round_trip_in_chat() {
        auto r = client().post("/v1/chat/completions", {{"messages", {{{"role", "system"}, {"content", "Réponds en français."}},
                                                                      {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "¿Qué tal? 你好 🐱"}}}}}}},
                                                        {"max_tokens", 8}});
        QCOMPARE(r.status, 200);
        QVERIFY(r.json_body()["choices"][0]["message"]["content"].is_string());
    }

    void prefix_cache_resume_equals_cold_run() {
        // A chat's second turn resends the first: the scheduler resumes from the cached state.
        json turn1 = {{"role", "user"}, {"content", "Tell me about the sea."}};
        auto first = client().post("/v1/chat/completions", {{"messages", {turn1}}, {"max_tokens", 12}, {"temperature", 0}}).json_body();
        json reply = {{"role", "assistant"}, {"content", first["choices"][0]["message"]["content"]}};
        json turn2 = {{"role", "user"}, {"content", "And the sky?"}};
        const json second_body = {{"messages", {turn1, reply, turn2}}, {"max_tokens", 12}, {"temperature", 0}, {"ignore_eos", true}};
        auto warm = client().post("/v1/chat/completions", second_body).json_body();
        QVERIFY2(warm["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>() > 0, warm.dump().c_str());

        // A server without a cache, the same request cold.
        ServerOptions o = loopback_options();
        ApiServer cold_server(o, Demo::get().scheduler(1, 0));
        cold_server.start();
        auto cold = Client(cold_server.port()).post("/v1/chat/completions", second_body).json_body();
        QCOMPARE(cold["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
        QCOMPARE(warm["choices"][0]["message"]["content"], cold["choices"][0]["message"]["content"]);
        QVERIFY(metric(client().get("/metrics").body, "mmfree_prefix_cache_hits_total") >= 1);
    }

    void metrics_text() {
        auto c = client();
        c.post("/v1/completions", {{"prompt", "Hello"}, {"max_tokens", 3}});
        QVERIFY(settles(c));
        auto m = c.get("/metrics");
        QCOMPARE(m.status, 200);
        QVERIFY(m.headers.find("Content-Type")->second.rfind("text/plain", 0) == 0);
        for (const char* name : {"mmfree_up", "mmfree_requests_total", "mmfree_prompt_tokens_total", "mmfree_generated_tokens_total",
                                 "mmfree_queue_depth", "mmfree_busy_slots", "mmfree_slots", "mmfree_prefix_cache_hits_total",
                                 "mmfree_time_to_first_token_seconds_count", "mmfree_decode_tokens_per_second_count"})
            QVERIFY2(metric(m.body, name) >= 0, name);
        QCOMPARE(metric(m.body, "mmfree_busy_slots"), 0.0);
        QCOMPARE(metric(m.body, "mmfree_slots"), 4.0);
        QVERIFY(metric(m.body, "mmfree_requests_total") >= 5);
        QVERIFY(metric(m.body, "mmfree_time_to_first_token_seconds_count") >= 1);
        QVERIFY(m.body.find("mmfree_time_to_first_token_seconds_bucket{le=\"+Inf\"}") != std::string::npos);
        QVERIFY(m.body.find("mmfree_http_responses_total{route=\"/v1/completions\",code=\"200\"}") != std::string::npos);
        QVERIFY(m.body.find("# TYPE mmfree_busy_slots gauge") != std::string::npos);
        // The engine thread's time by phase: the request above decoded and emitted tokens.
        for (const char* phase : {"prefill", "decode", "sampling", "emit"})
            QVERIFY2(metric(m.body, std::string("mmfree_engine_seconds_total{phase=\"") + phase + "\"}") >= 0, phase);
        QVERIFY(metric(m.body, "mmfree_engine_seconds_total{phase=\"decode\"}") > 0);
    }

    void disconnect_cancels_the_stream() {
        auto c = client();
        const double before = metric(c.get("/metrics").body, "mmfree_generated_tokens_total");
        int chunks = 0;
        auto r = c.send("POST", "/v1/completions",
                        json{{"prompt", "Once"}, {"max_tokens", 500}, {"ignore_eos", true}, {"stream", true}}.dump(),
                        [&](const char*, size_t) { return ++chunks < 3; });   // hang up after a few chunks
        QVERIFY(chunks >= 3);
        QVERIFY(settles(c));
        const auto m = c.get("/metrics").body;
        QVERIFY(metric(m, "mmfree_http_disconnects_total") >= 1);
        QVERIFY2(metric(m, "mmfree_generated_tokens_total") - before < 400, "the request ran on after its client left");
        QCOMPARE(server_->stats().active_requests, 0);
    }

    // A plain (non-streaming) request has no stream to fail on: the server probes its client with
    // JSON-legal whitespace, so one that hangs up is cancelled instead of running to max_tokens.
    void disconnect_cancels_a_whole_answer_data() {
        QTest::addColumn<int>("hang_up_ms");
        QTest::newRow("before the 200 is committed") << 300;
        QTest::newRow("after the 200 is committed") << 1500;
    }
    void disconnect_cancels_a_whole_answer() {
        QFETCH(int, hang_up_ms);
        ServerOptions o = loopback_options();
        o.max_tokens_limit = 100000;   // about 100 s of the demo model on one core: far more than this waits
        auto sched = Demo::get().scheduler(1, 0);
        ApiServer s(o, sched);
        s.start();
        const int fd = connect_loopback(s.port());
        QVERIFY(fd >= 0);
        const std::string body = json{{"prompt", "Once"}, {"max_tokens", 100000}, {"ignore_eos", true}}.dump();
        // Accepting gzip as Node's fetch does: the probes must not sit in a compressor.
        const std::string head = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip, deflate, br\r\n"
                                 "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        const std::string raw = head + body;
        QCOMPARE(::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL), ssize_t(raw.size()));
        QTRY_VERIFY_WITH_TIMEOUT(sched->stats().running == 1, 10000);
        std::this_thread::sleep_for(std::chrono::milliseconds(hang_up_ms));
        ::close(fd);
        const auto closed = std::chrono::steady_clock::now();
        QTRY_VERIFY_WITH_TIMEOUT(sched->stats().running == 0 && sched->stats().queued == 0, 5000);   // within about 1.5 s
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - closed).count();
        qInfo("cancelled %.2f s after the client closed its socket", seconds);
        QTRY_COMPARE_WITH_TIMEOUT(s.stats().active_requests, 0, 2000);
        QCOMPARE(s.stats().disconnects, 1);
        const uint64_t generated = sched->stats().generated_tokens_total;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        QCOMPARE(sched->stats().generated_tokens_total, generated);   // nothing runs on
        QVERIFY2(generated < 100000 / 5, "the request ran on after its client left");
        QCOMPARE(client().get("/health").status, 200);
    }

    // stop() right after start() (an app's server switched on and off at once) returns, and the
    // port is free for the next server; cpp-httplib alone would keep accepting forever.
    void stop_right_after_start_returns() {
        auto sched = Demo::get().scheduler(1, 0);
        for (int i = 0; i < 20; ++i) {
            ApiServer s(loopback_options(), sched);
            s.start();
            const int port = s.port();
            s.stop();
            QVERIFY(!s.running());
            QCOMPARE(Client(port).get("/health").status, 0);   // nothing listens there any more
        }
    }

    // A non-streaming answer that takes longer than the server waits before committing to a
    // chunked 200 arrives as whitespace then the usual JSON, complete and parseable.
    void slow_whole_answer_is_valid_json() {
        ServerOptions o = loopback_options();
        o.max_tokens_limit = 3000;
        ApiServer s(o, Demo::get().scheduler(1, 0));
        s.start();
        Client c(s.port());
        c.extra = {{"Accept-Encoding", "gzip, deflate"}};
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = c.post("/v1/completions", {{"prompt", "Once"}, {"max_tokens", 3000}, {"ignore_eos", true}});
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        QCOMPARE(r.status, 200);
        const json j = r.json_body();
        QVERIFY2(!j.is_discarded(), r.body.substr(0, 200).c_str());
        QCOMPARE(j["usage"]["completion_tokens"].get<int>(), 3000);
        QCOMPARE(j["choices"][0]["finish_reason"], "length");
        QVERIFY(!j["choices"][0]["text"].get<std::string>().empty());
        // Past commit (1 s) + one probe interval (0.5 s) + margin, probes were sent (on a fast machine this is not reached).
        qInfo("%.2f s, body starts with %d spaces", seconds, int(r.body.find('{')));
        if (seconds > 2.0) QVERIFY(r.body.front() == ' ');
        QTRY_COMPARE_WITH_TIMEOUT(s.stats().active_requests, 0, 2000);   // retired once the response is torn down
    }

    void malformed_http_never_crashes() {
        for (const char* raw : {"GARBAGE\r\n\r\n", "POST /v1/completions HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n{",
                                "POST /v1/completions HTTP/1.1\r\nContent-Length: 10\r\n\r\n{", "\x00\x01\x02\r\n\r\n"}) {
            // Not an HTTP client's request: write it through a plain socket.
            const int fd = connect_loopback(port_);
            QVERIFY(fd >= 0);
            const ssize_t sent = ::send(fd, raw, std::strlen(raw), MSG_NOSIGNAL);
            QVERIFY(sent >= 0);
            ::shutdown(fd, SHUT_WR);
            char buf[512];
            while (::recv(fd, buf, sizeof buf, 0) > 0) {}
            ::close(fd);
        }
        QCOMPARE(client().get("/health").status, 200);
        QVERIFY(settles(client()));
    }

    void api_key_required() {
        ServerOptions o = loopback_options();
        o.api_key = "sk-test-0123456789";
        ApiServer s(o, sched_);
        s.start();
        Client c(s.port());
        auto none = c.get("/v1/models");
        QCOMPARE(none.status, 401);
        QCOMPARE(none.json_body()["error"]["code"], "invalid_api_key");
        c.api_key = "sk-test-0123456788";
        QCOMPARE(c.get("/v1/models").status, 401);
        c.api_key = "sk-test-012345678";
        QCOMPARE(c.post("/v1/completions", {{"prompt", "a"}}).status, 401);
        c.api_key = "sk-test-0123456789";
        QCOMPARE(c.get("/v1/models").status, 200);
        QCOMPARE(c.get("/metrics").status, 200);
        Client anonymous(s.port());
        QCOMPARE(anonymous.get("/health").status, 200);   // load balancers probe without a key
        QCOMPARE(anonymous.get("/metrics").status, 401);
    }

    void non_loopback_needs_a_key() {
        ServerOptions o = loopback_options();
        o.host = "0.0.0.0";
        ApiServer s(o, sched_);
        try {
            s.start();
            QFAIL("started on 0.0.0.0 without an API key");
        } catch (const Error& e) {
            QCOMPARE(e.code(), ErrorCode::InvalidArgument);
            QVERIFY(std::string(e.what()).find("API key") != std::string::npos);
        }
        QVERIFY(is_loopback_host("127.0.0.1") && is_loopback_host("::1") && is_loopback_host("localhost"));
        QVERIFY(!is_loopback_host("0.0.0.0") && !is_loopback_host("192.168.1.2") && !is_loopback_host("::"));
    }

    void port_in_use_is_an_error() {
        ServerOptions o = loopback_options();
        o.port = port_;
        ApiServer second(o, sched_);
        try {
            second.start();
            QFAIL("a second server started on a port in use");
        } catch (const Error& e) {
            QCOMPARE(e.code(), ErrorCode::DeviceError);
            QVERIFY(std::string(e.what()).find(std::to_string(port_)) != std::string::npos);
        }
        QCOMPARE(client().get("/health").status, 200);
    }

    void cors() {
        auto preflight = [](int port, const std::string& origin) {
            Client c(port);
            c.extra = {{"Origin", origin}, {"Access-Control-Request-Method", "POST"}, {"Access-Control-Request-Headers", "authorization, content-type"}};
            return c.send("OPTIONS", "/v1/chat/completions");
        };
        // Off by default: no CORS headers, preflights refused.
        auto off = preflight(port_, "http://evil.example");
        QCOMPARE(off.status, 403);
        Client plain(port_);
        plain.extra = {{"Origin", "http://evil.example"}};
        QVERIFY(plain.get("/v1/models").headers.count("Access-Control-Allow-Origin") == 0);

        ServerOptions o = loopback_options();
        o.cors_origins = {"http://app.example"};
        o.api_key = "sk-cors-key";
        ApiServer s(o, sched_);
        s.start();
        auto ok = preflight(s.port(), "http://app.example");
        QCOMPARE(ok.status, 204);
        QCOMPARE(ok.headers.find("Access-Control-Allow-Origin")->second, std::string("http://app.example"));
        QVERIFY(ok.headers.find("Access-Control-Allow-Methods")->second.find("POST") != std::string::npos);
        QVERIFY(ok.headers.find("Access-Control-Allow-Headers")->second.find("authorization") != std::string::npos);
        QCOMPARE(preflight(s.port(), "http://other.example").status, 403);
        Client browser(s.port());
        browser.extra = {{"Origin", "http://app.example"}};
        auto unauthorized = browser.get("/v1/models");
        QCOMPARE(unauthorized.status, 401);   // the browser may read why
        QCOMPARE(unauthorized.headers.find("Access-Control-Allow-Origin")->second, std::string("http://app.example"));
        browser.api_key = o.api_key;
        QCOMPARE(browser.get("/v1/models").headers.find("Access-Control-Allow-Origin")->second, std::string("http://app.example"));
    }

    void loading_and_stopping_answer_503() {
        ServerOptions o = loopback_options();
        ApiServer s(o);
        s.start();
        Client c(s.port());
        QCOMPARE(c.get("/health").status, 503);
        QCOMPARE(c.get("/health").json_body()["status"], "loading");
        auto r = c.post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}});
        QCOMPARE(r.status, 503);
        QCOMPARE(r.json_body()["error"]["code"], "model_loading");
        s.set_scheduler(sched_);
        QCOMPARE(c.get("/health").status, 200);

        // Stopping ends a running stream promptly with an error event, and frees its slot.
        std::atomic<bool> got_data{false};
        std::thread streamer([&] {
            c.send("POST", "/v1/completions", json{{"prompt", "Once"}, {"max_tokens", 5000}, {"ignore_eos", true}, {"stream", true}}.dump(),
                   [&](const char*, size_t) { got_data = true; return true; });
        });
        while (!got_data) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const auto t0 = std::chrono::steady_clock::now();
        s.stop();
        streamer.join();
        QVERIFY(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
        QVERIFY(!s.running());
        QVERIFY(settles(client()));
    }

    void busy_queue_answers_429() {
        ServerOptions o = loopback_options();
        auto tiny = Demo::get().scheduler(1, 0, 1);   // one slot, one queue place
        ApiServer s(o, tiny);
        s.start();
        Client c(s.port());
        std::vector<std::thread> clients;
        std::atomic<int> ok{0}, busy{0}, other{0};
        for (int i = 0; i < 6; ++i)
            clients.emplace_back([&] {
                auto r = c.post("/v1/completions", {{"prompt", "Once"}, {"max_tokens", 200}, {"ignore_eos", true}});
                if (r.status == 200) ++ok;
                else if (r.status == 429 && r.json_body()["error"]["code"] == "server_busy") ++busy;
                else ++other;
            });
        for (auto& t : clients) t.join();
        QCOMPARE(other.load(), 0);
        QVERIFY(ok >= 1);
        QVERIFY(busy >= 1);
        QCOMPARE(tiny->stats().running, 0);
    }

    void chat_template_file() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/template.json";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"user_format\": \"### Q: {text}\\n\", \"assistant_format\": \"### A: {text}\\n\", \"stop_strings\": [\"###\"]}");
        f.close();
        auto t = ChatTemplate::load(path.toStdString());
        QCOMPARE(t.build_prompt({{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}}),
                 std::string("Be brief.\n\n### Q: Hi\n### A: Hello\n### Q: Bye\n### A:"));
        QCOMPARE(t.stop_strings, std::vector<std::string>{"###"});
        f.open(QIODevice::WriteOnly | QIODevice::Truncate);
        f.write("{\"user_format\": \"no placeholder\"}");
        f.close();
        QVERIFY_THROWS_EXCEPTION(Error, ChatTemplate::load(path.toStdString()));
        QVERIFY_THROWS_EXCEPTION(Error, ChatTemplate::load((dir.path() + "/missing.json").toStdString()));
    }
};

QTEST_GUILESS_MAIN(TestServer)
#include "test_server.moc"
