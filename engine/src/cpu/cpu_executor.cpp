// SPDX-License-Identifier: Apache-2.0
#include "cpu/cpu_executor.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "cpu/kernels.h"
#include "mmfree/error.h"
#include "mmfree/sampler.h"

namespace mmfree::cpu {
namespace {

using Clock = std::chrono::steady_clock;

// Scratch only grows. A vector's resize zero-fills every element it adds, even within its
// capacity, and the scratch sizes alternate from one region to the next (gate/up's accumulators
// are 5.5× o_proj's, lm_head's 31×): shrinking and growing back zero-filled ~15 MB per 370M token
// on 16 threads, much of it cache lines the workers had just written, ~0.4 ms of the caller's time.
template <class T> void grow(std::vector<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
}
double us_since(Clock::time_point t0) { return std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }

constexpr int kPrefillChunk = 64;  // tokens processed together: weights stream once per chunk
constexpr int kRowBlock = 16;      // weight rows per inner loop: their codes stay in L1 across tokens
constexpr int kLayoutProbeTokens = 4;   // the batch that --cpu-weights auto times the GEMM on
// Below this many elements an element-wise stage runs on the calling thread: waking the pool
// costs more than the work (decode of one token: 1–3 k elements), and far more when the machine
// is busy. A decode batch of 16 (16 k elements per stage) gained from the pool.
constexpr size_t kParallelElements = 8192;
// A matrix-vector product takes one thread per this many bytes of weights, up to all of them, so
// a small matrix does not sync every core of a large machine. 370M decode on a 16-core host, one
// run each: 16 KB 402 tok/s, 64 KB 442, 256 KB 205 (too few threads to stream).
// MMFREE_CPU_BYTES_PER_THREAD overrides it (for tuning sweeps).
// The 1.6-bit kernels spend about twice the arithmetic per byte of the 2-bit ones and run
// below the memory's speed on a core, so their bytes count 4× toward that split. 16-core host
// (H100 machine, `bench --synthetic M --cpu-weights 1.6bit --pp 16 --tg 128 --reps 2`, two
// alternated rounds, 64 KB against 16 KB per thread): 370M 413 / 370 → 510 / 462 tok/s (kernels
// 1,761 / 2,034 → 1,366 / 1,449 µs per token); 1.3B 228 / 207 → 216 / 203 (its regions but
// o_proj already took every thread).
constexpr size_t kTritWorkPerByte = 4;
size_t split_bytes(const TernaryMatrix& w, const TritMatrix* t) { return t ? kTritWorkPerByte * t->packed_bytes() : w.packed_bytes(); }

size_t bytes_per_thread() {
    static const size_t value = [] {
        const char* env = std::getenv("MMFREE_CPU_BYTES_PER_THREAD");
        const long long v = env ? std::atoll(env) : 0;
        return v > 0 ? size_t(v) : size_t(64) << 10;
    }();
    return value;
}

// How much of its rows of the next decode region a worker asks for once it has finished its
// part, while the caller runs the stages between the two (the prefetch stops as soon as the next
// region starts, so it never delays it): all of them unless MMFREE_CPU_PREFETCH_NEXT_KB caps it
// (0: off). In-process A/B, medians of 420-1,000 tokens each: 2-core VM 370M +2-3 %; 16-core
// host 1.3B +4-14 %, 370M -1 to -2 % (the caller's stages slow down while the workers fetch).
size_t prefetch_next_bytes() {
    const char* env = std::getenv("MMFREE_CPU_PREFETCH_NEXT_KB");
    if (!env || !*env) return SIZE_MAX;
    const long long v = std::atoll(env);
    return v > 0 ? size_t(v) << 10 : 0;
}

// The batched kernel's instruction set: the widest the CPU has. MMFREE_CPU_GEMM names another
// (scalar, avx2, avxvnni, avx512vnni, amx), or "rowwise" to run batches through the one-row kernel
// (the path before the GEMM), for measurements side by side in one binary.
std::optional<GemmIsa> gemm_isa_from_environment() {
    const char* env = std::getenv("MMFREE_CPU_GEMM");
    if (!env || !*env) return best_gemm_isa();
    if (std::string(env) == "rowwise") return std::nullopt;
    const auto isa = parse_gemm_isa(env);
    const auto supported = supported_gemm_isas();
    if (!isa || std::find(supported.begin(), supported.end(), *isa) == supported.end()) {
        std::string names = "rowwise";
        for (GemmIsa s : supported) names += std::string(", ") + gemm_isa_name(s);
        throw Error(ErrorCode::InvalidArgument, "MMFREE_CPU_GEMM=" + std::string(env) + " is not available here; use one of: " + names);
    }
    return isa;
}

std::vector<const TernaryMatrix*> bitlinears(const Model& m) {
    std::vector<const TernaryMatrix*> all;
    for (const auto& l : m.layers)
        for (const TernaryMatrix* t : {&l.i_proj, &l.f_proj, &l.g_proj, &l.o_proj, &l.gate_proj, &l.down_proj}) all.push_back(t);
    all.push_back(&m.lm_head);
    return all;
}

} // namespace

std::optional<CpuWeights> parse_cpu_weights(const std::string& name) {
    for (CpuWeights w : {CpuWeights::Auto, CpuWeights::TwoBit, CpuWeights::Trits})
        if (name == cpu_weights_name(w)) return w;
    return std::nullopt;
}

const char* cpu_weights_name(CpuWeights w) {
    switch (w) {
    case CpuWeights::Auto: return "auto";
    case CpuWeights::TwoBit: return "2bit";
    case CpuWeights::Trits: return "1.6bit";
    }
    return "auto";
}

CpuExecutor::CpuExecutor(std::shared_ptr<const Model> model, bool reference, int threads, int num_slots, CpuWeights weights)
    : model_(std::move(model)), reference_(reference), slots_(num_slots),
      state_size_(size_t(model_->config.num_layers) * model_->config.state_dim()) {
    if (num_slots < 1) throw Error(ErrorCode::InvalidArgument, "an executor needs at least one sequence slot");
    if (threads <= 0) threads = int(std::thread::hardware_concurrency());
    pool_ = std::make_unique<ThreadPool>(reference_ ? 1 : std::max(1, threads));
    if (!reference_) gemm_isa_ = gemm_isa_from_environment();
    row_isa_ = vector_isa(gemm_isa_.value_or(best_gemm_isa()));
    prefetch_next_bytes_ = reference_ ? 0 : prefetch_next_bytes();
    states_.assign(size_t(slots_) * state_size_, 0.f);
    // Auto without AVX2 stays on 2 bits: the scalar 1.6-bit kernel is no match for it.
    if (reference_ || weights == CpuWeights::TwoBit || (weights == CpuWeights::Auto && !cpu_has_avx2())) return;
    convert_to_trits();
    weights_ = batch_weights_ = CpuWeights::Trits;
    if (weights == CpuWeights::Auto) {
        weights_ = faster_decode_layout();
        // Batches and prompt chunks are a GEMM, which unpacks the codes once per tile of rows:
        // arithmetic, not bytes, where the cores are few (370M on the 2-core VM, B = 2 / 16:
        // 547 / 1,327 tok/s on 2 bits, 316 / 943 on 1.6). Timed apart, on a batch of four: best
        // of two passes over all the weights each, alternated. On AMX, 2 bits without timing:
        // only the 2-bit codes go through the tiles (370M, B = 16 on the 2-core VM's Xeon: 1,510–
        // 1,624 tok/s on tiles against 814–862 on AVX-512, which the 1.6-bit GEMM runs on).
        if (gemm_isa_ == GemmIsa::Amx) {
            batch_weights_ = CpuWeights::TwoBit;
        } else if (gemm_isa_) {
            time_gemm_sweep(false);
            time_gemm_sweep(true);   // first touch of the copies
            gemm_sweep_us_2bit_ = gemm_sweep_us_trits_ = 1e300;
            for (int rep = 0; rep < 2; ++rep) {
                gemm_sweep_us_2bit_ = std::min(gemm_sweep_us_2bit_, time_gemm_sweep(false));
                gemm_sweep_us_trits_ = std::min(gemm_sweep_us_trits_, time_gemm_sweep(true));
            }
            batch_weights_ = gemm_sweep_us_trits_ < gemm_sweep_us_2bit_ ? CpuWeights::Trits : CpuWeights::TwoBit;
        } else {
            batch_weights_ = weights_;
        }
        if (weights_ == CpuWeights::TwoBit && batch_weights_ == CpuWeights::TwoBit) trits_.clear();
    }
}

void CpuExecutor::convert_to_trits() {
    const auto t0 = Clock::now();
    for (const TernaryMatrix* w : bitlinears(*model_)) {
        TritMatrix t = pack_trits_shape(*w);
        pool_->run([&](int part, int parts) {
            auto [r0, r1] = split_range(w->rows, part, parts);
            pack_trits_rows(*w, t, r0, r1);
        });
        trits_.emplace(w, std::move(t));
    }
    convert_ms_ = us_since(t0) / 1e3;
}

const TritMatrix* CpuExecutor::trits_of(const TernaryMatrix* w, int rows) const {
    if ((uses_gemm(rows) ? batch_weights_ : weights_) != CpuWeights::Trits) return nullptr;
    const auto it = trits_.find(w);
    return it == trits_.end() ? nullptr : &it->second;
}

// Real one-token decode steps on slot 0 (which is reset after), the layouts alternated step by
// step, the first pair discarded (first touch): the layout with the lower median. A pass over
// the weights alone (the probe before this) said "even" on the 16-core host where decode in
// 1.6 bits then ran at 0.50-0.82x of 2 bits, and picked 1.6 bits in 3 of 6 loads; a decode step
// has the caller's stages and the joins in it, and a median shrugs off a busy moment.
CpuWeights CpuExecutor::faster_decode_layout() {
    constexpr int kPairs = 6;
    const int32_t slot = 0, token = 0;
    int32_t next = 0;
    std::vector<double> us[2];
    for (int pair = 0; pair <= kPairs; ++pair)
        for (int trits = 0; trits < 2; ++trits) {
            weights_ = trits ? CpuWeights::Trits : CpuWeights::TwoBit;
            const auto t0 = Clock::now();
            decode(&slot, &token, 1, nullptr, &next);   // argmax: the step includes lm_head
            if (pair > 0) us[trits].push_back(us_since(t0));
        }
    reset_slot(slot);
    profile_ = {};
    auto median = [](std::vector<double>& v) {
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
    };
    decode_step_us_2bit_ = median(us[0]);
    decode_step_us_trits_ = median(us[1]);
    return decode_step_us_trits_ < decode_step_us_2bit_ ? CpuWeights::Trits : CpuWeights::TwoBit;
}

double CpuExecutor::time_gemm_sweep(bool trits) {
    const int tokens = kLayoutProbeTokens;
    const auto all = bitlinears(*model_);
    int longest = 0;
    for (const TernaryMatrix* w : all) longest = std::max({longest, w->row_stride * 4, TritMatrix::activation_length(w->cols)});
    const std::vector<int8_t> q(size_t(longest) * tokens, 1);
    const std::vector<int32_t> qsum(size_t(tokens), 0);
    const size_t per_part = size_t(tokens) * kRowBlock;   // a GEMM block's accumulators
    std::vector<int32_t> acc(size_t(pool_->size()) * per_part);
    // One parallel loop over the rows of `group`, on as many threads as decode gives it.
    auto pass = [&](std::initializer_list<const TernaryMatrix*> group) {
        size_t bytes = 0;
        for (const TernaryMatrix* w : group) bytes += split_bytes(*w, trits ? &trits_.at(w) : nullptr);
        pool_->run([&](int part, int parts) {
            int32_t* out = &acc[size_t(part) * per_part];
            for (const TernaryMatrix* w : group) {
                auto [r0, r1] = split_range(w->rows, part, parts, kRowBlock);
                for (int rb = r0; rb < r1; rb += kRowBlock) {
                    const int re = std::min(r1, rb + kRowBlock);
                    if (trits) ternary_gemm_trits(trits_.at(w), q.data(), size_t(longest), qsum.data(), tokens, out, kRowBlock, rb, re, *gemm_isa_);
                    else ternary_gemm_fast(*w, q.data(), size_t(longest), qsum.data(), tokens, out, kRowBlock, rb, re, *gemm_isa_);
                }
            }
        }, threads_for(bytes, tokens));
    };
    // The loops a forward pass runs (i/f/g together, then o, gate/up, down; lm_head), not one loop
    // over everything: a loop's start and join weigh on a layout's kernel as they do in a pass.
    const auto t0 = Clock::now();
    for (const LayerWeights& l : model_->layers) {
        pass({&l.i_proj, &l.f_proj, &l.g_proj});
        pass({&l.o_proj});
        pass({&l.gate_proj});
        pass({&l.down_proj});
    }
    pass({&model_->lm_head});
    return us_since(t0);
}

std::vector<std::pair<std::string, double>> CpuExecutor::LayoutDiagnostics::extra_metrics() const {
    size_t two_bit = 0, weights = 0, streamed = 0, batch_streamed = 0;
    for (const TernaryMatrix* w : bitlinears(*e_.model_)) {
        two_bit += w->packed_bytes();
        weights += size_t(w->rows) * w->cols;
        const TritMatrix* t = e_.trits_of(w, 1);
        streamed += t ? t->packed_bytes() : w->packed_bytes();
        const TritMatrix* tb = e_.trits_of(w, kLayoutProbeTokens);
        batch_streamed += tb ? tb->packed_bytes() : w->packed_bytes();
    }
    std::vector<std::pair<std::string, double>> m{
        {"bits_per_weight", 8.0 * double(streamed) / double(weights)},
        {"batch_bits_per_weight", 8.0 * double(batch_streamed) / double(weights)},
        {"weight_bytes_read_per_token", double(e_.model_->weight_bytes_per_token() - two_bit + streamed)}};
    if (!e_.trits_.empty()) m.push_back({"cpu_weights_convert_ms", e_.convert_ms_});
    if (const auto& p = e_.profile_; p.tokens > 0) {
        const double n = double(p.tokens);
        m.push_back({"cpu_decode_us_per_token", p.total_us / n});
        m.push_back({"cpu_decode_serial_us_per_token", (p.total_us - p.region_us) / n});
        m.push_back({"cpu_decode_kernel_us_per_token", p.slowest_part_us / n});
        m.push_back({"cpu_decode_sync_us_per_token", (p.region_us - p.slowest_part_us) / n});
        m.push_back({"cpu_decode_regions_per_token", double(p.regions) / n});
    }
    if (e_.decode_step_us_2bit_ > 0) {
        m.push_back({"cpu_weights_probe_2bit_us", e_.decode_step_us_2bit_});
        m.push_back({"cpu_weights_probe_1.6bit_us", e_.decode_step_us_trits_});
    }
    if (e_.gemm_sweep_us_2bit_ > 0) {
        m.push_back({"cpu_batch_weights_probe_2bit_us", e_.gemm_sweep_us_2bit_});
        m.push_back({"cpu_batch_weights_probe_1.6bit_us", e_.gemm_sweep_us_trits_});
    }
    return m;
}

std::string CpuExecutor::device_name() const {
    std::string s = "CPU, " + std::to_string(pool_->size()) + " thread" + (pool_->size() > 1 ? "s" : "");
    if (!reference_) {
        s += std::string(", decode: ") + gemm_isa_name(row_isa_);
        s += std::string(", batches: ") + (gemm_isa_ ? gemm_isa_name(*gemm_isa_) : "rowwise");
        s += std::string(", weights: ") + cpu_weights_name(weights_);
        if (batch_weights_ != weights_) s += std::string(" (batches: ") + cpu_weights_name(batch_weights_) + ")";
    }
    return s;
}

void CpuExecutor::reset_slot(int slot) {
    check_slot(slot);
    std::fill_n(slot_state(slot), state_size_, 0.f);
}

std::vector<float> CpuExecutor::save_slot(int slot) const {
    check_slot(slot);
    const float* s = &states_[size_t(slot) * state_size_];
    return std::vector<float>(s, s + state_size_);
}

void CpuExecutor::load_slot(int slot, const std::vector<float>& state) {
    check_slot(slot);
    if (state.size() != state_size_)
        throw Error(ErrorCode::InvalidArgument, "state has " + std::to_string(state.size()) + " values; this model needs " +
                                                    std::to_string(state_size_));
    std::copy(state.begin(), state.end(), slot_state(slot));
}

void CpuExecutor::run_parallel(bool worth_it, const std::function<void(int, int)>& fn) {
    if (worth_it) pool_->run(fn);
    else fn(0, 1);
}

int CpuExecutor::region_threads(const Region& region, int rows) const {
    size_t bytes = 0;
    for (int g = 0; g < region.count; ++g) bytes += split_bytes(*region.w[g], trits_of(region.w[g], rows));
    return threads_for(bytes, rows);
}

int CpuExecutor::threads_for(size_t weight_bytes, int rows) const {
    return int(std::min<size_t>(size_t(pool_->size()), std::max<size_t>(1, weight_bytes * size_t(rows) / bytes_per_thread())));
}

void CpuExecutor::for_part_rows(const Region& region, int part, int parts, const std::function<void(int, int, int)>& fn) {
    if (region.segments > 0) {
        const int R = region.w[0]->rows / region.segments;
        auto [c0, c1] = split_range(R, part, parts, kRowBlock);
        for (int g = 0; g < region.count; ++g)
            for (int sgm = 0; sgm < region.segments; ++sgm) fn(g, sgm * R + c0, sgm * R + c1);
        return;
    }
    int total_rows = 0;
    for (int g = 0; g < region.count; ++g) total_rows += region.w[g]->rows;
    auto [r0, r1] = split_range(total_rows, part, parts, kRowBlock);
    int base = 0;
    for (int g = 0; g < region.count; ++g) {
        fn(g, std::max(r0 - base, 0), std::min(r1 - base, region.w[g]->rows));
        base += region.w[g]->rows;
    }
}

// The worker's rows of `region` (the part it takes first there: its index modulo the parts),
// fetched while it is idle until that region starts.
void CpuExecutor::prefetch_own_part(const Region& region, int rows) const {
    const int parts = region_threads(region, rows);
    size_t budget = prefetch_next_bytes_;
    for_part_rows(region, ThreadPool::thread_index() % parts, parts, [&](int g, int b, int e) {
        if (b >= e || budget == 0) return;
        const TernaryMatrix& w = *region.w[g];
        const TritMatrix* t = trits_of(&w, rows);
        const size_t stride = t ? size_t(t->row_stride) : size_t(w.row_stride);
        const uint8_t* codes = t ? &t->codes[size_t(b) * stride] : &w.codes[size_t(b) * stride];
        const size_t n = std::min(budget, size_t(e - b) * stride);
        ThreadPool::prefetch_when_idle(codes, n);
        budget -= n;
    });
}

void CpuExecutor::bitlinear(std::initializer_list<Projection> group, const float* x, int rows, const std::function<void(int, int)>* epilogue,
                            int segments, const Region* next, Vectors then) {
    const Projection* proj = group.begin();
    const int G = int(group.size());
    const int K = proj[0].w->cols;
    // The 1.6-bit kernels read activations in natural order, the 2-bit ones permuted.
    const bool trits = trits_of(proj[0].w, rows) != nullptr;
    const int Kp = trits ? TritMatrix::activation_length(K) : proj[0].w->row_stride * 4;
    const bool gemm = uses_gemm(rows);
    auto t0 = Clock::now();
    // Quantize each (projection, row) input: its own RMSNorm γ (eps 1e-6), per-row int8 scale.
    const int jobs = G * rows;
    grow(q_, size_t(jobs) * Kp);
    grow(qscale_, size_t(jobs));
    grow(qsum_, size_t(jobs));
    grow(normed_, size_t(pool_->size()) * (K + Kp));
    run_parallel(size_t(jobs) * K >= kParallelElements, [&](int part, int parts) {
        float* scratch = &normed_[size_t(part) * (K + Kp)];
        auto [j0, j1] = split_range(jobs, part, parts);
        for (int j = j0; j < j1; ++j) {
            const TernaryMatrix& w = *proj[j / rows].w;
            const float* in = x + size_t(j % rows) * K;
            int8_t* q = &q_[size_t(j) * Kp];
            if (reference_) {
                rms_norm(in, w.norm.data(), K, 1e-6f, scratch);
                qscale_[j] = quantize_row(scratch, K, Kp, q);
            } else if (trits) {
                qscale_[j] = norm_quantize(in, w.norm.data(), K, 1e-6f, Kp, scratch, q, &qsum_[j]);
            } else {
                qscale_[j] = norm_quantize_permuted(in, w.norm.data(), K, 1e-6f, Kp, scratch, q, &qsum_[j]);
            }
        }
    });
    auto t1 = Clock::now();
    stages_.norm_quant_us += std::chrono::duration<double, std::micro>(t1 - t0).count();

    // Output rows of the whole group, split across threads in blocks of kRowBlock (for_part_rows).
    int max_rows = 0;
    for (int g = 0; g < G; ++g) max_rows = std::max(max_rows, proj[g].w->rows);
    // Per thread: one row's accumulators by output row (one-row kernels), then the GEMM's block
    // [row][output row − rb].
    const size_t acc_per_thread = size_t(max_rows) + size_t(rows) * kRowBlock;
    grow(acc_, size_t(pool_->size()) * acc_per_thread);
    Region self{{}, G, epilogue ? segments : 0};
    for (int g = 0; g < G; ++g) self.w[g] = proj[g].w;
    const int threads = region_threads(self, rows);
    const bool prefetch_next = next && !gemm && prefetch_next_bytes_ > 0;
    if (profiling_) part_us_.assign(size_t(pool_->size()), 0.0);
    const auto region_start = Clock::now();
    pool_->run([&](int part, int parts) {
        const auto part_start = Clock::now();
        int32_t* by_row = &acc_[size_t(part) * acc_per_thread];
        int32_t* block = by_row + max_rows;
        // Rows [b, e) of projection g, kRowBlock rows at a time.
        auto rows_of = [&](int g, int b, int e) {
            const TernaryMatrix& w = *proj[g].w;
            const TritMatrix* t = trits ? trits_of(&w, rows) : nullptr;
            if (b < e) {
                if (t) prefetch_stream_start(&t->codes[size_t(b) * t->row_stride], size_t(e - b) * t->row_stride);
                else prefetch_stream_start(&w.codes[size_t(b) * w.row_stride], size_t(e - b) * w.row_stride);
            }
        for (int rb = b; rb < e; rb += kRowBlock) {
            const int re = std::min(e, rb + kRowBlock);
            const int j0 = g * rows;
            if (gemm && t) ternary_gemm_trits(*t, &q_[size_t(j0) * Kp], size_t(Kp), &qsum_[j0], rows, block, kRowBlock, rb, re, *gemm_isa_);
            else if (gemm) ternary_gemm_fast(w, &q_[size_t(j0) * Kp], size_t(Kp), &qsum_[j0], rows, block, kRowBlock, rb, re, *gemm_isa_);
            for (int r = 0; r < rows; ++r) {
                const int j = j0 + r;
                const int32_t* a = block + size_t(r) * kRowBlock;   // a[row − rb]
                if (!gemm) {
                    if (reference_) ternary_matvec_ref(w, &q_[size_t(j) * Kp], by_row, rb, re);
                    else if (t) ternary_matvec_trits(*t, &q_[size_t(j) * Kp], qsum_[j], by_row, rb, re, row_isa_);
                    else ternary_matvec_fast(w, &q_[size_t(j) * Kp], qsum_[j], by_row, rb, re, row_isa_);
                    a = by_row + rb;
                }
                float* out = proj[g].y + size_t(r) * w.rows;
                const float f = w.scale / qscale_[j];
                for (int o = rb; o < re; ++o) out[o] = float(a[o - rb]) * f;
            }
        }
        };
        // A fused epilogue splits by channel: this part owns channels [c0, c1) of every projection
        // and segment, so the element-wise stage that consumes them runs here, not after the join.
        for_part_rows(self, part, parts, rows_of);
        if (epilogue) {
            auto [c0, c1] = split_range(proj[0].w->rows / segments, part, parts, kRowBlock);
            if (c0 < c1) (*epilogue)(c0, c1);
        }
        if (profiling_) part_us_[size_t(part)] = us_since(part_start);
        if (ThreadPool::thread_index() == 0) {
            for (const std::vector<float>* v : then) prefetch_to_l2(reinterpret_cast<const uint8_t*>(v->data()), v->size() * sizeof(float));
        } else if (prefetch_next) {
            prefetch_own_part(*next, rows);   // the caller goes on to the stages in between; a worker would only spin
        }
    }, threads);
    if (profiling_) {
        profile_.region_us += us_since(region_start);
        profile_.slowest_part_us += *std::max_element(part_us_.begin(), part_us_.end());
        ++profile_.regions;
    }
    stages_.bitlinear_us += us_since(t1);
}

void CpuExecutor::prefill(int slot, const int32_t* tokens, size_t count, float* logits, bool all_positions) {
    check_slot(slot);
    const auto& c = model_->config;
    stages_ = {};
    const size_t hidden_total = count;
    if (hidden_capture_) hidden_capture_->assign(size_t(c.num_layers + 1) * count * c.hidden_size, 0.f);
    row_state_.assign(kPrefillChunk, slot_state(slot));   // every row on one state: scanned in order
    for (size_t pos = 0; pos < count; pos += kPrefillChunk) {
        const int n = int(std::min<size_t>(kPrefillChunk, count - pos));
        const bool last_chunk = pos + n == count;
        float* out = !logits ? nullptr : all_positions ? logits + pos * c.vocab_size : (last_chunk ? logits : nullptr);
        forward_rows(tokens + pos, n, row_state_.data(), out, all_positions, pos, hidden_total);
    }
    hidden_capture_ = nullptr;
    stages_.valid = true;
}

// The pieces' rows one after another in chunks, each row on its own slot's state: forward_rows
// scans rows that share a state in order, so a piece split between chunks continues where it was.
void CpuExecutor::prefill_many(const std::vector<PromptPiece>& pieces) {
    std::vector<int32_t> tokens;
    std::vector<float*> states;
    for (const PromptPiece& p : pieces) {
        check_slot(p.slot);
        tokens.insert(tokens.end(), p.tokens, p.tokens + p.count);
        states.insert(states.end(), p.count, slot_state(p.slot));
    }
    stages_ = {};
    for (size_t pos = 0; pos < tokens.size(); pos += kPrefillChunk) {
        const int n = int(std::min<size_t>(kPrefillChunk, tokens.size() - pos));
        forward_rows(&tokens[pos], n, &states[pos], nullptr, false, 0, 0);
    }
    stages_.valid = true;
}

void CpuExecutor::decode(const int32_t* slot_ids, const int32_t* tokens, size_t n, float* logits, int32_t* argmax_out) {
    check_slots(slot_ids, n);
    const size_t V = size_t(model_->config.vocab_size);
    stages_ = {};
    profiling_ = n == 1 && !reference_;
    const auto start = Clock::now();
    if (!logits && argmax_out) {
        grow(batch_logits_, std::min<size_t>(n, kPrefillChunk) * V);
    }
    for (size_t b = 0; b < n; b += kPrefillChunk) {
        const int rows = int(std::min<size_t>(kPrefillChunk, n - b));
        row_state_.resize(size_t(rows));
        for (int r = 0; r < rows; ++r) row_state_[size_t(r)] = slot_state(slot_ids[b + size_t(r)]);
        float* out = logits ? logits + b * V : (argmax_out ? batch_logits_.data() : nullptr);
        forward_rows(tokens + b, rows, row_state_.data(), out, true, 0, 0);
        if (argmax_out)
            run_parallel(rows > 1, [&](int part, int parts) {   // 32 k logits a row: a batch's rows split
                auto [r0, r1] = split_range(rows, part, parts);
                for (int r = r0; r < r1; ++r) argmax_out[b + size_t(r)] = argmax(out + size_t(r) * V, V);
            });
    }
    if (profiling_) {
        profile_.total_us += us_since(start);
        ++profile_.tokens;
        profiling_ = false;
    }
    stages_.valid = true;
}

// Rows through every layer: MODEL_SPEC.md "One token", row by row; the recurrence of each row
// reads and writes its own state, in row order.
void CpuExecutor::forward_rows(const int32_t* tokens, int T, float* const* row_state, float* logits, bool all_positions,
                               size_t hidden_offset, size_t hidden_total) {
    const auto& c = model_->config;
    const int H = c.hidden_size, D = c.state_dim(), I = c.intermediate_size, L = c.num_layers;
    const float eps = c.rms_norm_eps;
    grow(x_, size_t(T) * H); grow(u_, size_t(T) * H); grow(ai_, size_t(T) * D); grow(af_, size_t(T) * D);
    grow(ag_, size_t(T) * D); grow(z_, size_t(T) * D); grow(a_, size_t(T) * H); grow(v_, size_t(T) * H);
    grow(y_, size_t(T) * 2 * I); grow(m_, size_t(T) * I); grow(d_, size_t(T) * H);

    auto capture = [&](int index, const float* rows) {
        if (!hidden_capture_ || hidden_total == 0) return;
        for (int t = 0; t < T; ++t)
            std::memcpy(&(*hidden_capture_)[((size_t(index) * hidden_total) + hidden_offset + t) * H], rows + size_t(t) * H,
                        sizeof(float) * H);
    };

    for (int t = 0; t < T; ++t)
        std::memcpy(&x_[size_t(t) * H], &model_->embeddings[size_t(tokens[t]) * H], sizeof(float) * H);
    capture(0, x_.data());

    // Row-wise stages of a batch or a prompt chunk are spread over the pool; one token's are not.
    auto each_row = [&](size_t elements_per_row, const std::function<void(int)>& fn) {
        run_parallel(size_t(T) * elements_per_row >= kParallelElements, [&](int part, int parts) {
            auto [t0, t1] = split_range(T, part, parts);
            for (int t = t0; t < t1; ++t) fn(t);
        });
    };

    for (int l = 0; l < L; ++l) {
        const LayerWeights& lw = model_->layers[l];
        auto t0 = Clock::now();
        each_row(H, [&](int t) { rms_norm(&x_[size_t(t) * H], lw.attn_norm.data(), H, eps, &u_[size_t(t) * H]); });
        stages_.norm_quant_us += us_since(t0);

        // The recurrence is sequential in t but independent per channel: each part of the i/f/g
        // region runs it on its own channels as soon as their i and f rows are done.
        const float* lb = (c.use_lower_bound && l > 0) ? &model_->lower_bound[size_t(l) * H] : nullptr;
        const std::function<void(int, int)> recurrence = [&](int k0, int k1) {
            for (int t = 0; t < T; ++t) {
                float* i_then_gate = &ai_[size_t(t) * D + k0];  // silu(h_t) overwrites i: no longer needed
                float* h = row_state[t] + size_t(l) * D;
                mlgru_step(i_then_gate, &af_[size_t(t) * D + k0], lb ? lb + k0 : nullptr, h + k0, i_then_gate, k1 - k0);
            }
        };
        // The region after each one, whose weights an idle worker may start fetching.
        const Region o_next{{&lw.o_proj}, 1, 0}, gate_next{{&lw.gate_proj}, 1, 2}, down_next{{&lw.down_proj}, 1, 0};
        const Region layer_next = l + 1 < L ? Region{{&model_->layers[l + 1].i_proj, &model_->layers[l + 1].f_proj, &model_->layers[l + 1].g_proj}, 3, 1}
                                            : Region{{&model_->lm_head}, 1, 0};
        bitlinear({{&lw.i_proj, ai_.data()}, {&lw.f_proj, af_.data()}, {&lw.g_proj, ag_.data()}}, u_.data(), T, &recurrence, 1, &o_next,
                  {&lw.g_norm, &lw.o_proj.norm});

        t0 = Clock::now();
        // z = RMSNorm(ag; g_norm) · silu(h): the recurrence output gates the normalized g projection.
        each_row(D, [&](int t) { gated_rms_norm(&ag_[size_t(t) * D], lw.g_norm.data(), &ai_[size_t(t) * D], D, eps, &z_[size_t(t) * D]); });
        stages_.mlgru_us += us_since(t0);

        bitlinear({{&lw.o_proj, a_.data()}}, z_.data(), T, nullptr, 1, &gate_next, {&lw.mlp_norm, &lw.gate_proj.norm});

        t0 = Clock::now();
        each_row(H, [&](int t) {
            float* x = &x_[size_t(t) * H];
            const float* a = &a_[size_t(t) * H];
            for (int k = 0; k < H; ++k) x[k] += a[k];   // s = r + a, kept in x_
            rms_norm(x, lw.mlp_norm.data(), H, eps, &v_[size_t(t) * H]);
        });
        stages_.mlgru_us += us_since(t0);

        // SwiGLU in the gate/up region: a part owns rows k (gate) and I + k (up) of its channels.
        const std::function<void(int, int)> gated = [&](int k0, int k1) {
            for (int t = 0; t < T; ++t) {
                const float* gate = &y_[size_t(t) * 2 * I];
                swiglu(gate + k0, gate + I + k0, &m_[size_t(t) * I + k0], k1 - k0);
            }
        };
        bitlinear({{&lw.gate_proj, y_.data()}}, v_.data(), T, &gated, 2, &down_next, {&lw.down_proj.norm});
        if (l + 1 < L) {
            const LayerWeights& after = model_->layers[l + 1];
            bitlinear({{&lw.down_proj, d_.data()}}, m_.data(), T, nullptr, 1, &layer_next,
                      {&after.attn_norm, &after.i_proj.norm, &after.f_proj.norm, &after.g_proj.norm});
        } else {
            bitlinear({{&lw.down_proj, d_.data()}}, m_.data(), T, nullptr, 1, logits ? &layer_next : nullptr,
                      {&model_->final_norm, &model_->lm_head.norm});
        }
        each_row(H, [&](int t) {
            float* x = &x_[size_t(t) * H];
            const float* d = &d_[size_t(t) * H];
            for (int k = 0; k < H; ++k) x[k] += d[k];
        });
        if (l + 1 < L) capture(l + 1, x_.data());
    }

    // Final norm (in place: x_ is not needed afterwards) and lm_head for the rows that need logits.
    auto t0 = Clock::now();
    for (int t = 0; t < T; ++t) rms_norm(&x_[size_t(t) * H], model_->final_norm.data(), H, eps, &x_[size_t(t) * H]);
    capture(L, x_.data());
    stages_.lm_head_us += us_since(t0);
    if (!logits) return;
    const StageTimes before = stages_;
    if (all_positions) bitlinear({{&model_->lm_head, logits}}, x_.data(), T);
    else bitlinear({{&model_->lm_head, logits}}, &x_[size_t(T - 1) * H], 1);
    // Book lm_head's norm, quantization and matvec under lm_head, as the dashboard shows it.
    stages_.lm_head_us += (stages_.norm_quant_us - before.norm_quant_us) + (stages_.bitlinear_us - before.bitlinear_us);
    stages_.norm_quant_us = before.norm_quant_us;
    stages_.bitlinear_us = before.bitlinear_us;
}

} // namespace mmfree::cpu
