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
void set80(VlWide<3>& w, u128 v) {
    w[0] = uint32_t(v);
    w[1] = uint32_t(v >> 32);
    w[2] = uint32_t(v >> 64) & 0xffff;
}
u128 get80(const VlWide<3>& w) { return u128(w[0]) | (u128(w[1]) << 32) | (u128(w[2] & 0xffff) << 64); }

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
    int32_t rnd_val() {
        switch (rng_() % 4) {
        case 0: return int32_t(rng_());                                           // full range
        case 1: return int32_t(int64_t(rng_() % (32u << 16)) - (16 << 16));       // |x| < 16
        case 2: return int32_t(int64_t(rng_() % (1u << 17)) - (1 << 16));         // |x| < 1
        default: {
            static const int32_t corners[] = {0, 1, -1, INT32_MAX, INT32_MIN, 8 << 16, (8 << 16) - 1, -(8 << 16),
                                              -(8 << 16) - 1, 65536, -65536, 32768, -32768};
            return corners[rng_() % (sizeof corners / sizeof corners[0])];
        }
        }
    }
    int32_t eval_ew(uint32_t op, bool gated, int32_t a, int32_t b, int32_t c, int32_t d, uint64_t rrec) {
        tb_->ew_op = uint8_t(op);
        tb_->ew_gated = gated;
        tb_->ew_a = uint32_t(a);
        tb_->ew_b = uint32_t(b);
        tb_->ew_c = uint32_t(c);
        tb_->ew_d = uint32_t(d);
        tb_->ew_sig0 = sigmoid_q16(op == OP_RMS ? c : a);   // the engine's ROM + range mux
        tb_->ew_sig1 = sigmoid_q16(b);
        tb_->ew_rrec = rrec;
        tb_->eval();
        return int32_t(tb_->ew_result);
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
            QCOMPARE(uint32_t(tb_->rom_data), kSigRom[k]);
        }
        // the table itself is close to the real sigmoid (bin centres, Q0.16)
        for (int32_t x = -(8 << 16); x < (8 << 16); x += 997) {
            const double s = 1.0 / (1.0 + std::exp(-double(x) / 65536.0));
            QVERIFY(std::abs(double(sigmoid_q16(x)) / 65536.0 - s) < 1.5e-4);
        }
    }

    void elementwise() {
        const uint32_t ops[] = {OP_RMS, OP_ADD, OP_MUL, OP_SWIGLU, OP_MLGRU, OP_SIGMOID, OP_SILU};
        int checked = 0;
        for (int it = 0; it < 20000; ++it) {
            const uint32_t op = ops[size_t(it) % (sizeof ops / sizeof ops[0])];
            const bool gated = (it / 7) % 2;
            const int32_t a = rnd_val(), b = rnd_val(), c = rnd_val();
            const int32_t d = (it % 3) ? int32_t(rng_() % 65537) : rnd_val();   // lower bound lives in [0, 1]
            const uint64_t rrec = (it % 2) ? (rng_() >> 15) : (rng_() % (uint64_t(1) << 30));
            int32_t want = 0;
            switch (op) {
            case OP_RMS: want = rms_out(a, b, c, rrec, gated); break;
            case OP_ADD: want = sat32(i128(a) + b); break;
            case OP_MUL: want = mulq(a, b); break;
            case OP_SWIGLU: want = swiglu(a, b); break;
            case OP_MLGRU: want = mlgru(a, b, c, d); break;
            case OP_SIGMOID: want = int32_t(sigmoid_q16(a)); break;
            case OP_SILU: want = silu(a); break;
            }
            const int32_t got = eval_ew(op, gated, a, b, c, d, rrec);
            if (got != want)
                QFAIL(qPrintable(QString("op %1 gated %2 a=%3 b=%4 c=%5 d=%6 rrec=%7: rtl %8 golden %9")
                                     .arg(op).arg(gated).arg(a).arg(b).arg(c).arg(d).arg(rrec).arg(got).arg(want)));
            ++checked;
        }
        QCOMPARE(checked, 20000);
    }

    void quantize() {
        for (int it = 0; it < 20000; ++it) {
            const int32_t a = rnd_val();
            uint32_t amax = abs32(a);
            if (it % 2) amax = amax + uint32_t(rng_() % 1000);   // a is not always the max
            if (amax == 0) amax = 1;
            const uint64_t recip = quant_recip(amax);
            tb_->ew_a = uint32_t(a);
            tb_->ew_qrecip = recip;
            tb_->eval();
            QCOMPARE(int8_t(tb_->ew_q), quant(a, recip));
        }
        // directed: the max maps to ±127, halves round away from zero
        QCOMPARE(quant(1000, quant_recip(1000)), int8_t(127));
        QCOMPARE(quant(-1000, quant_recip(1000)), int8_t(-127));
        QCOMPARE(quant(INT32_MIN, quant_recip(0x80000000u)), int8_t(-127));
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
            tb_->eval();
            QCOMPARE(int32_t(tb_->dot_out), ternary_dot(codes, reinterpret_cast<const int8_t*>(act), 64));
            QCOMPARE(int(tb_->dot_nz), ternary_nonzero(codes, 64));
        }
    }

    void divider() {
        for (int it = 0; it < 300; ++it) {
            u128 num = (u128(rng_()) << 64 | rng_()) & ((u128(1) << 80) - 1);
            u128 den = (u128(rng_()) << 64 | rng_()) >> (48 + rng_() % 80);
            if (it % 3 == 0) num >>= rng_() % 80;
            if (den == 0) den = 1;
            set80(tb_->div_num, num);
            set80(tb_->div_den, den);
            tb_->div_start = 1;
            tick();
            tb_->div_start = 0;
            int n = 0;
            while (!tb_->div_done) {
                tick();
                QVERIFY(++n < 200);
            }
            QCOMPARE(lo64(get80(tb_->div_quo)), lo64(num / den));
            QCOMPARE(uint64_t(get80(tb_->div_quo) >> 64), uint64_t((num / den) >> 64));
        }
    }

    void squareRoot() {
        for (int it = 0; it < 300; ++it) {
            u128 num = (u128(rng_()) << 64 | rng_()) & ((u128(1) << 80) - 1);
            num >>= rng_() % 80;
            set80(tb_->sq_num, num);
            tb_->sq_start = 1;
            tick();
            tb_->sq_start = 0;
            int n = 0;
            while (!tb_->sq_done) {
                tick();
                QVERIFY(++n < 100);
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
