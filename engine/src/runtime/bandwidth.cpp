// SPDX-License-Identifier: Apache-2.0
// Host-memory streaming-read bandwidth: every thread sums its slice of a buffer far larger than
// the caches; the best of several passes is the roofline. The buffer is the kind of memory the
// weights live in (mmfree/huge_pages.h), and it is read the way the kernels read the weights:
// vector loads with a software prefetch 8 KB ahead. A plain scalar loop, without the prefetch,
// measured 62–68 GB/s where this reads 74–75 on the 2-core VM (same process, alternated): a
// roofline the kernels could beat is no roofline.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "mmfree/backend.h"
#include "mmfree/huge_pages.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mmfree {
namespace {

constexpr size_t kPrefetchAhead = 8192;   // as the CPU kernels (cpu/kernels.cpp)

#if defined(__x86_64__)
__attribute__((target("avx2"))) uint64_t sum_avx2(const uint64_t* b, const uint64_t* e) {
    __m256i s0 = _mm256_setzero_si256(), s1 = s0;
    for (const uint64_t* p = b; p + 8 <= e; p += 8) {
        _mm_prefetch(reinterpret_cast<const char*>(p) + kPrefetchAhead, _MM_HINT_T0);
        s0 = _mm256_add_epi64(s0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
        s1 = _mm256_add_epi64(s1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 4)));
    }
    s0 = _mm256_add_epi64(s0, s1);
    return uint64_t(_mm256_extract_epi64(s0, 0) + _mm256_extract_epi64(s0, 1) + _mm256_extract_epi64(s0, 2) + _mm256_extract_epi64(s0, 3));
}
#endif

uint64_t sum_words(const uint64_t* b, const uint64_t* e) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) return sum_avx2(b, e);
#endif
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (const uint64_t* p = b; p + 4 <= e; p += 4) { s0 += p[0]; s1 += p[1]; s2 += p[2]; s3 += p[3]; }
    return s0 + s1 + s2 + s3;
}

} // namespace

double Diagnostics::measure_read_bandwidth_gb_s() {
    const size_t bytes = size_t(1) << 30;
    const size_t words = bytes / sizeof(uint64_t);
    std::vector<uint64_t, HugePageAllocator<uint64_t>> buffer(words, 1);
    const int threads = std::max(1u, std::thread::hardware_concurrency());
    double best = 0;
    for (int pass = 0; pass < 5; ++pass) {
        std::vector<uint64_t> sums(size_t(threads) * 8, 0);
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                const size_t b = words * t / threads, e = words * (t + 1) / threads;
                sums[size_t(t) * 8] = sum_words(&buffer[b], buffer.data() + e);  // keeps the loop from being optimized away
            });
        for (auto& th : pool) th.join();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        uint64_t total = 0;
        for (auto v : sums) total += v;
        if (total == 0) return 0;  // unreachable: every word is 1
        best = std::max(best, double(bytes) / s / 1e9);
    }
    return best;
}

} // namespace mmfree
