// SPDX-License-Identifier: Apache-2.0
#include "vulkan/vk_executor.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>

#include "layout.h"
#include "mmfree/error.h"
#include "mmfree/sampler.h"
#include "runtime/step_chain.h"

namespace mmfree::vk {
namespace {

constexpr size_t kRecordedPasses = 64;   // command buffers of passes (prompt chunks) kept for reuse, beyond the steps'

constexpr int kGroupedMax = 8;     // grouped decode steps: sequences at most (measured up to 8)
constexpr uint32_t kWG = 256;       // threads per workgroup of the prologue kernels (decode: wider for long inputs)
constexpr size_t kStaging = 64u << 20;

size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }
uint32_t ceil_div(size_t a, size_t b) { return uint32_t((a + b - 1) / b); }
uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
uint32_t q_words(int K) { return uint32_t(TernaryMatrix::stride_for(K)); }  // padded K / 4
uint32_t ref(uint32_t region, size_t byte_offset) {
    if (byte_offset / 4 >= (size_t(1) << 30))
        throw Error(ErrorCode::DeviceError, "Vulkan: a buffer region exceeds 4 GiB, more than this backend addresses");
    return (region << 30) | uint32_t(byte_offset / 4);
}
// Runs `f` when the scope ends, by return or by exception: releases a probe's scratch objects.
template <class F> struct OnExit {
    F f;
    ~OnExit() { f(); }
};

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

} // namespace

// Records one command buffer: dispatches separated by barriers. Timestamps: after each dispatch
// (profiling), or only where the stage changes (cheap enough to leave on: a handful per token).
struct VulkanExecutor::Recorder {
    enum class Timing { None, PerStage, PerDispatch };
    VulkanExecutor& ex;
    Recorded& r;
    Timing timing;
    VkPipeline bound = VK_NULL_HANDLE;
    uint32_t next_query = 0;
    int open_stage = -1;   // PerStage: the stage of the dispatches since the last timestamp

    Recorder(VulkanExecutor& e, Recorded& rec, Timing t, uint32_t max_dispatches) : ex(e), r(rec), timing(t) {
        Device& d = *ex.dev_;
        if (d.info().timestamp_bits == 0) timing = Timing::None;
        r.cb = d.allocate_command_buffer();
        auto bi = make<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
        check(d.fn.vkBeginCommandBuffer(r.cb, &bi), "recording commands");
        if (timing != Timing::None) {
            auto qi = make<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
            qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
            qi.queryCount = max_dispatches + 1;
            check(d.fn.vkCreateQueryPool(d.handle, &qi, nullptr, &r.queries), "creating a timestamp query pool");
            d.fn.vkCmdResetQueryPool(r.cb, r.queries, 0, qi.queryCount);
        }
        // Submissions are not ordered for memory by themselves: make the previous one's writes visible.
        barrier(VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
        if (timing != Timing::None) timestamp();
    }
    void timestamp() { ex.dev_->fn.vkCmdWriteTimestamp(r.cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, r.queries, next_query++); }
    // Closes the interval since the last timestamp as `stage`.
    void close_interval(int stage) {
        timestamp();
        r.stage_of.push_back(stage);
    }
    void barrier(VkPipelineStageFlags src, VkAccessFlags src_access, VkPipelineStageFlags dst, VkAccessFlags dst_access) {
        auto mb = make<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
        mb.srcAccessMask = src_access;
        mb.dstAccessMask = dst_access;
        ex.dev_->fn.vkCmdPipelineBarrier(r.cb, src, dst, 0, 1, &mb, 0, nullptr, 0, nullptr);
    }
    void dispatch(VkPipeline p, const Push& push, uint32_t gx, uint32_t gy, int stage) {
        Device& d = *ex.dev_;
        if (timing == Timing::PerStage && open_stage != stage) {
            if (open_stage >= 0) close_interval(open_stage);
            open_stage = stage;
        }
        if (p != bound) d.fn.vkCmdBindPipeline(r.cb, VK_PIPELINE_BIND_POINT_COMPUTE, p);
        bound = p;
        d.fn.vkCmdPushConstants(r.cb, d.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Push), &push);
        d.fn.vkCmdDispatch(r.cb, gx, gy, 1);
        barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
        if (timing == Timing::PerDispatch) close_interval(stage);
    }
    // Copies bytes between buffers with the copy engine, after the dispatches before it.
    void copy(const Buffer& src, size_t src_offset, const Buffer& dst, size_t dst_offset, size_t bytes) {
        barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
        VkBufferCopy region{src_offset, dst_offset, bytes};
        ex.dev_->fn.vkCmdCopyBuffer(r.cb, src.handle, dst.handle, 1, &region);
    }
    void finish() {
        if (timing == Timing::PerStage && open_stage >= 0) close_interval(open_stage);
        barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
        check(ex.dev_->fn.vkEndCommandBuffer(r.cb), "recording commands");
    }
};

VulkanExecutor::VulkanExecutor(std::shared_ptr<const Model> model, std::shared_ptr<Instance> instance, const Candidate& device,
                               const VulkanOptions& options)
    : model_(std::move(model)), instance_(std::move(instance)), opt_(options) {
    try {
        dev_ = std::make_unique<Device>(instance_, device);
        dot_ = device.integer_dot && !opt_.force_portable;
        C_ = std::max(2, opt_.chunk);
        if (opt_.slot_count < 1 || opt_.slot_count > 65536)
            throw Error(ErrorCode::InvalidArgument, "slot count " + std::to_string(opt_.slot_count) + " is outside 1..65536");
        slots_ = opt_.slot_count;
        step_rows_ = std::min(C_, 256);
        gemv_batch_ = opt_.gemv_batch > 0 ? opt_.gemv_batch : env_int("MMFREE_VULKAN_GEMV_BATCH", 8);
        // Grouped steps of up to 8 sequences beat the chunk kernels on the GPU and on lavapipe alike
        // (370M, B = 8: H100 980 against 710 tok/s per stream; lavapipe 11.0 against 6.2 tok/s in all).
        const int grouped = opt_.grouped_max > 0 ? opt_.grouped_max : env_int("MMFREE_VULKAN_GROUPED_MAX", kGroupedMax);
        grouped_max_ = std::clamp(grouped, 1, std::min(kGroupedMax, step_rows_));
        sample_threads_ = sample_threads_for(dev_->info());
        upload_weights();
        allocate_activations();
        record_decode(decode_logits_, Logits::All);
        record_decode(decode_argmax_, Logits::Argmax);
        if (samples_on_device()) record_decode(decode_sampled_, Logits::Sampled);
        const size_t all_states = slot_offset(slots_) - state_;
        run_once([&](VkCommandBuffer cb) { dev_->fn.vkCmdFillBuffer(cb, act_.handle, state_, all_states, 0); });
    } catch (...) {
        cleanup();
        throw;
    }
}

VulkanExecutor::~VulkanExecutor() { cleanup(); }

void VulkanExecutor::free_recorded(Recorded& r) {
    if (!dev_) return;
    dev_->free(r.cb);
    if (r.queries) dev_->fn.vkDestroyQueryPool(dev_->handle, r.queries, nullptr);
    r = Recorded{};
}

void VulkanExecutor::cleanup() {
    if (!dev_) return;
    dev_->fn.vkDeviceWaitIdle(dev_->handle);
    for (Recorded* r : {&decode_logits_, &decode_argmax_, &decode_sampled_}) free_recorded(*r);
    for (auto& [k, r] : passes_) free_recorded(r);
    passes_.clear();
    for (auto& [k, p] : pipelines_) dev_->destroy(p);
    pipelines_.clear();
    for (Buffer* b : {&weights_, &act_, &upload_, &readback_}) dev_->destroy(*b);
    dev_.reset();
}

std::string VulkanExecutor::device_name() const {
    const Candidate& c = dev_->info();
    return c.info.name + " (Vulkan, " + c.info.type + ", " + c.info.driver + ", " +
           (dot_ ? "int8 dot product" : "portable int8 path") + ")";
}

std::vector<std::pair<std::string, double>> VulkanExecutor::extra_metrics() const {
    const double L = model_->config.num_layers;
    return {{"vulkan_decode_dispatches_per_token", 4 * L + 2}, {"vulkan_integer_dot", dot_ ? 1.0 : 0.0},
            {"vulkan_int8_cooperative_matrix", dot_ && dev_->info().int8_matrix ? 1.0 : 0.0},
            {"vulkan_prefill_chunk_tokens", double(C_)}, {"vulkan_slots", double(slots_)},
            {"vulkan_batched_decode_rows_per_pass", double(step_rows_)}, {"vulkan_gemv_batch_rows", double(gemv_batch_)},
            {"vulkan_grouped_decode_rows", double(grouped_max_)}, {"vulkan_pipelines", double(pipelines_.size())}};
}

