// SPDX-License-Identifier: Apache-2.0
#include "model_image.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "numerics.h"

namespace mmfa {

using namespace mmfa::regs;

namespace {

constexpr uint32_t kAlign = 4096;   // >= BURST_BEATS * beat bytes for every config, and AXI's 4 KiB rule
uint32_t align_up(uint64_t v, uint32_t a = kAlign) { return uint32_t((v + a - 1) / a * a); }

enum : uint32_t { X = 0, G = 1, T0 = 2, T1 = 3, P0 = 4, P1 = 5, P2 = 6, HS = 7 };  // vector registers

class Builder {
public:
    Builder(const mmfa_model_desc& m, const DeviceConfig& cfg) : m_(m), cfg_(cfg) {}

    ModelImage build() {
        img_.H = m_.hidden_size;
        img_.D = m_.state_dim;
        img_.I = m_.intermediate_size;
        img_.V = m_.vocab_size;
        img_.L = m_.num_layers;
        check_dims();
        const uint32_t eps = uint32_t(std::llround(double(m_.rms_norm_eps) * 4294967296.0));
        auto& lay = img_.layout;
        lay.ring_base = 0;
        lay.ring_size = 64;
        next_ = align_up(uint64_t(lay.ring_size) * DESC_BYTES);
        lay.prog_addr = next_;
        next_ += align_up(uint64_t(cfg_.prog_depth) * INSTR_BYTES);

        const int H = img_.H, D = img_.D, I = img_.I, V = img_.V;
        lay.state_stride = align_up(uint64_t(D) * 8);
        lay.state_base = alloc(uint64_t(lay.state_stride) * uint32_t(img_.L));
        lay.in_off = 0;
        lay.logits_off = align_up(uint64_t(H) * 8);
        lay.slot_stride = lay.logits_off + align_up(uint64_t(V) * 8);
        lay.max_slots = lay.ring_size - 1;
        lay.slot_base = alloc(uint64_t(lay.slot_stride) * lay.max_slots);

        std::vector<float> zeros(size_t(H), 0.f);
        emit(make_instr(OP_LOADV, X, 0, 0, 0, 0, 1u << IFLAG_REL_BIT, uint32_t(H), 0, lay.in_off));
        for (int l = 0; l < img_.L; ++l) {
            const mmfa_layer& ly = m_.layers[l];
            rms(X, vec(ly.attn_norm, H), T0, H, eps);                        // u
            bitlinear(T0, ly.i_proj, P0, eps);                               // i pre-activation
            bitlinear(T0, ly.f_proj, P1, eps);                               // f pre-activation
            bitlinear(T0, ly.g_proj, P2, eps);                               // g
            const uint32_t st = lay.state_base + uint32_t(l) * lay.state_stride;
            emit(make_instr(OP_LOADV, HS, 0, 0, 0, 0, 0, uint32_t(D), 0, st));
            const float* lb = m_.lower_bound ? m_.lower_bound + size_t(l) * size_t(H) : zeros.data();
            emit(make_instr(OP_LOADV, G, 0, 0, 0, 0, 0, uint32_t(D), 0, vec(lb, D)));
            emit(make_instr(OP_MLGRU, HS, P0, P1, HS, G, 0, uint32_t(D)));
            emit(make_instr(OP_STOREV, 0, HS, 0, 0, 0, 0, uint32_t(D), 0, st));
            // z = RMSNorm(g; g_norm) * silu(h)
            emit(make_instr(OP_LOADV, G, 0, 0, 0, 0, 0, uint32_t(D), 0, vec(ly.g_norm, D)));
            emit(make_instr(OP_RMS, T0, P2, G, HS, 0, 1u << IFLAG_GATED_BIT, uint32_t(D), 0, eps));
            bitlinear(T0, ly.o_proj, P0, eps);
            emit(make_instr(OP_ADD, X, X, P0, 0, 0, 0, uint32_t(H)));
            rms(X, vec(ly.mlp_norm, H), T0, H, eps);
            // gate_proj: one quantization of the input, two TMVs (gate rows, up rows), one scale
            quant_input(T0, ly.gate_proj, eps);
            const uint32_t w = weights(ly.gate_proj);
            const uint32_t aux = chunks(ly.gate_proj.cols);
            emit(scale_instr(ly.gate_proj.scale));
            emit(make_instr(OP_TMV, P0, 0, 0, 0, 0, 0, uint32_t(I), aux, w));
            emit(make_instr(OP_TMV, P1, 0, 0, 0, 0, 0, uint32_t(I), aux, w + uint32_t(I) * aux * uint32_t(cfg_.beat_bytes())));
            img_.weight_bytes_per_token += uint64_t(2 * I) * aux * uint32_t(cfg_.beat_bytes());
            emit(make_instr(OP_SWIGLU, P2, P0, P1, 0, 0, 0, uint32_t(I)));
            bitlinear(P2, ly.down_proj, P0, eps);
            emit(make_instr(OP_ADD, X, X, P0, 0, 0, 0, uint32_t(H)));
        }
        rms(X, vec(m_.final_norm, H), T0, H, eps);
        quant_input(T0, m_.lm_head, eps);
        const uint32_t w = weights(m_.lm_head);
        const uint32_t aux = chunks(m_.lm_head.cols);
        emit(scale_instr(m_.lm_head.scale));
        // the vocabulary can exceed a vector register: chunks of DMAX rows, argmax carried over
        for (int r0 = 0; r0 < V; r0 += cfg_.dmax) {
            const int n = std::min(cfg_.dmax, V - r0);
            emit(make_instr(OP_TMV, P0, 0, 0, 0, 0, 0, uint32_t(n), aux,
                            w + uint32_t(r0) * aux * uint32_t(cfg_.beat_bytes())));
            emit(make_instr(OP_STOREV, 0, P0, 0, 0, 0, 1u << IFLAG_REL_BIT, uint32_t(n), 0, lay.logits_off + uint32_t(r0) * 8));
            emit(make_instr(OP_ARGMAX, 0, P0, 0, 0, 0, r0 ? 1u << IFLAG_CONT_BIT : 0u, uint32_t(n), 0, uint32_t(r0)));
        }
        img_.weight_bytes_per_token += uint64_t(V) * aux * uint32_t(cfg_.beat_bytes());
        emit(make_instr(OP_END));
        if (img_.program.size() > size_t(cfg_.prog_depth))
            throw std::invalid_argument("the model needs " + std::to_string(img_.program.size()) +
                                        " microcode instructions; the device stores " + std::to_string(cfg_.prog_depth));
        lay.prog_count = uint32_t(img_.program.size());
        Blob prog{lay.prog_addr, std::vector<uint8_t>(img_.program.size() * 16)};
        std::memcpy(prog.bytes.data(), img_.program.data(), prog.bytes.size());
        img_.blobs.push_back(std::move(prog));
        lay.end = next_;
        return std::move(img_);
    }

private:
    void check_dims() {
        auto fits = [&](int n, const char* what) {
            if (n <= 0 || n > cfg_.dmax)
                throw std::invalid_argument(std::string(what) + " = " + std::to_string(n) + " does not fit the device's " +
                                            std::to_string(cfg_.dmax) + "-element vector registers");
        };
        fits(img_.H, "hidden_size");
        fits(img_.D, "state_dim");
        fits(img_.I, "intermediate_size");
        if (img_.V <= 0) throw std::invalid_argument("bad vocab_size");
        if (img_.L <= 0) throw std::invalid_argument("bad num_layers");
    }
    uint32_t alloc(uint64_t bytes) {
        const uint32_t a = next_;
        const uint64_t end = uint64_t(next_) + align_up(bytes ? bytes : 1);
        if (end > 0xffffffffull) throw std::invalid_argument("the model image exceeds the 4 GiB card address space");
        next_ = uint32_t(end);
        return a;
    }
    void emit(const Instr& i) { img_.program.push_back(i); }
    uint32_t chunks(int cols) const { return uint32_t((cols + cfg_.lanes - 1) / cfg_.lanes); }

