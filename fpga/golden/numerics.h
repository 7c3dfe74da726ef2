// SPDX-License-Identifier: Apache-2.0
// The accelerator's arithmetic, one function per datapath step, bit-exact with rtl/mmfa_ew.sv,
// rtl/mmfa_engine.sv and rtl/mmfa_tmv_dot.sv. Every rounding (half-up after a product) and
// saturation happens in the same order as in the RTL; change both or neither.
//
// Vectors are kVecBits-bit two's complement with kFrac fractional bits (Q23.28 in 52 bits), held
// in int64_t here and as 64-bit words in card memory. Q15.16 in 32 bits gave 1.1-1.7e-2 prefill
// relative L2 against the reference; the measurement that chose Q23.28 is in fpga/README.md.
#pragma once
#include <cstdint>

#include "sigmoid_rom.h"

namespace mmfa::golden {

using i128 = __int128;
using u128 = unsigned __int128;

inline constexpr int kFrac = 28;
inline constexpr int kVecBits = 52;
inline constexpr int64_t kOne = int64_t(1) << kFrac;
inline constexpr int64_t kVecMax = (int64_t(1) << (kVecBits - 1)) - 1;
inline constexpr int64_t kVecMin = -kVecMax - 1;
inline constexpr int kQuantShift = kFrac + 24;   // 127/absmax reciprocal: >= 254 for any absmax
inline constexpr int kRmsBits = 24;              // 1/rms: Q.24

using vec_t = int64_t;

inline vec_t satv(i128 v) {
    if (v > kVecMax) return kVecMax;
    if (v < kVecMin) return kVecMin;
    return vec_t(v);
}
inline i128 rnd(i128 v, int s) { return (v + (i128(1) << (s - 1))) >> s; }
inline vec_t wrapv(i128 v) {   // kVecBits-bit two's-complement wrap (the RTL's plain subtract)
    const uint64_t m = (uint64_t(1) << kVecBits) - 1;
    const uint64_t u = uint64_t(v) & m;
    return (u >> (kVecBits - 1)) ? vec_t(u | ~m) : vec_t(u);
}
inline uint64_t absv(vec_t v) { return v < 0 ? 0u - uint64_t(v) : uint64_t(v); }

// Q0.24 out (0..2^24): linear interpolation in the ROM's segment over [-16, 16), 0 / 1 outside.
inline constexpr int kSigShift = kFrac + 5 - kSigRomBits;   // input bits inside one segment
inline uint64_t sigmoid_q(vec_t x) {
    if (x >= 16 * kOne) return uint64_t(1) << kSigFrac;
    if (x < -16 * kOne) return 0u;
    const uint64_t t = uint64_t(x + 16 * kOne);
    const uint32_t* e = kSigRom[t >> kSigShift];
    const uint64_t fr = t & ((uint64_t(1) << kSigShift) - 1);
    return e[0] + ((uint64_t(e[1]) * fr + (uint64_t(1) << (kSigShift - 1))) >> kSigShift);
}
inline vec_t mulq(vec_t a, vec_t b) { return satv(rnd(i128(a) * b, kFrac)); }
inline vec_t mulsig(vec_t a, uint64_t s) { return satv(rnd(i128(a) * i128(s), kSigFrac)); }
inline vec_t silu(vec_t a) { return mulsig(a, sigmoid_q(a)); }

// RMS scalar path: mean of squares, sqrt, reciprocal (sequential divider / isqrt in the RTL).
inline constexpr int kSqrtBits = 2 * kVecBits + 16;   // holds (mean + eps) << 16
inline u128 isqrt(u128 v) {
    u128 res = 0, one = u128(1) << (kSqrtBits - 2);
    u128 op = v;
    for (int i = 0; i < kSqrtBits / 2; ++i) {
        if (op >= res + one) {
            op -= res + one;
            res = (res >> 1) + one;
        } else {
            res >>= 1;
        }
        one >>= 2;
    }
    return res;
}
// sumsq is Q.2F; eps comes as Q.32. sqrt(mean + eps) in Q.(F+8), then 1/rms in Q.24.
inline uint64_t rms_recip(u128 sumsq, uint32_t len, uint32_t eps_q32) {
    const u128 mean = sumsq / len;
    const u128 v = (mean + (u128(eps_q32) << (2 * kFrac - 32))) << 16;
    u128 s = isqrt(v);
    if (s == 0) s = 1;
    return uint64_t((u128(1) << (kFrac + 8 + kRmsBits)) / s);
}
inline vec_t rms_out(vec_t a, vec_t gamma, vec_t gate, uint64_t rrec, bool gated) {
    const vec_t t1 = satv(rnd(i128(a) * i128(rrec), kRmsBits));
    const vec_t t2 = mulq(t1, gamma);
    return gated ? mulq(t2, silu(gate)) : t2;
}

// MLGRU step: f' = lb + (1 - lb)·σ(f); h = f'·h + silu(i)·(1 - f').
inline vec_t mlgru(vec_t i_pre, vec_t f_pre, vec_t h, vec_t lb) {
    const vec_t one_m_d = wrapv(i128(kOne) - lb);
    const vec_t fp = satv(i128(lb) + rnd(i128(one_m_d) * i128(sigmoid_q(f_pre)), kSigFrac));
    const vec_t one_m_fp = wrapv(i128(kOne) - fp);
    const vec_t ci = mulq(silu(i_pre), one_m_fp);
    const vec_t hh = mulq(fp, h);
    return satv(i128(hh) + ci);
}
inline vec_t swiglu(vec_t gate, vec_t up) { return mulq(silu(gate), up); }

// QUANT: int8 of a·127/absmax, rounded half away from zero.
inline uint64_t quant_recip(uint64_t absmax) { return uint64_t((u128(127) << kQuantShift) / (absmax ? absmax : 1u)); }
inline int8_t quant(vec_t a, uint64_t recip) {
    const u128 qp = u128(absv(a)) * recip + (u128(1) << (kQuantShift - 1));
    uint32_t qv = uint32_t(qp >> kQuantShift);
    if ((qp >> kQuantShift) > 127) qv = 127;
    return int8_t(a < 0 ? -int32_t(qv) : int32_t(qv));
}

// TMV dequant: y = acc · absmax · m/127, with m/127 = mq · 2^-(32 + shift) (host/model_image.h).
inline uint64_t tmv_factor(uint64_t qm, uint32_t mq, uint32_t shift) {
    if (shift > 40) shift = 40;   // the RTL's shifter range
    return uint64_t(rnd(i128(qm) * mq, 16 + int(shift)));
}
inline vec_t dequant(int32_t acc, uint64_t factor) { return satv(rnd(i128(acc) * i128(factor), 16)); }

// One beat of the ternary dot: card codes bit0 = non-zero, bit1 = negative (2 = reserved = 0).
inline int32_t ternary_dot(const uint8_t* codes, const int8_t* act, int lanes) {
    int32_t s = 0;
    for (int i = 0; i < lanes; ++i) {
        const int c = (codes[i / 4] >> (2 * (i % 4))) & 3;
        if (c == 1) s += act[i];
        else if (c == 3) s -= act[i];
    }
    return s;
}
inline int ternary_nonzero(const uint8_t* codes, int lanes) {
    int n = 0;
    for (int i = 0; i < lanes; ++i) n += (codes[i / 4] >> (2 * (i % 4))) & 1;
    return n;
}

inline vec_t to_fixed(float x) {
    const double v = double(x) * double(kOne);
    if (!(v == v)) return 0;
    if (v >= double(kVecMax)) return kVecMax;
    if (v <= double(kVecMin)) return kVecMin;
    return vec_t(v < 0 ? -static_cast<int64_t>(-v + 0.5) : static_cast<int64_t>(v + 0.5));
}
inline float from_fixed(vec_t v) { return float(double(v) / double(kOne)); }

} // namespace mmfa::golden
