// SPDX-License-Identifier: Apache-2.0
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "args.h"
#include "format/mapped_file.h"
#include "format/safetensors.h"
#include "mmfree/generate.h"
#include "mmfree/model.h"
#include "mmfree/session.h"
#include "mmfree/tokenizer.h"

namespace mmfree::cli {

Args::Args(int argc, char** argv, int first, const std::set<std::string>& flags) {
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && std::isdigit(static_cast<unsigned char>(a[1])))) {
            if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
                values_.emplace(a.substr(0, eq), a.substr(eq + 1));
            } else if (flags.count(a)) {
                values_.emplace(a, "1");
            } else {
                if (i + 1 >= argc) throw Error(ErrorCode::InvalidArgument, "option " + a + " needs a value");
                values_.emplace(a, argv[++i]);
            }
        } else {
            positional_.push_back(a);
        }
    }
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> Args::get_all(const std::string& name) const {
    std::vector<std::string> v;
    for (auto [b, e] = values_.equal_range(name); b != e; ++b) v.push_back(b->second);
    return v;
}

int Args::get_int(const std::string& name, int fallback) const {
    if (!has(name)) return fallback;
    try {
        size_t used = 0;
        int v = std::stoi(get(name), &used);
        if (used == get(name).size()) return v;
    } catch (const std::exception&) {}
    throw Error(ErrorCode::InvalidArgument, "option " + name + " expects an integer, got \"" + get(name) + "\"");
}

double Args::get_double(const std::string& name, double fallback) const {
    if (!has(name)) return fallback;
    try {
        size_t used = 0;
        double v = std::stod(get(name), &used);
        if (used == get(name).size()) return v;
    } catch (const std::exception&) {}
    throw Error(ErrorCode::InvalidArgument, "option " + name + " expects a number, got \"" + get(name) + "\"");
}

void Args::allow_only(const std::set<std::string>& known) const {
    for (auto& [k, v] : values_)
        if (!known.count(k)) throw Error(ErrorCode::InvalidArgument, "unknown option " + k + " (see mmfree --help)");
}

SamplingParams sampling_from(const Args& a) {
    SamplingParams p;
    p.temperature = float(a.get_double("--temp", p.temperature));
    p.top_k = a.get_int("--top-k", p.top_k);
    p.top_p = float(a.get_double("--top-p", p.top_p));
    p.min_p = float(a.get_double("--min-p", p.min_p));
    p.repetition_penalty = float(a.get_double("--repeat-penalty", p.repetition_penalty));
    p.repeat_last_n = a.get_int("--repeat-last-n", p.repeat_last_n);
    p.seed = uint64_t(a.get_double("--seed", double(p.seed)));
    if (p.temperature < 0 || p.top_p <= 0 || p.top_p > 1 || p.min_p < 0 || p.min_p > 1 || p.repetition_penalty <= 0 || p.top_k < 0)
        throw Error(ErrorCode::InvalidArgument, "sampling options out of range: --temp ≥ 0, 0 < --top-p ≤ 1, 0 ≤ --min-p ≤ 1, --repeat-penalty > 0, --top-k ≥ 0");
    return p;
}

BackendOptions backend_from(const Args& a) {
    BackendOptions o;
    o.backend = a.get("--backend", "auto");
    o.device = a.get("--device", "");
    o.threads = a.get_int("--threads", 0);
    o.profile = a.has("--profile");
    o.cpu_weights = a.get("--cpu-weights", "auto");
    if (o.cpu_weights != "auto" && o.cpu_weights != "2bit" && o.cpu_weights != "1.6bit")
        throw Error(ErrorCode::InvalidArgument, "--cpu-weights takes auto, 2bit or 1.6bit, got \"" + o.cpu_weights + "\"");
    return o;
}

std::vector<int32_t> parse_ids(const std::string& csv) {
    std::vector<int32_t> ids;
    std::stringstream ss(csv);
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            size_t used = 0;
            long v = std::stol(item, &used);
            if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
            ids.push_back(int32_t(v));
        } catch (const std::exception&) {
            throw Error(ErrorCode::InvalidArgument, "--ids expects comma-separated non-negative integers, got \"" + item + "\"");
        }
    }
    if (ids.empty()) throw Error(ErrorCode::InvalidArgument, "--ids is empty: give at least one token id");
    return ids;
}

