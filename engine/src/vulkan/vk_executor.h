// SPDX-License-Identifier: Apache-2.0
// The forward pass as Vulkan compute shaders (shaders/*.comp). Weights live in one device-local
// arena, activations in another; kernels find tensors through buffer device addresses passed as
// push constants, so there are no descriptor sets. Decode replays one command buffer recorded at
// load: 4 dispatches per layer (the i/f/g, o, gate and down BitLinears, each computing its own
// norm/quantization prologue and fusing the MLGRU step, SwiGLU and the residual adds) plus the
// lm_head and an on-device argmax, one submit per token, with a timestamp after each dispatch (read
// after the wait the token needs anyway, so StageTimes come free, as `fused`). Prefill runs in chunks
// with separate quantize / GEMM / scan kernels; with profiling on, decode takes that unfused path
// too, so that every stage has its own timestamps.
// Sequence slots: the states of slot_count sequences live on the device as [slot][layer][D]; the
// recorded command buffers find "their" sequence through slot ids in the upload buffer, so one
// recording serves every slot. A decode step of 2..grouped_max_ sequences (8 by default) runs the
// fused dispatches above grouped: a row of workgroups per sequence (grid y), each row splitting the
// weight rows as one sequence's dispatch would, so a workgroup's prologue prepares one column. (A
// fused decode over columns, every workgroup preparing every column, lost to it at every B and
// was removed.) A larger step is a chunk of B rows through the prefill kernels, with the scan in
// step mode: row b advances the state of slot_ids[b].
#pragma once
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "mmfree/backend.h"
#include "vulkan/vk_device.h"

namespace mmfree::vk {

struct VulkanOptions {
    std::string device;            // index or name substring; empty = best
    bool profile = false;
    bool force_portable = false;   // ignore the integer-dot-product feature (tests, comparisons)
    int chunk = 512;               // prefill tokens per submit (H200, 2.7B pp512: 256 → 512 is +28 %)
    int gemm_rows = 0;             // tensor-core GEMM tile rows: 64 or 128; 0 = chosen per matrix
    int gemv_wgs = 0;              // decode workgroups per dispatch; 0 = MMFREE_VULKAN_GEMV_WGS or the device default
    int gemv_wide_k = 0;           // decode inputs this long or longer get wide workgroups, one per SM; 0 = the default
    int slot_count = 1;            // sequence states on the device (Executor::slot_count)
    int gemv_batch = 0;            // chunks of up to this many rows take the decode kernel over columns, not the GEMM; 0 = MMFREE_VULKAN_GEMV_BATCH or 8
    int grouped_max = 0;           // decode steps of 2 up to this many sequences (≤ 8) run grouped; 0 = MMFREE_VULKAN_GROUPED_MAX or 8; 1 = off
};

class VulkanExecutor : public Executor, public Diagnostics {
public:
    VulkanExecutor(std::shared_ptr<const Model> model, std::shared_ptr<Instance> instance, const Candidate& device,
                   const VulkanOptions& options);
    ~VulkanExecutor() override;

    std::string backend_name() const override { return "vulkan"; }
    std::string device_name() const override;
    const Model& model() const override { return *model_; }

    int slot_count() const override { return slots_; }
    void prefill(int slot, const int32_t* tokens, size_t count, float* logits, bool all_positions) override;
    void prefill_many(const std::vector<PromptPiece>& pieces) override;
    void prepare_batches() override;
    void decode(const int32_t* slot_ids, const int32_t* tokens, size_t n, float* logits, int32_t* argmax) override;
    const float* decode_logits(const int32_t* slot_ids, const int32_t* tokens, size_t n) override;
    // Every row drawn by shaders/sample.comp; its sums are 32-bit for vocabularies below 2^17.
    bool samples_on_device() const override { return model_->config.vocab_size < (1 << 17); }
    void begin_decode_sample(const int32_t* slot_ids, const int32_t* tokens, size_t n, const sampling::Draw* draws) override;
    void end_decode_sample(int32_t* tokens_out) override;
    void reset_slot(int slot) override;
    std::vector<float> save_slot(int slot) const override;
    void load_slot(int slot, const std::vector<float>& state) override;
    Diagnostics& diagnostics() override { return *this; }
    StageTimes last_stage_times() const override { return stages_; }
    size_t device_memory_bytes() const override { return dev_ ? dev_->device_bytes() : 0; }
    DeviceMemoryBudget device_memory_budget() const override { return dev_ ? dev_->memory_budget() : DeviceMemoryBudget{}; }
    double measure_read_bandwidth_gb_s() override;
    double measure_step_floor_us(int floats) override;
    std::vector<std::pair<std::string, double>> extra_metrics() const override;