// ---- memory -------------------------------------------------------------------------------------

void VulkanExecutor::upload_weights() {
    const Model& m = *model_;
    const auto& c = m.config;
    struct Piece {
        size_t offset;
        const void* src;
        size_t bytes;
    };
    std::vector<Piece> pieces;
    std::deque<std::vector<float>> owned;  // deque: pointers stay valid while it grows
    size_t end = 0;
    // align 256 starts a tensor; align 1 continues the previous one (i/f/g are read as one matrix).
    auto put = [&](const void* src, size_t bytes, size_t align = 256) {
        end = align_up(end, align);
        pieces.push_back({end, src, bytes});
        end += bytes;
        return pieces.back().offset;
    };
    auto put_floats = [&](std::vector<float> v, size_t align = 256) {
        owned.push_back(std::move(v));
        return put(owned.back().data(), owned.back().size() * 4, align);
    };
    auto put_vec = [&](const std::vector<float>& v, size_t align = 256) { return put(v.data(), v.size() * 4, align); };
    auto put_codes = [&](const TernaryMatrix& t, size_t align = 256) { return put(t.codes.data(), t.codes.size(), align); };

    emb_ = put_vec(m.embeddings);
    final_norm_ = put_vec(m.final_norm);
    head_codes_ = put_codes(m.lm_head);
    head_gamma_ = put_vec(m.lm_head.norm);
    head_scale_ = put_floats({m.lm_head.scale});
    lo_.resize(size_t(c.num_layers));
    for (int l = 0; l < c.num_layers; ++l) {
        const LayerWeights& w = m.layers[size_t(l)];
        LayerOffsets& o = lo_[size_t(l)];
        o.ifg_codes = put_codes(w.i_proj);
        put_codes(w.f_proj, 1);
        put_codes(w.g_proj, 1);
        o.ifg_gamma = put_vec(w.i_proj.norm);
        put_vec(w.f_proj.norm, 4);
        put_vec(w.g_proj.norm, 4);
        o.ifg_scale = put_floats({w.i_proj.scale, w.f_proj.scale, w.g_proj.scale});
        o.o_codes = put_codes(w.o_proj);
        o.o_gamma = put_vec(w.o_proj.norm);
        o.o_scale = put_floats({w.o_proj.scale});
        o.gate_codes = put_codes(w.gate_proj);
        o.gate_gamma = put_vec(w.gate_proj.norm);
        o.gate_scale = put_floats({w.gate_proj.scale});
        o.down_codes = put_codes(w.down_proj);
        o.down_gamma = put_vec(w.down_proj.norm);
        o.down_scale = put_floats({w.down_proj.scale});
        o.attn_norm = put_vec(w.attn_norm);
        o.g_norm = put_vec(w.g_norm);
        o.mlp_norm = put_vec(w.mlp_norm);
        o.lb = (c.use_lower_bound && !m.lower_bound.empty()) ? put(&m.lower_bound[size_t(l) * c.hidden_size], size_t(c.hidden_size) * 4) : 0;
    }
    weights_ = dev_->create_buffer(align_up(end, 256), MemoryKind::Device);

    // Stream through a staging buffer: the model is never copied whole in host memory.
    Buffer staging = dev_->create_buffer(std::min(kStaging, align_up(end, 256)), MemoryKind::Upload);
    try {
        std::vector<VkBufferCopy> regions;
        size_t fill = 0;
        auto flush = [&] {
            if (regions.empty()) return;
            VkCommandBuffer cb = dev_->allocate_command_buffer();
            auto bi = make<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
            bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
            dev_->fn.vkBeginCommandBuffer(cb, &bi);
            dev_->fn.vkCmdCopyBuffer(cb, staging.handle, weights_.handle, uint32_t(regions.size()), regions.data());
            dev_->fn.vkEndCommandBuffer(cb);
            try {
                dev_->submit_and_wait(cb);
            } catch (...) {
                dev_->free(cb);
                throw;
            }
            dev_->free(cb);
            regions.clear();
            fill = 0;
        };
        for (const Piece& p : pieces) {
            size_t done = 0;
            while (done < p.bytes) {
                if (fill == staging.size) flush();
                const size_t n = std::min(p.bytes - done, size_t(staging.size) - fill);
                std::memcpy(static_cast<char*>(staging.mapped) + fill, static_cast<const char*>(p.src) + done, n);
                regions.push_back({fill, p.offset + done, n});
                fill += n;
                done += n;
            }
        }
        flush();
    } catch (...) {
        dev_->destroy(staging);
        throw;
    }
    dev_->destroy(staging);
}

void VulkanExecutor::allocate_activations() {
    const auto& c = model_->config;
    const size_t H = size_t(c.hidden_size), D = size_t(c.state_dim()), I = size_t(c.intermediate_size), V = size_t(c.vocab_size),
                 L = size_t(c.num_layers), C = size_t(C_);
    const size_t kw = std::max({q_words(c.hidden_size), q_words(c.state_dim()), q_words(c.intermediate_size)});
    const uint32_t head_wgs = gemv_grid(c.vocab_size, 1, 1, gemv_threads(c.hidden_size)).wgs_per_set;
    size_t end = 0;
    auto take = [&](size_t bytes) {
        end = align_up(end, 256);
        const size_t at = end;
        end += std::max<size_t>(bytes, 4);
        return at;
    };
    x_ = take(std::max(C, 2 * size_t(grouped_max_)) * H * 4);   // the fused decode (one sequence or grouped) alternates two sets of rows
    a_ = take(C * H * 4);
    d_ = take(C * H * 4);
    ifg_ = take(C * 3 * D * 4);
    hseq_ = take(C * D * 4);
    y_ = take(C * 2 * I * 4);
    q_ = take(3 * C * kw * 4);
    qscale_ = take(3 * C * 4);
    qsum_ = take(3 * C * 4);
    state_ = take(size_t(slots_) * L * D * 4);  // [slot][layer][D]
    partials_ = take(size_t(head_wgs) * 8);
    logits_ = take(size_t(step_rows_) * V * 4);
    scratch_ = take(256);
    act_ = dev_->create_buffer(align_up(end, 256), MemoryKind::Device);

    end = 0;
    up_tokens_ = take(C * 4);
    up_slots_ = take(C * 4);
    up_state_ = take(L * D * 4);
    up_draws_ = take(size_t(step_rows_) * sizeof(sampling::Draw));
    upload_ = dev_->create_buffer(align_up(end, 256), MemoryKind::Upload);
    end = 0;
    rb_logits_ = take(C * V * 4);
    rb_token_ = take(size_t(step_rows_) * 4);
    rb_state_ = take(L * D * 4);
    readback_ = dev_->create_buffer(align_up(end, 256), MemoryKind::Readback);
}

size_t VulkanExecutor::slot_offset(int slot) const {
    const auto& c = model_->config;
    return state_ + size_t(slot) * size_t(c.num_layers) * size_t(c.state_dim()) * 4;
}

template <class F> void VulkanExecutor::run_once(F&& body) {
    Recorded r;
    const OnExit release{[&] { free_recorded(r); }};
    Recorder rec(*this, r, Recorder::Timing::None, 0);
    body(r.cb);
    rec.finish();
    dev_->submit_and_wait(r.cb);
}

uint32_t VulkanExecutor::wref(size_t off) const { return ref(REGION_WEIGHTS, off); }
uint32_t VulkanExecutor::aref(size_t off) const { return ref(REGION_ACT, off); }

VulkanExecutor::Push VulkanExecutor::push() const {
    Push p{};
    p.base[REGION_WEIGHTS] = weights_.address;
    p.base[REGION_ACT] = act_.address;
    p.base[REGION_UPLOAD] = upload_.address;
    p.base[REGION_READBACK] = readback_.address;
    return p;
}

// ---- pipelines ----------------------------------------------------------------------------------

VkPipeline VulkanExecutor::pipeline(const std::string& name, const std::vector<uint32_t>& spec) {
    std::string key = name;
    for (uint32_t v : spec) key.append(":").append(std::to_string(v));  // (not ":" + to_string: GCC 12 warns falsely)
    auto it = pipelines_.find(key);
    if (it != pipelines_.end()) return it->second;
    const Spirv code = shader_spirv(name, dot_);
    VkPipeline p = dev_->create_pipeline(code, spec);
    pipelines_[key] = p;
    return p;
}

VkPipeline VulkanExecutor::prep_pipeline(uint32_t mode, int K, int nsets) {
    return pipeline("prep", {kWG, mode, ceil_div(q_words(K), kWG), uint32_t(nsets), K % 4 == 0});
}