    uint32_t vec(const float* v, int n) {
        std::vector<uint8_t> b(size_t(n) * 8);
        for (int i = 0; i < n; ++i) {
            const int64_t q = golden::to_fixed(v[i]);
            std::memcpy(&b[size_t(i) * 8], &q, 8);
        }
        const uint32_t a = alloc(b.size());
        img_.blobs.push_back({a, std::move(b)});
        return a;
    }

    // Engine codes (w+1, 4 per byte, row_stride) -> lane layout: row n, beat j holds columns
    // j*L..j*L+L-1, lane i at bits 2i (bit0 non-zero, bit1 negative); padding is zero weight.
    uint32_t weights(const mmfa_matrix& m) {
        const uint32_t aux = chunks(m.cols);
        const uint32_t bb = uint32_t(cfg_.beat_bytes());
        std::vector<uint8_t> b(size_t(m.rows) * aux * bb, 0);
        for (int n = 0; n < m.rows; ++n) {
            const uint8_t* row = m.codes + size_t(n) * size_t(m.row_stride);
            uint8_t* out = &b[size_t(n) * aux * bb];
            for (int k = 0; k < m.cols; ++k) {
                const int w = ((row[k / 4] >> (2 * (k % 4))) & 3) - 1;
                const uint8_t code = w > 0 ? 1 : w < 0 ? 3 : 0;
                out[k / 4] |= uint8_t(code << (2 * (k % 4)));
            }
        }
        const uint32_t a = alloc(b.size());
        img_.blobs.push_back({a, std::move(b)});
        return a;
    }

