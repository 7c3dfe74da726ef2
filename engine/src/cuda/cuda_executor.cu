// SPDX-License-Identifier: Apache-2.0
#include "cuda/cuda_executor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>

#include <cuda_runtime.h>

#include "cuda/kernels.h"
#include "mmfree/error.h"
#include "runtime/backends.h"
#include "runtime/step_chain.h"

namespace mmfree::cuda {
namespace {

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess)
        throw Error(ErrorCode::DeviceError, std::string("CUDA: ") + what + " failed: " + cudaGetErrorString(e));
}
#define MMFREE_CK(call) check((call), #call)

int padded128(int k) { return (k + 127) / 128 * 128; }

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

// Why CUDA cannot be used, in words a person can act on.
std::string why_unavailable(cudaError_t e) {
    switch (e) {
    case cudaErrorInsufficientDriver:
        return "no usable NVIDIA driver: libcuda.so.1 is missing or older than this build's CUDA runtime";
    case cudaErrorNoDevice: return "no CUDA-capable GPU found";
    default: return std::string("CUDA runtime error: ") + cudaGetErrorString(e);
    }
}

// Can this build's kernels run on `dev`? (sm_80+ for int8 mma.sync; the fatbin's targets.)
bool kernels_run_on(int dev, const cudaDeviceProp& p, std::string* why) {
    if (p.major < 8) {
        *why = "compute capability " + std::to_string(p.major) + "." + std::to_string(p.minor) + " is too old (needs 8.0+)";
        return false;
    }
    if (!p.cooperativeLaunch) {
        *why = "the device does not support cooperative launches";
        return false;
    }
    int prev = 0;
    cudaGetDevice(&prev);
    cudaSetDevice(dev);
    cudaFuncAttributes attr{};
    const cudaError_t e = cudaFuncGetAttributes(&attr, decode_kernel_symbol());
    cudaSetDevice(prev);
    if (e != cudaSuccess) {
        cudaGetLastError();
        *why = "this build has no code for sm_" + std::to_string(p.major) + std::to_string(p.minor) +
               " (rebuild with CMAKE_CUDA_ARCHITECTURES including it): " + cudaGetErrorString(e);
        return false;
    }
    return true;
}

// Device memory owned by the executor; frees itself and counts what it holds.
struct DeviceBuffer {
    void* ptr = nullptr;
    size_t bytes = 0;
    DeviceBuffer() = default;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() { if (ptr) cudaFree(ptr); }
    void allocate(size_t n, size_t* total) {
        if (ptr) { cudaFree(ptr); *total -= bytes; ptr = nullptr; }
        if (n == 0) n = 16;
        check(cudaMalloc(&ptr, n), "cudaMalloc");
        bytes = n;
        *total += n;
    }
    template <class T> T* as() const { return static_cast<T*>(ptr); }
};

// Sums over profiled tokens (CudaExecutor::profile_decode): ns per layer phase, except lm_head
// (ns) and total (µs per token).
struct DecodeSplit {
    double norm = 0, input = 0, reduce = 0, quant = 0, dot = 0, arrive = 0, fence = 0, wait = 0, release = 0, skew = 0, lm_head = 0,
           ns_per_cycle = 0, total = 0;
    int tokens = 0;
};

// Where each layer's fp32 vectors sit in the one vector buffer.
struct LayerOffsets {
    size_t norms[6], attn, gnorm, mlp, lb;
};

} // namespace

struct CudaExecutor::Impl {
    int device = 0;
    cudaDeviceProp props{};
    cudaStream_t stream = nullptr;
    cudaEvent_t ev_start = nullptr, ev_stop = nullptr;

    // Weights: packed codes of every BitLinear, then every fp32 vector (norms, lower bounds).
    DeviceBuffer codes, vectors, layers_dev;
    std::vector<DevLayer> layers;
    DevMatrix lm_head;
    const float* final_norm = nullptr;

    // Decode state and scratch.
    DeviceBuffer x_in, x, state, ag, sh, m, logits, counters, group_counters, prof, handover;
    unsigned long long handover_epoch = 0;  // the next hand-over launch's first ticket (DecodeArgs)
    int* result_host = nullptr;   // pinned; device-mapped when the device can map host memory
    int* result_dev = nullptr;
    bool result_mapped = false;
    float* emb_row = nullptr;     // pinned staging for the columns' embedding rows [kDecodeMaxCols][H]
    DecodeArgs args;
    int blocks = 0, threads = kDecodeMaxThreads;  // decode grid and block width (decode_threads)
    int grouped_threads = kDecodeMaxThreads;      // the grouped kernel's block width
    size_t smem = 0;      // the decode kernel's shared memory, its weight stage (args.wb_bytes) included
    int grouped_max = 0;  // steps of 2 up to this many slots run the grouped kernel (MMFREE_CUDA_GROUPED_MAX)
    // Steps of handover_min..grouped_max slots as hand-over launches (kernels.h; 0 = none): their
    // shared memory and weight stage.
    int handover_min = 0, handover_wb_bytes = 0, handover_bytes = 0;
    size_t handover_smem = 0;
    // Steps of up to this many slots are one launch of the persistent kernel.
    int persistent_max() const { return std::max(1, grouped_max); }
    // Steps of up to this many slots are equal launches of at most persistent_max() slots each;
    // more, row passes (MMFREE_CUDA_PERSISTENT_STEP_MAX).
    int persistent_step_max = 1;
    unsigned long long barriers = 0;  // grid barriers run so far (the device counter is barriers × blocks)
    DecodeSplit split;

    // Slots: slot s's h[l] at state + s·slot_floats + l·D.
    size_t slot_floats = 0;
    float* slot_state(int slot) const { return state.as<float>() + size_t(slot) * slot_floats; }

    // Row-pass scratch (prefill chunks, batched decode), allocated on first use.
    bool rows_ready = false;
    DeviceBuffer px, pai, paf, pag, psh, py, pq, ps, pqs, plog, row_slot, row_best, scan_pieces, partial, tile_count;
    int split_target = 0;  // GEMM blocks that a pass of few rows aims for (split-K), MMFREE_CUDA_SPLIT_TARGET
    size_t plog_rows = 0;
    float* emb_stage = nullptr;     // pinned [kPrefillChunk, H]
    int* row_slot_host = nullptr;   // pinned [kPrefillChunk]
    int* row_best_host = nullptr;   // pinned [kPrefillChunk]
    ScanPiece* scan_pieces_host = nullptr;   // pinned [kPrefillChunk]: a prompt pass's pieces
    int kp_max = 0;

    // Batched decode steps as CUDA graphs, by (rows, outputs: 0 none, 1 logits, 2 logits + argmax,
    // 3 logits + sampled tokens).
    // Their kernels hold the scratch pointers: rebuilt when a buffer moves (drop_graphs).
    std::map<std::pair<int, int>, cudaGraphExec_t> graphs;
    void drop_graphs() {
        for (auto& [key, exec] : graphs) cudaGraphExecDestroy(exec);
        graphs.clear();
    }

    float* logits_host = nullptr;   // decode_logits(): pinned, so the copy is one DMA at full speed
    size_t logits_host_floats = 0;

    // decode_sample(): one pass's draws and drawn tokens (kPrefillChunk rows), allocated on first
    // use and never moved (the sampled row passes' graphs hold their addresses); pinned staging.
    DeviceBuffer draws, sampled;
    sampling::Draw* draws_host = nullptr;
    int* sampled_host = nullptr;
    void prepare_sampling(size_t* device_bytes) {
        if (!draws.ptr) draws.allocate(sizeof(sampling::Draw) * kPrefillChunk, device_bytes);
        if (!sampled.ptr) sampled.allocate(sizeof(int) * kPrefillChunk, device_bytes);
        if (!draws_host)
            MMFREE_CK(cudaHostAlloc(reinterpret_cast<void**>(&draws_host), sizeof(sampling::Draw) * kPrefillChunk, cudaHostAllocDefault));
        if (!sampled_host)
            MMFREE_CK(cudaHostAlloc(reinterpret_cast<void**>(&sampled_host), sizeof(int) * kPrefillChunk, cudaHostAllocDefault));
    }
    // Stages n draws for the next kernels on the stream.
    void upload_draws(const sampling::Draw* d, int n) {
        std::copy(d, d + n, draws_host);
        MMFREE_CK(cudaMemcpyAsync(draws.ptr, draws_host, sizeof(sampling::Draw) * size_t(n), cudaMemcpyHostToDevice, stream));
    }

