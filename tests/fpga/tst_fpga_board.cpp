// SPDX-License-Identifier: Apache-2.0
// The simulated board (Verilated mmfa_top, small configuration) driven through AccelDriver:
//  - whole tokens of the golden models are bit-exact with the golden machine (logits and state),
//  - the golden machine itself is within MODEL_SPEC tolerance of the float reference,
//  - errors (bad descriptor / instruction / pc, bus error, timeout) are reported and a soft
//    reset recovers, and the telemetry counters agree with the work done,
//  - the Verilated model runs on the board's own thread, never on the caller's.
#include <QtTest>

#include <cstring>
#include <thread>

#include "accel_driver.h"
#include "golden.h"
#include "machine.h"
#include "numerics.h"
#include "plugin/model_desc.h"
#include "sim_transport.h"

using namespace mmfa;
using namespace mmfa::regs;
using mmfree::testkit::GoldenCase;

namespace {

// The golden machine with the same image and slot protocol as the driver.
struct GoldenBoard {
    CardMemory mem;
    golden::Machine m;
    ModelImage img;
    GoldenBoard(const ModelImage& image, const DeviceConfig& cfg) : m(cfg, mem), img(image) {
        for (const Blob& b : img.blobs) mem.write(b.addr, b.bytes.data(), b.bytes.size());
        if (m.load_program(img.layout.prog_addr, img.layout.prog_count) != ERR_NONE) throw std::runtime_error("load");
    }
    // one token in slot 0; returns the raw fixed-point logits
    std::vector<int64_t> token(const float* x) {
        const uint32_t slot = img.layout.slot_base;
        std::vector<int64_t> q(size_t(img.H));
        for (int i = 0; i < img.H; ++i) q[size_t(i)] = golden::to_fixed(x[i]);
        mem.write(slot + img.layout.in_off, q.data(), q.size() * 8);
        if (m.run(0, slot) != ERR_NONE) throw std::runtime_error("golden run failed");
        std::vector<int64_t> out(size_t(img.V));
        mem.read(slot + img.layout.logits_off, out.data(), out.size() * 8);
        return out;
    }
    std::vector<int64_t> state() {
        std::vector<int64_t> s(size_t(img.L) * size_t(img.D));
        for (int l = 0; l < img.L; ++l)
            mem.read(img.layout.state_base + uint64_t(l) * img.layout.state_stride, &s[size_t(l) * size_t(img.D)], size_t(img.D) * 8);
        return s;
    }
};

const float* embedding(const GoldenCase& g, int32_t tok) {
    return g.model->embeddings.data() + size_t(tok) * size_t(g.model->config.hidden_size);
}

std::unique_ptr<AccelDriver> open_small(uint64_t card_bytes = uint64_t(1) << 32) {
    SimOptions o;
    o.config = "small";
    o.card_bytes = card_bytes;
    auto d = std::make_unique<AccelDriver>(make_sim_transport(o));
    d->probe();
    return d;
}

} // namespace

class TestFpgaBoard : public QObject {
    Q_OBJECT

private slots:
    void identifies() {
        auto d = open_small();
        QCOMPARE(d->config().lanes, 64);
        QCOMPARE(d->config().dmax, 1024);
        QCOMPARE(d->transport().read32(REG_MAGIC), MAGIC_VALUE);
        d->transport().write32(REG_SCRATCH, 0xdeadbeef);
        QCOMPARE(d->transport().read32(REG_SCRATCH), 0xdeadbeefu);
        QCOMPARE(d->transport().read32(REG_POWER_SOURCE), POWER_SOURCE_MODELED);
    }

