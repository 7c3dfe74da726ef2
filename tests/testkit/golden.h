// SPDX-License-Identifier: Apache-2.0
// Golden cases (tests/data/<case>, from the reference implementation) and the MODEL_SPEC.md
// tolerance checks, shared by every backend's tests.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mmfree/backend.h"
#include "mmfree/model.h"

namespace mmfree::testkit {

struct GoldenCase {
    std::string name;
    std::string dir;
    std::shared_ptr<const Model> model;
    std::vector<int32_t> prompt;          // [T], BOS first
    std::vector<float> prefill_logits;    // [T,V]
    std::vector<float> hidden_states;     // [L+1,T,H]
    std::vector<int32_t> greedy_tokens;   // [24]
    std::vector<float> decode_logits;     // [23,V]
    std::vector<float> full_logits;       // [T+24,V]
    int V = 0, T = 0;
};

std::vector<std::string> golden_case_names();      // tiny-a, tiny-b, tiny-c-bf16
GoldenCase load_golden(const std::string& name);   // from MMFREE_TEST_DATA

double rel_l2(const std::vector<float>& a, const std::vector<float>& ref);
double argmax_agreement(const std::vector<float>& a, const std::vector<float>& ref, int V);  // fraction of rows

// The pass criterion of MODEL_SPEC.md: rel L2 ≤ 2e-2 and argmax agreement ≥ 95 %.
// Returns an empty string on success, else a message for QVERIFY2.
std::string check_tolerance(const std::vector<float>& got, const std::vector<float>& ref, int V, const std::string& what);

// Runs the full golden protocol on a fresh executor state: prefill logits, greedy decoding of 24
// tokens through the recurrent path (tokens and decode_logits), teacher-forced decode against
// full_logits, and save/restore of the state. Empty string on success.
std::string check_executor(Executor& executor, const GoldenCase& golden);

// The executor's diagnostics().extra_metrics() by name (a missing name reads 0 through []).
std::map<std::string, double> metrics_of(Executor& executor);

// decode_logits on one executor against decode's logits on another made alike (`make`, at least
// `slots` slots): steps of 1, 3 and all `slots` rows, in that order, on slots in reverse order.
// Empty when every row is equal bit for bit; else which step differs.
std::string check_decode_logits(const std::function<std::unique_ptr<Executor>()>& make, int slots);
// decode_sample on one executor against Sampler::draw on decode_logits' rows of another made alike:
// the same tokens, for greedy rows and rows of every sampling rule, steps of 1, 3 and `slots` rows.
std::string check_decode_sample(const std::function<std::unique_ptr<Executor>()>& make, int slots);

// Prompt i on slot i of `batched` (at least as many slots as prompts): all but each prompt's last
// token through prefill_many in two rounds (first at most `first_round` tokens each, then the
// rest; slots in reverse order), then every last token in one decode. `alone()` gives a fresh
// executor as batched was made, on which each prompt is prefilled by itself: in one prefill(), or
// with `alone_in_rounds` in the same two pieces (for a backend whose prompt scan rounds by the
// piece's length). Empty when every slot's state and logits row equal the prompt alone, bit for
// bit; else what differs.
std::string check_prefill_many(Executor& batched, const std::vector<std::vector<int32_t>>& prompts, size_t first_round,
                               const std::function<std::unique_ptr<Executor>()>& alone, bool alone_in_rounds = false);

} // namespace mmfree::testkit
