// SPDX-License-Identifier: Apache-2.0
// `mmfree serve`: the OpenAI-compatible HTTP server on the continuously batched scheduler.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "args.h"
#include "mmfree/model.h"
#include "mmfree/scheduler.h"
#include "mmfree/server.h"
#include "mmfree/tokenizer.h"

namespace mmfree::cli {

int cmd_serve(const Args& a) {
    a.allow_only({"-m", "--model", "--backend", "--device", "--threads", "--cpu-weights", "--host", "--port", "--parallel", "--api-key", "--cors-origin",
                  "--chat-template", "--model-id", "--max-queue", "--max-prompt-tokens", "--max-tokens", "--max-n", "--max-connections",
                  "--max-body", "--timeout", "--prefix-cache-mb", "-v"});
    ServerOptions so;
    so.host = a.get("--host", so.host);
    so.port = a.get_int("--port", so.port);
    so.api_key = a.get("--api-key", "");
    if (so.api_key.empty())
        if (const char* env = std::getenv("MMFREE_API_KEY")) so.api_key = env;
    so.cors_origins = a.get_all("--cors-origin");
    so.model_id = a.get("--model-id", "");
    if (a.has("--chat-template")) so.chat_template = ChatTemplate::load(a.get("--chat-template"));
    so.max_prompt_tokens = a.get_int("--max-prompt-tokens", so.max_prompt_tokens);
    so.max_tokens_limit = a.get_int("--max-tokens", so.max_tokens_limit);
    so.default_max_tokens = std::min(so.default_max_tokens, so.max_tokens_limit);
    so.max_n = a.get_int("--max-n", so.max_n);
    so.max_connections = a.get_int("--max-connections", so.max_connections);
    so.max_body_bytes = size_t(a.get_int("--max-body", int(so.max_body_bytes >> 10))) << 10;
    so.read_timeout_s = so.write_timeout_s = a.get_int("--timeout", so.read_timeout_s);
    const int parallel = a.get_int("--parallel", 8);
    if (parallel < 1 || parallel > 1024) throw Error(ErrorCode::InvalidArgument, "--parallel must be in 1..1024 (sequence slots)");
    if (so.max_prompt_tokens < 1 || so.max_tokens_limit < 1 || so.max_n < 1 || so.max_connections < 1 || so.read_timeout_s < 1)
        throw Error(ErrorCode::InvalidArgument, "--max-prompt-tokens, --max-tokens, --max-n, --max-connections and --timeout must be ≥ 1");
    SchedulerOptions sched_opt;
    sched_opt.max_queue = a.get_int("--max-queue", sched_opt.max_queue);
    sched_opt.prefix_cache_bytes = size_t(a.get_int("--prefix-cache-mb", int(sched_opt.prefix_cache_bytes >> 20))) << 20;

    // Block the stop signals before any thread starts, so only sigwait() below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    // Listen first: while the model loads, /health and the model endpoints answer 503.
    ApiServer server(so);
    server.start();
    std::printf("mmfree serve: listening on %s\n", server.url().c_str());
    std::fflush(stdout);

    auto model = load_model(model_path(a));
    std::shared_ptr<const Tokenizer> tokenizer = Tokenizer::for_model(*model);
    BackendOptions bo = backend_from(a);
    bo.slot_count = parallel;
    std::string note;
    auto executor = create_executor(model, bo, &note);
    if (!note.empty()) std::fprintf(stderr, "mmfree: %s\n", note.c_str());
    const std::string backend = executor->backend_name(), device = executor->device_name();
    const auto preparing = std::chrono::steady_clock::now();
    executor->prepare_batches();
    const double prepared_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - preparing).count();
    if (prepared_s >= 0.5) std::printf("mmfree serve: readied the kernels of every batch size in %.1f s\n", prepared_s);
    server.set_scheduler(std::make_shared<Scheduler>(std::move(executor), tokenizer, sched_opt));
    std::printf("mmfree serve: ready: %s on %s (%s), %d slots%s\n", model->source.filename().string().c_str(), backend.c_str(),
                device.c_str(), parallel, so.api_key.empty() ? "" : ", API key required");
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::printf("mmfree serve: stopping (%s)\n", sig == SIGINT ? "interrupt" : "terminate");
    std::fflush(stdout);
    server.stop();
    return 0;
}

} // namespace mmfree::cli
