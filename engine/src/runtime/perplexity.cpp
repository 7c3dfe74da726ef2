// SPDX-License-Identifier: Apache-2.0
#include "runtime/perplexity.h"

#include <algorithm>

#include "mmfree/error.h"

namespace mmfree {

PerplexityResult evaluate_perplexity(Executor& ex, const std::vector<int32_t>& ids, int window, int32_t bos,
                                     const std::function<void(size_t, size_t)>& progress) {
    if (window < 2) throw Error(ErrorCode::InvalidArgument, "the perplexity window must be at least 2 tokens");
    const int V = ex.model().config.vocab_size;
    for (int32_t t : ids)
        if (t < 0 || t >= V)
            throw Error(ErrorCode::InvalidArgument, "token id " + std::to_string(t) + " is outside the model's vocabulary (0.." + std::to_string(V - 1) + ")");
    if (bos >= V) throw Error(ErrorCode::InvalidArgument, "the BOS id " + std::to_string(bos) + " is outside the vocabulary");
    PerplexityResult r;
    std::vector<int32_t> input;
    std::vector<float> logits;
    for (size_t start = 0; start < ids.size(); start += size_t(window)) {
        const size_t n = std::min(size_t(window), ids.size() - start);
        const int32_t* chunk = &ids[start];
        input.clear();
        if (bos >= 0) input.push_back(bos);
        input.insert(input.end(), chunk, chunk + n - 1);   // the last token is only predicted
        const int32_t* target = bos >= 0 ? chunk : chunk + 1;
        if (input.empty()) continue;                        // one token without BOS: nothing to predict
        logits.resize(input.size() * size_t(V));
        ex.reset_state();
        ex.forward(input.data(), input.size(), logits.data(), true);
        for (size_t i = 0; i < input.size(); ++i) {
            // −log softmax(row)[target], with the maximum subtracted for range; summed in double.
            const float* row = &logits[i * size_t(V)];
            const float mx = *std::max_element(row, row + V);
            double sum = 0;
            for (int v = 0; v < V; ++v) sum += std::exp(double(row[v]) - mx);
            r.nll_sum += std::log(sum) + mx - double(row[target[i]]);
        }
        r.tokens += input.size();
        ++r.windows;
        if (progress) progress(start + n, ids.size());
    }
    ex.reset_state();
    return r;
}

} // namespace mmfree
