// SPDX-License-Identifier: Apache-2.0
// Validation of OpenAI request bodies into scheduler requests, and the chat template.
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "mmfree/error.h"
#include "mmfree/model.h"
#include "mmfree/tokenizer.h"
#include "serve/http_server.h"

namespace mmfree {

using nlohmann::json;

namespace {

std::string replace_all(const std::string& format, const std::string& key, const std::string& value) {
    std::string out;
    size_t from = 0;
    for (size_t at; (at = format.find(key, from)) != std::string::npos; from = at + key.size()) out += format.substr(from, at - from) + value;
    return out + format.substr(from);
}

} // namespace

ChatTemplate ChatTemplate::load(const std::filesystem::path& json_file) {
    std::ifstream in(json_file);
    if (!in) throw Error(ErrorCode::FileNotFound, "cannot read the chat template " + json_file.string());
    std::stringstream text;
    text << in.rdbuf();
    ChatTemplate t;
    const std::string where = "chat template " + json_file.string();
    json j;
    try {
        j = json::parse(text.str());
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptFile, where + " is not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(ErrorCode::CorruptFile, where + " must be a JSON object");
    for (auto [key, field] : {std::pair{"system_format", &t.system_format}, {"user_format", &t.user_format},
                              {"assistant_format", &t.assistant_format}}) {
        if (!j.contains(key)) continue;
        if (!j[key].is_string()) throw Error(ErrorCode::CorruptFile, where + ": \"" + key + "\" must be a string");
        *field = j[key].get<std::string>();
    }
    if (t.user_format.find("{text}") == std::string::npos || t.assistant_format.find("{text}") == std::string::npos)
        throw Error(ErrorCode::CorruptFile, where + ": user_format and assistant_format must contain {text}");
    if (j.contains("stop_strings")) {
        if (!j["stop_strings"].is_array()) throw Error(ErrorCode::CorruptFile, where + ": \"stop_strings\" must be a list of strings");
        t.stop_strings.clear();
        for (const auto& s : j["stop_strings"]) {
            if (!s.is_string()) throw Error(ErrorCode::CorruptFile, where + ": \"stop_strings\" must be a list of strings");
            if (!s.get<std::string>().empty()) t.stop_strings.push_back(s.get<std::string>());
        }
    }
    return t;
}

std::string ChatTemplate::build_prompt(const std::vector<Message>& messages) const {
    std::string out;
    for (const auto& m : messages) {
        if (m.role == "user") out += replace_all(user_format, "{text}", m.content);
        else if (m.role == "assistant") out += replace_all(assistant_format, "{text}", m.content);
        else out += replace_all(system_format, "{system}", m.content);
    }
    std::string prefix = assistant_format.substr(0, assistant_format.find("{text}"));
    while (!prefix.empty() && prefix.back() == ' ') prefix.pop_back();
    return out + prefix;
}

bool is_loopback_host(const std::string& host) {
    return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

namespace serve {

json error_json(const ApiError& e) {
    return {{"error",
             {{"message", e.message},
              {"type", e.type},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool constant_time_equal(std::string_view a, std::string_view b) {
    // Runs over the expected key's length whatever the other string is.
    unsigned diff = a.size() != b.size();
    for (size_t i = 0; i < a.size(); ++i) diff |= unsigned(uint8_t(a[i]) ^ uint8_t(b.empty() ? 0 : b[i % b.size()]));
    return diff == 0;
}

namespace {

ApiError bad(const std::string& param, const std::string& message, const std::string& code = "invalid_value") {
    return ApiError{400, message, "invalid_request_error", param, code};
}

const char* type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return "a boolean";
        case json::value_t::string: return "a string";
        case json::value_t::array: return "an array";
        case json::value_t::object: return "an object";
        default: return "a number";
    }
}

ApiError wrong_type(const std::string& param, const char* expected, const json& got) {
    return bad(param, "Invalid type for '" + param + "': expected " + expected + ", but got " + type_name(got) + ".", "invalid_type");
}

// Typed, range-checked access to the body's fields; null counts as absent (many clients send it).
class Fields {
public:
    explicit Fields(const json& body) : body_(body) {}

    const json* find(const char* name) const {
        auto it = body_.find(name);
        return it == body_.end() || it->is_null() ? nullptr : &*it;
    }

    std::optional<double> number(const char* name, double lo, double hi) const {
        const json* v = find(name);
        if (!v) return std::nullopt;
        if (!v->is_number()) throw wrong_type(name, "a number", *v);
        const double x = v->get<double>();
        if (!(x >= lo && x <= hi)) throw out_of_range(name, x, lo, hi);
        return x;
    }

    std::optional<int64_t> integer(const char* name, int64_t lo, int64_t hi) const {
        const json* v = find(name);
        if (!v) return std::nullopt;
        if (!is_integral(*v)) throw wrong_type(name, "an integer", *v);
        if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
            throw out_of_range(name, v->get<double>(), double(lo), double(hi));
        const int64_t x = v->is_number_float() ? int64_t(v->get<double>()) : v->get<int64_t>();
        if (x < lo || x > hi) throw out_of_range(name, double(x), double(lo), double(hi));
        return x;
    }

    std::optional<bool> boolean(const char* name) const {
        const json* v = find(name);
        if (!v) return std::nullopt;
        if (!v->is_boolean()) throw wrong_type(name, "a boolean", *v);
        return v->get<bool>();
    }

    static bool is_integral(const json& v) {
        if (v.is_number_integer()) return true;
        if (!v.is_number_float()) return false;
        const double x = v.get<double>();
        return std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 9e15;
    }

private:
    static ApiError out_of_range(const std::string& name, double x, double lo, double hi) {
        std::ostringstream m;
        m << "Invalid value for '" << name << "': " << x << " is outside [" << lo << ", " << hi << "].";
        return bad(name, m.str());
    }
    const json& body_;
};

std::string message_text(const json& content, const std::string& param) {
    if (content.is_null()) return {};
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) throw wrong_type(param, "a string or an array of content parts", content);
    std::string text;
    for (size_t i = 0; i < content.size(); ++i) {
        const json& part = content[i];
        const std::string p = param + "[" + std::to_string(i) + "]";
        if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") || !part["text"].is_string())
            throw bad(p, "Invalid content part '" + p + "': this model reads text only ({\"type\": \"text\", \"text\": \"...\"}).");
        text += part["text"].get<std::string>();
    }
    return text;
}

std::vector<int32_t> checked_ids(const json& list, const std::string& param, const Model& model) {
    std::vector<int32_t> ids;
    const int V = model.config.vocab_size;
    for (const auto& v : list) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= V)
            throw bad(param, "Invalid token id in '" + param + "': ids are integers in [0, " + std::to_string(V - 1) + "].");
        ids.push_back(int32_t(v.get<int64_t>()));
    }
    if (model.add_bos && (ids.empty() || ids.front() != model.config.bos_token_id)) ids.insert(ids.begin(), model.config.bos_token_id);
    return ids;
}

} // namespace

GenerationPlan parse_generation(const json& body, Endpoint endpoint, const Model& model, const Tokenizer& tokenizer,
                                const ServerOptions& options, const std::string& model_id) {
    if (!body.is_object()) throw bad("", "The request body must be a JSON object.", "invalid_json");
    const Fields f(body);
    GenerationPlan plan;
    plan.endpoint = endpoint;
    const bool chat = endpoint == Endpoint::ChatCompletions;
    const std::string prompt_param = chat ? "messages" : "prompt";

    if (const json* m = f.find("model")) {
        if (!m->is_string()) throw wrong_type("model", "a string", *m);
        if (m->get<std::string>() != model_id && !m->get<std::string>().empty())
            throw ApiError{404, "The model '" + m->get<std::string>() + "' does not exist; this server serves '" + model_id + "' (GET /v1/models).",
                           "invalid_request_error", "model", "model_not_found"};
    }

    // Sampling: OpenAI's defaults (temperature 1, nucleus off), so clients get what they expect.
    SamplingParams& s = plan.options.sampling;
    s.temperature = float(f.number("temperature", 0, 2).value_or(1.0));
    s.top_p = float(f.number("top_p", 0, 1).value_or(1.0));
    if (s.top_p <= 0) throw bad("top_p", "Invalid value for 'top_p': it must be greater than 0.");
    s.top_k = int(f.integer("top_k", 0, 1 << 20).value_or(0));
    s.min_p = float(f.number("min_p", 0, 1).value_or(0.0));
    s.repetition_penalty = float(f.number("repetition_penalty", 0.01, 10).value_or(1.0));
    plan.frequency_penalty = float(f.number("frequency_penalty", -2, 2).value_or(0.0));
    plan.presence_penalty = float(f.number("presence_penalty", -2, 2).value_or(0.0));
    if (const json* seed = f.find("seed")) {
        if (!Fields::is_integral(*seed)) throw wrong_type("seed", "an integer", *seed);
        s.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : uint64_t(seed->is_number_float() ? int64_t(seed->get<double>()) : seed->get<int64_t>());
        plan.seeded = true;
    }

    const int64_t limit = options.max_tokens_limit;
    std::optional<int64_t> max_tokens = f.integer("max_completion_tokens", 1, limit);
    if (!max_tokens) max_tokens = f.integer("max_tokens", 1, limit);
    plan.options.max_tokens = int(max_tokens.value_or(chat ? std::min<int64_t>(options.default_max_tokens, limit) : std::min<int64_t>(16, limit)));
    plan.n = int(f.integer("n", 1, options.max_n).value_or(1));

    if (const json* stop = f.find("stop")) {
        if (stop->is_string()) {
            plan.options.stop_strings.push_back(stop->get<std::string>());
        } else if (stop->is_array()) {
            if (stop->size() > 4) throw bad("stop", "Invalid value for 'stop': at most 4 stop sequences.");
            for (const auto& s1 : *stop) {
                if (!s1.is_string()) throw wrong_type("stop", "a string or an array of strings", s1);
                plan.options.stop_strings.push_back(s1.get<std::string>());
            }
        } else {
            throw wrong_type("stop", "a string or an array of strings", *stop);
        }
        std::erase_if(plan.options.stop_strings, [](const std::string& x) { return x.empty(); });
    }

    // An extension (as llama-server's): keep generating past EOS, for benchmarks and tests.
    plan.options.stop_at_eos = !f.boolean("ignore_eos").value_or(false);
    plan.stream = f.boolean("stream").value_or(false);
    if (const json* so = f.find("stream_options")) {
        if (!so->is_object()) throw wrong_type("stream_options", "an object", *so);
        if (!plan.stream) throw bad("stream_options", "Invalid value for 'stream_options': only allowed when 'stream' is true.");
        plan.include_usage = Fields(*so).boolean("include_usage").value_or(false);
    }
    if (const json* user = f.find("user"); user && !user->is_string()) throw wrong_type("user", "a string", *user);

    if (chat) {
        const bool want = f.boolean("logprobs").value_or(false);
        const auto top = f.integer("top_logprobs", 0, 20);
        if (top && !want) throw bad("top_logprobs", "Invalid value for 'top_logprobs': 'logprobs' must be true when it is set.");
        if (want) plan.logprobs = int(top.value_or(0));
    } else if (const auto lp = f.integer("logprobs", 0, 20)) {
        plan.logprobs = int(*lp);
    }

    // The prompt(s).
    std::vector<std::string> texts;
    if (chat) {
        const json* messages = f.find("messages");
        if (!messages) throw bad("messages", "Missing required parameter: 'messages'.", "missing_required_parameter");
        if (!messages->is_array()) throw wrong_type("messages", "an array", *messages);
        if (messages->empty()) throw bad("messages", "Invalid value for 'messages': give at least one message.");
        std::vector<ChatTemplate::Message> list;
        for (size_t i = 0; i < messages->size(); ++i) {
            const json& m = (*messages)[i];
            const std::string p = "messages[" + std::to_string(i) + "]";
            if (!m.is_object()) throw wrong_type(p, "an object", m);
            if (!m.contains("role") || !m["role"].is_string()) throw bad(p + ".role", "Missing or invalid '" + p + ".role'.", "invalid_type");
            std::string role = m["role"].get<std::string>();
            if (role == "developer") role = "system";
            if (role != "system" && role != "user" && role != "assistant")
                throw bad(p + ".role", "Invalid value for '" + p + ".role': '" + role + "' (supported: system, developer, user, assistant).");
            if (!m.contains("content") && role != "assistant")
                throw bad(p + ".content", "Missing required parameter: '" + p + ".content'.", "missing_required_parameter");
            list.push_back({role, message_text(m.value("content", json(nullptr)), p + ".content")});
        }
        texts.push_back(options.chat_template.build_prompt(list));
        for (const auto& s1 : options.chat_template.stop_strings) plan.options.stop_strings.push_back(s1);
    } else {
        const json* prompt = f.find("prompt");
        if (!prompt) throw bad("prompt", "Missing required parameter: 'prompt'.", "missing_required_parameter");
        if (prompt->is_string()) {
            texts.push_back(prompt->get<std::string>());
        } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number()) {
            plan.prompts.push_back(checked_ids(*prompt, "prompt", model));
        } else if (prompt->is_array() && !prompt->empty()) {
            for (const auto& p : *prompt) {
                if (p.is_string()) texts.push_back(p.get<std::string>());
                else if (p.is_array()) plan.prompts.push_back(checked_ids(p, "prompt", model));
                else throw wrong_type("prompt", "a string, an array of strings or an array of token ids", p);
            }
            if (!texts.empty() && !plan.prompts.empty())
                throw bad("prompt", "Invalid value for 'prompt': give strings or token id lists, not both.");
        } else {
            throw wrong_type("prompt", "a string, an array of strings or an array of token ids", *prompt);
        }
    }
    for (const auto& t : texts) plan.prompts.push_back(tokenizer.encode(t, model.add_bos));
    if (plan.prompts.size() * size_t(plan.n) > size_t(options.max_n))
        throw bad(prompt_param, "Too many choices: prompts × n must be at most " + std::to_string(options.max_n) + ".");
    for (const auto& ids : plan.prompts) {
        if (ids.empty()) throw bad(prompt_param, "Invalid value for '" + prompt_param + "': the prompt is empty.");
        if (int(ids.size()) > options.max_prompt_tokens)
            throw bad(prompt_param,
                      "This prompt is " + std::to_string(ids.size()) + " tokens; this server takes at most " +
                          std::to_string(options.max_prompt_tokens) + " (mmfree serve --max-prompt-tokens).",
                      "context_length_exceeded");
    }
    return plan;
}

} // namespace serve
} // namespace mmfree
