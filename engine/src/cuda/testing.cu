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

std::vector<int32_t> prefill_gemm(const TernaryMatrix& w, const std::vector<int8_t>& q, int rows) {
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

} // namespace mmfree::cuda_testing