    ~Impl() {
        drop_graphs();
        if (logits_host) cudaFreeHost(logits_host);
        if (draws_host) cudaFreeHost(draws_host);
        if (sampled_host) cudaFreeHost(sampled_host);
        if (emb_row) cudaFreeHost(emb_row);
        if (emb_stage) cudaFreeHost(emb_stage);
        if (row_slot_host) cudaFreeHost(row_slot_host);
        if (row_best_host) cudaFreeHost(row_best_host);
        if (scan_pieces_host) cudaFreeHost(scan_pieces_host);
        if (result_host) cudaFreeHost(result_host);
        if (ev_start) cudaEventDestroy(ev_start);
        if (ev_stop) cudaEventDestroy(ev_stop);
        if (stream) cudaStreamDestroy(stream);
    }
};

CudaExecutor::CudaExecutor(std::shared_ptr<const Model> model, const BackendOptions& options)
    : model_(std::move(model)), impl_(std::make_unique<Impl>()), slot_count_(options.slot_count), profile_(options.profile) {
    Impl& d = *impl_;
    if (slot_count_ < 1) throw Error(ErrorCode::InvalidArgument, "an executor needs at least one sequence slot (slot_count >= 1)");
    const ModelConfig& c = model_->config;
    const int L = c.num_layers, H = c.hidden_size, D = c.state_dim(), I = c.intermediate_size, V = c.vocab_size;
    if (D != H) throw Error(ErrorCode::UnsupportedModel, "the CUDA backend needs expand_ratio 1 (D = H)");

    int count = 0;
    if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) {
        cudaGetLastError();
        throw Error(ErrorCode::DeviceError, "CUDA is not available: " + why_unavailable(e));
    }
    if (count == 0) throw Error(ErrorCode::DeviceError, "CUDA is not available: no CUDA-capable GPU found");
    // Device choice: an index, or a substring of the name; empty = device 0.
    d.device = -1;
    if (options.device.empty()) d.device = 0;
    else if (std::all_of(options.device.begin(), options.device.end(), ::isdigit)) d.device = std::atoi(options.device.c_str());
    else
        for (int i = 0; i < count && d.device < 0; ++i) {
            cudaDeviceProp p{};
            if (cudaGetDeviceProperties(&p, i) == cudaSuccess && std::string(p.name).find(options.device) != std::string::npos) d.device = i;
        }
    if (d.device < 0 || d.device >= count)
        throw Error(ErrorCode::InvalidArgument, "no CUDA device matches \"" + options.device + "\" (" + std::to_string(count) + " found)");
    MMFREE_CK(cudaGetDeviceProperties(&d.props, d.device));
    std::string why;
    if (!kernels_run_on(d.device, d.props, &why)) throw Error(ErrorCode::DeviceError, "CUDA device " + std::string(d.props.name) + ": " + why);
    MMFREE_CK(cudaSetDevice(d.device));
    // Spin while waiting for a token: a blocking wait adds tens of microseconds per token.
    cudaSetDeviceFlags(cudaDeviceScheduleSpin | cudaDeviceMapHost);
    cudaGetLastError();  // the flags cannot change once the context exists; that is fine
    MMFREE_CK(prepare_sample());
    device_name_ = std::string(d.props.name) + " (sm_" + std::to_string(d.props.major) + std::to_string(d.props.minor) + ", " +
                   std::to_string(d.props.multiProcessorCount) + " SMs, " + std::to_string(d.props.totalGlobalMem >> 20) + " MiB)";
    MMFREE_CK(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking));
    MMFREE_CK(cudaEventCreate(&d.ev_start));
    MMFREE_CK(cudaEventCreate(&d.ev_stop));

    // ---- weights: codes as they are (the kernels permute activations instead) ----
    std::vector<const TernaryMatrix*> mats;
    for (const auto& l : model_->layers)
        for (const TernaryMatrix* t : {&l.i_proj, &l.f_proj, &l.g_proj, &l.o_proj, &l.gate_proj, &l.down_proj}) mats.push_back(t);
    mats.push_back(&model_->lm_head);
    auto align = [](size_t n, size_t a) { return (n + a - 1) / a * a; };
    size_t code_bytes = 0;
    std::vector<size_t> code_off;
    for (auto* t : mats) {
        code_off.push_back(code_bytes);
        code_bytes += align(t->packed_bytes(), 256);
    }
    d.codes.allocate(code_bytes, &device_bytes_);
    for (size_t i = 0; i < mats.size(); ++i)
        MMFREE_CK(cudaMemcpy(d.codes.as<uint8_t>() + code_off[i], mats[i]->codes.data(), mats[i]->packed_bytes(), cudaMemcpyHostToDevice));

    std::vector<float> vec;
    auto put = [&](const std::vector<float>& v) {
        const size_t off = vec.size();
        vec.insert(vec.end(), v.begin(), v.end());
        vec.resize(align(vec.size(), 64), 0.f);
        return off;
    };
    std::vector<LayerOffsets> lo(static_cast<size_t>(L));
    for (int l = 0; l < L; ++l) {
        const LayerWeights& w = model_->layers[size_t(l)];
        const TernaryMatrix* ts[6] = {&w.i_proj, &w.f_proj, &w.g_proj, &w.o_proj, &w.gate_proj, &w.down_proj};
        for (int j = 0; j < 6; ++j) lo[size_t(l)].norms[j] = put(ts[j]->norm);
        lo[size_t(l)].attn = put(w.attn_norm);
        lo[size_t(l)].gnorm = put(w.g_norm);
        lo[size_t(l)].mlp = put(w.mlp_norm);
        lo[size_t(l)].lb = SIZE_MAX;
        if (c.use_lower_bound && l > 0 && !model_->lower_bound.empty())
            lo[size_t(l)].lb = put(std::vector<float>(model_->lower_bound.begin() + size_t(l) * H, model_->lower_bound.begin() + size_t(l + 1) * H));
    }
    const size_t lm_norm_off = put(model_->lm_head.norm), final_off = put(model_->final_norm);
    d.vectors.allocate(vec.size() * sizeof(float), &device_bytes_);
    MMFREE_CK(cudaMemcpy(d.vectors.ptr, vec.data(), vec.size() * sizeof(float), cudaMemcpyHostToDevice));
    const float* vbase = d.vectors.as<float>();

    auto dev_matrix = [&](size_t index, const TernaryMatrix& t, size_t norm_off) {
        DevMatrix m;
        m.codes = d.codes.as<uint8_t>() + code_off[index];
        m.norm = vbase + norm_off;
        m.rows = t.rows; m.cols = t.cols; m.stride = t.row_stride; m.scale = t.scale;
        return m;
    };
    d.layers.resize(size_t(L));
    for (int l = 0; l < L; ++l) {
        const LayerWeights& w = model_->layers[size_t(l)];
        const LayerOffsets& o = lo[size_t(l)];
        DevLayer& dl = d.layers[size_t(l)];
        const size_t base = size_t(l) * 6;
        dl.i = dev_matrix(base + 0, w.i_proj, o.norms[0]);
        dl.f = dev_matrix(base + 1, w.f_proj, o.norms[1]);
        dl.g = dev_matrix(base + 2, w.g_proj, o.norms[2]);
        dl.o = dev_matrix(base + 3, w.o_proj, o.norms[3]);
        dl.gate = dev_matrix(base + 4, w.gate_proj, o.norms[4]);
        dl.down = dev_matrix(base + 5, w.down_proj, o.norms[5]);
        dl.attn_norm = vbase + o.attn;
        dl.g_norm = vbase + o.gnorm;
        dl.mlp_norm = vbase + o.mlp;
        dl.lower_bound = o.lb == SIZE_MAX ? nullptr : vbase + o.lb;
    }
    d.lm_head = dev_matrix(mats.size() - 1, model_->lm_head, lm_norm_off);
    d.final_norm = vbase + final_off;
    d.layers_dev.allocate(sizeof(DevLayer) * size_t(L), &device_bytes_);
    MMFREE_CK(cudaMemcpy(d.layers_dev.ptr, d.layers.data(), sizeof(DevLayer) * size_t(L), cudaMemcpyHostToDevice));

    // ---- decode: every per-token buffer holds kDecodeMaxCols columns ----
    const size_t C = kDecodeMaxCols;
    d.x_in.allocate(sizeof(float) * C * size_t(H), &device_bytes_);
    d.x.allocate(sizeof(float) * C * size_t(H), &device_bytes_);
    d.slot_floats = size_t(L) * D;
    d.state.allocate(sizeof(float) * d.slot_floats * size_t(slot_count_), &device_bytes_);
    MMFREE_CK(cudaMemset(d.state.ptr, 0, d.state.bytes));
    d.ag.allocate(sizeof(float) * C * size_t(D), &device_bytes_);
    d.sh.allocate(sizeof(float) * C * size_t(D), &device_bytes_);
    d.m.allocate(sizeof(float) * C * size_t(I), &device_bytes_);
    d.logits.allocate(sizeof(float) * C * size_t(V), &device_bytes_);
    // argmax keys [C], barrier, done, then room for C results when host memory cannot be mapped
    d.counters.allocate(sizeof(unsigned long long) * (C + 2 + C / 2), &device_bytes_);
    MMFREE_CK(cudaMemset(d.counters.ptr, 0, d.counters.bytes));
    d.group_counters.allocate(sizeof(unsigned long long) * C * kGroupCounterStride, &device_bytes_);
    MMFREE_CK(cudaMemset(d.group_counters.ptr, 0, d.group_counters.bytes));
    MMFREE_CK(cudaHostAlloc(reinterpret_cast<void**>(&d.emb_row), sizeof(float) * C * size_t(H), cudaHostAllocDefault));
    d.result_mapped = d.props.canMapHostMemory != 0;
    MMFREE_CK(cudaHostAlloc(reinterpret_cast<void**>(&d.result_host), sizeof(int) * C, d.result_mapped ? cudaHostAllocMapped : 0));
    if (d.result_mapped) {
        if (cudaHostGetDevicePointer(reinterpret_cast<void**>(&d.result_dev), d.result_host, 0) != cudaSuccess) {
            cudaGetLastError();
            d.result_mapped = false;
        }
    }
    if (!d.result_mapped) d.result_dev = reinterpret_cast<int*>(d.counters.as<unsigned long long>() + C + 2);

    d.kp_max = padded128(std::max({H, D, I}));
    DecodeArgs& a = d.args;
    a.L = L; a.H = H; a.D = D; a.I = I; a.V = V;
    a.k_max = std::max({H, D, I});
    a.layers = d.layers_dev.as<DevLayer>();
    a.lm_head = d.lm_head;
    a.final_norm = d.final_norm;
    a.x_in = d.x_in.as<float>();
    a.x = d.x.as<float>(); a.ag = d.ag.as<float>(); a.sh = d.sh.as<float>();
    a.m = d.m.as<float>(); a.logits = d.logits.as<float>();
    auto* ctr = d.counters.as<unsigned long long>();
    a.argmax_key = ctr; a.barrier = ctr + C; a.done = ctr + C + 1;
    a.group_counters = d.group_counters.as<unsigned long long>();
    a.q_col = std::max({3 * padded128(H), padded128(D), padded128(I)});
    a.result = d.result_dev;
    a.phase_begin = 0;
    a.phase_end = decode_phase_count(L);
    a.prefetch_distance = std::clamp(env_int("MMFREE_CUDA_PREFETCH", 0), 0, 8);

    // Shared memory: q vectors + scratch, and the rest (up to the opt-in limit) stages the next
    // phase's weight rows. Rows that do not fit are read from global memory.
    if (H % 4 || I % 4 || std::max({H, D, I}) > 16 * kDecodeMaxThreads)
        throw Error(ErrorCode::UnsupportedModel, "the CUDA decode kernel needs H and I multiples of 4 and at most " +
                                                     std::to_string(16 * kDecodeMaxThreads));
    d.threads = decode_threads(H, a.k_max);
    // A grouped block takes n × its B = 1 share of rows: 512 threads whatever the model (H100, 370M
    // B = 8 per stream 1,696 tok/s against 1,396 at 256; B = 4 1,953 against 1,997).
    if (const int t = env_int("MMFREE_CUDA_THREADS", 0); t == 256 || t == 512) {
        d.threads = a.k_max > 16 * t ? kDecodeMaxThreads : t;
        d.grouped_threads = d.threads;
    }
    a.gn_floats = (std::max({4 * H, 2 * D, I}) + 3) & ~3;
    const size_t limit = size_t(d.props.sharedMemPerBlockOptin);
    const size_t stage_cap = size_t(env_int("MMFREE_CUDA_STAGE_KB", 1 << 20)) * 1024;
    const size_t fixed = decode_smem_fixed_bytes(a.q_col, a.gn_floats, L);
    if (fixed + 4096 > limit) throw Error(ErrorCode::DeviceError, "not enough shared memory per block for the decode kernel");
    a.wb_bytes = int(std::min(limit - fixed, stage_cap) & ~size_t(15));
    d.smem = fixed + size_t(a.wb_bytes);
    int per_sm = 0, grouped_fits = 0;
    MMFREE_CK(decode_max_blocks_per_sm(d.smem, d.threads, DecodeLaunch::Single, &per_sm));
    if (per_sm < 1) throw Error(ErrorCode::DeviceError, "the decode kernel does not fit on " + std::string(d.props.name));
    MMFREE_CK(decode_max_blocks_per_sm(d.smem, d.grouped_threads, DecodeLaunch::Grouped, &grouped_fits));
    if (grouped_fits > 0) per_sm = std::min(per_sm, grouped_fits);
    // One block per SM: with the staging off the barrier thread the projections' share of a
    // phase dominates, and on the H200 132 blocks beat 66 and 100 (2.7B 1094 vs 985 and 1024
    // tok/s; 370M 1974 vs 1942). MMFREE_CUDA_BLOCKS tunes it.
    const int default_blocks = d.props.multiProcessorCount;
    d.blocks = std::clamp(env_int("MMFREE_CUDA_BLOCKS", default_blocks), 1, d.props.multiProcessorCount * per_sm);
    d.split_target = std::max(1, env_int("MMFREE_CUDA_SPLIT_TARGET", 2 * d.props.multiProcessorCount));
    // Steps of 2..grouped_max slots (default 8): the grouped kernel, a group of blocks per slot.
    // H100, same run, per-stream tok/s at B = 8 (grouped / column kernel at 2 and row passes past
    // it): 370M 1,412 / 819, 1.3B 672 / 631, 2.7B 436 / 418; at B = 4 2,003 / 978, 1,072 / 764,
    // 642 / 507 (B = 1: 2,524, 1,835, 1,206). Groups of 2 or 4 columns were slower except 1.3B
    // at B = 8 (747); engine/src/cuda/NOTES.md, twenty-second session.
    d.grouped_max = grouped_fits > 0 ? std::clamp(env_int("MMFREE_CUDA_GROUPED_MAX", kDecodeMaxCols), 0, std::min(kDecodeMaxCols, d.blocks)) : 0;
    // A row pass is 11 kernels a layer against the persistent kernel's 4 phases, so steps of up to
    // twice persistent_max() slots run faster as two launches; three or four lose to row passes.
    // H100, per stream, launches against row passes at B = 12 / 16 / 24: 370M 936 / 861 / 575
    // against 676 / 598 / 699; 2.7B 394 / 390 / 260 against 357 / 309 / 314 (twenty-ninth session).
    // No grouped launches (MMFREE_CUDA_GROUPED_MAX < 2): every step of 2 or more is a row pass.
    d.persistent_step_max = d.grouped_max < 2 ? 1 : std::max(d.grouped_max, env_int("MMFREE_CUDA_PERSISTENT_STEP_MAX", 2 * d.grouped_max));
    // Steps of handover_min..grouped_max slots run as hand-over launches, the stage buffer shrunk
    // by their shared memory (8 columns' q, sums of a block's rows). A grouped block reads n × its
    // B = 1 share of a phase's rows; while that fits its stage buffer (with a 20 % margin) the
    // grouped kernel is faster, past it the hand-over. H200, per stream, grouped / hand-over
    // through clusters: 370M B = 8 1,774 / 1,576 (8 × 11 KB of rows against a 197 KB buffer);
    // 1.3B B = 2 1,644 / 1,297 (2 × 44 KB), B = 4 1,175 / 1,283 (4 × 44 KB against 178 KB); 2.7B
    // B = 2 1,009 / 847 (2 × 67 KB), B = 4 690 / 832. MMFREE_CUDA_HANDOVER_MIN sets the smallest
    // n (0 = never).
    {
        auto stride = [](int cols) { return size_t(TernaryMatrix::stride_for(cols)); };
        const size_t widest = std::max({3 * size_t(D) * stride(H), size_t(H) * stride(D), 2 * size_t(I) * stride(H), size_t(H) * stride(I)});
        const size_t share = widest / size_t(d.blocks);  // a block's bytes of the widest phase at B = 1
        int n = 2;
        while (n <= kDecodeMaxCols && double(n * share) <= 0.8 * a.wb_bytes) ++n;
        d.handover_min = std::clamp(env_int("MMFREE_CUDA_HANDOVER_MIN", n), 0, kDecodeMaxCols + 1);
        if (d.handover_min == 1) d.handover_min = 2;
    }
    if (d.handover_min >= 2 && d.grouped_max >= d.handover_min) {
        auto share = [&](int n) { return (n + d.blocks - 1) / d.blocks; };
        // The most rows one block owns in a phase (phase_rows).
        const int pairs = 2 * std::max(share((H + 1) / 2), share((V + 1) / 2));
        const int acc_rows = (std::max({3 * share(D), 2 * share(I), pairs}) + 15) / 16 * 16;
        const size_t extra = decode_handover_bytes(a.q_col, d.grouped_threads, acc_rows);
        int fits = 0;
        if (fixed + extra + 4096 <= limit) {
            d.handover_wb_bytes = int(std::min(limit - fixed - extra, stage_cap) & ~size_t(15));
            d.handover_smem = fixed + extra + size_t(d.handover_wb_bytes);
            MMFREE_CK(decode_max_blocks_per_sm(d.handover_smem, d.grouped_threads, DecodeLaunch::Handover, &fits));
        }
        if (fits * d.props.multiProcessorCount >= d.blocks) {
            d.handover_bytes = int(extra);
            // The areas and their flags; the flags start below every ticket.
            const size_t area = sizeof(uint4) * size_t(handover_area_words(a.q_col)) * kDecodeMaxCols;
            d.handover.allocate(area + sizeof(unsigned long long) * kDecodeMaxCols, &device_bytes_);
            MMFREE_CK(cudaMemset(d.handover.ptr, 0, d.handover.bytes));
            a.handover_q = d.handover.as<uint4>();
            a.handover_flags = reinterpret_cast<unsigned long long*>(d.handover.as<unsigned char>() + area);
        } else {
            d.handover_min = 0;  // the grouped kernel runs every batched step
        }
    }
    if (profile_) d.prof.allocate(sizeof(unsigned long long) * size_t(d.blocks) * decode_phase_count(L) * kDecodeStamps, &device_bytes_);
}