// As gemv.comp declares it: q (padded) per set, the prologue's reductions, the argmax.
size_t VulkanExecutor::gemv_shared_bytes(int K, int nsets) const {
    const uint32_t kw = q_words(K);
    const size_t sg = std::max<uint32_t>(1, dev_->info().subgroup_size);
    const size_t red = std::max<size_t>(128, gemv_threads(K) / sg);
    return size_t(nsets) * (kw / 4 + kw / 32 + 1) * 16 + 2 * red * 16 + 128 * 8 + 3 * 16;
}

VkPipeline VulkanExecutor::gemv_pipeline(uint32_t mode, int K, int nsets, const GemvGrid& g, uint32_t group, uint32_t cols) {
    const uint32_t kw = q_words(K), threads = gemv_threads(K);
    const uint32_t per = mode == MODE_QIN ? 1 : ceil_div(kw, threads);
    const size_t shared = gemv_shared_bytes(K, nsets);
    if (shared > dev_->info().max_shared)
        throw Error(ErrorCode::DeviceError, "Vulkan: this model needs " + std::to_string(shared / 1024) +
                                                " KiB of shared memory per workgroup; the device has " +
                                                std::to_string(dev_->info().max_shared / 1024) + " KiB");
    return pipeline("gemv", {threads, mode, per, uint32_t(nsets), K % 4 == 0, g.rows_per_pass, kw / 4,
                             std::max<uint32_t>(1, dev_->info().subgroup_size), group, cols});
}

// One decode BitLinear (gemv.comp) over N rows per set: grid, row slots and dispatch. group > 1:
// N channels whose `group` rows (one per set or half) one lane finishes together (gemv.comp).
// T > 1 with MODE_QIN: T columns a prep kernel quantized, COLS = 8 at a time (fewer when T is
// smaller). T > 1 otherwise: the grouped decode, a row of workgroups per column (grid y), each
// with its share of the target workgroups.
void VulkanExecutor::record_gemv(Recorder& rec, Push& p, uint32_t mode, int K, int N, int nsets, int stage, uint32_t group, int T) {
    const uint32_t wg_sets = group > 1 ? 1 : uint32_t(nsets);
    const uint32_t grid_rows = mode == MODE_QIN ? 1 : uint32_t(T);
    const GemvGrid g = gemv_grid(N, wg_sets, group, gemv_threads(K), grid_rows);
    p.p[P_RPW] = g.rows_per_wg; p.p[P_WGSET] = g.wgs_per_set;
    const uint32_t cols = mode == MODE_QIN ? uint32_t(std::clamp(T, 1, 8)) : 1;
    rec.dispatch(gemv_pipeline(mode, K, nsets, g, group, cols), p, wg_sets * g.wgs_per_set, grid_rows, stage);
}

// A chunk of a few rows leaves most of a GEMM tile empty and gives the GPU few workgroups (2.7B's
// o_proj: 40 at 64 rows per tile), each walking the whole input: the decode kernel over columns
// reads the same weights once with every SM streaming. H200, batched decode tok/s, gemv / GEMM:
// B = 8: 370M 5,644 / 3,998, 1.3B 3,796 / 2,373, 2.7B 1,672 / 1,486; at B = 16 the gemv (two
// column blocks: 7,976 / 4,956 / 2,244) no longer beats the GEMM at B = 32 (15,182 / 9,154 /
// 5,779): its q reads from L1 grow with the columns. Hence up to 8 rows by default.
void VulkanExecutor::record_product(Recorder& rec, Push& p, int K, int N, int nsets, int T, int stage) {
    if (T <= gemv_batch_) {
        record_gemv(rec, p, MODE_QIN, K, N, nsets, stage, 1, T);
    } else {
        record_gemm(rec, p, N, nsets, T, stage);
    }
}

// The prefill GEMM: on the tensor cores where the device offers int8 cooperative matrices (not
// under force_portable, which keeps the plain integer path for comparisons), else gemm.comp.
// gemm_cm's tiles are 128 rows × 64 tokens, or 64 rows where 128-row tiles would give fewer
// workgroups than a large GPU has SMs (370M's o and down; H200, pp512: 64 rows everywhere costs
// 2.7B 11 %, 128 rows everywhere costs 370M 5 %). VulkanOptions::gemm_rows forces one (tests, tuning).
void VulkanExecutor::record_gemm(Recorder& rec, Push& p, int N, int nsets, int T, int stage) {
    const uint32_t token_tiles = ceil_div(size_t(T), GEMM_BN);
    if (dot_ && dev_->info().int8_matrix) {
        uint32_t rows = size_t(nsets) * ceil_div(size_t(N), 128) * token_tiles >= 128 ? 128 : 64;
        if (opt_.gemm_rows == 64 || opt_.gemm_rows == 128) rows = uint32_t(opt_.gemm_rows);
        p.p[P_WGSET] = ceil_div(size_t(N), rows);
        rec.dispatch(pipeline("gemm_cm", {rows}), p, uint32_t(nsets) * p.p[P_WGSET], token_tiles, stage);
    } else {
        p.p[P_WGSET] = ceil_div(size_t(N), GEMM_BM);
        rec.dispatch(pipeline("gemm", {}), p, uint32_t(nsets) * p.p[P_WGSET], token_tiles, stage);
    }
}

uint32_t VulkanExecutor::gemv_target_wgs(uint32_t threads) const {
    const uint32_t narrow = opt_.gemv_wgs > 0 ? uint32_t(opt_.gemv_wgs)
                                              : uint32_t(std::max(1, env_int("MMFREE_VULKAN_GEMV_WGS", dev_->info().rank == 1 ? 16 : 264)));
    return threads > kWG ? std::max<uint32_t>(1, narrow / 2) : narrow;  // wide workgroups: one per SM
}

// Decode workgroups for long inputs: one per SM (half the target count) and as wide as the input
// needs (q words per thread as few as the device's width allows: 640 threads for K = 2560, 864
// for 6912; at least 512). Every workgroup normalizes and quantizes the whole input, so one
// wide workgroup per SM does that once per SM instead of twice, in fewer steps per thread.
// H200, same run, two rounds, tg128: 512 threads from K ≥ 2048 against never: 1.3B 1,124 /
// 1,024 → 1,357 / 1,253, 2.7B 700 / 651 → 701 / 692, 370M within noise (512 for every K cost
// 370M 7 %); sized to the input with the rows spread evenly (gemv_grid) against 512: 2.7B 757 /
// 792 → 862 / 856, 1.3B 1,292 / 1,309 → 1,300 / 1,313, 370M 1,631 / 1,624 → 1,545 / 1,611.
// MMFREE_VULKAN_GEMV_WIDE_K overrides the length.
uint32_t VulkanExecutor::gemv_threads(int K) const {
    const int wide_k = opt_.gemv_wide_k > 0 ? opt_.gemv_wide_k : env_int("MMFREE_VULKAN_GEMV_WIDE_K", 2048);
    const uint32_t widest = std::min<uint32_t>(1024, dev_->info().max_invocations);
    if (K < wide_k || widest < 2 * kWG) return kWG;
    const uint32_t kw = q_words(K), steps = ceil_div(kw, widest);
    return std::clamp(ceil_div(ceil_div(kw, steps), 32) * 32, 2 * kWG, widest);
}

// Rows per workgroup: enough workgroups to fill a large GPU, few enough that the per-workgroup
// prologue stays cheap. A subgroup pass takes 4 rows at once (loads in flight per lane), or 2 or
// 1 where 4-row passes would leave fewer than half the target workgroups (o and down: N = H);
// grouped rows count whole: at most 4 in flight (i/f/g: one channel per pass, gate/up: two;
// two i/f/g channels per pass measured 2-8 % slower on the H200).
// MMFREE_VULKAN_GEMV_WGS overrides the target (tuning).
VulkanExecutor::GemvGrid VulkanExecutor::gemv_grid(int N, uint32_t wg_sets, uint32_t group, uint32_t threads, uint32_t columns) const {
    const uint32_t subgroups = std::max<uint32_t>(1, threads / std::max<uint32_t>(1, dev_->info().subgroup_size));
    const uint32_t target = std::max<uint32_t>(1, gemv_target_wgs(threads) / wg_sets / std::max<uint32_t>(1, columns));
    GemvGrid g{};
    if (threads > kWG) {
        // Wide workgroups, one per SM: the rows split evenly, spread over the subgroups first.
        // Rounding them up to whole passes left SMs idle (370M's down_proj: 47 workgroups).
        g.rows_per_wg = ceil_div(size_t(N), target);
        g.rows_per_pass = 4 / group;
        for (uint32_t rows : {1u, 2u})
            if (rows < g.rows_per_pass && subgroups * rows >= g.rows_per_wg) {
                g.rows_per_pass = rows;
                break;
            }
        g.wgs_per_set = ceil_div(size_t(N), g.rows_per_wg);
        return g;
    }
    for (uint32_t rows : {4u, 2u, 1u}) {
        if (rows > 1 && rows * group > 4) continue;
        const uint32_t per_pass = subgroups * rows;
        g.rows_per_pass = rows;
        g.rows_per_wg = ceil_div(ceil_div(size_t(N), target), per_pass) * per_pass;
        g.wgs_per_set = ceil_div(size_t(N), g.rows_per_wg);
        if (2 * g.wgs_per_set >= target) break;
    }
    return g;
}

