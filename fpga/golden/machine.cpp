// SPDX-License-Identifier: Apache-2.0
#include "machine.h"

#include "numerics.h"

namespace mmfa::golden {

using namespace mmfa::regs;

Machine::Machine(const DeviceConfig& cfg, CardMemory& mem)
    : cfg_(cfg), mem_(mem), prog_(size_t(cfg.prog_depth)), v_(size_t(cfg.vregs), std::vector<vec_t>(size_t(cfg.dmax), 0)),
      act_(size_t(cfg.dmax), 0) {}

uint32_t Machine::execute(const Descriptor& d) {
    switch (d.w[0] & 0xff) {
    case DESC_OP_NOP:
    case DESC_OP_SNAPSHOT: return ERR_NONE;
    case DESC_OP_LOAD_PROG: return load_program(d.w[1], d.w[2]);
    case DESC_OP_RUN: return run(d.w[1] & 0xffff, d.w[3]);
    default: return ERR_BAD_DESC_OPCODE;
    }
}

uint32_t Machine::load_program(uint32_t addr, uint32_t count) {
    if (count == 0 || count > uint32_t(cfg_.prog_depth)) return ERR_BAD_PROG_SIZE;
    for (uint32_t i = 0; i < count; ++i) mem_.read(addr + 16ull * i, prog_[i].w, 16);
    return ERR_NONE;
}

uint32_t Machine::run(uint32_t pc, uint32_t arg) {
    pc_ = pc;
    for (;;) {
        if (pc_ >= uint32_t(cfg_.prog_depth)) return ERR_PC_OVERFLOW;
        const Instr& in = prog_[pc_];
        if (in.op() == OP_END) return ERR_NONE;
        const uint32_t e = step(in, arg);
        if (e != ERR_NONE) return e;
        ++pc_;
    }
}

void Machine::write(int reg, uint32_t idx, vec_t value, bool track) {
    v_[size_t(reg)][idx] = value;
    if (track && absv(value) > amax_) amax_ = absv(value);
}

uint32_t Machine::step(const Instr& in, uint32_t arg) {
    const uint32_t op = in.op();
    if (op == OP_SCALE) {
        mq_ = in.imm();
        mq_shift_ = in.aux();
        return ERR_NONE;
    }
    if (op > OP_SILU) return ERR_BAD_INSTR;
    const uint32_t nv = uint32_t(cfg_.vregs);
    if (in.dst() >= nv || in.a() >= nv || in.b() >= nv || in.c() >= nv || in.d() >= nv) return ERR_BAD_LENGTH;
    const uint32_t len = in.len();
    if (len == 0 || len > uint32_t(cfg_.dmax)) return ERR_BAD_LENGTH;
    if (op == OP_TMV && (in.aux() == 0 || in.aux() > uint32_t(cfg_.dmax / cfg_.lanes))) return ERR_BAD_LENGTH;
    const uint32_t addr = in.imm() + (in.flag(IFLAG_REL_BIT) ? arg : 0u);
    const auto& A = v_[in.a()];
    const auto& B = v_[in.b()];
    const auto& C = v_[in.c()];
    const auto& D = v_[in.d()];
    const int dst = int(in.dst());
    const uint32_t wpb = uint32_t(cfg_.elems_per_beat());
    const uint32_t bb = uint32_t(cfg_.beat_bytes());

    switch (op) {
    case OP_LOADV:
        for (uint32_t i = 0; i < len; ++i) {
            int64_t w = 0;
            mem_.read(addr + 8ull * i, &w, 8);
            v_[size_t(dst)][i] = wrapv(w);   // the RTL keeps the low kVecBits bits of each word
        }
        return ERR_NONE;
    case OP_STOREV: {
        // whole beats; words past len are written as zero (the RTL's padding)
        const uint32_t words = (len + wpb - 1) / wpb * wpb;
        for (uint32_t i = 0; i < words; ++i) {
            const vec_t w = i < len ? A[i] : 0;
            mem_.write(addr + 8ull * i, &w, 8);
        }
        return ERR_NONE;
    }
    case OP_QUANT: {
        qm_ = amax_ ? amax_ : 1u;
        qrecip_ = quant_recip(qm_);
        const uint32_t padded = (len + uint32_t(cfg_.lanes) - 1) / uint32_t(cfg_.lanes) * uint32_t(cfg_.lanes);
        for (uint32_t i = 0; i < padded; ++i) act_[i] = i < len ? quant(A[i], qrecip_) : 0;
        return ERR_NONE;
    }
    case OP_TMV: {
        amax_ = 0;
        const uint64_t f = tmv_factor(qm_, mq_, mq_shift_);
        std::vector<uint8_t> beat(bb);
        for (uint32_t n = 0; n < len; ++n) {
            int32_t acc = 0;
            for (uint32_t j = 0; j < in.aux(); ++j) {
                mem_.read(addr + (uint64_t(n) * in.aux() + j) * bb, beat.data(), bb);
                acc += ternary_dot(beat.data(), act_.data() + size_t(j) * size_t(cfg_.lanes), cfg_.lanes);
                nonzero_ += uint64_t(ternary_nonzero(beat.data(), cfg_.lanes));
                weight_bytes_ += bb;
            }
            write(dst, n, dequant(acc, f), true);
        }
        return ERR_NONE;
    }
    case OP_RMS: {
        u128 s = 0;
        for (uint32_t i = 0; i < len; ++i) s += u128(i128(A[i]) * A[i]);
        const uint64_t r = rms_recip(s, len, in.imm());
        const bool gated = in.flag(IFLAG_GATED_BIT);
        amax_ = 0;
        std::vector<vec_t> out(len);
        for (uint32_t i = 0; i < len; ++i) out[i] = rms_out(A[i], B[i], C[i], r, gated);
        for (uint32_t i = 0; i < len; ++i) write(dst, i, out[i], true);
        return ERR_NONE;
    }
    case OP_ARGMAX:
        if (!in.flag(IFLAG_CONT_BIT)) {
            best_ = kVecMin;
            argmax_idx_ = in.imm();
        }
        for (uint32_t i = 0; i < len; ++i)
            if (A[i] > best_) {
                best_ = A[i];
                argmax_idx_ = in.imm() + i;
            }
        argmax_val_ = best_;
        return ERR_NONE;
    default: break;
    }
    // one-pass element-wise ops; outputs computed before writing so dst may alias a source
    amax_ = 0;
    std::vector<vec_t> out(len);
    for (uint32_t i = 0; i < len; ++i) {
        switch (op) {
        case OP_ADD: out[i] = satv(i128(A[i]) + B[i]); break;
        case OP_MUL: out[i] = mulq(A[i], B[i]); break;
        case OP_SWIGLU: out[i] = swiglu(A[i], B[i]); break;
        case OP_MLGRU: out[i] = mlgru(A[i], B[i], C[i], D[i]); break;
        case OP_SIGMOID: out[i] = vec_t(sigmoid_q(A[i])); break;
        case OP_SILU: out[i] = silu(A[i]); break;
        default: break;
        }
    }
    for (uint32_t i = 0; i < len; ++i) write(dst, i, out[i], true);
    return ERR_NONE;
}

} // namespace mmfa::golden
