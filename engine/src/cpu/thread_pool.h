// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mmfree::cpu {

// A fixed set of workers that run one parallel loop at a time. Decode issues ~100 short loops per
// token, so workers spin (CPU pause, then yielding) before sleeping: waking a sleeping thread costs
// more than the loop.
class ThreadPool {
public:
    explicit ThreadPool(int threads);   // threads includes the caller
    ~ThreadPool();
    int size() const { return int(workers_.size()) + 1; }

    // Calls fn(thread_index, thread_count) on the first `threads` threads (all when 0), the caller
    // included as index 0; returns when all are done. Small loops use fewer threads: each one
    // joining costs a wake-up and a wait.
    void run(const std::function<void(int, int)>& fn, int threads = 0);

private:
    void worker_loop(int index);

    std::vector<std::thread> workers_;
    const std::function<void(int, int)>* job_ = nullptr;
    // Job counter << 16 | number of threads taking part. One word, so a worker that wakes late
    // never pairs one job's thread count with the next job; a taking-part worker holds the job
    // open (pending_), so job_ is stable while it runs it.
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
};

// Splits [0, n) into `parts` contiguous ranges aligned to `align`; returns range `part`.
inline std::pair<int, int> split_range(int n, int part, int parts, int align = 1) {
    const int units = (n + align - 1) / align;
    const int begin = int(int64_t(units) * part / parts) * align;
    const int end = int(int64_t(units) * (part + 1) / parts) * align;
    return {std::min(begin, n), std::min(end, n)};
}

} // namespace mmfree::cpu
