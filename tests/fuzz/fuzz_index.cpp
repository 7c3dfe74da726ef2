// SPDX-License-Identifier: Apache-2.0
// model.safetensors.index.json of a sharded checkpoint: the input is the index; the folder holds
// two valid shards and a config, so inspect_model and the full load run past the index.
#include <nlohmann/json.hpp>

#include "format/safetensors.h"
#include "fuzz_common.h"
#include "mmfree/inspect.h"

namespace {

const std::filesystem::path& folder() {
    static const std::filesystem::path dir = [] {
        const auto d = fuzz::scratch() / "sharded";
        std::filesystem::create_directories(d);
        static const float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
        mmfree::write_safetensors(d / "model-00001-of-00002.safetensors", {{"a", mmfree::DType::F32, {4}, a}});
        mmfree::write_safetensors(d / "model-00002-of-00002.safetensors", {{"b", mmfree::DType::F32, {2}, b}});
        const std::string cfg = R"({"model_type": "hgrn_bit", "vocab_size": 4, "hidden_size": 2, "num_hidden_layers": 1, "intermediate_size": 2})";
        fuzz::write_file(d / "config.json", reinterpret_cast<const uint8_t*>(cfg.data()), cfg.size());
        return d;
    }();
    return dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto& dir = folder();
    fuzz::write_file(dir / "model.safetensors.index.json", data, size);
    fuzz::refuse_or_accept([&] {
        const mmfree::TensorSet ts = mmfree::TensorSet::open_folder(dir);
        for (const std::string& name : ts.names()) (void)ts.find(name)->to_f32();
    });
    const mmfree::ModelInspection in = mmfree::inspect_model(dir);   // never throws
    for (const auto& f : in.files)
        if (!f.ok && f.message.find('\n') != std::string::npos) std::abort();
    return 0;
}
