// SPDX-License-Identifier: Apache-2.0
// Each RTL datapath block against the golden numerics (golden/numerics.h): exact equality on
// directed corner cases and random vectors.
#include <QtTest>

#include <random>

#include "Vmmfa_blocks.h"
#include "mmfa_regs.h"
#include "numerics.h"
#include "verilated.h"

using namespace mmfa::golden;
using namespace mmfa::regs;

namespace {

template <class W> void set_wide(W& w, const uint8_t* bytes, size_t n) { std::memcpy(&w, bytes, n); }
uint64_t lo64(u128 v) { return uint64_t(v); }
constexpr int kW = kSqrtBits;   // the divider's and isqrt's width in the engine (120)
u128 mask_w(u128 v) { return v & ((u128(1) << kW) - 1); }
void set_w(VlWide<4>& w, u128 v) {
    for (int i = 0; i < 4; ++i) w[i] = uint32_t(v >> (32 * i));
    w[3] &= 0xffffff;
}
u128 get_w(const VlWide<4>& w) {
    return u128(w[0]) | (u128(w[1]) << 32) | (u128(w[2]) << 64) | (u128(w[3] & 0xffffff) << 96);
}
constexpr int kEwLatency = 26;   // mmfa_ew's pipeline
constexpr int kDotLatency = 4;   // mmfa_tmv_dot at 64 lanes: log2(64)/2 + 1
constexpr uint64_t kVecMask = (uint64_t(1) << kVecBits) - 1;
vec_t from_pins(uint64_t v) { return wrapv(i128(v)); }

} // namespace

class TestFpgaBlocks : public QObject {
    Q_OBJECT
    std::unique_ptr<VerilatedContext> ctx_;
    std::unique_ptr<Vmmfa_blocks> tb_;
    std::mt19937_64 rng_{1234};

    void tick() {
        tb_->clk = 0;
        tb_->eval();
        tb_->clk = 1;
        tb_->eval();
    }
    vec_t rnd_val() {
        switch (rng_() % 4) {
        case 0: return wrapv(i128(rng_()));                                              // full range
        case 1: return int64_t(rng_() % uint64_t(64 * kOne)) - 32 * kOne;                // |x| < 32
        case 2: return int64_t(rng_() % uint64_t(2 * kOne)) - kOne;                      // |x| < 1
        default: {
            static const vec_t corners[] = {0, 1, -1, kVecMax, kVecMin, 16 * kOne, 16 * kOne - 1, -16 * kOne,
                                            -16 * kOne - 1, kOne, -kOne, kOne / 2, -kOne / 2};
            return corners[rng_() % (sizeof corners / sizeof corners[0])];
        }
        }
    }
    vec_t eval_ew(uint32_t op, bool gated, vec_t a, vec_t b, vec_t c, vec_t d, uint64_t rrec) {
        tb_->ew_op = uint8_t(op);
        tb_->ew_gated = gated;
        tb_->ew_a = uint64_t(a) & kVecMask;
        tb_->ew_b = uint64_t(b) & kVecMask;
        tb_->ew_c = uint64_t(c) & kVecMask;
        tb_->ew_d = uint64_t(d) & kVecMask;
        tb_->ew_sig0 = uint32_t(sigmoid_q(op == OP_RMS ? c : a));   // the engine's ROM + interpolation + range mux
        tb_->ew_sig1 = uint32_t(sigmoid_q(b));
        tb_->ew_rrec = rrec;
        for (int i = 0; i < kEwLatency; ++i) tick();
        return from_pins(tb_->ew_result);
    }

private slots:
    void initTestCase() {
        ctx_ = std::make_unique<VerilatedContext>();
        tb_ = std::make_unique<Vmmfa_blocks>(ctx_.get(), "tb");
        tb_->rst = 1;
        tick();
        tick();
        tb_->rst = 0;
        tick();
    }

    void sigmoidRom() {
        for (uint32_t k = 0; k < (1u << kSigRomBits); ++k) {
            tb_->rom_addr = uint16_t(k);
            tick();
            QCOMPARE(uint64_t(tb_->rom_data), (uint64_t(kSigRom[k][0]) << 16) | kSigRom[k][1]);
        }
        // the interpolated table is within 1e-6 of the real sigmoid everywhere (0 / 1 outside +-16);
        // the 2^14-entry Q0.16 nearest-value table it replaced was off by up to 1.2e-4
        for (vec_t x = -20 * kOne; x < 20 * kOne; x += 997 * 1021) {
            const double s = 1.0 / (1.0 + std::exp(-double(x) / double(kOne)));
            QVERIFY(std::abs(double(sigmoid_q(x)) / double(uint64_t(1) << kSigFrac) - s) < 1e-6);
        }
    }

