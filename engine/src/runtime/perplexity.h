// SPDX-License-Identifier: Apache-2.0
// Held-out perplexity exactly as the training code evaluates it (tools/train/train.py,
// `eval_windows` / `evaluate`), so `mmfree perplexity` and training report the same number.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "mmfree/backend.h"

namespace mmfree {

struct PerplexityResult {
    size_t tokens = 0;     // predicted tokens
    size_t windows = 0;
    double nll_sum = 0;    // natural log
    double nll() const { return tokens ? nll_sum / double(tokens) : 0.0; }
    double ppl() const { return std::exp(nll()); }
};

// `ids` is the whole text encoded WITHOUT BOS/EOS. It is cut into non-overlapping windows of
// `window` tokens (the last may be shorter); each window starts from a zero state, reads
// [bos] + window[:-1] and is scored on every token of the window, so every token is predicted
// exactly once (the window's first token from BOS alone). With bos < 0 there is no BOS: the
// window reads window[:-1] and scores window[1:].
// progress(done_tokens, total_tokens) is called after each window.
PerplexityResult evaluate_perplexity(Executor& executor, const std::vector<int32_t>& ids, int window, int32_t bos,
                                     const std::function<void(size_t, size_t)>& progress = {});

} // namespace mmfree