CudaExecutor::~CudaExecutor() = default;

void CudaExecutor::reset_slot(int slot) {
    check_slot(slot);
    Impl& d = *impl_;
    MMFREE_CK(cudaMemsetAsync(d.slot_state(slot), 0, sizeof(float) * d.slot_floats, d.stream));
    MMFREE_CK(cudaStreamSynchronize(d.stream));
}

std::vector<float> CudaExecutor::save_slot(int slot) const {
    check_slot(slot);
    const Impl& d = *impl_;
    std::vector<float> s(d.slot_floats);
    MMFREE_CK(cudaMemcpyAsync(s.data(), d.slot_state(slot), sizeof(float) * d.slot_floats, cudaMemcpyDeviceToHost, d.stream));
    MMFREE_CK(cudaStreamSynchronize(d.stream));
    return s;
}

void CudaExecutor::load_slot(int slot, const std::vector<float>& s) {
    check_slot(slot);
    Impl& d = *impl_;
    if (s.size() != d.slot_floats)
        throw Error(ErrorCode::InvalidArgument, "state has " + std::to_string(s.size()) + " values; this model needs " +
                                                    std::to_string(d.slot_floats));
    MMFREE_CK(cudaMemcpyAsync(d.slot_state(slot), s.data(), sizeof(float) * d.slot_floats, cudaMemcpyHostToDevice, d.stream));
    MMFREE_CK(cudaStreamSynchronize(d.stream));
}

