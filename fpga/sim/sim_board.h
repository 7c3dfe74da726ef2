// SPDX-License-Identifier: Apache-2.0
// SimBoard<VTop>: one template for every Verilated configuration of mmfa_top (they differ only
// in the width of the card-memory data bus). The Verilated model lives on board_ (its own
// thread): every call below is posted there and waited for.
#pragma once
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include "board_thread.h"
#include "card_memory.h"
#include "sim_transport.h"
#include "verilated.h"

namespace mmfa {

template <class VTop> class SimBoard final : public SimTransport {
public:
    SimBoard(const SimOptions& o, std::string label) : opt_(o), label_(std::move(label)), mem_(o.card_bytes) {
        on_board([&] {
            ctx_ = std::make_unique<VerilatedContext>();
            top_ = std::make_unique<VTop>(ctx_.get(), "mmfa");
            bb_ = sizeof(top_->m_axi_rdata);
            top_->rst = 1;
            for (int i = 0; i < 8; ++i) tick();
            top_->rst = 0;
            tick();
        });
    }
    ~SimBoard() override {
        on_board([&] {
            top_->final();
            top_.reset();
            ctx_.reset();
        });
    }

    std::string name() const override { return "sim"; }
    std::string description() const override { return label_; }
    bool modeled() const override { return true; }
    uint64_t card_memory_bytes() const override { return mem_.size(); }
    std::thread::id clock_thread() const override { return clock_thread_; }

    uint32_t read32(uint32_t off) override {
        return on_board([&] {
            top_->s_axil_araddr = off & 0xfff;
            top_->s_axil_arvalid = 1;
            for (int i = 0; !lite_ar_; ++i) { tick(); guard(i); }
            top_->s_axil_arvalid = 0;
            top_->s_axil_rready = 1;
            for (int i = 0; !lite_r_; ++i) { tick(); guard(i); }
            top_->s_axil_rready = 0;
            return lite_rdata_;
        });
    }
    void write32(uint32_t off, uint32_t v) override {
        on_board([&] {
            top_->s_axil_awaddr = off & 0xfff;
            top_->s_axil_awvalid = 1;
            top_->s_axil_wdata = v;
            top_->s_axil_wvalid = 1;
            for (int i = 0; !lite_aw_; ++i) { tick(); guard(i); }
            top_->s_axil_awvalid = 0;
            top_->s_axil_wvalid = 0;
            top_->s_axil_bready = 1;
            for (int i = 0; !lite_b_; ++i) { tick(); guard(i); }
            top_->s_axil_bready = 0;
        });
    }
    // Backdoor copies into the memory model, charged to the modeled PCIe link. They go through
    // the board thread too: the memory model is the board's state.
    void write_mem(uint64_t a, const void* p, size_t n) override {
        on_board([&] {
            check(a, n);
            mem_.write(a, p, n);
            io_s_ += double(n) / (opt_.pcie_gb_s * 1e9);
        });
    }
    void read_mem(uint64_t a, void* p, size_t n) override {
        on_board([&] {
            check(a, n);
            mem_.read(a, p, n);
            io_s_ += double(n) / (opt_.pcie_gb_s * 1e9);
        });
    }
    void advance(uint64_t cycles) override {
        on_board([&] {
            const auto t0 = std::chrono::steady_clock::now();
            for (uint64_t i = 0; i < cycles; ++i) tick();
            wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            timed_cycles_ += cycles;
        });
    }
    // Read after a call returned: board_ hands the values over under its lock.
    double io_seconds() const override { return io_s_; }
    double sim_cycles_per_second() const override { return wall_s_ > 0 ? double(timed_cycles_) / wall_s_ : 0; }

private:
    struct ReadBurst {
        uint64_t addr;
        unsigned beats;
        uint64_t ready;
    };
    void check(uint64_t a, size_t n) const {
        if (!mem_.contains(a, n)) throw DriverError(DriverError::Invalid, "card address out of range");
    }
    template <class F> auto on_board(F&& f) {
        return board_.run([&] {
            clock_thread_ = std::this_thread::get_id();
            return f();
        });
    }
    static void guard(int i) {
        if (i > 10000) throw DriverError(DriverError::Timeout, "AXI-Lite access not answered (register bus hung)");
    }

    void tick() {
        VTop& t = *top_;
        // 1. slave outputs from the memory model's state
        t.m_axi_arready = rd_q_.size() < 8;
        const bool rv = !rd_q_.empty() && rd_q_.front().ready <= cycle_;
        t.m_axi_rvalid = rv;
        if (rv) {
            const ReadBurst& b = rd_q_.front();
            const uint64_t a = b.addr + uint64_t(rd_beat_) * bb_;
            const bool ok = mem_.contains(a, bb_);
            uint8_t buf[64] = {};
            if (ok) mem_.read(a, buf, bb_);
            std::memcpy(&t.m_axi_rdata, buf, bb_);
            t.m_axi_rresp = ok ? 0 : 3;   // DECERR outside card memory
            t.m_axi_rlast = (rd_beat_ + 1 == b.beats);
        }
        t.m_axi_awready = !w_active_ && !b_pending_;
        t.m_axi_wready = w_active_;
        t.m_axi_bvalid = b_pending_ && b_ready_ <= cycle_;
        t.m_axi_bresp = b_resp_;
        // 2. falling edge: the RTL's combinational outputs settle; sample handshakes
        t.clk = 0;
        t.eval();
        const bool ar = t.m_axi_arvalid && t.m_axi_arready;
        const uint64_t ar_addr = t.m_axi_araddr;
        const unsigned ar_len = t.m_axi_arlen + 1u;
        const bool r = t.m_axi_rvalid && t.m_axi_rready;
        const bool aw = t.m_axi_awvalid && t.m_axi_awready;
        const uint64_t aw_addr = t.m_axi_awaddr;
        const bool w = t.m_axi_wvalid && t.m_axi_wready;
        const bool wlast = t.m_axi_wlast;
        const bool b = t.m_axi_bvalid && t.m_axi_bready;
        if (w) {
            uint8_t buf[64];
            std::memcpy(buf, &t.m_axi_wdata, bb_);
            uint64_t strb = 0;
            std::memcpy(&strb, &t.m_axi_wstrb, std::min<size_t>(sizeof strb, sizeof t.m_axi_wstrb));
            for (size_t i = 0; i < bb_; ++i)
                if ((strb >> i) & 1) {
                    if (mem_.contains(w_addr_ + i, 1)) mem_.write(w_addr_ + i, &buf[i], 1);
                    else b_resp_ = 3;
                }
        }
        lite_ar_ = t.s_axil_arvalid && t.s_axil_arready;
        lite_r_ = t.s_axil_rvalid && t.s_axil_rready;
        if (lite_r_) lite_rdata_ = t.s_axil_rdata;
        lite_aw_ = t.s_axil_awvalid && t.s_axil_awready;
        lite_b_ = t.s_axil_bvalid && t.s_axil_bready;
        // 3. rising edge
        t.clk = 1;
        t.eval();
        ctx_->timeInc(1);
        // 4. the memory model takes the handshakes
        if (ar) rd_q_.push_back({ar_addr, ar_len, cycle_ + opt_.mem_latency});
        if (r && ++rd_beat_ == rd_q_.front().beats) {
            rd_q_.pop_front();
            rd_beat_ = 0;
        }
        if (aw) {
            w_active_ = true;
            w_addr_ = aw_addr;
            b_resp_ = 0;
        }
        if (w) {
            w_addr_ += bb_;
            if (wlast) {
                w_active_ = false;
                b_pending_ = true;
                b_ready_ = cycle_ + 2;
            }
        }
        if (b) b_pending_ = false;
        ++cycle_;
    }

    SimOptions opt_;
    std::string label_;
    CardMemory mem_;
    std::unique_ptr<VerilatedContext> ctx_;
    std::unique_ptr<VTop> top_;
    size_t bb_ = 16;
    uint64_t cycle_ = 0, timed_cycles_ = 0;
    double io_s_ = 0, wall_s_ = 0;
    std::deque<ReadBurst> rd_q_;
    unsigned rd_beat_ = 0;
    bool w_active_ = false, b_pending_ = false;
    uint64_t w_addr_ = 0, b_ready_ = 0;
    unsigned b_resp_ = 0;
    bool lite_ar_ = false, lite_r_ = false, lite_aw_ = false, lite_b_ = false;
    uint32_t lite_rdata_ = 0;
    std::thread::id clock_thread_;
    BoardThread board_;   // last member: its thread stops before the state above goes away
};

} // namespace mmfa
