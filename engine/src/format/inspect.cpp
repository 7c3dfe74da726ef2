// SPDX-License-Identifier: Apache-2.0
// inspect_model: the per-file validator (see mmfree/inspect.h).
#include "mmfree/inspect.h"

#include <new>
#include <set>
#include <nlohmann/json.hpp>

#include "format/gguf.h"
#include "format/gguf_model.h"
#include "format/json_words.h"
#include "format/loaders.h"
#include "format/mapped_file.h"
#include "format/safetensors.h"
#include "mmfree/tokenizer.h"

namespace mmfree {
namespace fs = std::filesystem;

bool ModelInspection::usable() const {
    if (files.empty()) return false;
    for (const FileCheck& f : files)
        if (!f.ok && f.role != FileCheck::Role::Tokenizer) return false;
    return true;
}

namespace {

using Role = FileCheck::Role;

class Inspector {
public:
    explicit Inspector(ModelInspection& r) : r_(r) {}

    // Runs one check of one file; any failure becomes that file's FileCheck.
    template <class F> bool check(const std::string& file, Role role, F&& body) {
        FileCheck c;
        c.file = file;
        c.role = role;
        try {
            body();
        } catch (const Error& e) {
            c.ok = false;
            c.code = e.code();
            c.message = e.what();
        } catch (const std::bad_alloc&) {
            c.ok = false;
            c.code = ErrorCode::CorruptFile;
            c.message = file + " needs more memory than this machine has; it is damaged or far too large";
        } catch (const std::exception&) {
            c.ok = false;
            c.code = ErrorCode::Internal;
            c.message = file + " could not be checked (an unexpected failure while reading it)";
        }
        r_.files.push_back(c);
        return c.ok;
    }
    void problem(const std::string& file, Role role, ErrorCode code, const std::string& message) {
        r_.files.push_back({file, role, false, code, message});
    }

    void tokenizer(const std::string& file, const std::string& origin, const std::string& bytes) {
        check(file, Role::Tokenizer, [&] {
            auto t = Tokenizer::load_from_bytes(bytes, origin);
            r_.tokenizer_loads = true;
            r_.tokenizer_pieces = t->vocab_size();
            if (r_.have_config && t->vocab_size() != r_.config.vocab_size)
                throw Error(ErrorCode::UnsupportedModel, "the tokenizer " + origin + " has " + std::to_string(t->vocab_size()) +
                                                             " pieces but the model's vocab_size is " + std::to_string(r_.config.vocab_size) +
                                                             ": it belongs to another model, so chat is not possible");
            r_.tokenizer_matches = r_.have_config;
        });
    }

    void packed(const fs::path& file) {
        const std::string name = file.filename().string();
        std::string embedded;
        const bool header_ok = check(name, Role::Model, [&] {
            GgufFile f(file);
            r_.config = read_gguf_config(f);
            r_.have_config = true;
            if (const GgufValue* t = f.find("tokenizer.sentencepiece.model");
                t && t->type == GgufType::ARRAY && (t->elem_type == GgufType::U8 || t->elem_type == GgufType::I8))
                embedded.assign(reinterpret_cast<const char*>(t->array_data), size_t(t->count));
        });
        if (!header_ok) return;
        if (embedded.empty()) {
            problem(name, Role::Tokenizer, ErrorCode::TokenizerMissing,
                    printable_path(file) + " has no embedded tokenizer: the model computes logits, but cannot chat");
        } else {
            r_.tokenizer_found = true;
            tokenizer(name, "embedded in " + printable_path(file), embedded);
        }
    }

    void folder(const fs::path& dir) {
        const fs::path config = dir / "config.json";
        if (!path_exists(config)) {
            problem("config.json", Role::Config, ErrorCode::FileNotFound,
                    "config.json is missing from " + printable_path(dir) + "; a model folder needs it next to the weights");
        } else {
            check("config.json", Role::Config, [&] {
                r_.config = parse_config_json(read_config_text(config));
                r_.have_config = true;
            });
        }
        weights(dir);
        const fs::path tc = dir / "tokenizer_config.json";
        if (path_exists(tc))
            check("tokenizer_config.json", Role::TokenizerConfig, [&] {
                try {
                    const auto j = nlohmann::json::parse(read_small_file(tc, size_t(32) << 20));
                    if (!j.is_object()) throw Error(ErrorCode::CorruptFile, printable_path(tc) + " is not a JSON object");
                } catch (const nlohmann::json::exception& e) {
                    throw Error(ErrorCode::CorruptFile, printable_path(tc) + " " + json_error_words(e));
                }
            });
        const fs::path tok = dir / "tokenizer.model";
        if (!path_exists(tok)) {
            problem("tokenizer.model", Role::Tokenizer, ErrorCode::TokenizerMissing,
                    "tokenizer.model is missing: the model loads, but chat needs its SentencePiece tokenizer");
        } else {
            r_.tokenizer_found = true;
            std::string bytes;
            if (check("tokenizer.model", Role::Tokenizer, [&] { bytes = read_tokenizer_file(tok); })) {
                r_.files.pop_back();   // reported once, by the content check below
                tokenizer("tokenizer.model", printable_path(tok), bytes);
            }
        }
    }