    void rms(uint32_t src, uint32_t gamma_addr, uint32_t dst, int n, uint32_t eps) {
        emit(make_instr(OP_LOADV, G, 0, 0, 0, 0, 0, uint32_t(n), 0, gamma_addr));
        emit(make_instr(OP_RMS, dst, src, G, 0, 0, 0, uint32_t(n), 0, eps));
    }
    // BitLinear input: its own RMSNorm into T1, then int8 quantization (absmax tracked by RMS)
    void quant_input(uint32_t src, const mmfa_matrix& m, uint32_t eps) {
        rms(src, vec(m.norm, m.cols), T1, m.cols, eps);
        emit(make_instr(OP_QUANT, 0, T1, 0, 0, 0, 0, uint32_t(m.cols)));
    }
    void bitlinear(uint32_t src, const mmfa_matrix& m, uint32_t dst, uint32_t eps) {
        if (m.rows > cfg_.dmax)
            throw std::invalid_argument("a projection with " + std::to_string(m.rows) + " rows exceeds DMAX");
        quant_input(src, m, eps);
        const uint32_t w = weights(m);
        const uint32_t aux = chunks(m.cols);
        emit(scale_instr(m.scale));
        emit(make_instr(OP_TMV, dst, 0, 0, 0, 0, 0, uint32_t(m.rows), aux, w));
        img_.weight_bytes_per_token += uint64_t(m.rows) * aux * uint32_t(cfg_.beat_bytes());
    }

    const mmfa_model_desc& m_;
    DeviceConfig cfg_;
    ModelImage img_;
    uint32_t next_ = 0;
};

} // namespace

Scale scale_immediate(float m) {
    // m/127 as a 32-bit mantissa in [2^31, 2^32) and a shift: 2^-32 relative, where a fixed
    // round(m * 2^32 / 127) kept only ~20 bits of a typical m ~ 0.02 (1e-6 on every output)
    const double r = double(m) / 127.0;
    if (!(r > 0)) return {0, 0};
    int e = 0;
    while (e < kMaxScaleShift && r * std::ldexp(1.0, 32 + e) < 2147483648.0) ++e;
    const double v = std::nearbyint(r * std::ldexp(1.0, 32 + e));
    return {v >= 4294967295.0 ? 0xffffffffu : uint32_t(v), uint32_t(e)};
}

Instr scale_instr(float m) {
    const Scale s = scale_immediate(m);
    return make_instr(OP_SCALE, 0, 0, 0, 0, 0, 0, 0, s.shift, s.mantissa);
}

ModelImage build_image(const mmfa_model_desc& model, const DeviceConfig& cfg) { return Builder(model, cfg).build(); }

} // namespace mmfa