    void elementwise() {
        const uint32_t ops[] = {OP_RMS, OP_ADD, OP_MUL, OP_SWIGLU, OP_MLGRU, OP_SIGMOID, OP_SILU};
        int checked = 0;
        for (int it = 0; it < 20000; ++it) {
            const uint32_t op = ops[size_t(it) % (sizeof ops / sizeof ops[0])];
            const bool gated = (it / 7) % 2;
            const vec_t a = rnd_val(), b = rnd_val(), c = rnd_val();
            const vec_t d = (it % 3) ? vec_t(rng_() % uint64_t(kOne + 1)) : rnd_val();   // lower bound lives in [0, 1]
            const uint64_t rrec = (it % 2) ? (rng_() >> 3) : (rng_() % (uint64_t(1) << 34));
            vec_t want = 0;
            switch (op) {
            case OP_RMS: want = rms_out(a, b, c, rrec, gated); break;
            case OP_ADD: want = satv(i128(a) + b); break;
            case OP_MUL: want = mulq(a, b); break;
            case OP_SWIGLU: want = swiglu(a, b); break;
            case OP_MLGRU: want = mlgru(a, b, c, d); break;
            case OP_SIGMOID: want = vec_t(sigmoid_q(a)); break;
            case OP_SILU: want = silu(a); break;
            }
            const vec_t got = eval_ew(op, gated, a, b, c, d, rrec);
            if (got != want)
                QFAIL(qPrintable(QString("op %1 gated %2 a=%3 b=%4 c=%5 d=%6 rrec=%7: rtl %8 golden %9")
                                     .arg(op).arg(gated).arg(qint64(a)).arg(qint64(b)).arg(qint64(c)).arg(qint64(d)).arg(rrec).arg(qint64(got)).arg(qint64(want))));
            ++checked;
        }
        QCOMPARE(checked, 20000);
    }

    void quantize() {
        for (int it = 0; it < 20000; ++it) {
            const vec_t a = rnd_val();
            uint64_t amax = absv(a);
            if (it % 2) amax = amax + rng_() % 100000;   // a is not always the max
            if (amax == 0) amax = 1;
            const uint64_t recip = quant_recip(amax);
            tb_->ew_a = uint64_t(a) & kVecMask;
            tb_->ew_qrecip = recip;
            for (int i = 0; i < kEwLatency; ++i) tick();
            QCOMPARE(int8_t(tb_->ew_q), quant(a, recip));
        }
        // directed: the max maps to ±127, halves round away from zero
        QCOMPARE(quant(1000, quant_recip(1000)), int8_t(127));
        QCOMPARE(quant(-1000, quant_recip(1000)), int8_t(-127));
        QCOMPARE(quant(kVecMin, quant_recip(absv(kVecMin))), int8_t(-127));
    }

    void ternaryDot() {
        uint8_t codes[16], act[64];
        for (int it = 0; it < 5000; ++it) {
            const int mode = it % 4;
            for (auto& c : codes) c = uint8_t(rng_());
            for (auto& v : act) v = uint8_t(rng_());
            if (mode == 1) std::memset(codes, 0xff, sizeof codes);     // all -1
            if (mode == 2) std::memset(act, 0x80, sizeof act);         // all -128
            if (mode == 3) std::memset(codes, 0x55, sizeof codes);     // all +1
            set_wide(tb_->dot_codes, codes, sizeof codes);
            set_wide(tb_->dot_act, act, sizeof act);
            for (int i = 0; i < kDotLatency; ++i) tick();
            QCOMPARE(int32_t(tb_->dot_out), ternary_dot(codes, reinterpret_cast<const int8_t*>(act), 64));
            QCOMPARE(int(tb_->dot_nz), ternary_nonzero(codes, 64));
        }
    }

    void divider() {
        for (int it = 0; it < 300; ++it) {
            u128 num = mask_w(u128(rng_()) << 64 | rng_());
            u128 den = (u128(rng_()) << 64 | rng_()) >> (8 + rng_() % 120);
            if (it % 3 == 0) num >>= rng_() % kW;
            if (den == 0) den = 1;
            set_w(tb_->div_num, num);
            set_w(tb_->div_den, den);
            tb_->div_start = 1;
            tick();
            tb_->div_start = 0;
            int n = 0;
            while (!tb_->div_done) {
                tick();
                QVERIFY(++n < 600);   // 120 quotient bits, 4 clocks each
            }
            QCOMPARE(lo64(get_w(tb_->div_quo)), lo64(num / den));
            QCOMPARE(uint64_t(get_w(tb_->div_quo) >> 64), uint64_t((num / den) >> 64));
        }
    }

    void squareRoot() {
        for (int it = 0; it < 300; ++it) {
            u128 num = mask_w(u128(rng_()) << 64 | rng_());
            num >>= rng_() % kW;
            set_w(tb_->sq_num, num);
            tb_->sq_start = 1;
            tick();
            tb_->sq_start = 0;
            int n = 0;
            while (!tb_->sq_done) {
                tick();
                QVERIFY(++n < 300);   // 60 root bits, 4 clocks each
            }
            const u128 r = isqrt(num);
            QCOMPARE(uint64_t(tb_->sq_root), uint64_t(r));
            QVERIFY(r * r <= num && (r + 1) * (r + 1) > num);   // the golden isqrt is floor(sqrt)
        }
    }

    void cleanupTestCase() { tb_->final(); }
};

QTEST_APPLESS_MAIN(TestFpgaBlocks)
#include "tst_fpga_blocks.moc"
