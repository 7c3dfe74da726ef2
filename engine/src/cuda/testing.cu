// SPDX-License-Identifier: Apache-2.0
#include <cuda_runtime.h>

#include "cuda/cuda_executor.h"
#include "cuda/cuda_testing.h"
#include "cuda/kernels.h"
#include "mmfree/error.h"

namespace mmfree::cuda_testing {
namespace {

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw Error(ErrorCode::DeviceError, std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

// A few device buffers freed together.
struct Scratch {
    std::vector<void*> ptrs;
    ~Scratch() { for (void* p : ptrs) cudaFree(p); }
    template <class T> T* alloc(size_t count) {
        void* p = nullptr;
        check(cudaMalloc(&p, count * sizeof(T) + 16), "cudaMalloc");
        ptrs.push_back(p);
        return static_cast<T*>(p);
    }
};

cuda::DevMatrix upload(Scratch& s, const TernaryMatrix& w) {
    cuda::DevMatrix m;
    uint8_t* codes = s.alloc<uint8_t>(w.codes.size());
    check(cudaMemcpy(codes, w.codes.data(), w.codes.size(), cudaMemcpyHostToDevice), "upload codes");
    m.codes = codes;
    m.rows = w.rows; m.cols = w.cols; m.stride = w.row_stride; m.scale = w.scale;
    return m;
}

} // namespace

std::string unavailable_reason() {
    for (const auto& d : cuda::list_cuda_devices())
        if (d.usable) return {};
    const auto list = cuda::list_cuda_devices();
    return list.empty() ? "no CUDA device" : list.front().reason;
}

std::vector<int32_t> decode_matvec(const TernaryMatrix& w, const std::vector<int8_t>& q) {
    Scratch s;
    const cuda::DevMatrix m = upload(s, w);
    int8_t* qd = s.alloc<int8_t>(q.size());
    int* acc = s.alloc<int>(size_t(w.rows));
    check(cudaMemcpy(qd, q.data(), q.size(), cudaMemcpyHostToDevice), "upload q");
    check(cuda::test_decode_matvec(m, qd, acc, nullptr), "decode matvec launch");
    check(cudaDeviceSynchronize(), "decode matvec");
    std::vector<int32_t> out(size_t(w.rows));
    check(cudaMemcpy(out.data(), acc, out.size() * sizeof(int), cudaMemcpyDeviceToHost), "download");
    return out;
}

std::vector<int32_t> prefill_gemm(const TernaryMatrix& w, const std::vector<int8_t>& q, int rows, int k_split) {
    Scratch s;
    const cuda::DevMatrix m = upload(s, w);
    const int Kp = w.row_stride * 4;
    const int Mpad = (rows + cuda::kGemmRowAlign - 1) / cuda::kGemmRowAlign * cuda::kGemmRowAlign;
    std::vector<int8_t> natural(size_t(Mpad) * Kp, 0);
    for (int t = 0; t < rows; ++t)
        for (int k = 0; k < w.cols; ++k) natural[size_t(t) * Kp + k] = q[size_t(t) * w.cols + k];
    int8_t* qn = s.alloc<int8_t>(natural.size());
    int8_t* qm = s.alloc<int8_t>(natural.size());
    int* qsum = s.alloc<int>(size_t(Mpad));
    float* scale = s.alloc<float>(size_t(Mpad));
    int* out = s.alloc<int>(size_t(rows) * w.rows);
    check(cudaMemcpy(qn, natural.data(), natural.size(), cudaMemcpyHostToDevice), "upload q");
    check(cudaMemset(scale, 0, sizeof(float) * size_t(Mpad)), "memset");
    check(cuda::test_permute_mma(qn, Mpad, Kp, qm, qsum, nullptr), "permute launch");
    cuda::GemmBatch b;
    b.count = 1; b.M = rows; b.k_blocks = Kp / 128;
    if (k_split > 1) {
        b.k_split = k_split;
        b.partial[0] = s.alloc<int>(size_t(rows) * w.rows);
        b.tile_count = s.alloc<unsigned>(size_t(w.rows + cuda::kGemmTileN - 1) / cuda::kGemmTileN);
        check(cudaMemset(b.partial[0], 0, sizeof(int) * size_t(rows) * w.rows), "memset");
        check(cudaMemset(b.tile_count, 0, sizeof(unsigned) * size_t(w.rows + cuda::kGemmTileN - 1) / cuda::kGemmTileN), "memset");
    }
    cuda::GemmProblem& p = b.p[0];
    p.codes = m.codes; p.N = w.rows; p.stride = w.row_stride; p.scale = 1.f;
    p.q = qm; p.q_stride = Kp; p.s = scale; p.qsum = qsum;
    p.out = reinterpret_cast<float*>(out); p.out_stride = w.rows; p.mode = cuda::GemmOut::RawInt;
    check(cuda::launch_gemm(b, nullptr), "gemm launch");
    check(cudaDeviceSynchronize(), "gemm");
    std::vector<int32_t> result(size_t(rows) * w.rows);
    check(cudaMemcpy(result.data(), out, result.size() * sizeof(int), cudaMemcpyDeviceToHost), "download");
    return result;
}

std::vector<float> mlgru_scan(const std::vector<float>& ai, const std::vector<float>& af, const std::vector<float>& lb,
                              std::vector<float>& states, const std::vector<int>& first, const std::vector<int>& rows, int T, int D) {
    Scratch s;
    auto put = [&](const std::vector<float>& v) {
        float* p = s.alloc<float>(v.size());
        check(cudaMemcpy(p, v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice), "upload");
        return p;
    };
    std::vector<cuda::ScanPiece> pieces;
    for (size_t p = 0; p < first.size(); ++p) pieces.push_back({first[p], rows[p], int(p)});
    cuda::ScanPiece* pieces_dev = s.alloc<cuda::ScanPiece>(pieces.size());
    check(cudaMemcpy(pieces_dev, pieces.data(), pieces.size() * sizeof(cuda::ScanPiece), cudaMemcpyHostToDevice), "upload");
    cuda::ScanArgs a;
    a.T = T; a.D = D; a.ai = put(ai); a.af = put(af); a.lb = lb.empty() ? nullptr : put(lb);
    a.state = put(states); a.slot_stride = size_t(D); a.pieces = pieces_dev; a.piece_count = int(pieces.size());
    a.sh = s.alloc<float>(size_t(T) * D);
    check(cudaMemset(a.sh, 0xff, sizeof(float) * size_t(T) * D), "poison");  // NaN where nothing is written
    check(cuda::launch_scan(a, nullptr), "scan launch");
    check(cudaDeviceSynchronize(), "scan");
    std::vector<float> sh(size_t(T) * D);
    check(cudaMemcpy(sh.data(), a.sh, sh.size() * sizeof(float), cudaMemcpyDeviceToHost), "download");
    check(cudaMemcpy(states.data(), a.state, states.size() * sizeof(float), cudaMemcpyDeviceToHost), "download");
    return sh;
}

NormQuant prefill_norm_quant(const std::vector<float>& x, int rows, int K, const std::vector<float>& g0,
                             const std::vector<std::vector<float>>& g1) {
    Scratch s;
    auto put = [&](const std::vector<float>& v) {
        float* p = s.alloc<float>(v.size());
        check(cudaMemcpy(p, v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice), "upload");
        return p;
    };
    NormQuant r;
    r.Kp = (K + 127) / 128 * 128;
    cuda::NqArgs a;
    a.K = K; a.Kp = r.Kp; a.nq = int(g1.size()); a.mode = cuda::NqInput::Plain;
    a.x = put(x); a.x_stride = K; a.g0 = g0.empty() ? nullptr : put(g0);
    a.q_stride = r.Kp;
    for (int j = 0; j < a.nq; ++j) {
        a.g1[j] = put(g1[size_t(j)]);
        a.q[j] = s.alloc<int8_t>(size_t(rows) * r.Kp);
        check(cudaMemset(a.q[j], 0x55, size_t(rows) * r.Kp), "poison");
        a.s[j] = s.alloc<float>(size_t(rows));
        a.qsum[j] = s.alloc<int>(size_t(rows));
    }
    check(cuda::launch_nq(a, rows, nullptr), "norm+quant launch");
    check(cudaDeviceSynchronize(), "norm+quant");
    // Back to natural order: logical column kk·32 + h·16 + tig·4 + j of a 128-block holds weight
    // 16·(2·tig + h) + 4·j + kk (kernels.h, the mma path).
    for (int j = 0; j < a.nq; ++j) {
        std::vector<int8_t> m(size_t(rows) * r.Kp);
        check(cudaMemcpy(m.data(), a.q[j], m.size(), cudaMemcpyDeviceToHost), "download");
        r.q[j].resize(m.size());
        for (int t = 0; t < rows; ++t)
            for (int k = 0; k < r.Kp; ++k) {
                const int p = k & 127, word = p >> 4, tig = word >> 1, h = word & 1, jj = (p >> 2) & 3, kk = p & 3;
                r.q[j][size_t(t) * r.Kp + k] = m[size_t(t) * r.Kp + (k & ~127) + kk * 32 + h * 16 + tig * 4 + jj];
            }
        r.s[j].resize(size_t(rows));
        r.qsum[j].resize(size_t(rows));
        check(cudaMemcpy(r.s[j].data(), a.s[j], sizeof(float) * size_t(rows), cudaMemcpyDeviceToHost), "download");
        check(cudaMemcpy(r.qsum[j].data(), a.qsum[j], sizeof(int) * size_t(rows), cudaMemcpyDeviceToHost), "download");
    }
    return r;
}

std::vector<int32_t> sample_rows(const std::vector<float>& logits, const std::vector<sampling::Draw>& draws) {
    const size_t rows = draws.size(), V = rows ? logits.size() / rows : 0;
    if (rows == 0 || V == 0 || logits.size() != rows * V) throw Error(ErrorCode::InvalidArgument, "sample_rows: rows × V logits");
    Scratch s;
    float* l = s.alloc<float>(logits.size());
    sampling::Draw* d = s.alloc<sampling::Draw>(rows);
    int* tokens = s.alloc<int>(rows);
    check(cudaMemcpy(l, logits.data(), logits.size() * sizeof(float), cudaMemcpyHostToDevice), "upload logits");
    check(cudaMemcpy(d, draws.data(), rows * sizeof(sampling::Draw), cudaMemcpyHostToDevice), "upload draws");
    check(cuda::prepare_sample(), "sample kernel's shared memory");
    check(cuda::launch_sample(l, int(rows), int(V), d, tokens, nullptr), "sample launch");
    check(cudaDeviceSynchronize(), "sample");
    std::vector<int32_t> out(rows);
    check(cudaMemcpy(out.data(), tokens, rows * sizeof(int), cudaMemcpyDeviceToHost), "download");
    return out;
}

} // namespace mmfree::cuda_testing
