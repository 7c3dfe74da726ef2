// SPDX-License-Identifier: Apache-2.0
#include "runtime/stop_strings.h"

#include <algorithm>

namespace mmfree {
namespace {

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that much
// must be held back, because the next token may complete the stop string.
size_t held_suffix(const std::string& text, const std::vector<std::string>& stops) {
    size_t hold = 0;
    for (const auto& s : stops)
        for (size_t n = std::min(s.size() - 1, text.size()); n > hold; --n)
            if (text.compare(text.size() - n, n, s, 0, n) == 0) { hold = n; break; }
    return hold;
}

} // namespace

StopStringFilter::StopStringFilter(const std::vector<std::string>& stops) {
    for (const auto& s : stops)
        if (!s.empty()) stops_.push_back(s);
}

std::string StopStringFilter::push(std::string_view text) {
    if (stopped_) return {};
    pending_ += text;
    for (const auto& s : stops_) {   // each cut shortens pending_, so the earliest stop wins
        const size_t at = pending_.find(s);
        if (at != std::string::npos) { pending_.resize(at); stopped_ = true; }
    }
    const size_t hold = stopped_ ? 0 : held_suffix(pending_, stops_);
    std::string ready = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return ready;
}

std::string StopStringFilter::flush() {
    std::string rest;
    rest.swap(pending_);
    return rest;
}

} // namespace mmfree
