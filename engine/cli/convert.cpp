// SPDX-License-Identifier: Apache-2.0
// `mmfree convert`: any model the engine loads (HF folder, GGUF) → one packed GGUF file.
#include <chrono>
#include <cstdio>

#include "args.h"
#include "format/gguf_model.h"
#include "format/mapped_file.h"
#include "mmfree/model.h"

namespace mmfree::cli {

int cmd_convert(const Args& a) {
    a.allow_only({"-m", "--model", "--synthetic", "-o", "--embeddings", "--name", "--tokenizer"});
    if (!a.has("-o")) throw Error(ErrorCode::InvalidArgument, "convert needs -o OUT.gguf");
    const std::filesystem::path out = a.get("-o");
    GgufWriteOptions opt;
    opt.embeddings = a.get("--embeddings", "auto");
    opt.name = a.get("--name");
    const auto t0 = std::chrono::steady_clock::now();
    std::shared_ptr<const Model> model;
    if (a.has("--synthetic")) {
        model = make_synthetic_model(release_config(a.get("--synthetic")));
        if (opt.name.empty()) opt.name = "synthetic-" + a.get("--synthetic");
        // The releases store bf16 embeddings: a synthetic file of the same shape should too.
        if (opt.embeddings == "auto") opt.embeddings = "bf16";
    } else {
        if (!a.has("-m") && !a.has("--model")) throw Error(ErrorCode::InvalidArgument, "convert needs -m MODEL (or --synthetic 370M|1.3B|2.7B)");
        model = load_model(model_path(a));
    }
    // --tokenizer FILE: embed this tokenizer.model (a synthetic model has none, so a server on it
    // could not read text; the released models' vocabulary is tests/data/mistral-v1.tokenizer.model).
    if (a.has("--tokenizer")) {
        auto with_tokenizer = std::make_shared<Model>(*model);
        with_tokenizer->tokenizer_path = a.get("--tokenizer");
        with_tokenizer->tokenizer_model.clear();
        model = std::move(with_tokenizer);
    }
    std::error_code ec;
    if (std::filesystem::equivalent(model->source, out, ec))
        throw Error(ErrorCode::InvalidArgument, "-o would overwrite the model being converted; choose another file name");
    write_gguf_model(*model, out, opt);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "wrote %s: %s (%s ternary weights, %zu parameters, tokenizer %s) in %.1f s\n", out.string().c_str(),
                 human_bytes(std::filesystem::file_size(out)).c_str(), human_bytes(model->packed_weight_bytes()).c_str(),
                 model->parameter_count(), model->tokenizer_path.empty() && model->tokenizer_model.empty() ? "none" : "embedded", s);
    return 0;
}

} // namespace mmfree::cli