void CudaExecutor::check_tokens(const int32_t* tokens, size_t n) const {
    const int V = model_->config.vocab_size;
    for (size_t i = 0; i < n; ++i)
        if (tokens[i] < 0 || tokens[i] >= V)
            throw Error(ErrorCode::InvalidArgument, "token id " + std::to_string(tokens[i]) + " is outside the vocabulary (0.." +
                                                        std::to_string(V - 1) + ")");
}

// One step of n ≤ persistent_max() slots: one launch of the persistent kernel, grouped for n ≥ 2
// (a group of blocks per slot). With draws, the sample kernel then draws each column's token
// from its logits row on the device.
void CudaExecutor::decode_cols(const int32_t* slot_ids, const int32_t* tokens, int n, float* logits, int32_t* argmax_out,
                               const sampling::Draw* draws, int32_t* sampled) {
    finish_sampling();
    Impl& d = *impl_;
    const ModelConfig& c = model_->config;
    const int H = c.hidden_size, V = c.vocab_size;
    const bool grouped = n > 1, handover = grouped && d.handover_bytes > 0 && n >= d.handover_min;
    DecodeArgs a = d.args;
    a.groups = n;
    if (handover) {
        a.handover = true;
        a.handover_bytes = d.handover_bytes;
        a.wb_bytes = d.handover_wb_bytes;
        a.handover_epoch = d.handover_epoch;
        d.handover_epoch += unsigned(a.phase_end) + 1;
    }
    for (int col = 0; col < n; ++col) {
        std::memcpy(d.emb_row + size_t(col) * H, &model_->embeddings[size_t(tokens[col]) * H], sizeof(float) * size_t(H));
        a.col_state[col] = d.slot_state(slot_ids[col]);
    }
    MMFREE_CK(cudaMemcpyAsync(d.x_in.ptr, d.emb_row, sizeof(float) * size_t(n) * H, cudaMemcpyHostToDevice, d.stream));
    if (draws) d.upload_draws(draws, n);
    if (profile_) {
        a.prof = d.prof.as<unsigned long long>();
        MMFREE_CK(cudaEventRecord(d.ev_start, d.stream));
    }
    a.barrier_base = d.barriers * (unsigned long long)d.blocks;
    MMFREE_CK(launch_decode(a, d.blocks, grouped ? d.grouped_threads : d.threads, handover ? d.handover_smem : d.smem, d.stream));
    if (!grouped) d.barriers += (unsigned long long)(a.phase_end - a.phase_begin - 1);
    if (profile_) MMFREE_CK(cudaEventRecord(d.ev_stop, d.stream));
    if (draws) {   // column c's logits are row c of d.logits
        MMFREE_CK(launch_sample(d.logits.as<float>(), n, V, d.draws.as<sampling::Draw>(), d.sampled.as<int>(), d.stream));
        MMFREE_CK(cudaMemcpyAsync(d.sampled_host, d.sampled.ptr, sizeof(int) * size_t(n), cudaMemcpyDeviceToHost, d.stream));
    }
    if (!d.result_mapped) MMFREE_CK(cudaMemcpyAsync(d.result_host, d.result_dev, sizeof(int) * size_t(n), cudaMemcpyDeviceToHost, d.stream));
    if (logits) MMFREE_CK(cudaMemcpyAsync(logits, d.logits.ptr, sizeof(float) * size_t(n) * V, cudaMemcpyDeviceToHost, d.stream));
    if (draws && leave_running_ && !profile_) {
        pending_sampled_ = sampled;
        pending_rows_ = n;
        return;
    }
    MMFREE_CK(cudaStreamSynchronize(d.stream));
    if (argmax_out)
        for (int col = 0; col < n; ++col) argmax_out[col] = static_cast<volatile int*>(d.result_host)[col];
    if (draws) std::copy(d.sampled_host, d.sampled_host + n, sampled);
    if (profile_) {
        float ms = 0;
        MMFREE_CK(cudaEventElapsedTime(&ms, d.ev_start, d.ev_stop));
        profile_decode(ms * 1000.0);
    }
}

