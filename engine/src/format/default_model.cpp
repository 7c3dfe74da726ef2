// SPDX-License-Identifier: Apache-2.0
// Finding the embedded default model, so `mmfree run` and the app work with no model chosen.
#include <algorithm>
#include <cstdlib>
#include <unistd.h>
#include <vector>

#include "mmfree/model.h"

namespace mmfree {
namespace fs = std::filesystem;

namespace {

fs::path executable_dir() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

// The first *.gguf of a folder in name order (deterministic when several are installed).
fs::path first_packed_model(const fs::path& dir) {
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec)) return {};
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".gguf" && e.is_regular_file(ec)) found.push_back(e.path());
    std::sort(found.begin(), found.end());
    return found.empty() ? fs::path() : found.front();
}

} // namespace

fs::path default_model_path() {
    if (const char* env = std::getenv("MMFREE_MODEL"); env && *env) return env;
    if (const fs::path exe = executable_dir(); !exe.empty())
        if (fs::path p = first_packed_model(exe / ".." / MMFREE_DATA_SUBDIR / "models"); !p.empty()) return p.lexically_normal();
    return first_packed_model(MMFREE_SOURCE_MODELS_DIR);
}

} // namespace mmfree
