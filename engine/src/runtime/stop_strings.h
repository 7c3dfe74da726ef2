// SPDX-License-Identifier: Apache-2.0
// Stop strings over streamed text: what may be shown now, and what must wait because the next
// token could complete a stop string. Shared by generate() and the batched scheduler.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace mmfree {

class StopStringFilter {
public:
    explicit StopStringFilter(const std::vector<std::string>& stops);   // empty strings are ignored

    // Adds newly decoded text; returns the part that can be shown now. When a stop string
    // appears, stopped() becomes true and the returned text ends right before it.
    std::string push(std::string_view text);
    bool stopped() const { return stopped_; }
    // The text still held back (nothing after a stop).
    std::string flush();

private:
    std::vector<std::string> stops_;
    std::string pending_;
    bool stopped_ = false;
};

} // namespace mmfree