// ---- command buffers ----------------------------------------------------------------------------

// sample.comp's workgroup: its passes are latency-bound, so a GPU that can gets 1024 threads per
// row (each reads 32 of a 32k vocabulary per pass instead of 125); CPU devices keep 256.
uint32_t VulkanExecutor::sample_threads_for(const Candidate& device) {
    constexpr uint32_t kWide = 1024;
    return device.rank > 1 && device.max_invocations >= kWide && device.max_shared >= sample_shared_bytes(kWide) ? kWide : 256;
}

// sample.comp's shared arrays: a sum and a (key, id) pair per thread, two 256-bin histograms.
size_t VulkanExecutor::sample_shared_bytes(uint32_t threads) { return size_t(threads) * (8 + 4 + 4) + 2 * 256 * 4 + 64; }

void VulkanExecutor::record_sample(Recorder& rec, int T) {
    static_assert(sizeof(sampling::Draw) == 24, "sample.comp reads six words per draw");
    Push p = push();
    p.p[P_IN0] = aref(logits_); p.p[P_IN1] = ref(REGION_UPLOAD, up_draws_); p.p[P_N] = uint32_t(model_->config.vocab_size);
    p.p[P_OUT] = ref(REGION_READBACK, rb_token_);
    rec.dispatch(pipeline("sample", {sample_threads_}), p, 1, uint32_t(T), LmHead);
}

void VulkanExecutor::record_decode(Recorded& r, Logits out, int T) {
    const auto& c = model_->config;
    const int H = c.hidden_size, D = c.state_dim(), I = c.intermediate_size, V = c.vocab_size, L = c.num_layers;
    const uint32_t eps = float_bits(c.rms_norm_eps);
    const uint32_t slots = ref(REGION_UPLOAD, up_slots_), slot_stride = uint32_t(L * D);
    const uint32_t t = uint32_t(T);
    Recorder rec(*this, r, Recorder::Timing::PerStage, uint32_t(4 * L + 3));
    r.fused = true;
    for (int l = 0; l < L; ++l) {
        const LayerOffsets& w = lo_[size_t(l)];
        // The residual stream alternates between two sets of T rows: layer l reads one while its
        // first workgroup writes the other.
        const size_t x_in = x_ + size_t((l + 1) & 1) * T * H * 4, x_out = x_ + size_t(l & 1) * T * H * 4;
        const bool lb = c.use_lower_bound && l > 0 && !model_->lower_bound.empty();

        // i/f/g and the MLGRU step: h[l] updated in place, ag written after ai and af's slots.
        Push p = push();
        p.p[P_K] = uint32_t(H); p.p[P_KW] = q_words(H); p.p[P_T] = t;
        p.p[P_IN0] = aref(x_in); p.p[P_IN1] = aref(a_); p.p[P_IN2] = aref(d_); p.p[P_XOUT] = aref(x_out);
        p.p[P_NORM] = wref(w.attn_norm); p.p[P_GAMMA] = wref(w.ifg_gamma);
        p.p[P_TOK] = ref(REGION_UPLOAD, up_tokens_); p.p[P_FLAGS] = (l == 0 ? F_FIRST : 0) | (lb ? F_LB : 0);
        p.p[P_EMB] = wref(emb_); p.p[P_EPS] = eps;
        p.p[P_STATE] = aref(state_ + size_t(l) * D * 4); p.p[P_LB] = lb ? wref(w.lb) : 0;
        p.p[P_SLOTS] = slots; p.p[P_SSTRIDE] = slot_stride;
        p.p[P_CODES] = wref(w.ifg_codes); p.p[P_WSCALE] = wref(w.ifg_scale); p.p[P_OUT] = aref(ifg_); p.p[P_N] = uint32_t(D);
        record_gemv(rec, p, MODE_IFG, H, D, 3, BitLinear, 3, T);

        // z = RMSNorm(ag)·silu(h) → o_proj.
        p = push();
        p.p[P_K] = uint32_t(D); p.p[P_KW] = q_words(D); p.p[P_T] = t;
        p.p[P_IN0] = aref(ifg_ + size_t(2) * D * 4); p.p[P_STRIDE_IN] = uint32_t(3 * D); p.p[P_IN2] = aref(state_ + size_t(l) * D * 4);
        p.p[P_FLAGS] = F_SLOTS; p.p[P_SLOTS] = slots; p.p[P_SSTRIDE] = slot_stride;
        p.p[P_NORM] = wref(w.g_norm); p.p[P_GAMMA] = wref(w.o_gamma); p.p[P_EPS] = eps;
        p.p[P_CODES] = wref(w.o_codes); p.p[P_WSCALE] = wref(w.o_scale); p.p[P_OUT] = aref(a_); p.p[P_N] = uint32_t(H);
        record_gemv(rec, p, MODE_O, D, H, 1, BitLinear, 1, T);

        // gate/up rows of a channel together, SwiGLU: silu(gate)·up into y_, I floats per row.
        p = push();
        p.p[P_K] = uint32_t(H); p.p[P_KW] = q_words(H); p.p[P_T] = t;
        p.p[P_IN0] = aref(x_out); p.p[P_IN1] = aref(a_); p.p[P_NORM] = wref(w.mlp_norm); p.p[P_GAMMA] = wref(w.gate_gamma);
        p.p[P_EPS] = eps;
        p.p[P_CODES] = wref(w.gate_codes); p.p[P_WSCALE] = wref(w.gate_scale); p.p[P_OUT] = aref(y_); p.p[P_N] = uint32_t(I);
        record_gemv(rec, p, MODE_GATE, H, I, 1, BitLinear, 2, T);

        p = push();
        p.p[P_K] = uint32_t(I); p.p[P_KW] = q_words(I); p.p[P_T] = t;
        p.p[P_IN0] = aref(y_); p.p[P_GAMMA] = wref(w.down_gamma); p.p[P_EPS] = eps;
        p.p[P_CODES] = wref(w.down_codes); p.p[P_WSCALE] = wref(w.down_scale); p.p[P_OUT] = aref(d_); p.p[P_N] = uint32_t(H);
        record_gemv(rec, p, MODE_RAW, I, H, 1, BitLinear, 1, T);
    }
    // lm_head. One row: each workgroup leaves its best logit for the argmax kernel. Several: the
    // rows' logits stay on the device (argmax or sampling per row) or go to the host in one copy.
    const bool partials = T == 1 && out == Logits::Argmax;
    Push p = push();
    p.p[P_K] = uint32_t(H); p.p[P_KW] = q_words(H); p.p[P_T] = t;
    p.p[P_IN0] = aref(x_ + size_t((L - 1) & 1) * T * H * 4); p.p[P_IN1] = aref(a_); p.p[P_IN2] = aref(d_);
    p.p[P_NORM] = wref(final_norm_); p.p[P_GAMMA] = wref(head_gamma_); p.p[P_EPS] = eps;
    p.p[P_FLAGS] = partials ? F_ARGMAX : 0; p.p[P_TOK] = aref(partials_);
    p.p[P_CODES] = wref(head_codes_); p.p[P_WSCALE] = wref(head_scale_);
    p.p[P_OUT] = out == Logits::All && T == 1 ? ref(REGION_READBACK, rb_logits_) : aref(logits_);
    p.p[P_N] = uint32_t(V);
    record_gemv(rec, p, MODE_HEAD, H, V, 1, LmHead, 1, T);
    if (out == Logits::All && T > 1) rec.copy(act_, logits_, readback_, rb_logits_, size_t(T) * V * 4);
    if (out == Logits::Argmax) {
        Push a = push();
        if (partials) {
            a.p[P_IN0] = aref(partials_); a.p[P_N] = p.p[P_WGSET];
        } else {
            a.p[P_IN0] = aref(logits_); a.p[P_N] = uint32_t(V); a.p[P_FLAGS] = F_ROWS;
        }
        a.p[P_OUT] = ref(REGION_READBACK, rb_token_);
        rec.dispatch(pipeline("argmax", {}), a, 1, t, LmHead);
    }
    if (out == Logits::Sampled) record_sample(rec, T);
    rec.finish();
}