// -m PATH, else the default model ($MMFREE_MODEL, then the embedded one).
std::filesystem::path model_path(const Args& a) {
    if (a.has("-m")) return a.get("-m");
    if (a.has("--model")) return a.get("--model");
    if (auto p = default_model_path(); !p.empty()) return p;
    throw Error(ErrorCode::InvalidArgument, "no model given and no default model installed: pass -m MODEL (a .gguf file or a model folder), or set MMFREE_MODEL");
}

static std::unique_ptr<Session> open_session(std::shared_ptr<const Model> model, const Args& a, bool verbose) {
    std::string note;
    auto exec = create_executor(model, backend_from(a), &note);
    if (!note.empty()) std::fprintf(stderr, "mmfree: %s\n", note.c_str());
    if (verbose) std::fprintf(stderr, "mmfree: %s on %s\n", exec->backend_name().c_str(), exec->device_name().c_str());
    return std::make_unique<Session>(std::move(exec));
}

static std::atomic<bool> g_interrupted{false};

int cmd_run(const Args& a) {
    a.allow_only({"-m", "--model", "-p", "--prompt", "-n", "--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty",
                  "--repeat-last-n", "--seed", "--stop", "--backend", "--device", "--threads", "--cpu-weights", "-v"});
    const std::string prompt = a.has("-p") ? a.get("-p") : a.get("--prompt");
    if (prompt.empty()) throw Error(ErrorCode::InvalidArgument, "the prompt is empty: pass -p \"some text\"");
    auto model = load_model(model_path(a));
    auto tokenizer = Tokenizer::for_model(*model);
    auto session = open_session(model, a, a.has("-v"));
    GenerateOptions opt;
    opt.sampling = sampling_from(a);
    opt.max_tokens = a.get_int("-n", 128);
    opt.stop_strings = a.get_all("--stop");
    std::signal(SIGINT, [](int) { g_interrupted = true; });
    GenerateCallbacks cb;
    cb.on_text = [](std::string_view t) { std::fwrite(t.data(), 1, t.size(), stdout); std::fflush(stdout); };
    cb.cancel = &g_interrupted;
    std::fputs(prompt.c_str(), stdout);
    auto r = generate(*session, *tokenizer, prompt, opt, cb);
    std::fputs("\n", stdout);
    std::fprintf(stderr, "[%d prompt tokens, %.1f tok/s prefill; %d generated, %.1f tok/s; first token %.0f ms; %s]\n",
                 r.metrics.prompt_tokens, r.metrics.prefill_tok_s, r.metrics.generated_tokens, r.metrics.decode_tok_s, r.metrics.ttft_ms,
                 session->executor().backend_name().c_str());
    return 0;
}

int cmd_logits(const Args& a) {
    a.allow_only({"-m", "--model", "--ids", "--decode", "--backend", "--device", "--threads", "--cpu-weights", "-o", "-v"});
    if (!a.has("-o")) throw Error(ErrorCode::InvalidArgument, "logits needs -o FILE (a .safetensors file to write)");
    const auto ids = parse_ids(a.get("--ids"));
    const int decode = a.get_int("--decode", 0);
    if (decode < 0) throw Error(ErrorCode::InvalidArgument, "--decode must be ≥ 0");
    auto model = load_model(model_path(a));
    auto session = open_session(model, a, a.has("-v"));
    const int V = model->config.vocab_size;
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] >= V)
            throw Error(ErrorCode::InvalidArgument, "token id " + std::to_string(ids[i]) + " is outside the vocabulary (0.." + std::to_string(V - 1) + ")");

    std::vector<float> prefill(ids.size() * V);
    session->executor().forward(ids.data(), ids.size(), prefill.data(), true);
    std::vector<int32_t> greedy;
    std::vector<float> decode_logits;
    if (decode > 0) {
        // Greedy decoding through the recurrent path, one token per step.
        greedy.push_back(argmax(&prefill[(ids.size() - 1) * V], V));
        for (int i = 1; i < decode; ++i) {
            const auto& l = session->step(greedy.back());
            decode_logits.insert(decode_logits.end(), l.begin(), l.end());
            greedy.push_back(argmax(l.data(), V));
        }
    }
    std::vector<TensorToWrite> out = {{"prefill_logits", DType::F32, {int64_t(ids.size()), V}, prefill.data()}};
    if (decode > 0) {
        out.push_back({"greedy_tokens", DType::I32, {decode}, greedy.data()});
        out.push_back({"decode_logits", DType::F32, {decode - 1, V}, decode_logits.data()});
    }
    write_safetensors(a.get("-o"), out);
    if (decode > 0) {
        std::printf("greedy_tokens:");
        for (auto t : greedy) std::printf(" %d", t);
        std::printf("\n");
    }
    return 0;
}