    bool uses_integer_dot() const { return dot_; }

    // Kernel test hook: one BitLinear (its RMSNorm, quantization and the ternary product) on `rows`
    // input rows of w.cols floats, through the decode kernel (gemv: its fused prologue for one row,
    // prep + gemv over columns for several) or the prefill kernels (prep + gemm). Returns the raw int32 accumulators [rows][w.rows] and the int8
    // activations [rows][w.cols] and scales the device used.
    std::vector<int32_t> run_bitlinear_raw(const TernaryMatrix& w, const std::vector<float>& x, int rows, bool gemv,
                                           std::vector<int8_t>* q, std::vector<float>* scales);

    // Kernel test hook: sample.comp on rows of V logits given here, one draw per row, with
    // workgroups of `threads` (0: what this device's steps use, sample_threads_for).
    std::vector<int32_t> run_sample_raw(const std::vector<float>& logits, const std::vector<sampling::Draw>& draws, uint32_t threads = 0);
    static uint32_t sample_threads_for(const Candidate& device);
    static size_t sample_shared_bytes(uint32_t threads);

    struct Push {
        uint64_t base[4];
        uint32_t p[24];
    };

private:
    enum Stage { NormQuant, BitLinear, Mlgru, LmHead, StageCount };
    // What a chunk leaves for the host: nothing, the last row's logits, every row's, or every
    // row's greedy or sampled token (batched decode: the logits stay on the device).
    enum class Logits { None, Last, All, Argmax, Sampled };
    struct Recorded {
        VkCommandBuffer cb = VK_NULL_HANDLE;
        VkQueryPool queries = VK_NULL_HANDLE;
        std::vector<int> stage_of;   // stage of each timestamp interval
        bool fused = false;          // the fused decode: its intervals cover several stages each
        uint64_t last_use = 0;       // passes_: when it last ran, for evicting the least recently used
    };
    struct Recorder;

    void cleanup();
    void upload_weights();
    void allocate_activations();
    VkPipeline pipeline(const std::string& name, const std::vector<uint32_t>& spec);
    struct GemvGrid {
        uint32_t rows_per_wg, wgs_per_set, rows_per_pass;
    };
    VkPipeline prep_pipeline(uint32_t mode, int K, int nsets);
    VkPipeline gemv_pipeline(uint32_t mode, int K, int nsets, const GemvGrid& g, uint32_t group, uint32_t cols);
    Push push() const;
    uint32_t wref(size_t byte_offset) const;
    uint32_t aref(size_t byte_offset) const;
    uint32_t gemv_target_wgs(uint32_t threads) const;
    // One decode pass of up to step_rows_ rows; afterwards the read-back buffer holds their logits
    // (Logits::All), their greedy tokens (Argmax) or their sampled tokens (Sampled, drawn as the
    // upload buffer's draws say).
    void decode_pass(const int32_t* slot_ids, const int32_t* tokens, size_t rows, Logits out);
    // Its two halves: upload and submit, returning what runs; wait and make the read-back visible.
    Recorded& launch_decode_pass(const int32_t* slot_ids, const int32_t* tokens, size_t rows, Logits out);
    void complete_decode_pass(Recorded& r);
    // decode workgroups per BitLinear dispatch (all sets) this wide
    uint32_t gemv_threads(int K) const;
    // columns > 1: the grid of one sequence in a grouped step of that many (its share of the workgroups).
    GemvGrid gemv_grid(int N, uint32_t wg_sets, uint32_t group, uint32_t threads, uint32_t columns = 1) const;
    void record_gemv(Recorder& rec, Push& p, uint32_t mode, int K, int N, int nsets, int stage, uint32_t group = 1, int T = 1);
    // The ternary product of T rows a prep kernel quantized: gemv over columns (small T) or the GEMM.
    void record_product(Recorder& rec, Push& p, int K, int N, int nsets, int T, int stage);
    void record_gemm(Recorder& rec, Push& p, int N, int nsets, int T, int stage);