void VulkanExecutor::record_chunk(Recorded& r, int T, Logits logits, bool step, bool profile) {
    const auto& c = model_->config;
    const int H = c.hidden_size, D = c.state_dim(), I = c.intermediate_size, V = c.vocab_size, L = c.num_layers;
    const uint32_t eps = float_bits(c.rms_norm_eps);
    Recorder rec(*this, r, profile ? Recorder::Timing::PerDispatch : Recorder::Timing::None, uint32_t(L * 9 + 5));
    auto quantized = [&](Push& p) {
        p.p[P_Q] = aref(q_); p.p[P_QSCALE] = aref(qscale_); p.p[P_QSUM] = aref(qsum_);
    };
    // The ternary product on the activations a prep kernel quantized: gemm, or gemv for one token.
    auto bitlinear = [&](size_t codes, size_t scale, int K, int N, int nsets, uint32_t out, int out_stride, int stage) {
        Push p = push();
        quantized(p);
        p.p[P_K] = uint32_t(K); p.p[P_KW] = q_words(K); p.p[P_T] = uint32_t(T);
        p.p[P_CODES] = wref(codes); p.p[P_WSCALE] = wref(scale); p.p[P_OUT] = out; p.p[P_N] = uint32_t(N);
        p.p[P_OUTSTRIDE] = uint32_t(out_stride);
        record_product(rec, p, K, N, nsets, T, stage);
    };
    for (int l = 0; l < L; ++l) {
        const LayerOffsets& w = lo_[size_t(l)];
        const bool lb = c.use_lower_bound && l > 0 && !model_->lower_bound.empty();

        Push p = push();
        quantized(p);
        p.p[P_K] = uint32_t(H); p.p[P_KW] = q_words(H); p.p[P_T] = uint32_t(T);
        p.p[P_IN0] = aref(x_); p.p[P_IN1] = aref(a_); p.p[P_IN2] = aref(d_); p.p[P_XOUT] = aref(x_);
        p.p[P_NORM] = wref(w.attn_norm); p.p[P_GAMMA] = wref(w.ifg_gamma);
        p.p[P_TOK] = ref(REGION_UPLOAD, up_tokens_); p.p[P_FLAGS] = l == 0 ? F_FIRST : 0; p.p[P_EMB] = wref(emb_); p.p[P_EPS] = eps;
        rec.dispatch(prep_pipeline(MODE_IFG, H, 3), p, uint32_t(T), 1, NormQuant);
        bitlinear(w.ifg_codes, w.ifg_scale, H, D, 3, aref(ifg_), 3 * D, BitLinear);

        // The MLGRU: over the chunk in order (prefill), or one step per row on its slot's state (decode).
        p = push();
        p.p[P_K] = uint32_t(D); p.p[P_T] = uint32_t(T); p.p[P_IN1] = aref(ifg_); p.p[P_IN2] = aref(state_ + size_t(l) * D * 4);
        p.p[P_SLOTS] = ref(REGION_UPLOAD, up_slots_); p.p[P_SSTRIDE] = uint32_t(L * D);
        p.p[P_XOUT] = aref(hseq_); p.p[P_TOK] = lb ? wref(w.lb) : 0; p.p[P_FLAGS] = (lb ? F_LB : 0) | (step ? F_STEP : 0);
        rec.dispatch(pipeline("scan", {}), p, ceil_div(size_t(D), 256), step ? uint32_t(T) : 1, Mlgru);

        p = push();
        quantized(p);
        p.p[P_K] = uint32_t(D); p.p[P_KW] = q_words(D); p.p[P_T] = uint32_t(T);
        p.p[P_IN0] = aref(ifg_ + size_t(2) * D * 4); p.p[P_STRIDE_IN] = uint32_t(3 * D); p.p[P_IN2] = aref(hseq_);
        p.p[P_NORM] = wref(w.g_norm); p.p[P_GAMMA] = wref(w.o_gamma); p.p[P_EPS] = eps;
        rec.dispatch(prep_pipeline(MODE_O, D, 1), p, uint32_t(T), 1, NormQuant);
        bitlinear(w.o_codes, w.o_scale, D, H, 1, aref(a_), H, BitLinear);

        p = push();
        quantized(p);
        p.p[P_K] = uint32_t(H); p.p[P_KW] = q_words(H); p.p[P_T] = uint32_t(T);
        p.p[P_IN0] = aref(x_); p.p[P_IN1] = aref(a_); p.p[P_NORM] = wref(w.mlp_norm); p.p[P_GAMMA] = wref(w.gate_gamma); p.p[P_EPS] = eps;
        rec.dispatch(prep_pipeline(MODE_GATE, H, 1), p, uint32_t(T), 1, NormQuant);
        bitlinear(w.gate_codes, w.gate_scale, H, 2 * I, 1, aref(y_), 2 * I, BitLinear);

        p = push();
        quantized(p);
        p.p[P_K] = uint32_t(I); p.p[P_KW] = q_words(I); p.p[P_T] = uint32_t(T);
        p.p[P_IN0] = aref(y_); p.p[P_STRIDE_IN] = uint32_t(2 * I); p.p[P_GAMMA] = wref(w.down_gamma); p.p[P_EPS] = eps;
        rec.dispatch(prep_pipeline(MODE_DOWN, I, 1), p, uint32_t(T), 1, NormQuant);
        bitlinear(w.down_codes, w.down_scale, I, H, 1, aref(d_), H, BitLinear);
    }
    if (logits == Logits::All || logits == Logits::Argmax || logits == Logits::Sampled) {
        Push p = push();
        quantized(p);
        p.p[P_K] = uint32_t(H); p.p[P_KW] = q_words(H); p.p[P_T] = uint32_t(T);
        p.p[P_IN0] = aref(x_); p.p[P_IN1] = aref(a_); p.p[P_IN2] = aref(d_);
        p.p[P_NORM] = wref(final_norm_); p.p[P_GAMMA] = wref(head_gamma_); p.p[P_EPS] = eps;
        rec.dispatch(prep_pipeline(MODE_HEAD, H, 1), p, uint32_t(T), 1, LmHead);
        const bool keep = logits != Logits::All;  // tokens only: the logits never leave the device
        // Rows for the host go to device memory first and then to the host in one copy: the
        // product writing 256 rows (32 MB) straight into host memory took ~27 ms on the H200.
        const bool staged = !keep && T <= step_rows_;
        bitlinear(head_codes_, head_scale_, H, V, 1, keep || staged ? aref(logits_) : ref(REGION_READBACK, rb_logits_), V, LmHead);
        if (staged) rec.copy(act_, logits_, readback_, rb_logits_, size_t(T) * V * 4);
        if (logits == Logits::Sampled) record_sample(rec, T);
        if (logits == Logits::Argmax) {
            Push a = push();
            a.p[P_IN0] = aref(logits_); a.p[P_N] = uint32_t(V); a.p[P_FLAGS] = F_ROWS; a.p[P_OUT] = ref(REGION_READBACK, rb_token_);
            rec.dispatch(pipeline("argmax", {}), a, 1, uint32_t(T), LmHead);
        }
    } else if (logits == Logits::Last) {
        const size_t row = size_t(T - 1) * H * 4;
        Push p = push();
        p.p[P_K] = uint32_t(H); p.p[P_KW] = q_words(H); p.p[P_T] = 1;
        p.p[P_IN0] = aref(x_ + row); p.p[P_IN1] = aref(a_ + row); p.p[P_IN2] = aref(d_ + row);
        p.p[P_NORM] = wref(final_norm_); p.p[P_GAMMA] = wref(head_gamma_); p.p[P_EPS] = eps;
        p.p[P_FLAGS] = F_ARGMAX; p.p[P_TOK] = aref(partials_);
        p.p[P_CODES] = wref(head_codes_); p.p[P_WSCALE] = wref(head_scale_);
        p.p[P_OUT] = ref(REGION_READBACK, rb_logits_); p.p[P_N] = uint32_t(V);
        record_gemv(rec, p, MODE_HEAD, H, V, 1, LmHead);
    }
    rec.finish();
}

