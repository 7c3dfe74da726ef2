// SPDX-License-Identifier: Apache-2.0
// The CUDA kernels' host-side interface. Plain structs of device pointers, shared by the host
// code (cuda_executor.cu) and the kernels (kernels.cu); no CUDA types beyond cudaStream_t.
//
// Weights stay in the canonical packed layout of model.h (2-bit codes c = w + 1, 4 per byte,
// rows padded to 128 weights). Both integer paths read the codes as they are and permute the
// int8 ACTIVATIONS instead, so one copy of the weights serves decode and prefill:
//  * decode (dp4a): (word >> 2s) & 0x03030303 holds the codes of weights 16w' + 4b + s (b = 0..3),
//    so the activations are stored 4×4-transposed per 16 weights (plus a bank swizzle);
//  * prefill (int8 mma.sync m16n8k32): the same shift-and-mask yields a B fragment whose four
//    k-values are those weights; the A (activation) columns are permuted to match.
// Codes are used unsigned (0..2): Σ c·q − Σ q = Σ (c − 1)·q, exact in int32.
#pragma once
#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace mmfree::sampling {
struct Draw;
}

namespace mmfree::cuda {

struct DevMatrix {
    const uint8_t* codes = nullptr;  // rows × stride bytes, device
    const float* norm = nullptr;     // the BitLinear's RMSNorm γ [cols], device
    int rows = 0, cols = 0, stride = 0;
    float scale = 0.f;
};

struct DevLayer {
    DevMatrix i, f, g, o, gate, down;
    const float* attn_norm = nullptr;
    const float* g_norm = nullptr;
    const float* mlp_norm = nullptr;
    const float* lower_bound = nullptr;  // lb[l] [D]; null for layer 0 or without lower bounds
};

// ---- decode: one persistent cooperative kernel per token --------------------------------------
// Threads per decode block: 512, or 256 where every H-long input is one float4 per thread
// (decode_threads). Fewer threads make the block's reductions and barriers cheaper; more keep
// more loads in flight for long inputs.
constexpr int kDecodeMaxThreads = 512;
int decode_threads(int H, int k_max);

// Columns: one launch advances up to kDecodeMaxCols sequences by one token each. A grouped
// launch (DecodeArgs::groups = n > 1) splits the blocks into n contiguous groups; group g runs
// column g as a launch of its blocks alone would, with its own grid barrier, so each column's
// input, norm statistics, int8 activations, slot state, logits and argmax are computed exactly as
// alone. The groups read the same weight rows at about the same time, mostly from L2.
constexpr int kDecodeMaxCols = 8;
constexpr int kGroupCounterStride = 16;  // 64-bit counters per group: its barrier, its finished blocks
// A hand-over launch (DecodeArgs::handover, n = groups ≤ 8 columns) runs every block on every
// column. In each phase block r < n normalizes and quantizes column r's input exactly as a launch
// of that column alone would, writes the int8 vectors, their scales and Σq to its hand-over area
// (L2) and raises its flag; every block waits for the n flags and copies the n columns into
// shared memory, then computes its B = 1 share of the weight rows for all n columns with int8
// tensor-core mma (m16n8k32: 16 rows × 8 columns per instruction), so each weight is read and
// unpacked once per step instead of once per column. Integer sums: each column is bit-identical
// to its run alone. (It replaces 8-block clusters that stored q into each other's shared memory:
// their cluster barrier alone cost 0.76 µs per phase, and only 120 of 132 SMs took a block.)
enum class DecodeLaunch : int { Single = 0, Grouped = 1, Handover = 2 };

// The stride of one column's q vectors in a block's copy: 32 bytes past a multiple of 128, so
// that the 8 columns' B-fragment loads of a quarter warp fall in different bank groups.
__host__ __device__ constexpr int handover_q_stride(int q_col) { return q_col + 32; }
// A column's hand-over area in 16-byte words: its q vectors, then s[0..3), then Σq[0..3).
__host__ __device__ constexpr int handover_area_words(int q_col) { return handover_q_stride(q_col) / 16 + 2; }

struct DecodeArgs {
    int L = 0, H = 0, D = 0, I = 0, V = 0;
    int k_max = 0;                        // max(H, D, I)
    const DevLayer* layers = nullptr;     // [L], device
    DevMatrix lm_head;
    const float* final_norm = nullptr;
    // Per column c (buffers hold kDecodeMaxCols columns side by side):
    const float* x_in = nullptr;          // the token's embedding row [c][H]
    float* x = nullptr;                   // residual stream [c][H]
    float* col_state[kDecodeMaxCols] = {};  // column c's slot state h [L, D]
    float* ag = nullptr;                  // g projection [c][D]
    float* sh = nullptr;                  // silu(h) [c][D]
    float* m = nullptr;                   // silu(gate)·up [c][I]
    float* logits = nullptr;              // [c][V]
    unsigned long long* argmax_key = nullptr;  // [c]
    unsigned long long* barrier = nullptr;  // monotonic: never reset, never wraps (64 bit)
    unsigned long long* done = nullptr;     // blocks finished, monotonic
    int groups = 1;                         // > 1: a grouped (or hand-over) launch of that many columns
    bool handover = false;                  // a hand-over launch; its blocks barrier and finish on group 0's counters
    int handover_bytes = 0;                 // its shared memory for every column's q, scales and Σq and
                                            // the rows' sums (decode_handover_bytes)
    uint4* handover_q = nullptr;            // [kDecodeMaxCols][handover_area_words(q_col)]
    unsigned long long* handover_flags = nullptr;  // [kDecodeMaxCols]: the ticket of the phase whose q is there
    unsigned long long handover_epoch = 0;  // this launch's tickets are epoch + phase + 1 (monotonic across launches)
    unsigned long long* group_counters = nullptr;  // [kDecodeMaxCols][kGroupCounterStride], zero between launches
    int* result = nullptr;                // argmax [c], written by the last block (host-mapped)
    int q_col = 0;                        // bytes of a phase's int8 activations: max(3·H, D, I) padded
    int phase_begin = 0, phase_end = 0;   // phases [begin, end) of 4L+1 run in this launch
    int prefetch_distance = 0;            // phases ahead also prefetched into L2 (0 = off)
    int wb_bytes = 0;                     // shared memory for the next phase's weight rows
    int gn_floats = 0;                    // shared memory for a phase's γ vectors: max(4H, 2D, I)
    unsigned long long barrier_base = 0;  // barrier counter value at launch (host keeps count)
    unsigned long long* prof = nullptr;   // [blocks][4L+1][kDecodeStamps] when profiling, else null
};

// Profiling timeline per block and phase: [0..4] SM clock after the barrier wait, the norm
// reduction, the quantization (staged weights landed), the projection, the arrival + staging;
// [5], [6] globaltimer ns after the barrier wait and after the projection; [7] SM clock after
// the arrival's release (its fence); [8], [9] SM clock after the first pass over the input (its
// loads landed) and after the norm reduction ([1] is after the staged γ landed too).
constexpr int kDecodeStamps = 10;

// Shared memory of the decode kernel besides its weight buffer (wb_bytes is added on top).
size_t decode_smem_fixed_bytes(int q_col, int gn_floats, int layers);
cudaError_t decode_max_blocks_per_sm(size_t smem, int threads, DecodeLaunch launch, int* blocks);
// The hand-over launch's extra shared memory for blocks that own at most acc_rows rows of a phase.
size_t decode_handover_bytes(int q_col, int threads, int acc_rows);
cudaError_t launch_decode(const DecodeArgs& args, int blocks, int threads, size_t smem, cudaStream_t stream);
int decode_phase_count(int layers);

// ---- prefill: layer by layer over a chunk of tokens ------------------------------------------
enum class NqInput : int { Plain = 0, Gated = 1, SwiGLU = 2 };

// Per row t: input → optional pre-norm (γ0, then ·e when Gated) → the BitLinear's own norm γ1[j]
// → int8 rows q[j] in the mma column order, with their scale s[j][t] and Σq qsum[j][t].
struct NqArgs {
    int K = 0, Kp = 0, nq = 1;
    NqInput mode = NqInput::Plain;
    const float* x = nullptr; int x_stride = 0;   // SwiGLU: rows of [gate | up], K = I
    const float* e = nullptr; int e_stride = 0;   // Gated: silu(h)
    const float* g0 = nullptr;                    // pre-norm weight, or null
    const float* g1[3] = {nullptr, nullptr, nullptr};
    int8_t* q[3] = {nullptr, nullptr, nullptr}; int q_stride = 0;
    float* s[3] = {nullptr, nullptr, nullptr};
    int* qsum[3] = {nullptr, nullptr, nullptr};
    int row0 = 0;                                 // first input row (lm_head of the last token)
    float eps = 1e-6f;
};
cudaError_t launch_nq(const NqArgs& args, int rows, cudaStream_t stream);

enum class GemmOut : int { Store = 0, Add = 1, RawInt = 2 };
struct GemmProblem {
    const uint8_t* codes = nullptr; int N = 0, stride = 0; float scale = 0.f;
    const int8_t* q = nullptr; int q_stride = 0;   // rows padded to a multiple of 64
    const float* s = nullptr; const int* qsum = nullptr;
    float* out = nullptr; int out_stride = 0; GemmOut mode = GemmOut::Store;
};
// Split-K (k_split > 1, M ≤ kGemmRowAlign: one row tile): few tiles (a decode batch of a few
// rows) would leave most SMs idle, so each tile's K blocks are shared by k_split blocks. They add
// their int32 sums into partial[j] (M × N per problem, zero between uses) and the last block of a
// tile to finish (tile_count[j·n_tiles + tile]) applies the epilogue, zeroes its partial sums and
// its counter. Integer sums: the result is bit-identical to k_split = 1.
struct GemmBatch {
    GemmProblem p[3];
    int count = 1, M = 0, k_blocks = 0;  // every problem shares M and K (same input rows)
    int k_split = 1;
    int* partial[3] = {nullptr, nullptr, nullptr};
    unsigned* tile_count = nullptr;
};
cudaError_t launch_gemm(const GemmBatch& batch, cudaStream_t stream);
constexpr int kGemmRowAlign = 64;  // q buffers hold M rounded up to this many rows
constexpr int kGemmTileN = 128;    // weight rows per GEMM tile
constexpr int kGemmSmallRows = 16; // passes of at most this many rows use 16-row tiles

// One prompt's rows in a pass: rows row0 .. row0 + rows − 1, scanned on the state of `slot`.
struct ScanPiece {
    int row0 = 0, rows = 0, slot = 0;
};
struct ScanArgs {
    int T = 0, D = 0;                                       // T: the pass's rows, all pieces together
    const float* ai = nullptr; const float* af = nullptr;  // [T, D]
    const float* lb = nullptr;                              // [D] or null
    float* state = nullptr;                                 // slot 0's h [D] of this layer, updated
    size_t slot_stride = 0;                                 // floats between two slots' states (L·D)
    const ScanPiece* pieces = nullptr;                      // [piece_count], device; distinct slots
    int piece_count = 0;
    float* sh = nullptr;                                    // [T, D] silu(h_t)
};
cudaError_t launch_scan(const ScanArgs& args, cudaStream_t stream);

// ---- batched decode: rows of different sequences through the prefill kernels -----------------
// One MLGRU step per row, each row on its own slot's state: h = state + row_slot[t]·slot_stride
// (+ the layer's offset, already in `state`). The same arithmetic as the decode kernel's epilogue.
struct StepArgs {
    int T = 0, D = 0;
    const float* ai = nullptr; const float* af = nullptr;  // [T, D]
    const float* lb = nullptr;                              // [D] or null
    float* state = nullptr;                                 // slot 0's h of this layer
    const int* row_slot = nullptr;                          // [T], device
    size_t slot_stride = 0;                                 // floats between two slots' states (L·D)
    float* sh = nullptr;                                    // [T, D] silu(h)
};
cudaError_t launch_mlgru_step(const StepArgs& args, cudaStream_t stream);
// argmax of each of `rows` rows of V logits (first maximum wins, like the CPU's argmax).
cudaError_t launch_row_argmax(const float* logits, int rows, int V, int* out, cudaStream_t stream);

// ---- sampling: sampler.h's definition on the device (sample.cu, a port of shaders/sample.comp) --
// One block of kSampleThreads per row: tokens[r] = the token Sampler::draw picks from row r of
// `logits` ([rows][V], device) with draws[r] (device). Its histograms' 32-bit sums need
// V < kSampleMaxVocab. prepare_sample() lets the kernel use all the shared memory a block may opt
// into on the current device (call it there once, before any capture): rows that fit (V up to
// ~55k on an H100) are then copied into shared memory first; larger ones are read from global.
constexpr int kSampleThreads = 1024;
constexpr int kSampleMaxVocab = 1 << 17;
cudaError_t prepare_sample();
cudaError_t launch_sample(const float* logits, int rows, int V, const sampling::Draw* draws, int* tokens, cudaStream_t stream);

// ---- misc -------------------------------------------------------------------------------------
cudaError_t launch_read_bandwidth(const void* buffer, size_t bytes, unsigned* sink, int blocks, cudaStream_t stream);
// The synchronization-floor probe (runtime/step_chain.h): dispatch 0 writes the chain's first
// step into buf[0..n), then `steps` steps alternate between buf[0..n) and buf[n..2n), one grid
// barrier (the decode kernel's) between steps; a cooperative launch of `blocks` blocks.
// `counter` starts at zero.
cudaError_t launch_step_chain(float* buf, int n, int steps, unsigned long long* counter, int blocks, int threads,
                              cudaStream_t stream);
const void* decode_kernel_symbol();  // for cudaFuncGetAttributes (is there code for this device?)

// Test hooks: the raw int32 accumulators of both integer paths, for q given in natural order.
cudaError_t test_decode_matvec(const DevMatrix& w, const int8_t* q_natural, int* acc, cudaStream_t stream);
cudaError_t test_permute_mma(const int8_t* q_natural, int rows, int Kp, int8_t* q_mma, int* qsum, cudaStream_t stream);

} // namespace mmfree::cuda
