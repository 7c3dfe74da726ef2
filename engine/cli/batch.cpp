// SPDX-License-Identifier: Apache-2.0
// `mmfree batch`: every line of a JSONL file as one request of one continuously batched job.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "args.h"
#include "mmfree/model.h"
#include "mmfree/scheduler.h"
#include "mmfree/tokenizer.h"

namespace mmfree::cli {
namespace {

std::atomic<bool> g_batch_interrupted{false};

struct PromptLine {
    int line = 0;   // 1-based, in the input file
    std::vector<int32_t> ids;
};

std::vector<PromptLine> read_prompts(const std::string& path, const Model& model, const Tokenizer* tokenizer) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorCode::FileNotFound, "cannot read the prompts file " + path);
    std::vector<PromptLine> prompts;
    std::string text;
    const int V = model.config.vocab_size;
    for (int line = 1; std::getline(in, text); ++line) {
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;   // blank lines carry no prompt
        const std::string where = path + ":" + std::to_string(line) + ": ";
        auto bad = [&](const std::string& why) { throw Error(ErrorCode::InvalidArgument, where + why); };
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(text);
        } catch (const nlohmann::json::parse_error&) {
            bad("not valid JSON; each line must be {\"ids\":[...]} or {\"prompt\":\"...\"}");
        }
        if (!j.is_object()) bad("expected a JSON object {\"ids\":[...]} or {\"prompt\":\"...\"}");
        const bool has_ids = j.contains("ids"), has_prompt = j.contains("prompt");
        if (has_ids == has_prompt) bad("give exactly one of \"ids\" (token ids) and \"prompt\" (text)");
        PromptLine p{line, {}};
        if (has_ids) {
            if (!j["ids"].is_array() || j["ids"].empty()) bad("\"ids\" must be a non-empty array of token ids");
            for (const auto& id : j["ids"]) {
                if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= V)
                    bad("\"ids\" holds " + id.dump() + ", not a token id of this model (0.." + std::to_string(V - 1) + ")");
                p.ids.push_back(int32_t(id.get<int64_t>()));
            }
        } else {
            if (!j["prompt"].is_string() || j["prompt"].get<std::string>().empty()) bad("\"prompt\" must be a non-empty string");
            if (!tokenizer) bad("\"prompt\" needs the model's tokenizer, and this model has none; give \"ids\" instead");
            p.ids = tokenizer->encode(j["prompt"].get<std::string>(), model.add_bos);
            if (p.ids.empty()) bad("the prompt encodes to no tokens");
        }
        prompts.push_back(std::move(p));
    }
    if (prompts.empty()) throw Error(ErrorCode::InvalidArgument, "the prompts file " + path + " holds no prompts");
    return prompts;
}

const char* finish_reason(StopReason r) {
    switch (r) {
    case StopReason::Eos: return "eos";
    case StopReason::StopString: return "stop";
    case StopReason::MaxTokens: return "length";
    case StopReason::Cancelled: return "cancelled";
    }
    return "unknown";
}

} // namespace

