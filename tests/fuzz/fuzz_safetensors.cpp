// SPDX-License-Identifier: Apache-2.0
// A safetensors file: header parsing and validation, then every tensor converted to fp32.
#include "format/safetensors.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto file = fuzz::scratch() / "model.safetensors";
    fuzz::write_file(file, data, size);
    fuzz::refuse_or_accept([&] {
        const mmfree::TensorSet ts = mmfree::TensorSet::open_file(file);
        for (const std::string& name : ts.names()) {
            const mmfree::TensorView* t = ts.find(name);
            if (t->elements() <= (1 << 20)) fuzz::refuse_or_accept([&] { (void)t->to_f32(); });
        }
    });
    return 0;
}
