// SPDX-License-Identifier: Apache-2.0
#include "cpu/thread_pool.h"

namespace mmfree::cpu {

ThreadPool::ThreadPool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
    if (workers_.empty()) return fn(0, 1);
    {
        std::lock_guard lock(mutex_);
        job_ = &fn;
        pending_.store(int(workers_.size()));
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    fn(0, size());
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void ThreadPool::worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
        // Spin a little: the next loop usually follows within microseconds.
        for (int spin = 0; spin < 20000 && generation_.load(std::memory_order_acquire) == seen; ++spin)
            std::this_thread::yield();
        if (generation_.load(std::memory_order_acquire) == seen) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return generation_.load() != seen; });
        }
        seen = generation_.load(std::memory_order_acquire);
        if (stop_) return;
        (*job_)(index, size());
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

} // namespace mmfree::cpu
