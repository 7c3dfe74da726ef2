// SPDX-License-Identifier: Apache-2.0
// Rows of logits for the device samplers' tests (Vulkan's sample.comp, CUDA's sample.cu): each
// device must pick Sampler::draw's token on every row.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mmfree/backend.h"
#include "mmfree/sampler.h"

namespace mmfree::testkit {

struct SampleRows {
    size_t V = 0;
    std::vector<float> logits;            // rows × V
    std::vector<sampling::Draw> draws;    // one per row
};

// Rows a model would rarely give, each with its own rules: flat and peaked, few distinct values
// (ties broken by id), -0, NaN and infinite logits; temperatures 0 to 1.6, every top-k / top-p /
// min-p kind (min-p above 1 keeps nothing: the argmax); vocabularies of 1, 3, 97, 1000 (64 rows
// each) and 32000 (24 rows).
std::vector<SampleRows> hostile_sample_rows(uint64_t seed);

// "" when got[r] is the host's Sampler::draw on every row, else the first difference.
std::string check_host_draws(const SampleRows& rows, const std::vector<int32_t>& got);

// Through the Scheduler, on executors from `make` (at least 4 slots): six requests of every
// sampling rule, with prompts and lengths that make them join and leave, run twice: drawn on the
// device, then with log-probabilities asked for (every row read back and drawn on the host). ""
// when every request gets its full length and the same tokens both times, else what differs.
std::string check_scheduled_draws(const std::function<std::unique_ptr<Executor>()>& make);

} // namespace mmfree::testkit
