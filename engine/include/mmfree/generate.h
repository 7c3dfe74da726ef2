// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mmfree/metrics.h"
#include "mmfree/sampler.h"
#include "mmfree/session.h"
#include "mmfree/tokenizer.h"

namespace mmfree {

struct GenerateOptions {
    SamplingParams sampling;
    int max_tokens = 256;
    std::vector<std::string> stop_strings;   // generation ends before the first occurrence
    bool stop_at_eos = true;
};

enum class StopReason { Eos, StopString, MaxTokens, Cancelled };

struct GenerateResult {
    std::string text;                 // the continuation, stop string excluded
    std::vector<int32_t> tokens;      // generated ids (EOS excluded)
    StopReason reason = StopReason::MaxTokens;
    GenerationMetrics metrics;
};

struct GenerateCallbacks {
    std::function<void(std::string_view text)> on_text;        // complete UTF-8 pieces, in order
    std::function<void(const TokenMetrics&)> on_token_metrics;
    const std::atomic<bool>* cancel = nullptr;                 // polled once per token
};

// Continues the session with `prompt` (BOS added when the session is at position 0 and the
// model uses BOS) and samples until EOS, a stop string, max_tokens or cancellation. Every emitted
// token is fed back, so afterwards the session's state covers prompt + reply.
GenerateResult generate(Session& session, const Tokenizer& tokenizer, const std::string& prompt,
                        const GenerateOptions& options, const GenerateCallbacks& callbacks = {});

} // namespace mmfree