    void weights(const fs::path& dir) {
        if (path_exists(dir / "model.safetensors")) {
            check("model.safetensors", Role::Weights, [&] { SafetensorsFile f(dir / "model.safetensors"); });
            return;
        }
        const fs::path index = dir / "model.safetensors.index.json";
        if (!path_exists(index)) {
            problem("model.safetensors", Role::Weights, ErrorCode::FileNotFound,
                    "model.safetensors is missing from " + printable_path(dir) + " (and there is no model.safetensors.index.json)");
            return;
        }
        // The index names the shards; each shard is then checked on its own.
        std::set<std::string> shards;
        const bool index_ok = check("model.safetensors.index.json", Role::ShardIndex, [&] {
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(read_small_file(index, TensorSet::kMaxIndexBytes));
            } catch (const nlohmann::json::exception& e) {
                throw Error(ErrorCode::CorruptFile, "model.safetensors.index.json " + json_error_words(e));
            }
            if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object() || j["weight_map"].empty())
                throw Error(ErrorCode::CorruptFile, "model.safetensors.index.json has no \"weight_map\" listing the tensors");
            for (const auto& v : j["weight_map"]) {
                const std::string s = v.is_string() ? v.get<std::string>() : std::string();
                if (s.empty() || s.find('/') != std::string::npos || s.find("..") != std::string::npos || s.find('\0') != std::string::npos)
                    throw Error(ErrorCode::CorruptFile, "model.safetensors.index.json names a shard that is not a file in the folder: " +
                                                            json_value_words(v));
                shards.insert(s);
            }
        });
        if (!index_ok) return;
        for (const std::string& s : shards) {
            const std::string shown = printable(s, 100);
            if (!path_exists(dir / s))
                problem(shown, Role::Weights, ErrorCode::FileNotFound, shown + " is missing (listed in model.safetensors.index.json)");
            else
                check(shown, Role::Weights, [&] { SafetensorsFile f(dir / s); });
        }
    }

    // The file a failure of the full load belongs to.
    std::string weights_file() const {
        for (const FileCheck& f : r_.files)
            if (f.role == Role::Model || f.role == Role::Weights) return f.file;
        return "model.safetensors";
    }

private:
    ModelInspection& r_;
};

} // namespace

ModelInspection inspect_model(const fs::path& path, bool full_load) {
    ModelInspection r;
    r.path = path;
    Inspector in(r);
    const std::string shown = printable(path.filename().string(), 100);
    if (!path_exists(path)) {
        in.problem(shown, Role::Model, ErrorCode::FileNotFound, printable_path(path) + " does not exist");
        return r;
    }
    std::error_code ec;
    const bool is_dir = fs::is_directory(path, ec);
    if (!is_dir) {
        in.packed(path);
    } else if (!path_exists(path / "config.json") && !packed_models_in(path).empty()) {
        const auto packed = packed_models_in(path);
        if (packed.size() > 1)
            in.problem(shown, Role::Model, ErrorCode::InvalidArgument,
                       printable_path(path) + " holds " + std::to_string(packed.size()) + " packed models; choose one of them");
        else
            in.packed(packed[0]);
    } else {
        in.folder(path);
    }
    if (!full_load || !r.usable()) return r;
    // The engine's own load has the final word: tensor names, shapes, dtypes, finite values.
    in.check(in.weights_file(), is_dir && path_exists(path / "config.json") ? Role::Weights : Role::Model, [&] {
        auto model = load_model(path);
        r.config = model->config;
        r.have_config = true;
        r.loaded = true;
        r.fingerprint = model->fingerprint;
    });
    // A passing load is not a file of its own: keep one entry per file.
    if (r.files.back().ok) r.files.pop_back();
    return r;
}

} // namespace mmfree