// The command buffer of a pass of T rows, recorded on its first use and replayed afterwards.
template <class F> VulkanExecutor::Recorded& VulkanExecutor::recorded(int T, Logits logits, Pass pass, F&& record) {
    const auto key = std::make_tuple(T, int(logits), int(pass));
    auto it = passes_.find(key);
    if (it != passes_.end()) {
        it->second.last_use = ++pass_uses_;
        return it->second;
    }
    // Prompts of many lengths and batches of many sizes would each leave a command buffer behind:
    // keep the most recently used. A server's steps take every size up to its slots as streams
    // come and go (two outputs each), prefill_many's chunks are sums of prompt lengths: room for
    // all the steps, so a busy server does not re-record them round after round (H100, 256 slots:
    // ~70 recordings, 46 ms, per 2.6 s burst with room for 64 passes in all).
    if (passes_.size() >= kRecordedPasses + 2 * size_t(slots_)) {
        auto oldest = std::min_element(passes_.begin(), passes_.end(), [](const auto& a, const auto& b) { return a.second.last_use < b.second.last_use; });
        free_recorded(oldest->second);
        passes_.erase(oldest);
    }
    Recorded& r = passes_[key];
    r.last_use = ++pass_uses_;
    try {
        record(r);
    } catch (...) {
        free_recorded(r);
        passes_.erase(key);
        throw;
    }
    return r;
}

VulkanExecutor::Recorded& VulkanExecutor::chunk_commands(int T, Logits logits, bool step) {
    return recorded(T, logits, step ? Pass::Step : Pass::Prefill, [&](Recorded& r) { record_chunk(r, T, logits, step, opt_.profile); });
}

void VulkanExecutor::run(Recorded& r) {
    dev_->submit(r.cb);
    complete(r);
}

