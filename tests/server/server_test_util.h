// SPDX-License-Identifier: Apache-2.0
// Shared by the server suites: the demo model, an in-process ApiServer on a free loopback port,
// and a small HTTP client on cpp-httplib.
#pragma once
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "mmfree/backend.h"
#include "mmfree/model.h"
#include "mmfree/scheduler.h"
#include "mmfree/server.h"
#include "mmfree/tokenizer.h"

namespace testutil {

using nlohmann::json;

struct Demo {
    std::shared_ptr<const mmfree::Model> model;
    std::shared_ptr<const mmfree::Tokenizer> tokenizer;

    static Demo& get() {
        static Demo d = [] {
            Demo x;
            x.model = mmfree::load_model(MMFREE_DEMO_MODEL);
            x.tokenizer = mmfree::Tokenizer::for_model(*x.model);
            return x;
        }();
        return d;
    }

    std::shared_ptr<mmfree::Scheduler> scheduler(int slot_count = 4, size_t cache_bytes = size_t(64) << 20, int max_queue = 256) const {
        mmfree::BackendOptions bo;
        bo.backend = "cpu";
        bo.slot_count = slot_count;
        mmfree::SchedulerOptions so;
        so.prefix_cache_bytes = cache_bytes;
        so.max_queue = max_queue;
        return std::make_shared<mmfree::Scheduler>(mmfree::create_executor(model, bo), tokenizer, so);
    }
};

inline mmfree::ServerOptions loopback_options() {
    mmfree::ServerOptions o;
    o.port = 0;
    return o;
}

struct Reply {
    int status = 0;   // 0: no response (connection failed)
    httplib::Error error = httplib::Error::Success;
    std::string body;
    httplib::Headers headers;
    json json_body() const { return json::parse(body, nullptr, false); }
};

class Client {
public:
    explicit Client(int port) : port_(port) {}
    std::string api_key;
    httplib::Headers extra;

    Reply send(const std::string& method, const std::string& path, const std::string& body = {},
               const std::function<bool(const char*, size_t)>& on_data = {}) const {
        httplib::Client cli("127.0.0.1", port_);
        cli.set_read_timeout(120, 0);
        httplib::Request req;
        req.method = method;
        req.path = path;
        req.headers = extra;
        if (!api_key.empty()) req.set_header("Authorization", "Bearer " + api_key);
        if (!body.empty() || method == "POST") {
            req.body = body;
            req.set_header("Content-Type", "application/json");
        }
        Reply reply;
        if (on_data)
            req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
                reply.body.append(d, n);
                return on_data(d, n);
            };
        httplib::Response res;
        httplib::Error err = httplib::Error::Success;
        if (!cli.send(req, res, err) && res.status <= 0) {
            reply.error = err;
            return reply;
        }
        reply.status = res.status;
        if (!on_data) reply.body = res.body;
        reply.headers = res.headers;
        return reply;
    }
    Reply get(const std::string& path) const { return send("GET", path); }
    Reply post(const std::string& path, const json& body) const { return send("POST", path, body.dump()); }

private:
    int port_;
};

// The "data: " payloads of an SSE body, in order ("[DONE]" included); comments skipped.
inline std::vector<std::string> sse_events(const std::string& body) {
    std::vector<std::string> events;
    size_t at = 0;
    while (at < body.size()) {
        size_t end = body.find("\n\n", at);
        if (end == std::string::npos) break;
        const std::string block = body.substr(at, end - at);
        if (block.rfind("data: ", 0) == 0) events.push_back(block.substr(6));
        at = end + 2;
    }
    return events;
}

// A gauge or counter's value from Prometheus text; -1 when absent.
inline double metric(const std::string& text, const std::string& name) {
    size_t at = 0;
    while ((at = text.find(name, at)) != std::string::npos) {
        const bool line_start = at == 0 || text[at - 1] == '\n';
        const size_t after = at + name.size();
        if (line_start && after < text.size() && text[after] == ' ') return std::stod(text.substr(after + 1));
        at = after;
    }
    return -1;
}

} // namespace testutil
