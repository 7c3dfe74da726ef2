// SPDX-License-Identifier: Apache-2.0
// Recurrent states of earlier token sequences, for resuming a prompt that extends one of them.
// A recurrent model's whole context is its L×D state, so one entry is one sequence's state.
#pragma once
#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

namespace mmfree {

class PrefixCache {
public:
    explicit PrefixCache(size_t budget_bytes) : budget_(budget_bytes) {}

    // Keeps the state reached after feeding exactly `tokens`; evicts the least recently used
    // entries to stay within the budget (a state larger than the whole budget is not kept).
    void insert(const std::vector<int32_t>& tokens, std::vector<float> state);

    struct Hit {
        size_t length = 0;                  // tokens the state covers (0 = no hit)
        const std::vector<float>* state = nullptr;   // valid until the next insert
    };
    // The longest cached sequence that is a proper prefix of `prompt` (at least one prompt token
    // is left to feed, because the next token's logits come from feeding it). Marks it recently used.
    Hit longest_proper_prefix(const std::vector<int32_t>& prompt);

    size_t bytes() const { return bytes_; }
    size_t entries() const { return lru_.size(); }

private:
    struct Entry {
        uint64_t hash;
        std::vector<int32_t> tokens;
        std::vector<float> state;
        size_t bytes() const { return tokens.size() * sizeof(int32_t) + state.size() * sizeof(float) + sizeof(Entry); }
    };
    void erase(std::list<Entry>::iterator it);

    size_t budget_;
    size_t bytes_ = 0;
    std::list<Entry> lru_;   // most recently used first
    std::unordered_map<uint64_t, std::list<Entry>::iterator> by_hash_;   // hash of the whole token sequence
};

} // namespace mmfree
