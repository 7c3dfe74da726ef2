// SPDX-License-Identifier: Apache-2.0
// tokenizer.model bytes (a SentencePiece protobuf), loaded as from a file, then used.
#include "fuzz_common.h"
#include "mmfree/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto file = fuzz::scratch() / "tokenizer.model";
    fuzz::write_file(file, data, size);
    fuzz::refuse_or_accept([&] {
        const auto tok = mmfree::Tokenizer::load(file);
        const auto ids = tok->encode("Hello, wörld 42 \xF0\x9F\x99\x82", true);
        (void)tok->decode(ids);
        mmfree::StreamingDecoder stream(*tok);
        for (int32_t id = 0; id < tok->vocab_size() && id < 512; ++id) (void)stream.push(id);
        (void)stream.flush();
    });
    return 0;
}
