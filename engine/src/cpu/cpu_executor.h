// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "mmfree/backend.h"

namespace mmfree::cpu {

// The weight layout the fast CPU executor streams: the model's 2-bit codes, or a 1.6-bit copy
// (TritMatrix) made at creation; Auto times both on this machine and keeps the faster.
enum class CpuWeights { Auto, TwoBit, Trits };
std::optional<CpuWeights> parse_cpu_weights(const std::string& name);   // "auto", "2bit", "1.6bit"
const char* cpu_weights_name(CpuWeights w);

// The whole forward pass on the CPU. In reference mode it uses the scalar kernels on one thread:
// the readable specification every other backend is tested against. The fast mode runs the same
// code with SIMD kernels, all cores, and prefill batched over tokens. A decode step of many
// slots is the same pass as a prompt chunk, each row with its own state: the ternary GEMV of one
// sequence becomes a small GEMM over the batch, and the weights stream once per chunk of rows.
class CpuExecutor : public Executor {
public:
    // The reference mode always uses the 2-bit codes.
    CpuExecutor(std::shared_ptr<const Model> model, bool reference, int threads = 0, int num_slots = 1,
                CpuWeights weights = CpuWeights::Auto);

    std::string backend_name() const override { return reference_ ? "cpu-reference" : "cpu"; }
    std::string device_name() const override;
    const Model& model() const override { return *model_; }

    int slot_count() const override { return slots_; }
    void prefill(int slot, const int32_t* tokens, size_t count, float* logits, bool all_positions) override;
    void prefill_many(const std::vector<PromptPiece>& pieces) override;
    void decode(const int32_t* slot_ids, const int32_t* tokens, size_t n, float* logits, int32_t* argmax) override;
    void reset_slot(int slot) override;
    std::vector<float> save_slot(int slot) const override;
    void load_slot(int slot, const std::vector<float>& state) override;
    StageTimes last_stage_times() const override { return stages_; }
    Diagnostics& diagnostics() override { return diagnostics_; }
    CpuWeights weights() const { return weights_; }   // decode's layout: TwoBit or Trits, never Auto
    CpuWeights batch_weights() const { return batch_weights_; }

    // For golden tests: during the next forward (one call, whole prompt), record the hidden
    // states [L+1, count, H] as the reference exports them.
    void capture_hidden_states(std::vector<float>* out) { hidden_capture_ = out; }

private:
    // bits_per_weight, weight_bytes_read_per_token and the layout probe's timings for `mmfree bench`.
    class LayoutDiagnostics : public Diagnostics {
    public:
        explicit LayoutDiagnostics(const CpuExecutor& e) : e_(e) {}
        std::vector<std::pair<std::string, double>> extra_metrics() const override;
    private:
        const CpuExecutor& e_;
    };
    void convert_to_trits();
    // --cpu-weights auto: the layout whose real decode steps are faster (sets the probe's medians).
    CpuWeights faster_decode_layout();
    // µs for one pass of the GEMM over every matrix on a batch of kLayoutProbeTokens, all threads.
    double time_gemm_sweep(bool trits);
    // Whether a pass over `rows` rows runs the GEMM (unpacks each weight row once for all of them).
    bool uses_gemm(int rows) const { return !reference_ && rows > 1 && gemm_isa_; }
    // The 1.6-bit copy that a pass over `rows` rows reads, or null where it reads the 2-bit codes.
    const TritMatrix* trits_of(const TernaryMatrix* w, int rows) const;
    // Y[t] = BitLinear(W, X[t]) for t < rows; X rows have W.cols floats, Y rows W.rows floats.
    // Projections of one input (i/f/g) run as one group: one parallel loop instead of three.
    struct Projection {
        const TernaryMatrix* w;
        float* y;
    };
    // With an epilogue, the rows are split by channel instead: each projection's rows are
    // `segments` equal runs of R channels, a part computes channels [c0, c1) of every run of every
    // projection and then calls (*epilogue)(c0, c1) — the element-wise stage fused into the region.
    // The matrices of one parallel region and how its rows are split between parts: by channel
    // in `segments` runs (a fused epilogue), or evenly over the rows of all (segments 0).
    struct Region {
        const TernaryMatrix* w[3];
        int count;
        int segments;
    };
    // `next`: the region that follows (decode), whose weights a worker done with its part
    // fetches (up to prefetch_next_bytes_ of them) while the caller runs the stages in between.
    // `then`: the norm weights the caller's stages after this region read. The weights streamed
    // through every cache since they were last used, so the caller, done with its part, fetches
    // them while it waits for the other parts instead of missing on them one line at a time.
    using Vectors = std::initializer_list<const std::vector<float>*>;
    void bitlinear(std::initializer_list<Projection> group, const float* x, int rows,
                   const std::function<void(int, int)>* epilogue = nullptr, int segments = 1, const Region* next = nullptr,
                   Vectors then = {});
    int region_threads(const Region& region, int rows) const;   // threads_for the weights it reads
    int threads_for(size_t weight_bytes, int rows) const;        // one per bytes_per_thread() of weights × rows
    static void for_part_rows(const Region& region, int part, int parts, const std::function<void(int, int, int)>& fn);
    void prefetch_own_part(const Region& region, int rows) const;
    void run_parallel(bool worth_it, const std::function<void(int, int)>& fn);
    // Rows of `tokens` through every layer; row t reads and advances the state at row_state[t]
    // (L×D floats). Rows sharing one state form a prompt, scanned in order; rows with distinct
    // states are a decode batch. logits: one row per token when all_positions, else the last.
    void forward_rows(const int32_t* tokens, int count, float* const* row_state, float* logits, bool all_positions,
                      size_t hidden_offset, size_t hidden_total);
    float* slot_state(int slot) { return &states_[size_t(slot) * state_size_]; }

