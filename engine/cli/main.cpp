// SPDX-License-Identifier: Apache-2.0
#include <cstdio>
#include <cstring>
#include <iostream>

#include "args.h"

namespace {

const char* kUsage = R"(mmfree — run MatMul-free language models (HGRNBit)

usage: mmfree <command> [options]

commands:
  run       -m MODEL -p TEXT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
            [--repeat-penalty R] [--seed S] [--stop STR]... [--backend B]   stream a continuation
  batch     -m MODEL --prompts FILE.jsonl -o OUT.jsonl [-n N] [--parallel P] [--greedy | --temp T ...
            --seed S (line i uses S+i) --frequency-penalty F --presence-penalty P] [--stop STR]...
            [--ignore-eos] [--backend B]     every line ({"ids":[...]} or {"prompt":"..."}) as one
                                             continuously batched job; OUT: {"ids","text"} per line
  logits    -m MODEL --ids 1,2,3 [--decode N] [--backend B] -o FILE         logits as safetensors
  bench     (-m MODEL | --synthetic 370M|1.3B|2.7B) [--backend B] [--profile] [--batch 1,8,64]  speed, JSON
  info      -m MODEL | --devices                                            model or device facts
  tokenize  (-m MODEL | --tokenizer FILE) TEXT                              token ids
  convert   (-m MODEL | --synthetic 370M|1.3B|2.7B) -o OUT.gguf [--embeddings auto|f32|bf16|f16] [--tokenizer FILE]
                                                                            pack a model into one GGUF file
  perplexity [-m MODEL] FILE... [--ctx N] [--backend B]                     held-out perplexity, JSON
  serve     [-m MODEL] [--backend B] [--host 127.0.0.1] [--port 8080] [--parallel N] [--api-key K]
            [--cors-origin O]... [--chat-template FILE]      OpenAI-compatible HTTP API (README)

MODEL is a packed .gguf file, a folder holding one, or a Hugging Face folder (config.json,
model.safetensors, tokenizer.model). Without -m: $MMFREE_MODEL, else the embedded default model.
backends: auto (default), cpu, cpu-reference, vulkan, cuda, fpga-sim
)";

} // namespace

int main(int argc, char** argv) {
    using namespace mmfree;
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("mmfree %s\n", MMFREE_VERSION);
        return 0;
    }
    const std::string cmd = argv[1];
    try {
        const std::set<std::string> flags = {"--devices", "--profile", "--power", "--no-bos", "--json", "-v", "--greedy", "--ignore-eos"};
        cli::Args args(argc, argv, 2, flags);
        if (cmd == "run") return cli::cmd_run(args);
        if (cmd == "batch") return cli::cmd_batch(args);
        if (cmd == "logits") return cli::cmd_logits(args);
        if (cmd == "bench") return cli::cmd_bench(args);
        if (cmd == "info") return cli::cmd_info(args);
        if (cmd == "tokenize") return cli::cmd_tokenize(args);
        if (cmd == "convert") return cli::cmd_convert(args);
        if (cmd == "perplexity") return cli::cmd_perplexity(args);
        if (cmd == "serve") return cli::cmd_serve(args);
        std::fprintf(stderr, "mmfree: unknown command \"%s\"\n\n%s", cmd.c_str(), kUsage);
        return 2;
    } catch (const Error& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "\nmmfree %s: error: %s\n", cmd.c_str(), e.what());
        return e.code() == ErrorCode::InvalidArgument ? 2 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "\nmmfree %s: unexpected error: %s\n", cmd.c_str(), e.what());
        return 1;
    }
}