void VulkanExecutor::complete(Recorded& r) {
    dev_->wait();
    if (!r.queries) return;
    const size_t n = r.stage_of.size() + 1;
    std::vector<uint64_t> ts(n);
    const VkResult res = dev_->fn.vkGetQueryPoolResults(dev_->handle, r.queries, 0, uint32_t(n), n * 8, ts.data(), 8,
                                                        VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (res != VK_SUCCESS) return;  // timings are a nicety: never fail a forward pass over them
    const uint32_t bits = dev_->info().timestamp_bits;
    const uint64_t mask = bits >= 64 ? ~0ull : ((1ull << bits) - 1);
    const double us_per_tick = dev_->info().timestamp_period_ns / 1000.0;
    double* slot[StageCount] = {&stages_.norm_quant_us, &stages_.bitlinear_us, &stages_.mlgru_us, &stages_.lm_head_us};
    for (size_t i = 0; i + 1 < n; ++i) *slot[r.stage_of[i]] += double((ts[i + 1] - ts[i]) & mask) * us_per_tick;
    stages_.valid = true;
    stages_.fused = r.fused;
}

// ---- the Executor interface ---------------------------------------------------------------------

int VulkanExecutor::check_tokens(const int32_t* tokens, size_t count) const {
    const int V = model_->config.vocab_size;
    for (size_t i = 0; i < count; ++i)
        if (tokens[i] < 0 || tokens[i] >= V)
            throw Error(ErrorCode::InvalidArgument, "token id " + std::to_string(tokens[i]) + " is outside the vocabulary");
    return V;
}

void VulkanExecutor::prefill(int slot, const int32_t* tokens, size_t count, float* logits, bool all_positions) {
    check_slot(slot);
    dev_->ensure_usable();
    const int V = check_tokens(tokens, count);
    stages_ = {};
    char* up = static_cast<char*>(upload_.mapped);
    const float* rb = reinterpret_cast<const float*>(static_cast<const char*>(readback_.mapped) + rb_logits_);
    std::memcpy(up + up_slots_, &slot, 4);
    if (count == 1 && !opt_.profile) {
        std::memcpy(up + up_tokens_, tokens, 4);
        run(decode_logits_);
        dev_->invalidate(readback_);
        if (logits) std::memcpy(logits, rb, size_t(V) * 4);
        return;
    }
    const std::vector<int32_t> slots(std::min(size_t(C_), count), slot);   // the scan reads each row's slot
    std::memcpy(up + up_slots_, slots.data(), slots.size() * 4);
    for (size_t pos = 0; pos < count; pos += size_t(C_)) {
        const int n = int(std::min(size_t(C_), count - pos));
        const bool last = pos + size_t(n) == count;
        const Logits mode = !logits ? Logits::None : all_positions ? Logits::All : last ? Logits::Last : Logits::None;
        std::memcpy(up + up_tokens_, tokens + pos, size_t(n) * 4);
        run(chunk_commands(n, mode, false));
        dev_->invalidate(readback_);
        if (mode == Logits::All) std::memcpy(logits + pos * size_t(V), rb, size_t(n) * V * 4);
        if (mode == Logits::Last) std::memcpy(logits, rb, size_t(V) * 4);
    }
}

// Chunks of up to gemv_batch_ rows run the decode kernel specialized for their column count, larger
// ones the GEMM in two tile heights: each shape is recorded and run once now, which compiles its
// pipelines (at creation on NVIDIA, at the first dispatch on lavapipe). On the H200 with a cold
// driver cache a new column count took ~0.5 s, which the first step of that size (a server's
// streams finishing one by one) would otherwise wait for. Runs on slots 0.. and resets them.
void VulkanExecutor::prepare_batches() {
    dev_->ensure_usable();
    const int most = std::min({step_rows_, gemv_batch_ + 1, slots_});
    std::vector<int32_t> ids(size_t(std::max(most, C_)), 0), tokens(ids.size(), 0);
    char* up = static_cast<char*>(upload_.mapped);
    auto run_chunk = [&](int T, Logits logits, bool step) {
        for (int t = 0; t < T; ++t) ids[size_t(t)] = step ? t : 0;
        std::memcpy(up + up_slots_, ids.data(), size_t(T) * 4);
        std::memcpy(up + up_tokens_, tokens.data(), size_t(T) * 4);
        run(step ? step_commands(T, logits) : chunk_commands(T, logits, false));
    };
    // Steps of every row count up to `most` (the fused decode's, alone or grouped, then the chunk
    // path's gemv and GEMM) with each output; prompt chunks of every gemv column count (prompts
    // take the chunk kernels at every size), then the GEMM's smallest and largest.
    std::memset(up + up_draws_, 0, size_t(most) * sizeof(sampling::Draw));   // greedy draws
    for (int T = 1; T <= most; ++T) {
        run_chunk(T, Logits::All, true);
        run_chunk(T, Logits::Argmax, true);
        if (samples_on_device()) run_chunk(T, Logits::Sampled, true);
    }
    for (int T = 1; T <= std::min(gemv_batch_ + 1, C_); ++T) run_chunk(T, Logits::None, false);
    run_chunk(C_, Logits::None, false);
    for (int s = 0; s < most; ++s) reset_slot(s);
}

// The pieces' rows one after another, chunk by chunk, each row tagged with its slot: the scan
// carries each slot's state across its rows and across chunks (scan.comp).
void VulkanExecutor::prefill_many(const std::vector<PromptPiece>& pieces) {
    std::vector<int32_t> tokens, slots;
    for (const PromptPiece& p : pieces) {
        check_slot(p.slot);
        check_tokens(p.tokens, p.count);
        tokens.insert(tokens.end(), p.tokens, p.tokens + p.count);
        slots.insert(slots.end(), p.count, p.slot);
    }
    dev_->ensure_usable();
    stages_ = {};
    char* up = static_cast<char*>(upload_.mapped);
    for (size_t pos = 0; pos < tokens.size(); pos += size_t(C_)) {
        const int n = int(std::min(size_t(C_), tokens.size() - pos));
        std::memcpy(up + up_tokens_, &tokens[pos], size_t(n) * 4);
        std::memcpy(up + up_slots_, &slots[pos], size_t(n) * 4);
        run(chunk_commands(n, Logits::None, false));
    }
}

// Up to grouped_max_ sequences: the fused decode (one dispatch per BitLinear; several grouped, a
// row of workgroups each). More: rows of a chunk through the prefill kernels (one product per
// BitLinear, record_product, reads every weight once for the whole batch), with the scan in step
// mode so that each row advances its own slot's state. The profiled path always takes the chunk
// kernels, which have a timestamp per stage.
void VulkanExecutor::decode_pass(const int32_t* slot_ids, const int32_t* tokens, size_t rows, Logits out) {
    complete_decode_pass(launch_decode_pass(slot_ids, tokens, rows, out));
}

void VulkanExecutor::complete_decode_pass(Recorded& r) {
    complete(r);
    dev_->invalidate(readback_);
}

VulkanExecutor::Recorded& VulkanExecutor::launch_decode_pass(const int32_t* slot_ids, const int32_t* tokens, size_t rows, Logits out) {
    char* up = static_cast<char*>(upload_.mapped);
    std::memcpy(up + up_slots_, slot_ids, rows * 4);
    std::memcpy(up + up_tokens_, tokens, rows * 4);
    Recorded& r = step_commands(int(rows), out);
    dev_->submit(r.cb);
    return r;
}

VulkanExecutor::Recorded& VulkanExecutor::step_commands(int rows, Logits out) {
    if (opt_.profile || rows > grouped_max_) return chunk_commands(rows, out, true);   // profiled: stage times add up over passes
    if (rows == 1) return out == Logits::All ? decode_logits_ : out == Logits::Argmax ? decode_argmax_ : decode_sampled_;
    return recorded(rows, out, Pass::GroupedStep, [&](Recorded& r) { record_decode(r, out, rows); });
}

const float* VulkanExecutor::decode_logits(const int32_t* slot_ids, const int32_t* tokens, size_t n) {
    if (n > size_t(step_rows_)) return Executor::decode_logits(slot_ids, tokens, n);   // several passes: one buffer for all
    check_slots(slot_ids, n);
    dev_->ensure_usable();
    check_tokens(tokens, n);
    stages_ = {};
    if (n > 0) decode_pass(slot_ids, tokens, n, Logits::All);
    return reinterpret_cast<const float*>(static_cast<const char*>(readback_.mapped) + rb_logits_);
}

void VulkanExecutor::decode(const int32_t* slot_ids, const int32_t* tokens, size_t n, float* logits, int32_t* argmax_out) {
    check_slots(slot_ids, n);
    if (n == 0) return;
    dev_->ensure_usable();
    const int V = check_tokens(tokens, n);
    stages_ = {};
    const char* rb = static_cast<const char*>(readback_.mapped);
    for (size_t pos = 0; pos < n; pos += size_t(step_rows_)) {
        const size_t rows = std::min(size_t(step_rows_), n - pos);
        decode_pass(slot_ids + pos, tokens + pos, rows, logits ? Logits::All : Logits::Argmax);
        if (logits) {
            float* out = logits + pos * size_t(V);
            std::memcpy(out, rb + rb_logits_, rows * size_t(V) * 4);
            if (argmax_out)
                for (size_t b = 0; b < rows; ++b) argmax_out[pos + b] = argmax(out + b * size_t(V), size_t(V));
        } else if (argmax_out) {
            std::memcpy(argmax_out + pos, rb + rb_token_, rows * 4);
        }
    }
}

// All passes but the last run here; the last one is left running for end_decode_sample.
void VulkanExecutor::begin_decode_sample(const int32_t* slot_ids, const int32_t* tokens, size_t n, const sampling::Draw* draws) {
    if (!samples_on_device()) return Executor::begin_decode_sample(slot_ids, tokens, n, draws);
    if (sampling_) throw Error(ErrorCode::InvalidArgument, "begin_decode_sample: the previous step was not ended");
    check_slots(slot_ids, n);
    dev_->ensure_usable();
    check_tokens(tokens, n);
    stages_ = {};
    sampled_tokens_.resize(n);
    if (n == 0) return;
    char* up = static_cast<char*>(upload_.mapped);
    const char* rb = static_cast<const char*>(readback_.mapped);
    for (size_t pos = 0;; pos += size_t(step_rows_)) {
        const size_t rows = std::min(size_t(step_rows_), n - pos);
        std::memcpy(up + up_draws_, draws + pos, rows * sizeof(sampling::Draw));
        Recorded& r = launch_decode_pass(slot_ids + pos, tokens + pos, rows, Logits::Sampled);
        if (pos + rows == n) {
            sampling_ = &r;
            sampling_rows_ = {pos, rows};
            return;
        }
        complete_decode_pass(r);
        std::memcpy(&sampled_tokens_[pos], rb + rb_token_, rows * 4);
    }
}

void VulkanExecutor::end_decode_sample(int32_t* tokens_out) {
    if (!samples_on_device()) return Executor::end_decode_sample(tokens_out);
    if (sampling_) {
        complete_decode_pass(*std::exchange(sampling_, nullptr));
        std::memcpy(&sampled_tokens_[sampling_rows_.first], static_cast<const char*>(readback_.mapped) + rb_token_, sampling_rows_.second * 4);
    }
    std::copy(sampled_tokens_.begin(), sampled_tokens_.end(), tokens_out);
}

void VulkanExecutor::reset_slot(int slot) {
    check_slot(slot);
    dev_->ensure_usable();
    run_once([&](VkCommandBuffer cb) { dev_->fn.vkCmdFillBuffer(cb, act_.handle, slot_offset(slot), slot_offset(1) - state_, 0); });
}

std::vector<float> VulkanExecutor::save_slot(int slot) const {
    check_slot(slot);
    dev_->ensure_usable();
    const size_t bytes = slot_offset(1) - state_;
    std::vector<float> out(bytes / 4);
    auto* self = const_cast<VulkanExecutor*>(this);  // the state is logically const; the copy is device work
    const VkBufferCopy region{slot_offset(slot), rb_state_, bytes};
    self->run_once([&](VkCommandBuffer cb) { dev_->fn.vkCmdCopyBuffer(cb, act_.handle, readback_.handle, 1, &region); });
    dev_->invalidate(readback_);
    std::memcpy(out.data(), static_cast<const char*>(readback_.mapped) + rb_state_, bytes);
    return out;
}

void VulkanExecutor::load_slot(int slot, const std::vector<float>& state) {
    check_slot(slot);
    dev_->ensure_usable();
    const size_t bytes = slot_offset(1) - state_;
    if (state.size() != bytes / 4)
        throw Error(ErrorCode::InvalidArgument,
                    "state has " + std::to_string(state.size()) + " values; this model needs " + std::to_string(bytes / 4));
    std::memcpy(static_cast<char*>(upload_.mapped) + up_state_, state.data(), bytes);
    const VkBufferCopy region{up_state_, slot_offset(slot), bytes};
    run_once([&](VkCommandBuffer cb) { dev_->fn.vkCmdCopyBuffer(cb, upload_.handle, act_.handle, 1, &region); });
}

double VulkanExecutor::measure_read_bandwidth_gb_s() {
    dev_->ensure_usable();
    const bool cpu = dev_->info().rank == 1;
    size_t bytes = cpu ? (size_t(32) << 20) : (size_t(1) << 30);  // CPU devices (lavapipe) stream ~1 GB/s
    Buffer b;
    try {
        b = dev_->create_buffer(bytes, MemoryKind::Device);
    } catch (const Error&) {
        bytes /= 4;  // a smaller probe still gives a useful roofline
        b = dev_->create_buffer(bytes, MemoryKind::Device);
    }
    Recorded r;
    double best_s = 0;
    const OnExit release{[&] {
        free_recorded(r);
        dev_->destroy(b);
    }};
    // Pass 0 also covers the fill and warms the clocks; passes 1..reps are timed.
    constexpr int reps = 5;
    Recorder rec(*this, r, Recorder::Timing::PerDispatch, reps + 1);
    dev_->fn.vkCmdFillBuffer(r.cb, b.handle, 0, bytes, 0x01020304u);
    rec.barrier(VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
    Push p = push();
    p.base[REGION_WEIGHTS] = b.address;  // the probe buffer stands in for the weight arena
    p.p[P_IN0] = ref(REGION_WEIGHTS, 0);
    p.p[P_N] = uint32_t(bytes / 16);
    p.p[P_OUT] = aref(scratch_);
    for (int i = 0; i <= reps; ++i) rec.dispatch(pipeline("bandwidth", {}), p, cpu ? 64 : 4096, 1, 0);
    rec.finish();
    const auto t0 = std::chrono::steady_clock::now();
    dev_->submit_and_wait(r.cb);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.queries) {
        std::vector<uint64_t> ts(reps + 2);
        if (dev_->fn.vkGetQueryPoolResults(dev_->handle, r.queries, 0, reps + 2, ts.size() * 8, ts.data(), 8,
                                           VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) == VK_SUCCESS)
            for (int i = 1; i <= reps; ++i) {
                const double s = double(ts[size_t(i) + 1] - ts[size_t(i)]) * dev_->info().timestamp_period_ns * 1e-9;
                if (s > 0 && (best_s == 0 || s < best_s)) best_s = s;
            }
    }
    if (best_s == 0) best_s = wall / (reps + 1);
    return best_s > 0 ? double(bytes) / best_s / 1e9 : 0.0;
}

double VulkanExecutor::measure_step_floor_us(int floats) {
    dev_->ensure_usable();
    const uint32_t n = uint32_t(std::max(4, (floats + 3) / 4 * 4));
    const int steps = dev_->info().rank == 1 ? 8 : 128;  // lavapipe: ~100 µs per dispatch
    Buffer vecs = dev_->create_buffer(size_t(2) * n * 4, MemoryKind::Device);
    Buffer back;
    Recorded r;
    double best_s = 0;
    const OnExit release{[&] {
        free_recorded(r);
        dev_->destroy(vecs);
        dev_->destroy(back);
    }};
    back = dev_->create_buffer(size_t(n) * 4, MemoryKind::Readback);
    // Dispatch 0 writes the initial step into vector 0; step k reads vector (k−1) mod 2 and
    // writes k mod 2, as many and as wide workgroups as a decode BitLinear on an input of this
    // length. Timestamps: after dispatch 0 and after the last step; the read-back copy is outside them.
    Recorder rec(*this, r, Recorder::Timing::PerStage, 2);
    Push p = push();
    p.base[REGION_WEIGHTS] = vecs.address;
    p.p[P_N] = n;
    const uint32_t threads = gemv_threads(int(n));
    const uint32_t wgs = gemv_target_wgs(threads);
    for (int k = 0; k <= steps; ++k) {
        p.p[P_FLAGS] = k == 0 ? F_FIRST : 0;
        p.p[P_IN0] = ref(REGION_WEIGHTS, size_t((k + 1) & 1) * n * 4);
        p.p[P_OUT] = ref(REGION_WEIGHTS, size_t(k & 1) * n * 4);
        rec.dispatch(pipeline("chain", {threads}), p, wgs, 1, k == 0 ? 0 : 1);
    }
    if (r.queries) {
        rec.close_interval(1);
        rec.open_stage = -1;
    }
    rec.barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                VK_ACCESS_TRANSFER_READ_BIT);
    const VkBufferCopy region{size_t(steps & 1) * n * 4, 0, size_t(n) * 4};
    dev_->fn.vkCmdCopyBuffer(r.cb, vecs.handle, back.handle, 1, &region);
    rec.finish();
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        dev_->submit_and_wait(r.cb);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::vector<uint64_t> ts(3);
        if (r.queries && dev_->fn.vkGetQueryPoolResults(dev_->handle, r.queries, 0, 3, ts.size() * 8, ts.data(), 8,
                                                        VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) == VK_SUCCESS &&
            ts[2] > ts[1])
            s = double(ts[2] - ts[1]) * dev_->info().timestamp_period_ns * 1e-9;
        if (best_s == 0 || s < best_s) best_s = s;
    }
    dev_->invalidate(back);
    std::vector<float> result(n);
    std::memcpy(result.data(), back.mapped, size_t(n) * 4);
    check_step_chain(result, steps + 1, "Vulkan");
    return best_s * 1e6 / steps;
}

