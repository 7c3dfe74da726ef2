// SPDX-License-Identifier: Apache-2.0
// `mmfree serve` as its own process under load on loopback: 64 concurrent streaming clients × 3
// requests, 200 malformed or oversized requests and 20 clients that hang up mid-stream, all at
// once, in two rounds. After each: still running, every well-formed request answered, no busy
// slot; after the second, RSS within 10 % of where the first left it; a clean exit on SIGTERM.
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "server_test_util.h"

using namespace testutil;

namespace {

long rss_kb(qint64 pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

// One streamed request; empty when it ended with a finish_reason and [DONE], else what went wrong.
std::string stream_once(const Client& c, const json& body) {
    auto r = c.send("POST", "/v1/chat/completions", body.dump(), [](const char*, size_t) { return true; });
    if (r.status != 200)
        return "HTTP status " + std::to_string(r.status) + " (" + httplib::to_string(r.error) + "): " + r.body.substr(0, 200);
    const auto events = sse_events(r.body);
    if (events.size() < 2 || events.back() != "[DONE]") return "no [DONE]: " + r.body.substr(0, 300);
    bool finished = false;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
        auto chunk = json::parse(events[i], nullptr, false);
        if (chunk.is_discarded() || !chunk.contains("choices")) return "bad chunk: " + events[i];
        for (const auto& ch : chunk["choices"])
            if (!ch["finish_reason"].is_null()) finished = true;
    }
    return finished ? "" : "no finish_reason";
}

// Bytes through a plain socket (not an HTTP client's request); reads until the server closes.
void raw_exchange(int port, const std::string& bytes) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        char buf[1024];
        while (::recv(fd, buf, sizeof buf, 0) > 0) {}
    }
    ::close(fd);
}

} // namespace

class TestServerLoad : public QObject {
    Q_OBJECT

    // One round of the mix, all at once; checks that every request got its answer and that every
    // slot is free afterwards.
    void load_round(const QProcess& server, int port, const json& chat, int round) {
        const Client c(port);
        std::atomic<int> streamed_ok{0}, streamed_bad{0}, rejected_ok{0}, rejected_bad{0}, hung_up{0};
        std::vector<std::thread> threads;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 64; ++i)
            threads.emplace_back([&, i] {
                for (int k = 0; k < 3; ++k) {
                    json body = chat;
                    body["messages"][0]["content"] = "Round " + std::to_string(round) + ", client " + std::to_string(i) + " asks for story " + std::to_string(k) + ".";
                    const std::string problem = stream_once(c, body);
                    if (problem.empty()) {
                        streamed_ok++;
                    } else if (streamed_bad++ == 0) {
                        qWarning("a stream failed: %s", problem.c_str());
                    }
                }
            });
        // 200 malformed or oversized requests: each must be refused with a 4xx (raw garbage: any answer or a close).
        const std::vector<std::pair<std::string, std::string>> bad = {
            {"/v1/chat/completions", "{\"messages\": ["},
            {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})"},
            {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"max_tokens":-1})"},
            {"/v1/completions", R"({"prompt":[1,-2,3]})"},
            {"/v1/completions", "{\"prompt\":\"" + std::string(80 << 10, 'x') + "\"}"},                 // > --max-body
            {"/v1/completions", "{\"prompt\":\"" + [] { std::string s; for (int i = 0; i < 1000; ++i) s += "word "; return s; }() + "\"}"},   // > --max-prompt-tokens
            {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"n":1000})"},
            {"/v1/nowhere", "{}"},
        };
        for (int w = 0; w < 4; ++w)
            threads.emplace_back([&, w] {
                for (int i = w; i < 200; i += 4) {
                    if (i % 10 == 9) {
                        raw_exchange(port, i % 20 == 9 ? "NOT HTTP AT ALL\r\n\r\n" : "POST /v1/completions HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"prompt\"");
                        rejected_ok++;
                        continue;
                    }
                    const auto& [path, body] = bad[size_t(i) % bad.size()];
                    const auto r = c.send("POST", path, body);
                    (r.status >= 400 && r.status < 500 && r.json_body().contains("error") ? rejected_ok : rejected_bad)++;
                }
            });
        // 20 clients that leave mid-stream.
        for (int i = 0; i < 20; ++i)
            threads.emplace_back([&] {
                json body = chat;
                body["max_tokens"] = 400;
                body["ignore_eos"] = true;
                int chunks = 0;
                c.send("POST", "/v1/chat/completions", body.dump(), [&](const char*, size_t) { return ++chunks < 3; });
                if (chunks >= 3) hung_up++;
            });
        for (auto& t : threads) t.join();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        qInfo("round %d: %.1f s", round, seconds);

        QCOMPARE(server.state(), QProcess::Running);   // 0 crashes
        QCOMPARE(streamed_bad.load(), 0);
        QCOMPARE(streamed_ok.load(), 64 * 3);          // every well-formed request answered
        QCOMPARE(rejected_bad.load(), 0);
        QCOMPARE(rejected_ok.load(), 200);
        QCOMPARE(hung_up.load(), 20);

        // Every slot let go: the cancelled streams too.
        std::string m;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        do {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            m = c.get("/metrics").body;
        } while ((metric(m, "mmfree_busy_slots") != 0 || metric(m, "mmfree_queue_depth") != 0 || metric(m, "mmfree_http_active_requests") != 0) &&
                 std::chrono::steady_clock::now() < until);
        QCOMPARE(metric(m, "mmfree_busy_slots"), 0.0);
        QCOMPARE(metric(m, "mmfree_queue_depth"), 0.0);
        QCOMPARE(metric(m, "mmfree_http_active_requests"), 0.0);
        QVERIFY(metric(m, "mmfree_http_disconnects_total") >= 20);
        QCOMPARE(metric(m, "mmfree_up"), 1.0);

    }

