// SPDX-License-Identifier: Apache-2.0
// Device configuration and the microcode/descriptor encodings (field layout documented in
// regs/mmfa_regs.json), shared by the program builder, the golden model and the tests.
#pragma once
#include <cstdint>

#include "mmfa_regs.h"

namespace mmfa {

struct DeviceConfig {
    int lanes = 64;
    int vregs = 8;
    int dmax = 1024;
    int prog_depth = 1024;
    double clk_hz = 200e6;
    int beat_bytes() const { return lanes / 4; }
    int words_per_beat() const { return lanes / 16; }   // 32-bit words (microcode)
    int elems_per_beat() const { return lanes / 32; }   // 64-bit vector elements (LOADV / STOREV)
};

struct Instr {
    uint32_t w[4] = {0, 0, 0, 0};
    uint32_t op() const { return w[0] & 0xff; }
    uint32_t dst() const { return (w[0] >> 8) & 0xff; }
    uint32_t a() const { return (w[0] >> 16) & 0xff; }
    uint32_t b() const { return (w[0] >> 24) & 0xff; }
    uint32_t c() const { return w[1] & 0xff; }
    uint32_t d() const { return (w[1] >> 8) & 0xff; }
    uint32_t flags() const { return (w[1] >> 16) & 0xff; }
    uint32_t len() const { return w[2] & 0xffff; }
    uint32_t aux() const { return w[2] >> 16; }
    uint32_t imm() const { return w[3]; }
    bool flag(uint32_t bit) const { return (flags() >> bit) & 1; }
};

inline Instr make_instr(uint32_t op, uint32_t dst = 0, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0, uint32_t d = 0,
                        uint32_t flags = 0, uint32_t len = 0, uint32_t aux = 0, uint32_t imm = 0) {
    Instr i;
    i.w[0] = (op & 0xff) | ((dst & 0xff) << 8) | ((a & 0xff) << 16) | ((b & 0xff) << 24);
    i.w[1] = (c & 0xff) | ((d & 0xff) << 8) | ((flags & 0xff) << 16);
    i.w[2] = (len & 0xffff) | ((aux & 0xffff) << 16);
    i.w[3] = imm;
    return i;
}

struct Descriptor {
    uint32_t w[4] = {0, 0, 0, 0};
};
inline Descriptor make_desc(uint32_t opcode, uint32_t flags, uint32_t seq, uint32_t w1 = 0, uint32_t w2 = 0, uint32_t w3 = 0) {
    Descriptor d;
    d.w[0] = (opcode & 0xff) | ((flags & 0xff) << 8) | ((seq & 0xffff) << 16);
    d.w[1] = w1;
    d.w[2] = w2;
    d.w[3] = w3;
    return d;
}

} // namespace mmfa