    std::shared_ptr<const Model> model_;
    bool reference_;
    std::optional<GemmIsa> gemm_isa_;     // batched kernel of the fast mode; none: one row at a time
    GemmIsa row_isa_ = GemmIsa::Scalar;  // the one-row kernels' instruction set (decode, both layouts)
    std::unique_ptr<ThreadPool> pool_;
    int slots_;
    size_t state_size_;                   // L×D
    std::vector<float> states_;           // [slots, L, D]
    std::vector<float*> row_state_;       // per row of the current pass
    std::vector<float> batch_logits_;     // decode with argmax only
    StageTimes stages_;
    std::vector<float>* hidden_capture_ = nullptr;
    CpuWeights weights_ = CpuWeights::TwoBit;        // what one-row decode streams
    CpuWeights batch_weights_ = CpuWeights::TwoBit;  // what the GEMM of a batch or a prompt chunk reads
    // The 1.6-bit copies, by the model's matrix. The model's 2-bit codes stay: the Model is
    // immutable and may be shared with other executors (the app keeps a GPU and a CPU one).
    std::unordered_map<const TernaryMatrix*, TritMatrix> trits_;
    double convert_ms_ = 0;
    double decode_step_us_2bit_ = 0, decode_step_us_trits_ = 0;    // auto's medians; 0: not measured
    double gemm_sweep_us_2bit_ = 0, gemm_sweep_us_trits_ = 0;
    // Where single-stream decode spends its time, summed over every decode of one slot: the
    // parallel matrix-vector regions (wall time; the slowest part's kernel time within them; the
    // rest is waking, joining and imbalance) and everything else, which runs on the calling thread.
    struct DecodeProfile {
        double total_us = 0, region_us = 0, slowest_part_us = 0;
        long tokens = 0, regions = 0;
    } profile_;
    bool profiling_ = false;             // inside a one-slot decode
    std::vector<double> part_us_;        // kernel time of each part of the current region
    LayoutDiagnostics diagnostics_{*this};
    size_t prefetch_next_bytes_ = 0;     // per worker and region (MMFREE_CPU_PREFETCH_NEXT_KB); 0: off

    // Scratch, grown on demand.
    std::vector<int8_t> q_;               // [group][rows][padded K], permuted for SIMD in fast 2-bit mode
    std::vector<int32_t> qsum_, acc_;
    std::vector<float> qscale_, normed_;
    std::vector<float> x_, u_, ai_, af_, ag_, z_, a_, v_, y_, m_, d_;
};

} // namespace mmfree::cpu
