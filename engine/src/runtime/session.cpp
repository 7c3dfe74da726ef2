// SPDX-License-Identifier: Apache-2.0
#include "mmfree/session.h"

#include <cstring>

#include "mmfree/error.h"

namespace mmfree {

namespace {
constexpr uint32_t kStateMagic = 0x5346464d;  // "MFFS"
constexpr uint32_t kStateVersion = 1;
struct StateHeader {
    uint32_t magic, version, layers, state_dim, vocab, reserved;
    uint64_t position;
};
} // namespace

Session::Session(std::unique_ptr<Executor> executor) : executor_(std::move(executor)) {
    logits_.assign(size_t(executor_->model().config.vocab_size), 0.f);
}

void Session::check_tokens(const int32_t* tokens, size_t count) const {
    const int V = model().config.vocab_size;
    for (size_t i = 0; i < count; ++i)
        if (tokens[i] < 0 || tokens[i] >= V)
            throw Error(ErrorCode::InvalidArgument, "token id " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                                                        " is outside the vocabulary (0.." + std::to_string(V - 1) + ")");
}

const std::vector<float>& Session::prefill(const std::vector<int32_t>& tokens) {
    if (tokens.empty()) throw Error(ErrorCode::InvalidArgument, "nothing to process: the prompt is empty");
    check_tokens(tokens.data(), tokens.size());
    executor_->forward(tokens.data(), tokens.size(), logits_.data(), false);
    position_ += tokens.size();
    return logits_;
}

const std::vector<float>& Session::step(int32_t token) {
    check_tokens(&token, 1);
    executor_->forward(&token, 1, logits_.data(), false);
    ++position_;
    return logits_;
}

void Session::reset() {
    executor_->reset_state();
    position_ = 0;
    std::fill(logits_.begin(), logits_.end(), 0.f);
}

std::vector<uint8_t> Session::save_state() const {
    const auto& c = model().config;
    const std::vector<float> state = executor_->save_state();
    StateHeader h{kStateMagic, kStateVersion, uint32_t(c.num_layers), uint32_t(c.state_dim()), uint32_t(c.vocab_size), 0, position_};
    std::vector<uint8_t> out(sizeof h + (state.size() + logits_.size()) * sizeof(float));
    std::memcpy(out.data(), &h, sizeof h);
    std::memcpy(out.data() + sizeof h, state.data(), state.size() * sizeof(float));
    std::memcpy(out.data() + sizeof h + state.size() * sizeof(float), logits_.data(), logits_.size() * sizeof(float));
    return out;
}

void Session::restore_state(const std::vector<uint8_t>& bytes) {
    const auto& c = model().config;
    StateHeader h{};
    if (bytes.size() < sizeof h) throw Error(ErrorCode::CorruptFile, "saved state is truncated");
    std::memcpy(&h, bytes.data(), sizeof h);
    if (h.magic != kStateMagic || h.version != kStateVersion)
        throw Error(ErrorCode::CorruptFile, "saved state is not an MMfree session state (or from an incompatible version)");
    if (h.layers != uint32_t(c.num_layers) || h.state_dim != uint32_t(c.state_dim()) || h.vocab != uint32_t(c.vocab_size))
        throw Error(ErrorCode::InvalidArgument, "saved state belongs to a different model shape (" + std::to_string(h.layers) + "×" +
                                                    std::to_string(h.state_dim) + ")");
    const size_t n = size_t(h.layers) * h.state_dim;
    if (bytes.size() != sizeof h + (n + h.vocab) * sizeof(float)) throw Error(ErrorCode::CorruptFile, "saved state has the wrong size");
    std::vector<float> state(n);
    std::memcpy(state.data(), bytes.data() + sizeof h, n * sizeof(float));
    executor_->load_state(state);
    std::memcpy(logits_.data(), bytes.data() + sizeof h + n * sizeof(float), logits_.size() * sizeof(float));
    position_ = h.position;
}

} // namespace mmfree
