// SPDX-License-Identifier: Apache-2.0
// config.json text → ModelConfig.
#include <string>

#include "fuzz_common.h"
#include "mmfree/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::refuse_or_accept([&] {
        const mmfree::ModelConfig c = mmfree::parse_config_json(std::string(reinterpret_cast<const char*>(data), size));
        // What the loader relies on after a successful parse.
        if (c.vocab_size < 1 || c.hidden_size < 1 || c.num_layers < 1 || c.intermediate_size < 1 || c.bos_token_id < 0 ||
            c.bos_token_id >= c.vocab_size || c.eos_token_id < 0 || c.eos_token_id >= c.vocab_size || !(c.rms_norm_eps > 0))
            std::abort();
    });
    return 0;
}
