// SPDX-License-Identifier: Apache-2.0
// What a model folder or packed file holds, file by file: the one validator, used by the app's
// model library before a model is added and by anyone who wants to say which file is broken.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "mmfree/error.h"
#include "mmfree/model.h"

namespace mmfree {

struct FileCheck {
    enum class Role { Model, Config, ShardIndex, Weights, Tokenizer, TokenizerConfig };
    std::string file;            // relative to the model folder; the file name for a packed model
    Role role = Role::Weights;
    bool ok = true;
    ErrorCode code = ErrorCode::Internal;   // meaningful when !ok
    std::string message;         // when !ok: one line, names the file
};

struct ModelInspection {
    std::filesystem::path path;
    std::vector<FileCheck> files;    // every file looked at, in a stable order
    bool have_config = false;
    ModelConfig config;              // valid when have_config
    bool loaded = false;             // the full load succeeded (when asked for)
    std::string fingerprint;         // when loaded
    bool tokenizer_found = false;
    bool tokenizer_loads = false;
    int tokenizer_pieces = 0;
    bool tokenizer_matches = false;  // loads and has exactly vocab_size pieces

    // No problem outside the tokenizer: the model computes logits.
    bool usable() const;
    bool can_chat() const { return usable() && tokenizer_matches; }
};

// Checks `path` (a model folder, a folder with one .gguf, or a .gguf file) file by file, reading
// only headers; with `full_load`, and when those pass, it also loads the model (every tensor's
// name, shape and values: seconds for a large model) and reports the failure on the weights file.
// Never throws: every problem is a FileCheck.
ModelInspection inspect_model(const std::filesystem::path& path, bool full_load = true);

} // namespace mmfree
