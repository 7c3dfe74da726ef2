// SPDX-License-Identifier: Apache-2.0
// config.json → ModelConfig, with every check a person needs to understand a refusal.
#include <cstdio>
#include <cmath>
#include <nlohmann/json.hpp>

#include "format/json_words.h"

#include "mmfree/error.h"
#include "mmfree/model.h"

namespace mmfree {
using nlohmann::json;

namespace {

Error bad(const std::string& what) { return Error(ErrorCode::CorruptFile, "config.json: " + what); }

int get_int(const json& j, const char* key, int fallback, bool required, int lo, int hi) {
    if (!j.contains(key) || j[key].is_null()) {
        if (required) throw bad(std::string("missing required field \"") + key + "\"");
        return fallback;
    }
    const json& v = j[key];
    if (!v.is_number_integer()) throw bad(std::string("\"") + key + "\" must be an integer, found " + json_value_words(v));
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi)
        throw bad(std::string("\"") + key + "\" = " + std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
    return int(x);
}

bool get_bool(const json& j, const char* key, bool fallback) {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_boolean()) throw bad(std::string("\"") + key + "\" must be true or false");
    return j[key].get<bool>();
}

} // namespace

ModelConfig parse_config_json(const std::string& text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw bad("the file " + json_error_words(e));
    }
    if (!j.is_object()) throw bad("not a JSON object");
    if (j.contains("model_type") && j["model_type"] != "hgrn_bit")
        throw Error(ErrorCode::UnsupportedModel, "config.json: model_type is " + json_value_words(j["model_type"]) +
                                                     "; MMfree Studio runs MatMul-free models (model_type \"hgrn_bit\")");
    if (get_bool(j, "use_short_conv", false))
        throw Error(ErrorCode::UnsupportedModel,
                    "config.json: use_short_conv is true; short convolutions are not supported (no released MMfreeLM uses them)");
    if (get_bool(j, "tie_word_embeddings", false))
        throw Error(ErrorCode::UnsupportedModel, "config.json: tie_word_embeddings is true; HGRNBit models keep a separate ternary lm_head");

    ModelConfig c;
    c.vocab_size = get_int(j, "vocab_size", 0, true, 1, 1 << 20);
    c.hidden_size = get_int(j, "hidden_size", 0, true, 1, 1 << 16);
    c.num_layers = get_int(j, "num_hidden_layers", 0, true, 1, 1024);
    c.expand_ratio = get_int(j, "expand_ratio", 1, false, 1, 16);
    c.hidden_ratio = get_int(j, "hidden_ratio", 4, false, 1, 64);
    c.num_heads = get_int(j, "num_heads", 1, false, 1, 1 << 16);
    // Token ids are 0 or more; a model without a BOS token says null (the default 1 applies then).
    c.bos_token_id = get_int(j, "bos_token_id", 1, false, 0, 1 << 20);
    c.eos_token_id = get_int(j, "eos_token_id", 2, false, 0, 1 << 20);
    c.use_lower_bound = get_bool(j, "use_lower_bound", true);
    if (j.contains("intermediate_size") && !j["intermediate_size"].is_null()) {
        c.intermediate_size = get_int(j, "intermediate_size", 0, true, 1, 1 << 18);
    } else {
        // The reference derives it: 256 · ceil(int(H · hidden_ratio · 2/3) / 256).
        const int64_t base = int64_t(c.hidden_size) * c.hidden_ratio * 2 / 3;
        c.intermediate_size = int(256 * ((base + 255) / 256));
    }
    if (j.contains("rms_norm_eps") && !j["rms_norm_eps"].is_null()) {
        if (!j["rms_norm_eps"].is_number()) throw bad("\"rms_norm_eps\" must be a number");
        const double eps = j["rms_norm_eps"].get<double>();
        // The engine computes in fp32: an epsilon that rounds to 0 there is no epsilon at all.
        if (!(eps > 0 && eps < 1) || !(float(eps) > 0.f))
        {
            char shown[32];
            std::snprintf(shown, sizeof shown, "%g", eps);
            throw bad(std::string("\"rms_norm_eps\" = ") + shown + " must be in (0, 1) and at least about 1e-45 (a 32-bit float)");
        }
        c.rms_norm_eps = float(eps);
    }
    if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"].get<std::string>();
    if (c.bos_token_id >= c.vocab_size || c.eos_token_id >= c.vocab_size)
        throw bad("bos_token_id / eos_token_id must be below vocab_size " + std::to_string(c.vocab_size));
    const double params = double(c.vocab_size) * c.hidden_size * 2 +
                          double(c.num_layers) * (4.0 * c.hidden_size * c.state_dim() + 3.0 * c.hidden_size * c.intermediate_size);
    if (params > 1e11) throw bad("the sizes describe a model of " + std::to_string(params / 1e9) + " billion parameters; that is not a plausible HGRNBit config");
    return c;
}

ModelConfig release_config(const std::string& name) {
    ModelConfig c;
    c.vocab_size = 32000;
    if (name == "370M") { c.num_layers = 24; c.hidden_size = 1024; c.intermediate_size = 2816; }
    else if (name == "1.3B") { c.num_layers = 24; c.hidden_size = 2048; c.intermediate_size = 5632; }
    else if (name == "2.7B") { c.num_layers = 32; c.hidden_size = 2560; c.intermediate_size = 6912; }
    else throw Error(ErrorCode::InvalidArgument, "unknown release shape \"" + name + "\"; use 370M, 1.3B or 2.7B");
    c.torch_dtype = "bfloat16";
    return c;
}

} // namespace mmfree
