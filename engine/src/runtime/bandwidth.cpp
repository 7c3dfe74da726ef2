// SPDX-License-Identifier: Apache-2.0
// Host-memory streaming-read bandwidth: every thread sums its slice of a buffer far larger than
// the caches; the best of several passes is the roofline. The buffer is the kind of memory the
// weights live in (mmfree/huge_pages.h).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "mmfree/backend.h"
#include "mmfree/huge_pages.h"

namespace mmfree {

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
                uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (size_t i = b; i + 3 < e; i += 4) { s0 += buffer[i]; s1 += buffer[i + 1]; s2 += buffer[i + 2]; s3 += buffer[i + 3]; }
                sums[size_t(t) * 8] = s0 + s1 + s2 + s3;  // keeps the loop from being optimized away
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
