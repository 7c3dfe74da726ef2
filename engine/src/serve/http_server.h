// SPDX-License-Identifier: Apache-2.0
// Pieces of the HTTP server that have no state: request validation into scheduler requests, and
// the OpenAI-style error object. ApiServer (mmfree/server.h) wires them to cpp-httplib.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmfree/generate.h"
#include "mmfree/server.h"

namespace mmfree {
class Tokenizer;
struct Model;
}

namespace mmfree::serve {

// A request the server refuses: the HTTP status and OpenAI's {"error": {...}} fields.
struct ApiError {
    int status = 400;
    std::string message;
    std::string type = "invalid_request_error";
    std::string param;   // empty = null
    std::string code;    // empty = null
};

nlohmann::json error_json(const ApiError& e);
// JSON text; invalid UTF-8 (a token's partial bytes) becomes U+FFFD instead of throwing.
std::string dump(const nlohmann::json& j);

// Compares without an early exit, so the time taken does not tell how much of a key matched.
bool constant_time_equal(std::string_view a, std::string_view b);

enum class Endpoint { Completions, ChatCompletions };

// A validated /v1/completions or /v1/chat/completions body.
struct GenerationPlan {
    Endpoint endpoint = Endpoint::Completions;
    std::vector<std::vector<int32_t>> prompts;   // token ids (BOS included when the model uses it)
    int n = 1;                                   // choices per prompt
    GenerateOptions options;                     // shared by every choice (the seed is per choice)
    float frequency_penalty = 0, presence_penalty = 0;
    bool seeded = false;                         // seed given: choice i samples with seed + i
    int logprobs = -1;                           // -1 none; else the number of alternatives per token
    bool stream = false;
    bool include_usage = false;                  // stream_options.include_usage
};

// Throws ApiError (400) naming the first wrong field. `model_id` is the served model's name: a
// different "model" is a 404.
GenerationPlan parse_generation(const nlohmann::json& body, Endpoint endpoint, const Model& model, const Tokenizer& tokenizer,
                                const ServerOptions& options, const std::string& model_id);

} // namespace mmfree::serve
