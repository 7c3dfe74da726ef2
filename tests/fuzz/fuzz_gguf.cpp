// SPDX-License-Identifier: Apache-2.0
// A packed GGUF model: header validation, the hgrn_bit metadata, the full load and the embedded
// tokenizer. (inspect_model runs in fuzz_index; here it would halve the executions per second.)
#include "fuzz_common.h"
#include "mmfree/model.h"
#include "mmfree/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto file = fuzz::scratch() / "model.gguf";
    fuzz::write_file(file, data, size);
    fuzz::refuse_or_accept([&] {
        const auto model = mmfree::load_model(file);
        if (model->fingerprint.size() != 32) std::abort();
        const auto tok = mmfree::Tokenizer::for_model(*model);
        (void)tok->decode(tok->encode("fuzz 123", true));
    });
    return 0;
}
