// SPDX-License-Identifier: Apache-2.0
// The accelerator's arithmetic, one function per datapath step, bit-exact with rtl/mmfa_ew.sv,
// rtl/mmfa_engine.sv and rtl/mmfa_tmv_dot.sv. Every rounding (half-up after a product) and
// saturation happens in the same order as in the RTL; change both or neither.
#pragma once
#include <cstdint>

#include "sigmoid_rom.h"

namespace mmfa::golden {

using i128 = __int128;
using u128 = unsigned __int128;

inline constexpr int kFrac = 16;           // Q15.16 vectors
inline constexpr int32_t kOne = 1 << kFrac;

inline int32_t sat32(i128 v) {
    if (v > INT32_MAX) return INT32_MAX;
    if (v < INT32_MIN) return INT32_MIN;
    return int32_t(v);
}
inline i128 rnd16(i128 v) { return (v + 32768) >> 16; }
inline int32_t wrap32(int64_t v) { return int32_t(uint32_t(uint64_t(v))); }
inline uint32_t abs32(int32_t v) { return v < 0 ? 0u - uint32_t(v) : uint32_t(v); }

// Q15.16 in, Q0.16 out (0..65536): the ROM over [-8, 8), exact 0 / 1 outside.
inline uint32_t sigmoid_q16(int32_t x) {
    if (x >= 8 * kOne) return 65536u;
    if (x < -8 * kOne) return 0u;
    const uint32_t t = uint32_t(x) + uint32_t(8 * kOne);
    return kSigRom[(t >> (20 - kSigRomBits)) & ((1u << kSigRomBits) - 1)];
}
inline int32_t mulq(int32_t a, int32_t b) { return sat32(rnd16(i128(a) * b)); }
inline int32_t mulsig(int32_t a, uint32_t s) { return sat32(rnd16(i128(a) * i128(s))); }
inline int32_t silu(int32_t a) { return mulsig(a, sigmoid_q16(a)); }

// RMS scalar path: mean of squares, sqrt, reciprocal (sequential divider / isqrt in the RTL).
inline u128 isqrt(u128 v) {
    u128 res = 0, one = u128(1) << 78;   // W = 80
    u128 op = v;
    for (int i = 0; i < 40; ++i) {
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
inline uint64_t rms_recip(u128 sumsq, uint32_t len, uint32_t eps_q32) {
    const u128 mean = sumsq / len;
    const u128 v = ((mean + eps_q32) << 16) & ((u128(1) << 80) - 1);
    u128 s = isqrt(v);
    if (s == 0) s = 1;
    return uint64_t((u128(1) << 48) / s);   // 1/rms in Q.24
}
inline int32_t rms_out(int32_t a, int32_t gamma, int32_t gate, uint64_t rrec, bool gated) {
    const int32_t t1 = sat32((i128(a) * i128(rrec) + (i128(1) << 23)) >> 24);
    const int32_t t2 = mulq(t1, gamma);
    return gated ? mulq(t2, silu(gate)) : t2;
}

// MLGRU step: f' = lb + (1 - lb)·σ(f); h = f'·h + silu(i)·(1 - f').
inline int32_t mlgru(int32_t i_pre, int32_t f_pre, int32_t h, int32_t lb) {
    const int32_t one_m_d = wrap32(int64_t(kOne) - lb);
    const int32_t fp = sat32(i128(lb) + rnd16(i128(one_m_d) * i128(sigmoid_q16(f_pre))));
    const int32_t one_m_fp = wrap32(int64_t(kOne) - fp);
    const int32_t ci = mulq(silu(i_pre), one_m_fp);
    const int32_t hh = mulq(fp, h);
    return sat32(i128(hh) + ci);
}
inline int32_t swiglu(int32_t gate, int32_t up) { return mulq(silu(gate), up); }

// QUANT: int8 of a·127/absmax, rounded half away from zero.
inline uint64_t quant_recip(uint32_t absmax) { return uint64_t((u128(127) << 32) / (absmax ? absmax : 1u)); }
inline int8_t quant(int32_t a, uint64_t recip) {
    const u128 qp = u128(abs32(a)) * recip + (u128(1) << 31);
    uint32_t qv = uint32_t(qp >> 32);
    if ((qp >> 32) > 127) qv = 127;
    return int8_t(a < 0 ? -int32_t(qv) : int32_t(qv));
}

// TMV dequant: y = acc · absmax · mq / 2^32, with mq = round(m · 2^32 / 127).
inline uint64_t tmv_factor(uint32_t qm, uint32_t mq) { return (uint64_t(qm) * mq + 32768) >> 16; }
inline int32_t dequant(int32_t acc, uint64_t factor) { return sat32((i128(acc) * i128(factor) + 32768) >> 16); }

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

inline int32_t to_fixed(float x) {
    const double v = double(x) * kOne;
    if (!(v == v)) return 0;
    if (v >= 2147483647.0) return INT32_MAX;
    if (v <= -2147483648.0) return INT32_MIN;
    return int32_t(v < 0 ? -static_cast<int64_t>(-v + 0.5) : static_cast<int64_t>(v + 0.5));
}
inline float from_fixed(int32_t v) { return float(double(v) / kOne); }

} // namespace mmfa::golden
