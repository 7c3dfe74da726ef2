// SPDX-License-Identifier: Apache-2.0
#include "accel_driver.h"

#include <chrono>
#include <cstring>

#include "numerics.h"

namespace mmfa {

using namespace mmfa::regs;
using Clock = std::chrono::steady_clock;

AccelDriver::AccelDriver(std::unique_ptr<Transport> transport) : t_(std::move(transport)) {}

void AccelDriver::probe() {
    const uint32_t magic = t_->read32(REG_MAGIC);
    if (magic != MAGIC_VALUE)
        throw DriverError(DriverError::NoDevice, t_->description() + " is not an MMFA accelerator (MAGIC reads 0x" +
                                                     [&] { char b[16]; std::snprintf(b, sizeof b, "%08x", magic); return std::string(b); }() + ")");
    const uint32_t ver = t_->read32(REG_VERSION);
    if ((ver >> 16) != VERSION_MAJOR)
        throw DriverError(DriverError::NoDevice, "the board speaks register map v" + std::to_string(ver >> 16) + "." +
                                                     std::to_string(ver & 0xffff) + "; this plugin needs v" +
                                                     std::to_string(VERSION_MAJOR) + ".x");
    cfg_.lanes = int(t_->read32(REG_CAPS_LANES));
    cfg_.vregs = int(t_->read32(REG_CAPS_VREGS));
    cfg_.dmax = int(t_->read32(REG_CAPS_DMAX));
    cfg_.prog_depth = int(t_->read32(REG_CAPS_PROG_DEPTH));
    cfg_.clk_hz = double(t_->read32(REG_CAPS_CLK_HZ));
    beat_bytes_ = t_->read32(REG_CAPS_BEAT_BYTES);
    if (cfg_.lanes < 64 || beat_bytes_ != uint32_t(cfg_.beat_bytes()) || cfg_.vregs < 8)
        throw DriverError(DriverError::NoDevice, "unsupported MMFA capabilities (lanes " + std::to_string(cfg_.lanes) + ")");
    soft_reset();
}

void AccelDriver::soft_reset() {
    t_->write32(REG_CTRL, 1u << CTRL_SOFT_RESET_BIT);
    // the engine drains in-flight bus traffic before it reports idle again
    for (int i = 0;; ++i) {
        if (t_->read32(REG_CTRL) & (1u << CTRL_IDLE_BIT)) break;
        if (i > 1000) throw DriverError(DriverError::Timeout, "the board did not come back from a soft reset");
        t_->advance(64);
    }
    tail_ = 0;
    t_->write32(REG_RING_BASE_LO, img_.layout.ring_base);
    t_->write32(REG_RING_BASE_HI, 0);
    t_->write32(REG_RING_SIZE, 64);
    t_->write32(REG_DOORBELL, 0);
    t_->write32(REG_CTRL, 1u << CTRL_RUN_BIT);
}

void AccelDriver::load_model(const mmfa_model_desc& model) {
    loaded_ = false;
    try {
        img_ = build_image(model, cfg_);
    } catch (const std::invalid_argument& e) {
        throw DriverError(DriverError::Invalid, std::string("the model does not fit this FPGA configuration: ") + e.what());
    }
    if (img_.layout.end > t_->card_memory_bytes())
        throw DriverError(DriverError::Invalid, "the model image needs " + std::to_string(img_.layout.end >> 20) +
                                                    " MiB of card memory; the board has " +
                                                    std::to_string(t_->card_memory_bytes() >> 20) + " MiB");
    soft_reset();
    for (const Blob& b : img_.blobs) write_blob(b.addr, b.bytes.data(), b.bytes.size());
    reset_state();
    submit({make_desc(DESC_OP_LOAD_PROG, 0, seq_++, img_.layout.prog_addr, img_.layout.prog_count)});
    loaded_ = true;
    base_ = read_counters();
    io_base_ = t_->io_seconds();
}

void AccelDriver::submit(const std::vector<Descriptor>& descs) {
    const uint32_t size = img_.layout.ring_size;
    if (descs.size() >= size) throw DriverError(DriverError::Invalid, "too many descriptors for one doorbell");
    for (const Descriptor& d : descs) {
        t_->write_mem(img_.layout.ring_base + uint64_t(tail_) * DESC_BYTES, d.w, sizeof d.w);
        tail_ = (tail_ + 1) & (size - 1);
    }
    t_->write32(REG_DOORBELL, tail_);
    wait_head(tail_);
}

void AccelDriver::wait_head(uint32_t target) {
    const auto t0 = Clock::now();
    uint64_t spent = 0, step = 256;
    for (;;) {
        t_->advance(step);
        spent += step;
        if (t_->read32(REG_HEAD) == target) return;
        const uint32_t ctrl = t_->read32(REG_CTRL);
        if (ctrl & (1u << CTRL_ERROR_BIT)) {
            const uint32_t e = t_->read32(REG_ERROR);
            const uint32_t pc = t_->read32(REG_ERROR_PC);
            throw DriverError(DriverError::Device, std::string("the FPGA stopped with ") + error_name(e & 0xff) +
                                                       " at descriptor " + std::to_string(e >> 16) + ", microcode pc " +
                                                       std::to_string(pc) + "; a soft reset recovers it");
        }
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        // the simulator's budget is in cycles (deterministic however loaded the host is);
        // a real board's is wall-clock time
        if (t_->modeled() ? spent >= timeout_cycles : ms > timeout_ms)
            throw DriverError(DriverError::Timeout, "the FPGA did not finish within " +
                                                        (t_->modeled() ? std::to_string(spent) + " cycles"
                                                                       : std::to_string(int(ms)) + " ms") +
                                                        " (hung board?); a soft reset recovers it");
        step = std::min<uint64_t>(step * 2, 4096);
    }
}

int32_t AccelDriver::forward(const float* x, size_t count, float* logits, bool all_positions) {
    if (!loaded_) throw DriverError(DriverError::Invalid, "no model loaded on the FPGA");
    const ImageLayout& lay = img_.layout;
    const size_t H = size_t(img_.H), V = size_t(img_.V);
    std::vector<int64_t> q(std::max(H, V));
    int32_t last = 0;
    for (size_t done = 0; done < count;) {
        const size_t n = std::min<size_t>(count - done, lay.max_slots);
        std::vector<Descriptor> descs;
        for (size_t t = 0; t < n; ++t) {
            const uint32_t slot = lay.slot_base + uint32_t(t) * lay.slot_stride;
            for (size_t i = 0; i < H; ++i) q[i] = golden::to_fixed(x[(done + t) * H + i]);
            t_->write_mem(slot + lay.in_off, q.data(), H * 8);
            descs.push_back(make_desc(DESC_OP_RUN, 1u << DESC_FLAG_TOKEN_BIT, seq_++, 0, 0, slot));
        }
        submit(descs);   // one doorbell for the whole chunk
        if (logits) {
            for (size_t t = 0; t < n; ++t) {
                const bool want = all_positions || done + t == count - 1;
                if (!want) continue;
                const uint32_t slot = lay.slot_base + uint32_t(t) * lay.slot_stride;
                t_->read_mem(slot + lay.logits_off, q.data(), V * 8);
                float* out = logits + (all_positions ? (done + t) * V : 0);
                for (size_t i = 0; i < V; ++i) out[i] = golden::from_fixed(q[i]);
            }
        }
        done += n;
    }
    last = int32_t(t_->read32(REG_ARGMAX_INDEX));
    return last;
}

void AccelDriver::reset_state() {
    std::vector<uint8_t> z(size_t(img_.layout.state_stride) * size_t(img_.L), 0);
    t_->write_mem(img_.layout.state_base, z.data(), z.size());
}

std::vector<float> AccelDriver::get_state() {
    std::vector<float> s(size_t(img_.L) * size_t(img_.D));
    std::vector<int64_t> q(size_t(img_.D));
    for (int l = 0; l < img_.L; ++l) {
        t_->read_mem(img_.layout.state_base + uint64_t(l) * img_.layout.state_stride, q.data(), q.size() * 8);
        for (int i = 0; i < img_.D; ++i) s[size_t(l) * size_t(img_.D) + size_t(i)] = golden::from_fixed(q[size_t(i)]);
    }
    return s;
}

void AccelDriver::set_state(const std::vector<float>& s) {
    if (s.size() != size_t(img_.L) * size_t(img_.D)) throw DriverError(DriverError::Invalid, "state size mismatch");
    std::vector<int64_t> q(size_t(img_.D));
    for (int l = 0; l < img_.L; ++l) {
        for (int i = 0; i < img_.D; ++i) q[size_t(i)] = golden::to_fixed(s[size_t(l) * size_t(img_.D) + size_t(i)]);
        t_->write_mem(img_.layout.state_base + uint64_t(l) * img_.layout.state_stride, q.data(), q.size() * 8);
    }
}

std::vector<uint64_t> AccelDriver::read_counters() {
    t_->write32(REG_CTRL, (1u << CTRL_RUN_BIT) | (1u << CTRL_SNAPSHOT_BIT));
    std::vector<uint64_t> c(NUM_COUNTERS);
    for (uint32_t i = 0; i < NUM_COUNTERS; ++i) {
        const uint64_t lo = t_->read32(REG_COUNTER_BASE + 8 * i);
        const uint64_t hi = t_->read32(REG_COUNTER_BASE + 8 * i + 4);
        c[i] = lo | (hi << 32);
    }
    return c;
}

AccelDriver::Metrics AccelDriver::metrics() {
    Metrics m;
    m.counters = read_counters();
    m.clk_hz = cfg_.clk_hz;
    m.power_source = int(t_->read32(REG_POWER_SOURCE));
    m.sim_cycles_per_s = t_->sim_cycles_per_second();
    m.last_token_cycles = double(m.counters[CNT_LAST_TOKEN_CYCLES]);
    if (base_.size() != m.counters.size()) return m;
    auto d = [&](uint32_t i) { return double(m.counters[i] - base_[i]); };
    m.tokens = uint64_t(d(CNT_TOKENS));
    if (m.tokens == 0) return m;
    const double busy = d(CNT_CYCLES_BUSY), total = d(CNT_CYCLES_TOTAL);
    m.cycles_per_token = busy / double(m.tokens);
    m.tok_s = m.clk_hz / m.cycles_per_token;
    const double io = (t_->io_seconds() - io_base_) / double(m.tokens);
    m.tok_s_with_io = 1.0 / (m.cycles_per_token / m.clk_hz + io);
    // energy while working: idle cycles (host turnaround in the simulator) only add static power
    const double e_static = double(t_->read32(REG_E_STATIC));
    const double e_busy_fj = d(CNT_ENERGY_FJ) - e_static * (total - busy);
    m.joules_per_token = e_busy_fj * 1e-15 / double(m.tokens);
    m.watts = e_busy_fj * 1e-15 / (busy / m.clk_hz);
    return m;
}

} // namespace mmfa