int cmd_batch(const Args& a) {
    a.allow_only({"-m", "--model", "--prompts", "-n", "-o", "--parallel", "--greedy", "--ignore-eos", "--temp", "--top-k", "--top-p",
                  "--min-p", "--repeat-penalty", "--repeat-last-n", "--frequency-penalty", "--presence-penalty", "--seed", "--stop",
                  "--prefill-chunk", "--backend", "--device", "--threads", "--cpu-weights", "-v"});
    if (!a.has("--prompts")) throw Error(ErrorCode::InvalidArgument, "batch needs --prompts FILE.jsonl (one {\"ids\":[...]} or {\"prompt\":\"...\"} per line)");
    if (!a.has("-o")) throw Error(ErrorCode::InvalidArgument, "batch needs -o OUT.jsonl (one {\"ids\":[...],\"text\":\"...\"} per prompt line)");
    const int max_tokens = a.get_int("-n", 128);
    const int parallel = a.get_int("--parallel", 64);
    if (max_tokens < 0) throw Error(ErrorCode::InvalidArgument, "-n must be ≥ 0");
    if (parallel < 1) throw Error(ErrorCode::InvalidArgument, "--parallel must be ≥ 1");
    GenerateOptions options;
    if (a.has("--greedy")) {
        for (const char* o : {"--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty", "--frequency-penalty", "--presence-penalty", "--seed"})
            if (a.has(o)) throw Error(ErrorCode::InvalidArgument, std::string("--greedy takes the most likely token every time; drop ") + o);
        options.sampling.temperature = 0;
        options.sampling.repetition_penalty = 1;
    } else {
        options.sampling = sampling_from(a);
        options.sampling.frequency_penalty = float(a.get_double("--frequency-penalty", 0));
        options.sampling.presence_penalty = float(a.get_double("--presence-penalty", 0));
    }
    options.max_tokens = max_tokens;
    options.stop_strings = a.get_all("--stop");
    options.stop_at_eos = !a.has("--ignore-eos");

    auto model = load_model(model_path(a));
    std::shared_ptr<const Tokenizer> tokenizer;
    if (!model->tokenizer_path.empty() || !model->tokenizer_model.empty()) tokenizer = Tokenizer::for_model(*model);
    if (!tokenizer && !options.stop_strings.empty())
        throw Error(ErrorCode::InvalidArgument, "--stop needs the model's tokenizer, and this model has none");
    const std::vector<PromptLine> prompts = read_prompts(a.get("--prompts"), *model, tokenizer.get());
    std::ofstream out(a.get("-o"));
    if (!out) throw Error(ErrorCode::FileNotFound, "cannot write " + a.get("-o"));

    BackendOptions bo = backend_from(a);
    bo.slot_count = int(std::min<size_t>(prompts.size(), size_t(parallel)));
    std::string note;
    auto executor = create_executor(model, bo, &note);
    if (!note.empty()) std::fprintf(stderr, "mmfree: %s\n", note.c_str());
    const std::string backend = executor->backend_name();
    if (a.has("-v")) std::fprintf(stderr, "mmfree: %s on %s, %d slots\n", backend.c_str(), executor->device_name().c_str(), bo.slot_count);

    SchedulerOptions so;
    so.max_queue = int(prompts.size());
    so.prefill_chunk = a.get_int("--prefill-chunk", so.prefill_chunk);
    so.prefix_cache_bytes = 0;   // one pass over distinct prompts: nothing to resume
    std::vector<FinishEvent> results(prompts.size());
    std::mutex mu;
    std::condition_variable done_cv;
    size_t done = 0;
    const auto t0 = std::chrono::steady_clock::now();
    std::signal(SIGINT, [](int) { g_batch_interrupted = true; });
    {
        Scheduler scheduler(std::move(executor), tokenizer, so);
        for (size_t i = 0; i < prompts.size(); ++i) {
            Request r;
            r.prompt = prompts[i].ids;
            r.options = options;
            r.options.sampling.seed = options.sampling.seed + i;   // each line its own stream, reproducible
            r.on_finish = [&, i](const FinishEvent& f) {
                std::lock_guard lock(mu);
                results[i] = f;
                ++done;
                done_cv.notify_all();
            };
            scheduler.submit(std::move(r));
        }
        std::unique_lock lock(mu);
        while (done < prompts.size() && !g_batch_interrupted) done_cv.wait_for(lock, std::chrono::milliseconds(100));
    }   // the scheduler's destructor cancels whatever an interrupt left running
    if (g_batch_interrupted) throw Error(ErrorCode::Cancelled, "interrupted; " + a.get("-o") + " was not written");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    size_t prompt_tokens = 0, generated = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
        const FinishEvent& f = results[i];
        if (!f.error.empty())
            throw Error(ErrorCode::DeviceError, a.get("--prompts") + ":" + std::to_string(prompts[i].line) + ": generation failed: " + f.error);
        nlohmann::json line = {{"ids", f.tokens}, {"text", f.text}, {"finish_reason", finish_reason(f.reason)}};
        out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        prompt_tokens += size_t(f.prompt_tokens);
        generated += f.tokens.size();
    }
    out.close();
    if (!out) throw Error(ErrorCode::FileNotFound, "writing " + a.get("-o") + " failed (disk full?)");
    std::fprintf(stderr, "[%zu prompts, %zu prompt tokens, %zu generated in %.2f s: %.1f tok/s aggregate; %d slots on %s]\n", prompts.size(),
                 prompt_tokens, generated, seconds, generated / std::max(1e-9, seconds), bo.slot_count, backend.c_str());
    return 0;
}

} // namespace mmfree::cli