// Splits one profiled token from the per-block timeline (kDecodeStamps): per layer phase, the
// mean over blocks of the norm reduction, the quantization (incl. waiting for staged weights),
// the projection, the arrival + staging (of it the arrival's fence), the barrier wait; across
// blocks, the spread of their finishing times and the delay from the last one finishing to the
// first one released.
void CudaExecutor::profile_decode(double total_us) {
    Impl& d = *impl_;
    const int phases = decode_phase_count(model_->config.num_layers), layer_phases = phases - 1, B = d.blocks;
    std::vector<unsigned long long> tl(size_t(B) * phases * kDecodeStamps);
    MMFREE_CK(cudaMemcpy(tl.data(), d.prof.ptr, tl.size() * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
    auto at = [&](int b, int p, int i) { return double(tl[(size_t(b) * phases + p) * kDecodeStamps + i]); };
    const double ns_per_cycle = (at(0, phases - 1, 6) - at(0, 0, 5)) / (at(0, phases - 1, 3) - at(0, 0, 0));
    double sum[5] = {0, 0, 0, 0, 0}, fence = 0, input = 0, reduce = 0, release = 0, skew = 0, lm = 0;
    for (int p = 0; p < layer_phases; ++p) {
        double last = 0, first_end = 1e300, first_next = 1e300;
        for (int b = 0; b < B; ++b) {
            for (int i = 0; i < 4; ++i) sum[i] += at(b, p, i + 1) - at(b, p, i);
            sum[4] += at(b, p + 1, 0) - at(b, p, 4);
            fence += at(b, p, 7) - at(b, p, 3);
            input += at(b, p, 8) - at(b, p, 0);
            reduce += at(b, p, 9) - at(b, p, 8);
            last = std::max(last, at(b, p, 6));
            first_end = std::min(first_end, at(b, p, 6));
            first_next = std::min(first_next, at(b, p + 1, 5));
        }
        release += first_next - last;
        skew += last - first_end;
    }
    for (int b = 0; b < B; ++b) lm += at(b, phases - 1, 3) - at(b, phases - 1, 0);
    DecodeSplit& s = d.split;
    const double per = ns_per_cycle / (double(B) * layer_phases);
    s.norm += sum[0] * per; s.quant += sum[1] * per; s.dot += sum[2] * per; s.arrive += sum[3] * per; s.wait += sum[4] * per;
    s.fence += fence * per;
    s.input += input * per;
    s.reduce += reduce * per;
    s.release += release / layer_phases;
    s.skew += skew / layer_phases;
    s.lm_head += lm * ns_per_cycle / B;
    s.ns_per_cycle += ns_per_cycle;
    s.total += total_us;
    ++s.tokens;
    stages_ = {};
    stages_.norm_quant_us = (sum[0] + sum[1]) * per * layer_phases / 1000.0;
    stages_.lm_head_us = lm * ns_per_cycle / B / 1000.0;
    stages_.bitlinear_us = std::max(0.0, total_us - stages_.norm_quant_us - stages_.lm_head_us);
    stages_.valid = true;
}

struct CudaExecutor::StageEvents {
    std::vector<std::pair<int, std::pair<cudaEvent_t, cudaEvent_t>>> list;
};

// Scratch for a pass of up to kPrefillChunk rows, and room for `head_rows` rows of logits.
void CudaExecutor::prepare_rows(int head_rows) {
    Impl& d = *impl_;
    const ModelConfig& c = model_->config;
    const int H = c.hidden_size, D = c.state_dim(), I = c.intermediate_size, V = c.vocab_size;
    const int Tm = kPrefillChunk, Tpad = (Tm + kGemmRowAlign - 1) / kGemmRowAlign * kGemmRowAlign;
    if (!d.rows_ready) {
        d.px.allocate(sizeof(float) * size_t(Tm) * H, &device_bytes_);
        d.pai.allocate(sizeof(float) * size_t(Tm) * D, &device_bytes_);
        d.paf.allocate(sizeof(float) * size_t(Tm) * D, &device_bytes_);
        d.pag.allocate(sizeof(float) * size_t(Tm) * D, &device_bytes_);
        d.psh.allocate(sizeof(float) * size_t(Tm) * D, &device_bytes_);
        d.py.allocate(sizeof(float) * size_t(Tm) * 2 * I, &device_bytes_);
        d.pq.allocate(size_t(3) * Tpad * d.kp_max, &device_bytes_);
        d.ps.allocate(sizeof(float) * 3 * size_t(Tpad), &device_bytes_);
        d.pqs.allocate(sizeof(int) * 3 * size_t(Tpad), &device_bytes_);
        d.row_slot.allocate(sizeof(int) * size_t(Tm), &device_bytes_);
        d.row_best.allocate(sizeof(int) * size_t(Tm), &device_bytes_);
        d.scan_pieces.allocate(sizeof(ScanPiece) * size_t(Tm), &device_bytes_);
        const int widest = std::max({3 * D, 2 * I, H, V});  // a GEMM batch's problems side by side
        d.partial.allocate(sizeof(int) * size_t(kGemmRowAlign) * widest, &device_bytes_);
        d.tile_count.allocate(sizeof(unsigned) * 3 * size_t((widest + kGemmTileN - 1) / kGemmTileN), &device_bytes_);
        MMFREE_CK(cudaMemset(d.partial.ptr, 0, d.partial.bytes));
        MMFREE_CK(cudaMemset(d.tile_count.ptr, 0, d.tile_count.bytes));
        MMFREE_CK(cudaMemset(d.pq.ptr, 0, d.pq.bytes));
        MMFREE_CK(cudaHostAlloc(reinterpret_cast<void**>(&d.emb_stage), sizeof(float) * size_t(Tm) * H, cudaHostAllocDefault));
        MMFREE_CK(cudaHostAlloc(reinterpret_cast<void**>(&d.row_slot_host), sizeof(int) * size_t(Tm), cudaHostAllocDefault));
        MMFREE_CK(cudaHostAlloc(reinterpret_cast<void**>(&d.row_best_host), sizeof(int) * size_t(Tm), cudaHostAllocDefault));
        MMFREE_CK(cudaHostAlloc(reinterpret_cast<void**>(&d.scan_pieces_host), sizeof(ScanPiece) * size_t(Tm), cudaHostAllocDefault));
        d.rows_ready = true;
    }
    if (head_rows && size_t(head_rows) > d.plog_rows) {
        d.drop_graphs();  // they write the old logits buffer
        d.plog.allocate(sizeof(float) * size_t(head_rows) * V, &device_bytes_);
        d.plog_rows = size_t(head_rows);
    }
}

// Enqueues one pass of T rows whose embeddings are in px: every layer, then (head_rows > 0) the
// final norm and lm_head for rows head_row0.. into plog, and each of those rows' argmax into
// row_best (RowHead::Argmax) or its token drawn by the draws in `draws` into `sampled`
// (RowHead::Sampled). The MLGRU: prompt_pieces > 0 scans each of that many pieces (scan_pieces)
// in order on its slot's state (prompts); 0 steps each row on the state of its slot in row_slot
// (a decode batch). With `timed`, events around each kernel (not while capturing a graph).
void CudaExecutor::enqueue_rows(int T, int prompt_pieces, int head_row0, int head_rows, RowHead head, StageEvents* timed) {
    Impl& d = *impl_;
    const ModelConfig& c = model_->config;
    const int L = c.num_layers, H = c.hidden_size, D = c.state_dim(), I = c.intermediate_size, V = c.vocab_size;
    const int Tpad = (kPrefillChunk + kGemmRowAlign - 1) / kGemmRowAlign * kGemmRowAlign;
    auto run = [&](int stage, auto&& launch) {
        cudaEvent_t e0 = nullptr, e1 = nullptr;
        if (timed) {
            MMFREE_CK(cudaEventCreate(&e0));
            MMFREE_CK(cudaEventCreate(&e1));
            MMFREE_CK(cudaEventRecord(e0, d.stream));
        }
        MMFREE_CK(launch());
        if (timed) {
            MMFREE_CK(cudaEventRecord(e1, d.stream));
            timed->list.push_back({stage, {e0, e1}});
        }
    };
    enum { kNorm = 0, kBit = 1, kGru = 2, kHead = 3 };

    int8_t* q[3];
    float* s[3];
    int* qs[3];
    for (int j = 0; j < 3; ++j) {
        q[j] = d.pq.as<int8_t>() + size_t(j) * Tpad * d.kp_max;
        s[j] = d.ps.as<float>() + size_t(j) * Tpad;
        qs[j] = d.pqs.as<int>() + size_t(j) * Tpad;
    }
    auto nq_args = [&](int K, NqInput mode, const float* x, int x_stride, const float* g0, std::initializer_list<const float*> g1) {
        NqArgs a;
        a.K = K; a.Kp = padded128(K); a.mode = mode; a.x = x; a.x_stride = x_stride; a.g0 = g0;
        a.nq = int(g1.size());
        int j = 0;
        for (const float* g : g1) { a.g1[j] = g; a.q[j] = q[j]; a.s[j] = s[j]; a.qsum[j] = qs[j]; ++j; }
        a.q_stride = d.kp_max;
        a.eps = c.rms_norm_eps;
        return a;
    };
    auto problem = [&](const DevMatrix& w, int j, float* out, int out_stride, GemmOut mode) {
        GemmProblem p;
        p.codes = w.codes; p.N = w.rows; p.stride = w.stride; p.scale = w.scale;
        p.q = q[j]; p.q_stride = d.kp_max; p.s = s[j]; p.qsum = qs[j];
        p.out = out; p.out_stride = out_stride; p.mode = mode;
        return p;
    };
    // A pass of few rows has few GEMM tiles: split K until about split_target blocks run, each
    // with at least two K blocks. Only for 16-row tiles: at 64 rows the partial sums' atomics
    // cost more than the idle SMs (H200, 2.7B, B = 64: 15,808 tok/s unsplit, 11,221 at a target
    // of 66 blocks, 8,309 at 264; B = 8: 3,280 vs 2,721 unsplit with 64-row tiles).
    auto split_k = [&](GemmBatch& g) {
        if (g.M > kGemmSmallRows) return;
        int max_n = 0;
        for (int j = 0; j < g.count; ++j) max_n = std::max(max_n, g.p[j].N);
        const int tiles = (max_n + kGemmTileN - 1) / kGemmTileN * g.count;
        g.k_split = std::clamp((d.split_target + tiles - 1) / tiles, 1, std::max(1, g.k_blocks / 2));
        if (g.k_split == 1) return;
        for (int j = 0; j < g.count; ++j) g.partial[j] = d.partial.as<int>() + size_t(j) * kGemmRowAlign * max_n;
        g.tile_count = d.tile_count.as<unsigned>();
    };
    auto gemm = [&](GemmBatch& g) {
        split_k(g);
        return launch_gemm(g, d.stream);
    };
    float* X = d.px.as<float>();
    for (int l = 0; l < L; ++l) {
        const DevLayer& ly = d.layers[size_t(l)];
        const NqArgs a0 = nq_args(H, NqInput::Plain, X, H, ly.attn_norm, {ly.i.norm, ly.f.norm, ly.g.norm});
        run(kNorm, [&] { return launch_nq(a0, T, d.stream); });
        GemmBatch g0;
        g0.count = 3; g0.M = T; g0.k_blocks = padded128(H) / 128;
        g0.p[0] = problem(ly.i, 0, d.pai.as<float>(), D, GemmOut::Store);
        g0.p[1] = problem(ly.f, 1, d.paf.as<float>(), D, GemmOut::Store);
        g0.p[2] = problem(ly.g, 2, d.pag.as<float>(), D, GemmOut::Store);
        run(kBit, [&] { return gemm(g0); });
        if (prompt_pieces > 0) {
            ScanArgs sa;
            sa.T = T; sa.D = D; sa.ai = d.pai.as<float>(); sa.af = d.paf.as<float>(); sa.lb = ly.lower_bound;
            sa.state = d.state.as<float>() + size_t(l) * D; sa.slot_stride = d.slot_floats;
            sa.pieces = d.scan_pieces.as<ScanPiece>(); sa.piece_count = prompt_pieces; sa.sh = d.psh.as<float>();
            run(kGru, [&] { return launch_scan(sa, d.stream); });
        } else {
            StepArgs st;
            st.T = T; st.D = D; st.ai = d.pai.as<float>(); st.af = d.paf.as<float>(); st.lb = ly.lower_bound;
            st.state = d.state.as<float>() + size_t(l) * D; st.row_slot = d.row_slot.as<int>(); st.slot_stride = d.slot_floats;
            st.sh = d.psh.as<float>();
            run(kGru, [&] { return launch_mlgru_step(st, d.stream); });
        }

        NqArgs a1 = nq_args(D, NqInput::Gated, d.pag.as<float>(), D, ly.g_norm, {ly.o.norm});
        a1.e = d.psh.as<float>(); a1.e_stride = D;
        run(kNorm, [&] { return launch_nq(a1, T, d.stream); });
        GemmBatch g1;
        g1.M = T; g1.k_blocks = padded128(D) / 128;
        g1.p[0] = problem(ly.o, 0, X, H, GemmOut::Add);
        run(kBit, [&] { return gemm(g1); });

        const NqArgs a2 = nq_args(H, NqInput::Plain, X, H, ly.mlp_norm, {ly.gate.norm});
        run(kNorm, [&] { return launch_nq(a2, T, d.stream); });
        GemmBatch g2;
        g2.M = T; g2.k_blocks = padded128(H) / 128;
        g2.p[0] = problem(ly.gate, 0, d.py.as<float>(), 2 * I, GemmOut::Store);
        run(kBit, [&] { return gemm(g2); });

        const NqArgs a3 = nq_args(I, NqInput::SwiGLU, d.py.as<float>(), 2 * I, nullptr, {ly.down.norm});
        run(kNorm, [&] { return launch_nq(a3, T, d.stream); });  // SwiGLU rides along
        GemmBatch g3;
        g3.M = T; g3.k_blocks = padded128(I) / 128;
        g3.p[0] = problem(ly.down, 0, X, H, GemmOut::Add);
        run(kBit, [&] { return gemm(g3); });
    }
    if (head_rows) {
        NqArgs a4 = nq_args(H, NqInput::Plain, X, H, d.final_norm, {d.lm_head.norm});
        a4.row0 = head_row0;
        run(kHead, [&] { return launch_nq(a4, head_rows, d.stream); });
        GemmBatch g4;
        g4.M = head_rows; g4.k_blocks = padded128(H) / 128;
        g4.p[0] = problem(d.lm_head, 0, d.plog.as<float>(), V, GemmOut::Store);
        run(kHead, [&] { return gemm(g4); });
        if (head == RowHead::Argmax)
            run(kHead, [&] { return launch_row_argmax(d.plog.as<float>(), head_rows, V, d.row_best.as<int>(), d.stream); });
        if (head == RowHead::Sampled)
            run(kHead, [&] {
                return launch_sample(d.plog.as<float>(), head_rows, V, d.draws.as<sampling::Draw>(), d.sampled.as<int>(), d.stream);
            });
    }
}

// After the stream is synchronized: the timed kernels' device time per stage.
void CudaExecutor::add_stage_times(StageEvents& timed) {
    for (auto& [stage, ev] : timed.list) {
        float ms = 0;
        MMFREE_CK(cudaEventElapsedTime(&ms, ev.first, ev.second));
        double* dst[4] = {&stages_.norm_quant_us, &stages_.bitlinear_us, &stages_.mlgru_us, &stages_.lm_head_us};
        *dst[stage] += ms * 1000.0;
        cudaEventDestroy(ev.first);
        cudaEventDestroy(ev.second);
    }
    timed.list.clear();
    stages_.valid = true;
}

// One pass of the pieces' rows, one piece after another (up to kPrefillChunk rows, distinct
// slots), each piece scanned on its own slot's state. Logits (a single piece): every row's or the
// last row's.
void CudaExecutor::prefill_pass(const PromptPiece* pieces, int count, float* logits, bool all_positions) {
    finish_sampling();
    Impl& d = *impl_;
    const int H = model_->config.hidden_size, V = model_->config.vocab_size;
    int T = 0;
    for (int p = 0; p < count; ++p) T += int(pieces[p].count);
    const int out_rows = logits ? (all_positions ? T : 1) : 0;
    prepare_rows(out_rows);
    for (int p = 0, row = 0; p < count; ++p) {
        d.scan_pieces_host[p] = {row, int(pieces[p].count), pieces[p].slot};
        for (size_t t = 0; t < pieces[p].count; ++t, ++row)
            std::memcpy(d.emb_stage + size_t(row) * H, &model_->embeddings[size_t(pieces[p].tokens[t]) * H], sizeof(float) * size_t(H));
    }
    MMFREE_CK(cudaMemcpyAsync(d.px.ptr, d.emb_stage, sizeof(float) * size_t(T) * H, cudaMemcpyHostToDevice, d.stream));
    MMFREE_CK(cudaMemcpyAsync(d.scan_pieces.ptr, d.scan_pieces_host, sizeof(ScanPiece) * size_t(count), cudaMemcpyHostToDevice, d.stream));
    StageEvents timed;
    enqueue_rows(T, count, all_positions ? 0 : T - 1, out_rows, RowHead::Logits, profile_ ? &timed : nullptr);
    if (out_rows) MMFREE_CK(cudaMemcpyAsync(logits, d.plog.ptr, sizeof(float) * size_t(out_rows) * V, cudaMemcpyDeviceToHost, d.stream));
    MMFREE_CK(cudaStreamSynchronize(d.stream));
    if (profile_) add_stage_times(timed);
}

// One decode step of n (2..kPrefillChunk) slots as one pass of n rows: every weight is read once
// for the whole batch. Replayed from a CUDA graph per (n, outputs): a pass is ~11 kernels per
// layer, and launching them one by one costs more than small batches' work. With draws, only the
// drawn tokens come back (the sample kernel ends the pass).
void CudaExecutor::decode_rows(const int32_t* slot_ids, const int32_t* tokens, int n, float* logits, int32_t* argmax_out,
                               const sampling::Draw* draws, int32_t* sampled) {
    finish_sampling();
    Impl& d = *impl_;
    const int H = model_->config.hidden_size, V = model_->config.vocab_size;
    if (draws) {   // the tokens only: the logits stay on the device
        logits = nullptr;
        argmax_out = nullptr;
    }
    const int outputs = draws ? 3 : argmax_out ? 2 : logits ? 1 : 0;   // 3: sampled tokens
    const RowHead head = outputs == 3 ? RowHead::Sampled : outputs == 2 ? RowHead::Argmax : RowHead::Logits;
    const int head_rows = outputs ? n : 0;
    prepare_rows(head_rows);
    for (int r = 0; r < n; ++r) {
        std::memcpy(d.emb_stage + size_t(r) * H, &model_->embeddings[size_t(tokens[r]) * H], sizeof(float) * size_t(H));
        d.row_slot_host[r] = slot_ids[r];
    }
    MMFREE_CK(cudaMemcpyAsync(d.px.ptr, d.emb_stage, sizeof(float) * size_t(n) * H, cudaMemcpyHostToDevice, d.stream));
    MMFREE_CK(cudaMemcpyAsync(d.row_slot.ptr, d.row_slot_host, sizeof(int) * size_t(n), cudaMemcpyHostToDevice, d.stream));
    if (draws) d.upload_draws(draws, n);
    StageEvents timed;
    if (profile_) {
        enqueue_rows(n, 0, 0, head_rows, head, &timed);
    } else {
        auto it = d.graphs.find({n, outputs});
        if (it == d.graphs.end()) {
            if (d.graphs.size() >= 64) d.drop_graphs();  // many batch sizes seen: keep the cache bounded
            cudaGraph_t graph = nullptr;
            MMFREE_CK(cudaStreamBeginCapture(d.stream, cudaStreamCaptureModeThreadLocal));
            try {
                enqueue_rows(n, 0, 0, head_rows, head, nullptr);
            } catch (...) {
                cudaStreamEndCapture(d.stream, &graph);
                if (graph) cudaGraphDestroy(graph);
                throw;
            }
            MMFREE_CK(cudaStreamEndCapture(d.stream, &graph));
            cudaGraphExec_t exec = nullptr;
            const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
            cudaGraphDestroy(graph);
            check(e, "cudaGraphInstantiate");
            it = d.graphs.emplace(std::make_pair(n, outputs), exec).first;
        }
        MMFREE_CK(cudaGraphLaunch(it->second, d.stream));
    }
    if (argmax_out)
        MMFREE_CK(cudaMemcpyAsync(d.row_best_host, d.row_best.ptr, sizeof(int) * size_t(n), cudaMemcpyDeviceToHost, d.stream));
    if (logits) MMFREE_CK(cudaMemcpyAsync(logits, d.plog.ptr, sizeof(float) * size_t(n) * V, cudaMemcpyDeviceToHost, d.stream));
    if (draws) MMFREE_CK(cudaMemcpyAsync(d.sampled_host, d.sampled.ptr, sizeof(int) * size_t(n), cudaMemcpyDeviceToHost, d.stream));
    if (draws && leave_running_ && !profile_) {
        pending_sampled_ = sampled;
        pending_rows_ = n;
        return;
    }
    MMFREE_CK(cudaStreamSynchronize(d.stream));
    if (argmax_out) std::copy(d.row_best_host, d.row_best_host + n, argmax_out);
    if (draws) std::copy(d.sampled_host, d.sampled_host + n, sampled);
    if (profile_) add_stage_times(timed);
}

void CudaExecutor::prefill(int slot, const int32_t* tokens, size_t count, float* logits, bool all_positions) {
    check_slot(slot);
    check_tokens(tokens, count);
    stages_ = {};
    if (count == 0) return;
    const int V = model_->config.vocab_size;
    if (count == 1) {
        const int32_t id = slot;
        decode_cols(&id, tokens, 1, logits, nullptr);
        return;
    }
    for (size_t pos = 0; pos < count; pos += kPrefillChunk) {
        const int n = int(std::min<size_t>(kPrefillChunk, count - pos));
        const bool last = pos + size_t(n) == count;
        float* out = !logits ? nullptr : all_positions ? logits + pos * size_t(V) : (last ? logits : nullptr);
        const PromptPiece piece{slot, tokens + pos, size_t(n)};
        prefill_pass(&piece, 1, out, all_positions);
    }
}

// The pieces packed into passes of up to kPrefillChunk rows, so that a burst of short prompts
// shares each read of the weights. A piece is cut only where prefill() cuts a prompt (every
// kPrefillChunk rows from its start): the scan rounds by a piece's own length, so each slot ends
// bit for bit as if prefill() had fed it its piece (a piece of one token aside: prefill() runs
// that through the decode kernel). A slot's second piece waits for the next pass.
void CudaExecutor::prefill_many(const std::vector<PromptPiece>& pieces) {
    for (const PromptPiece& p : pieces) {
        check_slot(p.slot);
        check_tokens(p.tokens, p.count);
    }
    stages_ = {};
    std::vector<PromptPiece> pass;
    size_t rows = 0;
    auto run_pass = [&] {
        if (!pass.empty()) prefill_pass(pass.data(), int(pass.size()), nullptr, false);
        pass.clear();
        rows = 0;
    };
    for (const PromptPiece& p : pieces)
        for (size_t pos = 0; pos < p.count; pos += kPrefillChunk) {
            const size_t n = std::min<size_t>(kPrefillChunk, p.count - pos);
            const bool slot_in_pass = std::any_of(pass.begin(), pass.end(), [&](const PromptPiece& q) { return q.slot == p.slot; });
            if (rows + n > size_t(kPrefillChunk) || slot_in_pass) run_pass();
            pass.push_back({p.slot, p.tokens + pos, n});
            rows += n;
        }
    run_pass();
}

// A step of n ≤ persistent_step_max slots as equal launches of at most persistent_max() slots
// (12 → 6 + 6): visit(first slot, slots) for each.
namespace {
template <class Visit>
void for_each_launch(size_t n, int persistent_max, Visit&& visit) {
    const size_t launches = (n + size_t(persistent_max) - 1) / size_t(persistent_max);
    for (size_t i = 0, b = 0; i < launches; ++i) {
        const size_t k = n / launches + (i < n % launches ? 1 : 0);
        visit(b, int(k));
        b += k;
    }
}
} // namespace

// Up to persistent_step_max slots (16): the persistent kernel, one launch per up to 8 slots
// (decode_cols). More: row passes of up to kPrefillChunk slots each.
void CudaExecutor::decode(const int32_t* slot_ids, const int32_t* tokens, size_t n, float* logits, int32_t* argmax_out) {
    check_slots(slot_ids, n);
    check_tokens(tokens, n);
    stages_ = {};
    if (n == 0) return;
    const size_t V = size_t(model_->config.vocab_size);
    if (n <= size_t(impl_->persistent_step_max)) {
        for_each_launch(n, impl_->persistent_max(), [&](size_t b, int k) {
            decode_cols(slot_ids + b, tokens + b, k, logits ? logits + b * V : nullptr, argmax_out ? argmax_out + b : nullptr);
        });
        return;
    }
    for (size_t b = 0; b < n; b += kPrefillChunk) {
        const int rows = int(std::min<size_t>(kPrefillChunk, n - b));
        decode_rows(slot_ids + b, tokens + b, rows, logits ? logits + b * V : nullptr, argmax_out ? argmax_out + b : nullptr);
    }
}

// decode() whose rows are drawn where the logits are: the same launches and passes, each followed
// by the sample kernel on its logits; only the tokens are copied back.
void CudaExecutor::begin_decode_sample(const int32_t* slot_ids, const int32_t* tokens, size_t n, const sampling::Draw* draws) {
    static_assert(sizeof(sampling::Draw) == 24, "the sample kernel reads 24-byte draws");
    if (!samples_on_device()) return Executor::begin_decode_sample(slot_ids, tokens, n, draws);
    finish_sampling();   // a step begun and never ended: its tokens are dropped with sampled_tokens_
    check_slots(slot_ids, n);
    check_tokens(tokens, n);
    stages_ = {};
    sampled_tokens_.assign(n, 0);
    if (n == 0) return;
    impl_->prepare_sampling(&device_bytes_);
    int32_t* out = sampled_tokens_.data();
    // The last pass is left running for end_decode_sample (the passes before it share its staging).
    struct LastPass {
        bool& flag;
        ~LastPass() { flag = false; }
    } last_pass{leave_running_};
    if (n <= size_t(impl_->persistent_step_max)) {
        for_each_launch(n, impl_->persistent_max(), [&](size_t b, int k) {
            leave_running_ = b + size_t(k) == n;
            decode_cols(slot_ids + b, tokens + b, k, nullptr, nullptr, draws + b, out + b);
        });
        return;
    }
    for (size_t b = 0; b < n; b += kPrefillChunk) {
        const int rows = int(std::min<size_t>(kPrefillChunk, n - b));
        leave_running_ = b + size_t(rows) == n;
        decode_rows(slot_ids + b, tokens + b, rows, nullptr, nullptr, draws + b, out + b);
    }
}

void CudaExecutor::finish_sampling() {
    if (pending_rows_ == 0) return;
    const int rows = std::exchange(pending_rows_, 0);
    MMFREE_CK(cudaStreamSynchronize(impl_->stream));
    std::copy(impl_->sampled_host, impl_->sampled_host + rows, pending_sampled_);
}

void CudaExecutor::end_decode_sample(int32_t* tokens_out) {
    if (!samples_on_device()) return Executor::end_decode_sample(tokens_out);
    finish_sampling();
    std::copy(sampled_tokens_.begin(), sampled_tokens_.end(), tokens_out);
}

const float* CudaExecutor::decode_logits(const int32_t* slot_ids, const int32_t* tokens, size_t n) {
    Impl& d = *impl_;
    const size_t floats = std::max<size_t>(n, 1) * size_t(model_->config.vocab_size);
    if (floats > d.logits_host_floats) {
        if (d.logits_host) MMFREE_CK(cudaFreeHost(d.logits_host));
        d.logits_host = nullptr;
        d.logits_host_floats = 0;
        MMFREE_CK(cudaHostAlloc(reinterpret_cast<void**>(&d.logits_host), sizeof(float) * floats, cudaHostAllocDefault));
        d.logits_host_floats = floats;
    }
    decode(slot_ids, tokens, n, d.logits_host, nullptr);
    return d.logits_host;
}

double CudaExecutor::measure_read_bandwidth_gb_s() {
    Impl& d = *impl_;
    size_t free_b = 0, total_b = 0;
    MMFREE_CK(cudaMemGetInfo(&free_b, &total_b));
    // Far larger than L2 (tens of MB), small enough to leave room for everything else.
    const size_t bytes = std::min<size_t>(size_t(4) << 30, free_b / 4) & ~size_t(4095);
    if (bytes < (size_t(64) << 20)) return 0;
    size_t probe_bytes = 0;  // scratch of the probe, not the model's: kept out of device_memory_bytes
    DeviceBuffer buf, sink;
    buf.allocate(bytes, &probe_bytes);
    sink.allocate(sizeof(unsigned), &probe_bytes);
    MMFREE_CK(cudaMemsetAsync(buf.ptr, 0x5a, bytes, d.stream));  // not zeros: see METHOD.md
    const int blocks = d.props.multiProcessorCount * 4;
    MMFREE_CK(launch_read_bandwidth(buf.ptr, bytes, sink.as<unsigned>(), blocks, d.stream));
    double best = 0;
    for (int i = 0; i < 5; ++i) {
        MMFREE_CK(cudaEventRecord(d.ev_start, d.stream));
        MMFREE_CK(launch_read_bandwidth(buf.ptr, bytes, sink.as<unsigned>(), blocks, d.stream));
        MMFREE_CK(cudaEventRecord(d.ev_stop, d.stream));
        MMFREE_CK(cudaEventSynchronize(d.ev_stop));
        float ms = 0;
        MMFREE_CK(cudaEventElapsedTime(&ms, d.ev_start, d.ev_stop));
        if (ms > 0) best = std::max(best, double(bytes) / (ms * 1e-3) / 1e9);
    }
    return best;
}

double CudaExecutor::measure_step_floor_us(int floats) {
    Impl& d = *impl_;
    const int n = std::max(4, (floats + 3) / 4 * 4), steps = 128;
    size_t probe_bytes = 0;  // as above
    DeviceBuffer vecs, counter;
    vecs.allocate(size_t(2) * n * sizeof(float), &probe_bytes);
    counter.allocate(sizeof(unsigned long long), &probe_bytes);
    float* const buf = vecs.as<float>();
    // The difference between a launch of `steps` steps and one of none is the steps alone.
    auto time_ms = [&](int k) {
        MMFREE_CK(cudaMemsetAsync(counter.ptr, 0, sizeof(unsigned long long), d.stream));
        MMFREE_CK(cudaEventRecord(d.ev_start, d.stream));
        MMFREE_CK(launch_step_chain(buf, n, k, counter.as<unsigned long long>(), d.blocks, d.threads, d.stream));
        MMFREE_CK(cudaEventRecord(d.ev_stop, d.stream));
        MMFREE_CK(cudaEventSynchronize(d.ev_stop));
        float ms = 0;
        MMFREE_CK(cudaEventElapsedTime(&ms, d.ev_start, d.ev_stop));
        return double(ms);
    };
    time_ms(steps);  // warm-up
    double best_ms = 0;
    for (int rep = 0; rep < 3; ++rep) {
        const double ms = time_ms(steps) - time_ms(0);
        if (ms > 0 && (best_ms == 0 || ms < best_ms)) best_ms = ms;
    }
    time_ms(steps);
    std::vector<float> result(size_t(n), 0.0f);
    MMFREE_CK(cudaMemcpy(result.data(), buf + size_t(steps & 1) * n, size_t(n) * sizeof(float), cudaMemcpyDeviceToHost));
    check_step_chain(result, steps + 1, "CUDA");
    return best_ms * 1e3 / steps;
}

std::vector<std::pair<std::string, double>> CudaExecutor::extra_metrics() const {
    std::vector<std::pair<std::string, double>> m = {
        {"cuda_slots", double(slot_count_)},
        {"cuda_decode_blocks", double(impl_->blocks)},
        {"cuda_decode_threads", double(impl_->threads)},
        {"cuda_decode_max_grouped_columns", double(impl_->grouped_max)},
        {"cuda_decode_persistent_step_max_columns", double(impl_->persistent_step_max)},
        {"cuda_decode_handover_min_columns", double(impl_->handover_bytes > 0 ? impl_->handover_min : 0)},
        {"cuda_decode_grid_barriers_per_token", double(4 * model_->config.num_layers)},
        {"cuda_l2_prefetch_distance_phases", double(impl_->args.prefetch_distance)},
        {"cuda_weight_stage_bytes_per_block", double(impl_->args.wb_bytes)}};
    if (const DecodeSplit& s = impl_->split; s.tokens > 0) {
        const double n = s.tokens;
        m.insert(m.end(), {{"cuda_decode_phase_norm_ns", s.norm / n},
                           {"cuda_decode_phase_norm_first_pass_ns", s.input / n},
                           {"cuda_decode_phase_norm_reduce_ns", s.reduce / n},
                           {"cuda_decode_phase_quant_ns", s.quant / n},
                           {"cuda_decode_phase_dot_ns", s.dot / n},
                           {"cuda_decode_phase_arrive_ns", s.arrive / n},
                           {"cuda_decode_phase_fence_ns", s.fence / n},
                           {"cuda_decode_phase_wait_ns", s.wait / n},
                           {"cuda_decode_phase_skew_ns", s.skew / n},
                           {"cuda_decode_phase_release_ns", s.release / n},
                           {"cuda_decode_lm_head_ns", s.lm_head / n},
                           {"cuda_decode_token_us", s.total / n},
                           {"cuda_decode_ns_per_cycle", s.ns_per_cycle / n}});
    }
    return m;
}

std::vector<DeviceInfo> list_cuda_devices() {
    int count = 0;
    if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) {
        cudaGetLastError();
        return {DeviceInfo{"cuda", 0, "CUDA", "", "", 0, "", false, why_unavailable(e)}};
    }
    if (count == 0) return {DeviceInfo{"cuda", 0, "CUDA", "", "", 0, "", false, "no CUDA-capable GPU found"}};
    int drv = 0, rt = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    std::vector<DeviceInfo> out;
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp p{};
        DeviceInfo info;
        info.backend = "cuda";
        info.index = i;
        if (cudaError_t e = cudaGetDeviceProperties(&p, i); e != cudaSuccess) {
            info.name = "CUDA device " + std::to_string(i);
            info.usable = false;
            info.reason = cudaGetErrorString(e);
            out.push_back(info);
            continue;
        }
        info.name = p.name;
        info.type = p.integrated ? "integrated-gpu" : "discrete-gpu";
        info.driver = "CUDA driver " + std::to_string(drv / 1000) + "." + std::to_string(drv % 1000 / 10) + ", runtime " +
                      std::to_string(rt / 1000) + "." + std::to_string(rt % 1000 / 10);
        info.memory_bytes = p.totalGlobalMem;
        info.features = "sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " + std::to_string(p.multiProcessorCount) +
                        " SMs, " + std::to_string(p.l2CacheSize >> 20) + " MiB L2, dp4a + int8 tensor cores, persistent decode kernel";
        std::string why;
        info.usable = kernels_run_on(i, p, &why);
        info.reason = why;
        out.push_back(info);
    }
    return out;
}

} // namespace mmfree::cuda

namespace mmfree::backends {

std::unique_ptr<Executor> create_cuda(std::shared_ptr<const Model> model, const BackendOptions& options) {
    return std::make_unique<cuda::CudaExecutor>(std::move(model), options);
}

std::vector<DeviceInfo> cuda_devices() { return cuda::list_cuda_devices(); }

} // namespace mmfree::backends
