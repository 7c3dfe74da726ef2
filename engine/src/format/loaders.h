// SPDX-License-Identifier: Apache-2.0
// The loaders behind load_model() and inspect_model(), shared inside the engine.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mmfree/model.h"

namespace mmfree {

class GgufFile;

// config.json's text: a regular file of a plausible size, or Error.
std::string read_config_text(const std::filesystem::path& path);
std::shared_ptr<const Model> load_hf_folder(const std::filesystem::path& folder);
// The Model::fingerprint load_hf_folder(folder) would give, from the files alone: config.json and
// every byte of the weight files are hashed, nothing is converted (the app checks a packed copy
// of the folder against it without paying for a full load).
std::string hf_folder_fingerprint(const std::filesystem::path& folder);
// The model's shape and token settings from a GGUF header alone (no tensor data read).
ModelConfig read_gguf_config(const GgufFile& file);
// The *.gguf files of a folder, in name order.
std::vector<std::filesystem::path> packed_models_in(const std::filesystem::path& folder);
// tokenizer.model's bytes: a regular file of a plausible size, or Error.
std::string read_tokenizer_file(const std::filesystem::path& path);

} // namespace mmfree