int cmd_info(const Args& a) {
    a.allow_only({"-m", "--model", "--devices"});
    if (a.has("--devices")) {
        for (const auto& d : list_devices()) {
            std::printf("%-9s %d  %s%s\n", d.backend.c_str(), d.index, d.name.c_str(), d.usable ? "" : "  (unavailable)");
            if (!d.type.empty()) std::printf("             type: %s\n", d.type.c_str());
            if (!d.driver.empty()) std::printf("             driver: %s\n", d.driver.c_str());
            if (d.memory_bytes) std::printf("             memory: %s\n", human_bytes(d.memory_bytes).c_str());
            if (!d.features.empty()) std::printf("             features: %s\n", d.features.c_str());
            if (!d.usable) std::printf("             reason: %s\n", d.reason.c_str());
        }
        return 0;
    }
    auto model = load_model(model_path(a));
    const auto& c = model->config;
    std::printf("model:              %s\n", model->source.string().c_str());
    std::printf("architecture:       hgrn_bit (MatMul-free: ternary BitLinear + MLGRU)\n");
    std::printf("layers:             %d\nhidden size:        %d\nstate size (D):     %d\nintermediate size:  %d\nvocabulary:         %d\n",
                c.num_layers, c.hidden_size, c.state_dim(), c.intermediate_size, c.vocab_size);
    std::printf("lower bounds:       %s\nstored dtype:       %s\n", c.use_lower_bound ? "yes" : "no", c.torch_dtype.empty() ? "?" : c.torch_dtype.c_str());
    std::printf("parameters:         %zu (%.1f M)\n", model->parameter_count(), model->parameter_count() / 1e6);
    const size_t fp = (model->embeddings.size() + model->final_norm.size() + model->lower_bound.size()) * 4;
    std::printf("memory (packed):    %s ternary weights + %s embeddings/norms\n", human_bytes(model->packed_weight_bytes()).c_str(),
                human_bytes(fp).c_str());
    std::printf("read per token:     %s\n", human_bytes(model->weight_bytes_per_token()).c_str());
    std::printf("recurrent state:    %s (the whole context)\n", human_bytes(size_t(c.num_layers) * c.state_dim() * 4).c_str());
    std::printf("fingerprint: %s\n", model->fingerprint.c_str());
    std::printf("tokenizer:          %s\n", !model->tokenizer_path.empty() ? model->tokenizer_path.string().c_str()
                                           : !model->tokenizer_model.empty() ? "embedded in the model file"
                                                                             : "none (id-level commands only)");
    return 0;
}

int cmd_tokenize(const Args& a) {
    a.allow_only({"-m", "--model", "--tokenizer", "--no-bos"});
    if (a.positional().empty()) throw Error(ErrorCode::InvalidArgument, "tokenize needs the TEXT to encode");
    std::unique_ptr<Tokenizer> tok;
    bool add_bos = true;
    if (a.has("--tokenizer")) {
        tok = Tokenizer::load(a.get("--tokenizer"));
    } else {
        auto model = load_model(model_path(a));
        tok = Tokenizer::for_model(*model);
        add_bos = model->add_bos;
    }
    const auto ids = tok->encode(a.positional()[0], add_bos && !a.has("--no-bos"));
    for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? " " : "", ids[i]);
    std::printf("\n");
    return 0;
}

} // namespace mmfree::cli
