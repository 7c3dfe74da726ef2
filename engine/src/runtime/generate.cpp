// SPDX-License-Identifier: Apache-2.0
#include "mmfree/generate.h"

#include <chrono>

#include "mmfree/error.h"
#include "runtime/stop_strings.h"

namespace mmfree {
namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

} // namespace

GenerateResult generate(Session& session, const Tokenizer& tokenizer, const std::string& prompt, const GenerateOptions& options,
                        const GenerateCallbacks& cb) {
    if (prompt.empty() && session.position() == 0)
        throw Error(ErrorCode::InvalidArgument, "the prompt is empty: give some text to continue");
    if (options.max_tokens < 0) throw Error(ErrorCode::InvalidArgument, "max_tokens must not be negative");
    const Model& model = session.model();
    GenerateResult result;
    const auto t_start = Clock::now();

    std::vector<int32_t> history = tokenizer.encode(prompt, session.position() == 0 && model.add_bos);
    if (history.empty()) throw Error(ErrorCode::InvalidArgument, "the prompt encodes to no tokens");
    result.metrics.prompt_tokens = int(history.size());
    session.prefill(history);
    const auto t_prefilled = Clock::now();
    result.metrics.prefill_ms = ms_between(t_start, t_prefilled);
    result.metrics.prefill_tok_s = history.size() / std::max(1e-9, result.metrics.prefill_ms / 1000.0);

    StopStringFilter stops(options.stop_strings);
    Sampler sampler(options.sampling);
    StreamingDecoder decoder(tokenizer);
    auto emit = [&](std::string_view text) {
        if (text.empty()) return;
        result.text += text;
        if (cb.on_text) cb.on_text(text);
    };

    auto t_prev = t_prefilled;
    Clock::time_point t_first{};
    result.reason = StopReason::MaxTokens;
    for (int i = 0; i < options.max_tokens; ++i) {
        if (cb.cancel && cb.cancel->load(std::memory_order_relaxed)) { result.reason = StopReason::Cancelled; break; }
        const int32_t tok = sampler.sample(session.last_logits(), history);
        if (options.stop_at_eos && tok == model.config.eos_token_id) { result.reason = StopReason::Eos; break; }
        history.push_back(tok);
        result.tokens.push_back(tok);
        emit(stops.push(decoder.push(tok)));
        const bool stopped = stops.stopped();

        const auto now = Clock::now();
        if (i == 0) { t_first = now; result.metrics.ttft_ms = ms_between(t_start, now); }
        TokenMetrics tm;
        tm.index = i;
        tm.latency_ms = ms_between(t_prev, now);
        tm.stages = session.executor().last_stage_times();
        result.metrics.token_latency_ms.push_back(tm.latency_ms);
        if (cb.on_token_metrics) cb.on_token_metrics(tm);
        t_prev = now;

        session.step(tok);  // the state always covers everything emitted
        if (stopped) { result.reason = StopReason::StopString; break; }
    }
    if (result.reason != StopReason::StopString) emit(stops.flush() + decoder.flush());

    result.metrics.generated_tokens = int(result.tokens.size());
    if (result.tokens.size() > 1) {
        const double ms = ms_between(t_first, Clock::now());
        result.metrics.decode_tok_s = (result.tokens.size() - 1) / std::max(1e-9, ms / 1000.0);
    }
    return result;
}

} // namespace mmfree
