// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "mmfree/backend.h"

namespace mmfree::cuda {

// The forward pass on an NVIDIA GPU. A decode step of up to 8 sequences is one persistent
// cooperative kernel (all layers, lm_head and the argmax, grid-wide barriers between the 4L+1
// phases): for several sequences grouped, a group of blocks per sequence, each as that sequence's
// launch alone, the weights read from L2 by all but the first group. Rows of
// tokens run layer by layer with int8 tensor-core GEMMs, up to kPrefillChunk rows per pass: prompt
// pieces of one or more slots (the MLGRU as a parallel scan per piece) or a decode step of several slots (each
// row's MLGRU step on its own slot's state; the pass is replayed as a CUDA graph per batch size).
// decode_sample ends either path with the sample kernel on the step's logits (one block per row).
// Device memory holds the packed ternary codes, the fp32 norm vectors, slot_count() states and
// activation scratch; the embedding table stays in host memory and only the rows in use are
// copied over.
class CudaExecutor final : public Executor, public Diagnostics {
public:
    CudaExecutor(std::shared_ptr<const Model> model, const BackendOptions& options);
    ~CudaExecutor() override;

    std::string backend_name() const override { return "cuda"; }
    std::string device_name() const override { return device_name_; }
    const Model& model() const override { return *model_; }

    int slot_count() const override { return slot_count_; }
    void prefill(int slot, const int32_t* tokens, size_t count, float* logits, bool all_positions) override;
    void prefill_many(const std::vector<PromptPiece>& pieces) override;
    void decode(const int32_t* slot_ids, const int32_t* tokens, size_t n, float* logits, int32_t* argmax) override;
    const float* decode_logits(const int32_t* slot_ids, const int32_t* tokens, size_t n) override;
    // Every row drawn on the device by sample.cu (the port of shaders/sample.comp), after the
    // step's lm_head, so only n tokens come back; its sums are 32-bit for vocabularies below 2^17.
    bool samples_on_device() const override { return model_->config.vocab_size < (1 << 17); }
    // begin starts the step and leaves its last pass running; end waits for it and hands the tokens out.
    void begin_decode_sample(const int32_t* slot_ids, const int32_t* tokens, size_t n, const sampling::Draw* draws) override;
    void end_decode_sample(int32_t* tokens_out) override;
    void reset_slot(int slot) override;
    std::vector<float> save_slot(int slot) const override;
    void load_slot(int slot, const std::vector<float>& state) override;
    Diagnostics& diagnostics() override { return *this; }
    StageTimes last_stage_times() const override { return stages_; }
    size_t device_memory_bytes() const override { return device_bytes_; }
    double measure_read_bandwidth_gb_s() override;
    double measure_step_floor_us(int floats) override;
    std::vector<std::pair<std::string, double>> extra_metrics() const override;

    static constexpr int kPrefillChunk = 512;

private:
    struct Impl;
    // A decode step's outputs, each optional: logits rows, greedy tokens, or (draws given) the
    // tokens the draws pick, sampled on the device.
    void decode_cols(const int32_t* slot_ids, const int32_t* tokens, int n, float* logits, int32_t* argmax,
                     const sampling::Draw* draws = nullptr, int32_t* sampled = nullptr);
    void prefill_pass(const PromptPiece* pieces, int count, float* logits, bool all_positions);
    void decode_rows(const int32_t* slot_ids, const int32_t* tokens, int n, float* logits, int32_t* argmax,
                     const sampling::Draw* draws = nullptr, int32_t* sampled = nullptr);
    struct StageEvents;
    // What a row pass computes after lm_head: nothing more (the logits), each row's argmax, or
    // each row's token drawn by the draws already on the device.
    enum class RowHead { Logits, Argmax, Sampled };
    void enqueue_rows(int T, int prompt_pieces, int head_row0, int head_rows, RowHead head, StageEvents* timed);
    void prepare_rows(int head_rows);
    void add_stage_times(StageEvents& timed);
    void check_tokens(const int32_t* tokens, size_t n) const;
    void profile_decode(double total_us);

    std::shared_ptr<const Model> model_;
    std::unique_ptr<Impl> impl_;
    std::string device_name_;
    int slot_count_ = 1;
    size_t device_bytes_ = 0;
    StageTimes stages_;
    bool profile_ = false;
    std::vector<int32_t> sampled_tokens_;   // begin_decode_sample's tokens, for end_decode_sample
    // begin_decode_sample leaves its last pass running (the scheduler delivers the previous step's
    // tokens meanwhile): where that pass's tokens go, and how many; 0 when none is running.
    int32_t* pending_sampled_ = nullptr;
    int pending_rows_ = 0;
    bool leave_running_ = false;   // set by begin_decode_sample around its last pass
    // Waits for the pass begin_decode_sample left running and collects its tokens. Every call that
    // stages host memory for the stream waits first: that pass may not have read its staging yet.
    void finish_sampling();
};

// Devices for `mmfree info --devices`, with the reason when CUDA cannot be used.
std::vector<DeviceInfo> list_cuda_devices();

} // namespace mmfree::cuda
