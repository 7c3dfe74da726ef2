// SPDX-License-Identifier: Apache-2.0
#include "serve/prefix_cache.h"

#include <algorithm>

namespace mmfree {
namespace {

// A rolling hash over token ids: the hashes of every prefix of a prompt come from one pass, so a
// lookup costs one hash-table probe per prompt length instead of comparing against every entry.
constexpr uint64_t kHashMultiplier = 0x9E3779B97F4A7C15ull;
uint64_t extend_hash(uint64_t h, int32_t token) { return (h ^ (uint64_t(uint32_t(token)) + 1)) * kHashMultiplier + 0x632BE59BD9B4E019ull; }

uint64_t hash_of(const std::vector<int32_t>& tokens) {
    uint64_t h = 0;
    for (int32_t t : tokens) h = extend_hash(h, t);
    return h;
}

} // namespace

void PrefixCache::erase(std::list<Entry>::iterator it) {
    bytes_ -= it->bytes();
    by_hash_.erase(it->hash);
    lru_.erase(it);
}

void PrefixCache::insert(const std::vector<int32_t>& tokens, std::vector<float> state) {
    if (tokens.empty()) return;
    const uint64_t h = hash_of(tokens);
    if (auto found = by_hash_.find(h); found != by_hash_.end()) erase(found->second);   // same sequence (or a collision): the newest wins
    Entry e{h, tokens, std::move(state)};
    if (e.bytes() > budget_) return;
    while (!lru_.empty() && bytes_ + e.bytes() > budget_) erase(std::prev(lru_.end()));
    bytes_ += e.bytes();
    lru_.push_front(std::move(e));
    by_hash_[h] = lru_.begin();
}

PrefixCache::Hit PrefixCache::longest_proper_prefix(const std::vector<int32_t>& prompt) {
    if (lru_.empty() || prompt.size() < 2) return {};
    std::vector<uint64_t> prefix_hash(prompt.size());   // prefix_hash[n-1]: hash of prompt[0..n)
    uint64_t h = 0;
    for (size_t i = 0; i < prompt.size(); ++i) prefix_hash[i] = h = extend_hash(h, prompt[i]);
    for (size_t n = prompt.size() - 1; n >= 1; --n) {
        auto found = by_hash_.find(prefix_hash[n - 1]);
        if (found == by_hash_.end()) continue;
        auto it = found->second;
        if (it->tokens.size() != n || !std::equal(it->tokens.begin(), it->tokens.end(), prompt.begin())) continue;   // a collision
        lru_.splice(lru_.begin(), lru_, it);
        return {n, &it->state};
    }
    return {};
}

} // namespace mmfree