private Q_SLOTS:
    void load() {
        QProcess server;
        server.setProcessChannelMode(QProcess::ForwardedErrorChannel);
#if defined(__SANITIZE_ADDRESS__)
        // RSS is this test's measure, and ASan's quarantines keep freed blocks resident (up to
        // 256 MB, and 1 MB per thread), which would read as growth. LeakSanitizer still checks the
        // server's exit.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        const QString asan = env.value("ASAN_OPTIONS");
        env.insert("ASAN_OPTIONS", (asan.isEmpty() ? "" : asan + ":") + "quarantine_size_mb=0:thread_local_quarantine_size_kb=0");
        server.setProcessEnvironment(env);
#endif
        server.start(MMFREE_CLI, {"serve", "-m", MMFREE_DEMO_MODEL, "--backend", "cpu", "--port", "0", "--parallel", "16",
                                  "--max-connections", "160", "--max-body", "64", "--max-prompt-tokens", "512", "--prefix-cache-mb", "2"});
        QVERIFY(server.waitForStarted());
        QByteArray out;
        int port = 0;
        const auto ready_by = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!out.contains("ready:") && std::chrono::steady_clock::now() < ready_by) {
            server.waitForReadyRead(200);
            out += server.readAllStandardOutput();
        }
        QVERIFY2(out.contains("ready:"), out.constData());
        const int at = out.indexOf("http://127.0.0.1:");
        port = out.mid(at + 17, out.indexOf('\n', at) - at - 17).toInt();
        QVERIFY(port > 0);

        const json chat = {{"messages", {{{"role", "user"}, {"content", "Tell me a story."}}}}, {"max_tokens", 8}, {"temperature", 0.7},
                           {"top_p", 0.95}, {"stream", true}};
        // The first round also allocates what the process keeps (thread stacks and arenas, batch
        // buffers, the prefix cache up to its budget): RSS is measured from its end.
        load_round(server, port, chat, 0);
        if (QTest::currentTestFailed()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const long rss_start = rss_kb(server.processId());
        QVERIFY(rss_start > 0);
        load_round(server, port, chat, 1);
        if (QTest::currentTestFailed()) return;

        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const long rss_end = rss_kb(server.processId());
        qInfo("VmRSS after the first round %ld kB, after the second %ld kB", rss_start, rss_end);
        QVERIFY2(rss_end <= rss_start * 11 / 10, "RSS grew more than 10 % under load");

        server.terminate();   // SIGTERM: a clean shutdown
        QVERIFY(server.waitForFinished(20000));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestServerLoad)
#include "test_server_load.moc"
