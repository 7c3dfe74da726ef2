// SPDX-License-Identifier: Apache-2.0
// Turns a model (the plugin ABI's mmfa_model_desc) into a card-memory image: weights in the
// accelerator's lane layout, norm vectors as 64-bit fixed-point words (golden/numerics.h), the recurrent-state area, per-token I/O
// slots and one microcode program that runs a whole token. Shared by the driver and the tests.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "isa.h"
#include "mmfa_plugin.h"

namespace mmfa {

struct ImageLayout {
    uint32_t ring_base = 0, ring_size = 64;
    uint32_t prog_addr = 0, prog_count = 0;
    uint32_t state_base = 0, state_stride = 0;   // layer l's h at state_base + l*state_stride
    uint32_t slot_base = 0, slot_stride = 0;     // token t's I/O at slot_base + t*slot_stride
    uint32_t in_off = 0, logits_off = 0;         // inside a slot
    uint32_t max_slots = 0;
    uint32_t end = 0;                            // first free byte
};

struct Blob {
    uint32_t addr;
    std::vector<uint8_t> bytes;
};

struct ModelImage {
    int H = 0, D = 0, I = 0, V = 0, L = 0;
    ImageLayout layout;
    std::vector<Instr> program;
    std::vector<Blob> blobs;            // everything to copy to card memory at load
    uint64_t weight_bytes_per_token = 0; // ternary code bytes the program streams per token
};

// Throws std::invalid_argument with a person-readable reason when the model does not fit the
// device (a dimension above DMAX, a program above the microcode store).
ModelImage build_image(const mmfa_model_desc& model, const DeviceConfig& cfg);

// A tensor scale m as SCALE encodes it: m/127 = mantissa * 2^-(32 + shift), mantissa in [2^31, 2^32).
inline constexpr int kMaxScaleShift = 40;
struct Scale {
    uint32_t mantissa, shift;
};
Scale scale_immediate(float m);
Instr scale_instr(float m);   // the SCALE instruction (mantissa in imm, shift in aux)

} // namespace mmfa
