// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "mmfree/backend.h"

namespace mmfree {

// One sequence on one executor: the recurrent state plus the tokens fed so far.
// The whole context is the L×D state, so save/restore is a copy, not a re-prefill.
class Session {
public:
    explicit Session(std::unique_ptr<Executor> executor);

    Executor& executor() { return *executor_; }
    const Model& model() const { return executor_->model(); }

    // Feeds tokens; returns the logits after the last one (V floats, valid until the next call).
    const std::vector<float>& prefill(const std::vector<int32_t>& tokens);
    const std::vector<float>& step(int32_t token);
    const std::vector<float>& last_logits() const { return logits_; }

    size_t position() const { return position_; }   // tokens fed since reset
    void reset();

    // Serialized state: a small header (magic, L, D, position) + L×D float32 + last logits.
    std::vector<uint8_t> save_state() const;
    void restore_state(const std::vector<uint8_t>& bytes);   // throws Error on a foreign/corrupt blob

private:
    void check_tokens(const int32_t* tokens, size_t count) const;

    std::unique_ptr<Executor> executor_;
    std::vector<float> logits_;
    size_t position_ = 0;
};

} // namespace mmfree