    // The gate: RTL == golden, bit for bit, on whole tokens of every golden model.
    void rtlMatchesGolden_data() {
        QTest::addColumn<QString>("name");
        for (const auto& n : mmfree::testkit::golden_case_names()) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void rtlMatchesGolden() {
        QFETCH(QString, name);
        const GoldenCase g = mmfree::testkit::load_golden(name.toStdString());
        const auto desc = mmfree::plugin::describe(*g.model);
        auto d = open_small();
        d->load_model(desc.desc);
        GoldenBoard gb(d->image(), d->config());
        const int V = g.V;
        // prompt as one doorbell (prefill chunk), then greedy decoding
        std::vector<float> logits(size_t(g.T) * size_t(V));
        std::vector<float> x;
        for (int32_t t : g.prompt) x.insert(x.end(), embedding(g, t), embedding(g, t) + g.model->config.hidden_size);
        d->forward(x.data(), size_t(g.T), logits.data(), true);
        std::vector<int64_t> want;
        for (int t = 0; t < g.T; ++t) want = gb.token(embedding(g, g.prompt[size_t(t)]));
        std::vector<int64_t> got(static_cast<size_t>(V));
        // the last slot holds the last prompt token's logits
        d->transport().read_mem(d->image().layout.slot_base + uint64_t(g.T - 1) * d->image().layout.slot_stride +
                                    d->image().layout.logits_off, got.data(), got.size() * 8);
        QCOMPARE(got, want);
        int32_t tok = g.greedy_tokens[0];
        for (int s = 0; s < 4; ++s) {
            const int32_t am = d->forward(embedding(g, tok), 1, nullptr, false);
            want = gb.token(embedding(g, tok));
            d->transport().read_mem(d->image().layout.slot_base + d->image().layout.logits_off, got.data(), got.size() * 8);
            QCOMPARE(got, want);
            QCOMPARE(uint32_t(am), gb.m.argmax_index());
            tok = am;
        }
        std::vector<int64_t> st(size_t(g.model->config.num_layers) * size_t(g.model->config.state_dim()));
        for (int l = 0; l < g.model->config.num_layers; ++l)
            d->transport().read_mem(d->image().layout.state_base + uint64_t(l) * d->image().layout.state_stride,
                                    &st[size_t(l) * size_t(g.model->config.state_dim())], size_t(g.model->config.state_dim()) * 8);
        QCOMPARE(st, gb.state());
    }

    // The golden machine (board-size lanes) against the float reference: MODEL_SPEC tolerance,
    // and the reference's greedy tokens.
    void goldenWithinTolerance_data() { rtlMatchesGolden_data(); }
    void goldenWithinTolerance() {
        QFETCH(QString, name);
        const GoldenCase g = mmfree::testkit::load_golden(name.toStdString());
        const auto desc = mmfree::plugin::describe(*g.model);
        DeviceConfig cfg;
        cfg.lanes = 256;
        cfg.dmax = 8192;
        cfg.prog_depth = 4096;
        GoldenBoard gb(build_image(desc.desc, cfg), cfg);
        const size_t V = size_t(g.V);
        std::vector<float> prefill;
        for (int32_t t : g.prompt)
            for (int64_t v : gb.token(embedding(g, t))) prefill.push_back(golden::from_fixed(v));
        const std::string msg = mmfree::testkit::check_tolerance(prefill, g.prefill_logits, g.V, "prefill");
        QVERIFY2(msg.empty(), msg.c_str());
        std::vector<float> dec;
        int32_t tok = int32_t(gb.m.argmax_index());
        std::vector<int32_t> greedy{tok};
        for (int s = 0; s < 23; ++s) {
            for (int64_t v : gb.token(embedding(g, tok))) dec.push_back(golden::from_fixed(v));
            tok = int32_t(gb.m.argmax_index());
            greedy.push_back(tok);
        }
        QCOMPARE(greedy, g.greedy_tokens);
        const std::string m2 = mmfree::testkit::check_tolerance(dec, g.decode_logits, g.V, "decode");
        QVERIFY2(m2.empty(), m2.c_str());
        QVERIFY(dec.size() == 23 * V);
        qInfo("%s: prefill rel L2 %.2e, decode rel L2 %.2e", qPrintable(name), mmfree::testkit::rel_l2(prefill, g.prefill_logits),
              mmfree::testkit::rel_l2(dec, g.decode_logits));
    }

    // The host (in the app: the engine worker) only waits: the clock runs on the board's thread,
    // and an error raised there (here: a copy outside card memory) still reaches the caller.
    void simulationRunsOnItsOwnThread() {
        const GoldenCase g = mmfree::testkit::load_golden("tiny-a");
        const auto desc = mmfree::plugin::describe(*g.model);
        SimOptions o;
        o.config = "small";
        auto transport = make_sim_transport(o);
        const SimTransport& sim = *transport;
        AccelDriver d(std::move(transport));
        d.probe();
        d.load_model(desc.desc);
        d.forward(embedding(g, 5), 1, nullptr, false);
        QVERIFY(sim.clock_thread() != std::thread::id());
        QVERIFY(sim.clock_thread() != std::this_thread::get_id());
        try {
            d.transport().read_mem(sim.card_memory_bytes() - 4, nullptr, 8);
            QFAIL("no error for an out-of-range copy");
        } catch (const DriverError& e) {
            QCOMPARE(int(e.kind()), int(DriverError::Invalid));
        }
        QCOMPARE(d.transport().read32(REG_MAGIC), MAGIC_VALUE);
    }

    void errorsAndRecovery() {
        const GoldenCase g = mmfree::testkit::load_golden("tiny-a");
        const auto desc = mmfree::plugin::describe(*g.model);
        auto d = open_small(uint64_t(64) << 20);
        d->load_model(desc.desc);
        GoldenBoard gb(d->image(), d->config());
        const std::vector<int64_t> want = gb.token(embedding(g, 5));
        std::vector<int64_t> got(size_t(g.V));
        auto run_ok = [&] {
            d->reset_state();
            d->forward(embedding(g, 5), 1, nullptr, false);
            d->transport().read_mem(d->image().layout.slot_base + d->image().layout.logits_off, got.data(), got.size() * 8);
            QCOMPARE(got, want);
        };
        auto expect = [&](DriverError::Kind kind, const char* text, auto&& fn) {
            try {
                fn();
                QFAIL("no error raised");
            } catch (const DriverError& e) {
                QCOMPARE(int(e.kind()), int(kind));
                QVERIFY2(std::string(e.what()).find(text) != std::string::npos, e.what());
            }
            d->soft_reset();
            QCOMPARE(d->transport().read32(REG_ERROR), 0u);
        };
        // bad descriptor opcode
        expect(DriverError::Device, "BAD_DESC_OPCODE", [&] { d->submit({make_desc(0x7e, 0, 1)}); });
        run_ok();
        // program larger than the store
        expect(DriverError::Device, "BAD_PROG_SIZE", [&] { d->submit({make_desc(DESC_OP_LOAD_PROG, 0, 2, 0, 5000)}); });
        run_ok();
        // pc outside the microcode store
        expect(DriverError::Device, "PC_OVERFLOW", [&] { d->submit({make_desc(DESC_OP_RUN, 0, 3, 1024)}); });
        run_ok();
        // a descriptor ring that points outside card memory: DECERR on the descriptor fetch
        expect(DriverError::Device, "BUS_ERROR", [&] {
            d->transport().write32(REG_RING_BASE_LO, 0x7ff00000);
            d->submit({make_desc(DESC_OP_NOP, 0, 4)});
        });
        run_ok();
        // hung board: a budget far below one token's cycles; the reset drains the bus mid-token
        d->timeout_cycles = 2000;
        expect(DriverError::Timeout, "did not finish", [&] { d->forward(embedding(g, 5), 1, nullptr, false); });
        d->timeout_cycles = 200'000'000;
        run_ok();
        // an unknown microcode opcode (loaded over the program, then the model reloaded)
        Instr bad = make_instr(0x55);
        d->transport().write_mem(0x100000, bad.w, 16);
        expect(DriverError::Device, "BAD_INSTR", [&] {
            d->submit({make_desc(DESC_OP_LOAD_PROG, 0, 5, 0x100000, 1), make_desc(DESC_OP_RUN, 0, 6, 0)});
        });
        d->load_model(desc.desc);
        run_ok();
    }

    void telemetry() {
        const GoldenCase g = mmfree::testkit::load_golden("tiny-b");
        const auto desc = mmfree::plugin::describe(*g.model);
        auto d = open_small();
        d->load_model(desc.desc);
        GoldenBoard gb(d->image(), d->config());
        const auto before = d->read_counters();
        const int n = 3;
        for (int i = 0; i < n; ++i) {
            d->forward(embedding(g, 10 + i), 1, nullptr, false);
            gb.token(embedding(g, 10 + i));
        }
        const auto after = d->read_counters();
        auto delta = [&](uint32_t c) { return after[c] - before[c]; };
        QCOMPARE(delta(CNT_TOKENS), uint64_t(n));
        QCOMPARE(delta(CNT_DESCRIPTORS), uint64_t(n));
        QCOMPARE(delta(CNT_WEIGHT_BYTES), uint64_t(n) * d->image().weight_bytes_per_token);
        QCOMPARE(delta(CNT_WEIGHT_BYTES), gb.m.weight_bytes());
        QCOMPARE(delta(CNT_NONZERO_WEIGHTS), gb.m.nonzero_weights());
        QCOMPARE(delta(CNT_LANE_OPS), delta(CNT_WEIGHT_BYTES) * 4);
        QVERIFY(delta(CNT_CYCLES_BUSY) > delta(CNT_CYCLES_TMV));
        QVERIFY(delta(CNT_CYCLES_TOTAL) >= delta(CNT_CYCLES_BUSY));
        QVERIFY(after[CNT_LAST_TOKEN_CYCLES] > 0 && after[CNT_LAST_TOKEN_CYCLES] < delta(CNT_CYCLES_BUSY));
        QVERIFY(delta(CNT_ENERGY_FJ) > 0);
        const auto m = d->metrics();
        QCOMPARE(m.tokens, uint64_t(n));
        QVERIFY(m.cycles_per_token > 0 && m.tok_s > 0 && m.joules_per_token > 0 && m.watts > 0);
        QVERIFY(m.tok_s_with_io < m.tok_s);
        QCOMPARE(m.power_source, 1);
        qInfo("small config, tiny-b: %.0f cycles/token, modeled %.0f tok/s at %.0f MHz, %.3g J/token, %.2f W",
              m.cycles_per_token, m.tok_s, m.clk_hz / 1e6, m.joules_per_token, m.watts);
    }
};

QTEST_APPLESS_MAIN(TestFpgaBoard)
#include "tst_fpga_board.moc"