// ---- kernel test hook ---------------------------------------------------------------------------

std::vector<int32_t> VulkanExecutor::run_bitlinear_raw(const TernaryMatrix& w, const std::vector<float>& x, int rows, bool gemv,
                                                       std::vector<int8_t>* q, std::vector<float>* scales) {
    const int K = w.cols, N = w.rows;
    const uint32_t kw = q_words(K);
    size_t end = 0;
    auto take = [&](size_t bytes) {
        end = align_up(end, 256);
        const size_t at = end;
        end += std::max<size_t>(bytes, 4);
        return at;
    };
    const size_t o_codes = take(w.codes.size()), o_gamma = take(size_t(K) * 4), o_scale = take(4), o_x = take(x.size() * 4);
    Buffer in = dev_->create_buffer(align_up(end, 256), MemoryKind::Upload);
    end = 0;
    const size_t o_out = take(size_t(rows) * N * 4), o_q = take(size_t(rows) * kw * 4), o_s = take(size_t(rows) * 4),
                 o_sum = take(size_t(rows) * 4);
    Buffer out = dev_->create_buffer(align_up(end, 256), MemoryKind::Readback);
    Recorded r;
    std::vector<int32_t> acc(size_t(rows) * N);
    const OnExit release{[&] {
        free_recorded(r);
        dev_->destroy(in);
        dev_->destroy(out);
    }};
    char* base = static_cast<char*>(in.mapped);
    std::memcpy(base + o_codes, w.codes.data(), w.codes.size());
    std::memcpy(base + o_gamma, w.norm.data(), size_t(K) * 4);
    const float one = 1.0f;
    std::memcpy(base + o_scale, &one, 4);
    std::memcpy(base + o_x, x.data(), x.size() * 4);

    Push p = push();
    p.base[REGION_WEIGHTS] = in.address;
    p.base[REGION_READBACK] = out.address;
    p.p[P_K] = uint32_t(K); p.p[P_KW] = kw; p.p[P_T] = uint32_t(rows);
    p.p[P_IN0] = ref(REGION_WEIGHTS, o_x); p.p[P_GAMMA] = ref(REGION_WEIGHTS, o_gamma);
    p.p[P_Q] = ref(REGION_READBACK, o_q); p.p[P_QSCALE] = ref(REGION_READBACK, o_s); p.p[P_QSUM] = ref(REGION_READBACK, o_sum);
    p.p[P_CODES] = ref(REGION_WEIGHTS, o_codes); p.p[P_WSCALE] = ref(REGION_WEIGHTS, o_scale);
    p.p[P_OUT] = ref(REGION_READBACK, o_out); p.p[P_N] = uint32_t(N); p.p[P_OUTSTRIDE] = uint32_t(N);
    p.p[P_FLAGS] = F_RAW | F_QOUT;
    Recorder rec(*this, r, Recorder::Timing::None, 0);
    if (gemv && rows == 1) {
        record_gemv(rec, p, MODE_RAW, K, N, 1, 0);
    } else {
        rec.dispatch(prep_pipeline(MODE_RAW, K, 1), p, uint32_t(rows), 1, 0);
        if (gemv) {
            record_gemv(rec, p, MODE_QIN, K, N, 1, 0, 1, rows);
        } else {
            record_gemm(rec, p, N, 1, rows, 0);
        }
    }
    rec.finish();
    dev_->submit_and_wait(r.cb);
    dev_->invalidate(out);
    const char* ob = static_cast<const char*>(out.mapped);
    std::memcpy(acc.data(), ob + o_out, acc.size() * 4);
    if (q) {
        q->assign(size_t(rows) * K, 0);
        const uint32_t* words = reinterpret_cast<const uint32_t*>(ob + o_q);
        for (int t = 0; t < rows; ++t)
            for (uint32_t pw = 0; pw < kw; ++pw)
                for (uint32_t b = 0; b < 4; ++b) {
                    const uint32_t e = 16 * (pw >> 2) + (pw & 3) + 4 * b;
                    if (e < uint32_t(K)) (*q)[size_t(t) * K + e] = int8_t((words[size_t(t) * kw + pw] >> (8 * b)) & 0xff);
                }
    }
    if (scales) {
        scales->resize(size_t(rows));
        std::memcpy(scales->data(), ob + o_s, size_t(rows) * 4);
    }
    return acc;
}

std::vector<int32_t> VulkanExecutor::run_sample_raw(const std::vector<float>& logits, const std::vector<sampling::Draw>& draws, uint32_t threads) {
    const size_t rows = draws.size(), V = rows ? logits.size() / rows : 0;
    if (rows == 0 || V == 0 || logits.size() != rows * V) throw Error(ErrorCode::InvalidArgument, "run_sample_raw: rows × V logits");
    Buffer in = dev_->create_buffer(align_up(logits.size() * 4 + rows * sizeof(sampling::Draw), 256), MemoryKind::Upload);
    Buffer out = dev_->create_buffer(align_up(rows * 4, 256), MemoryKind::Readback);
    Recorded r;
    const OnExit release{[&] {
        free_recorded(r);
        dev_->destroy(in);
        dev_->destroy(out);
    }};
    char* base = static_cast<char*>(in.mapped);
    std::memcpy(base, logits.data(), logits.size() * 4);
    std::memcpy(base + logits.size() * 4, draws.data(), rows * sizeof(sampling::Draw));
    Push p = push();
    p.base[REGION_UPLOAD] = in.address;
    p.base[REGION_READBACK] = out.address;
    p.p[P_IN0] = ref(REGION_UPLOAD, 0); p.p[P_IN1] = ref(REGION_UPLOAD, logits.size() * 4); p.p[P_N] = uint32_t(V);
    p.p[P_OUT] = ref(REGION_READBACK, 0);
    Recorder rec(*this, r, Recorder::Timing::None, 0);
    rec.dispatch(pipeline("sample", {threads ? threads : sample_threads_}), p, 1, uint32_t(rows), 0);
    rec.finish();
    dev_->submit_and_wait(r.cb);
    dev_->invalidate(out);
    std::vector<int32_t> tokens(rows);
    std::memcpy(tokens.data(), out.mapped, rows * 4);
    return tokens;
}

} // namespace mmfree::vk
