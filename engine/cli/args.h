// SPDX-License-Identifier: Apache-2.0
// A small option parser for the `mmfree` subcommands: --name value, -x value, --flag, positionals.
#pragma once
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mmfree/backend.h"
#include "mmfree/error.h"
#include "mmfree/sampler.h"

namespace mmfree::cli {

class Args {
public:
    // flags: options that take no value. Every other "-x"/"--x" takes the next argument.
    Args(int argc, char** argv, int first, const std::set<std::string>& flags);

    bool has(const std::string& name) const { return values_.count(name) > 0; }
    std::string get(const std::string& name, const std::string& fallback = "") const;
    std::vector<std::string> get_all(const std::string& name) const;
    int get_int(const std::string& name, int fallback) const;
    double get_double(const std::string& name, double fallback) const;
    const std::vector<std::string>& positional() const { return positional_; }
    // Throws InvalidArgument naming the first option not in `known`.
    void allow_only(const std::set<std::string>& known) const;

private:
    std::multimap<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

SamplingParams sampling_from(const Args& a);
BackendOptions backend_from(const Args& a);
std::vector<int32_t> parse_ids(const std::string& csv);
std::filesystem::path model_path(const Args& a);   // -m, else default_model_path(); throws when none

int cmd_run(const Args& a);
int cmd_batch(const Args& a);
int cmd_logits(const Args& a);
int cmd_info(const Args& a);
int cmd_tokenize(const Args& a);
int cmd_bench(const Args& a);
int cmd_convert(const Args& a);
int cmd_perplexity(const Args& a);
int cmd_serve(const Args& a);

} // namespace mmfree::cli