    // Shared memory of a decode kernel (gemv.comp) for K-long inputs, nsets sets.
    size_t gemv_shared_bytes(int K, int nsets) const;
    // The fused decode of T sequences (T > 1: grouped, T ≤ grouped_max_, a row of workgroups per
    // sequence), leaving Logits::All, Argmax or Sampled.
    void record_decode(Recorded& r, Logits out, int T = 1);
    // What a decode pass of `rows` sequences runs: the fused decode while rows ≤ grouped_max_ (one
    // sequence: recorded at load; more: grouped), else the chunk kernels.
    Recorded& step_commands(int rows, Logits out);
    // The sample kernel on T rows of logits_, tokens to the read-back buffer.
    void record_sample(Recorder& rec, int T);
    // A chunk of T rows through the prep / GEMM / scan kernels: T tokens of one sequence (prefill),
    // or with `step` one token each of T sequences (batched decode).
    void record_chunk(Recorded& r, int T, Logits logits, bool step, bool profile);
    Recorded& chunk_commands(int T, Logits logits, bool step);
    // The passes recorded for reuse: a prompt chunk, a batched step through the chunk kernels, or
    // a grouped step; `record` records one on its first use.
    enum class Pass { Prefill, Step, GroupedStep };
    template <class F> Recorded& recorded(int T, Logits logits, Pass pass, F&& record);
    void run(Recorded& r);
    void complete(Recorded& r);   // waits for r's submission and collects its stage times
    // Records `body` into a one-off command buffer, runs it and frees it (slot copies).
    template <class F> void run_once(F&& body);
    int check_tokens(const int32_t* tokens, size_t count) const;
    size_t slot_offset(int slot) const;  // byte offset of the slot's state in the activation arena
    void free_recorded(Recorded& r);

    std::shared_ptr<const Model> model_;
    std::shared_ptr<Instance> instance_;
    std::unique_ptr<Device> dev_;
    VulkanOptions opt_;
    bool dot_ = false;
    int C_ = 512;  // prefill chunk
    int slots_ = 1;
    int step_rows_ = 256;  // batched decode rows per pass (the device-side logits are sized for it)
    int gemv_batch_ = 8;   // see VulkanOptions::gemv_batch
    int grouped_max_ = 1;  // see VulkanOptions::grouped_max
    uint32_t sample_threads_ = 256;   // sample.comp's workgroup size (sample_threads_for)
    StageTimes stages_;

    Buffer weights_, act_, upload_, readback_;
    std::map<std::string, VkPipeline> pipelines_;

    // Weight arena offsets (bytes).
    struct LayerOffsets {
        size_t ifg_codes, ifg_gamma, ifg_scale, o_codes, o_gamma, o_scale, gate_codes, gate_gamma, gate_scale;
        size_t down_codes, down_gamma, down_scale, attn_norm, g_norm, mlp_norm, lb;
    };
    std::vector<LayerOffsets> lo_;
    size_t emb_ = 0, final_norm_ = 0, head_codes_ = 0, head_gamma_ = 0, head_scale_ = 0;
    // Activation arena offsets (bytes).
    size_t x_ = 0, a_ = 0, d_ = 0, ifg_ = 0, hseq_ = 0, y_ = 0, q_ = 0, qscale_ = 0, qsum_ = 0, state_ = 0,
           partials_ = 0, logits_ = 0, scratch_ = 0;
    // Upload / read-back offsets (bytes).
    size_t up_tokens_ = 0, up_slots_ = 0, up_state_ = 0, up_draws_ = 0, rb_logits_ = 0, rb_token_ = 0, rb_state_ = 0;

    Recorded decode_logits_, decode_argmax_, decode_sampled_;
    std::map<std::tuple<int, int, int>, Recorded> passes_;  // (rows, Logits, Pass)
    uint64_t pass_uses_ = 0;
    // A begun decode_sample: the pass still running (null: none) and its rows, and every row's token.
    Recorded* sampling_ = nullptr;
    std::pair<size_t, size_t> sampling_rows_{0, 0};
    std::vector<int32_t> sampled_tokens_;
};

} // namespace mmfree::vk
