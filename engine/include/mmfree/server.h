// SPDX-License-Identifier: Apache-2.0
// The local OpenAI-compatible HTTP API over a Scheduler: /v1/models, /v1/completions,
// /v1/chat/completions (SSE streaming), /health, /metrics, /tokenize, /detokenize. No Qt, so the
// CLI (`mmfree serve`) and the app host the same server.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mmfree {

class Scheduler;

// How chat messages become the text a base model continues. The default is the app's plain
// transcript ("User: …\nAssistant:"); a JSON file with the same keys overrides it:
//   {"system_format": "{system}\n\n", "user_format": "User: {text}\n",
//    "assistant_format": "Assistant: {text}\n", "stop_strings": ["\nUser:", "\nAssistant:"]}
struct ChatTemplate {
    std::string system_format = "{system}\n\n";
    std::string user_format = "User: {text}\n";
    std::string assistant_format = "Assistant: {text}\n";
    std::vector<std::string> stop_strings = {"\nUser:", "\nAssistant:"};   // added to every chat request's stops

    // Missing keys keep their defaults; throws Error(CorruptFile / FileNotFound) naming the file.
    static ChatTemplate load(const std::filesystem::path& json_file);

    struct Message {
        std::string role;   // "system" (or "developer"), "user", "assistant"
        std::string content;
    };
    // Every message in its format, then the assistant format up to {text} (trailing spaces cut,
    // so the model writes the space that starts its first word).
    std::string build_prompt(const std::vector<Message>& messages) const;
};

struct ServerOptions {
    std::string host = "127.0.0.1";      // any non-loopback address needs api_key
    int port = 8080;                      // 0 = a free port (see ApiServer::port())
    std::string api_key;                  // empty = no authentication (loopback only)
    std::vector<std::string> cors_origins;   // empty = CORS off; "*" = any origin
    std::string model_id;                 // the name clients use; empty = the model file's stem
    ChatTemplate chat_template;

    size_t max_body_bytes = size_t(4) << 20;   // larger bodies: 413
    int max_prompt_tokens = 16384;        // per prompt, after the chat template
    int max_tokens_limit = 8192;          // the largest max_tokens a request may ask for
    int default_max_tokens = 1024;        // chat requests without max_tokens (completions: 16, as OpenAI)
    int max_n = 16;                       // choices per request (n), and prompts × n per request
    int max_connections = 256;            // HTTP worker threads: connections served at once
    int read_timeout_s = 30;              // a client that sends nothing for this long is dropped
    int write_timeout_s = 30;
    int keep_alive_timeout_s = 5;         // an idle kept-alive connection is closed after this
};

// Counters of the HTTP layer (the scheduler keeps its own: SchedulerStats).
struct ServerStats {
    uint64_t http_requests = 0;           // answered, any status
    uint64_t http_errors = 0;             // answered with a 4xx/5xx status
    uint64_t completions = 0;             // generation requests accepted (each counts its n choices once)
    uint64_t disconnects = 0;             // requests whose client went away (their requests cancelled)
    int active_requests = 0;              // generation requests not yet answered
};

class ApiServer {
public:
    // Without a scheduler every model endpoint answers 503 ("loading") until set_scheduler().
    explicit ApiServer(ServerOptions options, std::shared_ptr<Scheduler> scheduler = nullptr);
    ~ApiServer();   // stop()
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Swaps the model being served (nullptr: 503 until the next one). Requests already running
    // keep the scheduler they started on alive until they finish.
    void set_scheduler(std::shared_ptr<Scheduler> scheduler);

    // Binds and starts serving on background threads. Throws Error(InvalidArgument) for a
    // non-loopback host without an API key, Error(DeviceError) when the address cannot be bound.
    void start();
    // New requests get 503, running ones are cancelled (streams end with an error event), then
    // the threads are joined. Idempotent.
    void stop();

    bool running() const;
    int port() const;                     // the bound port (after start())
    std::string url() const;              // "http://127.0.0.1:8080"
    ServerStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// True for 127.0.0.0/8, ::1 and "localhost": addresses other machines cannot reach.
bool is_loopback_host(const std::string& host);

} // namespace mmfree
