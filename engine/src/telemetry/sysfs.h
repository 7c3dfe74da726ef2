// SPDX-License-Identifier: Apache-2.0
// Small readers for sysfs/procfs attribute files that keep errno, so a probe can tell a person
// "permission denied" apart from "no such sensor".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mmfree::telemetry::sysfs {

struct ReadResult {
    std::optional<std::string> text;  // file contents, trailing whitespace removed
    int error = 0;                    // errno when text is empty
};

ReadResult read_text(const std::string& path);
// Parses a whole file as one unsigned integer; error = EINVAL when it is not a number.
std::optional<uint64_t> read_u64(const std::string& path, int* error = nullptr);
// Entries of `dir` whose names start with `prefix`, sorted naturally (card2 before card10).
std::vector<std::string> list_dir(const std::string& dir, const std::string& prefix);
bool exists(const std::string& path);
std::string describe_errno(int error);

} // namespace mmfree::telemetry::sysfs
