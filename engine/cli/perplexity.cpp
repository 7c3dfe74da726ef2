// SPDX-License-Identifier: Apache-2.0
// `mmfree perplexity`: held-out perplexity of text files, by the training code's protocol
// (see runtime/perplexity.h and tools/train/README.md), as one JSON object.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "args.h"
#include "mmfree/model.h"
#include "mmfree/tokenizer.h"
#include "runtime/perplexity.h"

namespace mmfree::cli {

int cmd_perplexity(const Args& a) {
    a.allow_only({"-m", "--model", "--ctx", "--backend", "--device", "--threads", "--cpu-weights", "-v"});
    if (a.positional().empty()) throw Error(ErrorCode::InvalidArgument, "perplexity needs at least one text FILE");
    const int ctx = a.get_int("--ctx", 1024);
    if (ctx < 2) throw Error(ErrorCode::InvalidArgument, "--ctx must be at least 2");
    const auto t0 = std::chrono::steady_clock::now();
    auto model = load_model(model_path(a));
    auto tokenizer = Tokenizer::for_model(*model);
    std::string note;
    auto exec = create_executor(model, backend_from(a), &note);
    if (!note.empty()) std::fprintf(stderr, "mmfree: %s\n", note.c_str());

    nlohmann::json files = nlohmann::json::array();
    PerplexityResult total;
    size_t total_bytes = 0;
    for (const auto& file : a.positional()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) throw Error(ErrorCode::FileNotFound, "cannot read " + file);
        std::ostringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        // The whole file in one call, no BOS/EOS: the windows add BOS themselves.
        const auto ids = tokenizer->encode(text, false);
        const bool tty = a.has("-v");
        const auto r = evaluate_perplexity(*exec, ids, ctx, model->config.bos_token_id, [&](size_t done, size_t all) {
            if (tty) std::fprintf(stderr, "\r%s: %zu / %zu tokens", file.c_str(), done, all);
        });
        if (tty) std::fprintf(stderr, "\n");
        total.tokens += r.tokens;
        total.windows += r.windows;
        total.nll_sum += r.nll_sum;
        total_bytes += text.size();
        files.push_back({{"file", file}, {"tokens", r.tokens}, {"nll", r.nll()}, {"ppl", r.ppl()},
                         {"bits_per_byte", text.empty() ? 0.0 : r.nll_sum / std::log(2.0) / double(text.size())}});
    }
    nlohmann::json j;
    j["model"] = model->source.string();
    j["backend"] = exec->backend_name();
    j["ctx"] = ctx;
    j["protocol"] = "per file: ids = encode(text) without BOS/EOS; windows of ctx tokens; each reads [BOS]+window[:-1] "
                    "from a zero state and predicts every window token; ppl = exp(sum NLL / tokens)";
    j["files"] = files;
    j["windows"] = total.windows;
    j["tokens"] = total.tokens;
    j["nll"] = total.nll();
    j["ppl"] = total.ppl();
    j["bits_per_byte"] = total_bytes ? total.nll_sum / std::log(2.0) / double(total_bytes) : 0.0;
    j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
}

} // namespace mmfree::cli
