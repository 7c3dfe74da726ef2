// SPDX-License-Identifier: Apache-2.0
#include "cpu/thread_pool.h"

#include <algorithm>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mmfree::cpu {
namespace {

// Waits until done() holds: a short busy spin (the next loop usually starts within microseconds),
// then yielding the core so a busy machine's other threads still run.
template <class Done> void spin_until(Done done, int pause_spins, int yield_spins) {
    for (int i = 0; i < pause_spins; ++i) {
        if (done()) return;
#if defined(__x86_64__)
        _mm_pause();
#endif
    }
    for (int i = 0; yield_spins < 0 || i < yield_spins; ++i) {
        if (done()) return;
        std::this_thread::yield();
    }
}

constexpr int kPauseSpins = 4000;    // ~20–100 µs depending on the CPU's pause latency
constexpr int kYieldSpins = 20000;
constexpr int kMaxThreads = 0xffff;   // the thread count lives in generation_'s low 16 bits
constexpr uint64_t kGenerationStep = uint64_t(1) << 16;

} // namespace

ThreadPool::ThreadPool(int threads) {
    threads = std::min(threads, kMaxThreads);
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        generation_.fetch_add(kGenerationStep);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run(const std::function<void(int, int)>& fn, int threads) {
    const int active = threads <= 0 ? size() : std::min(threads, size());
    if (active == 1) return fn(0, 1);
    {
        std::lock_guard lock(mutex_);
        job_ = &fn;
        pending_.store(active - 1);
        const uint64_t next = (generation_.load(std::memory_order_relaxed) & ~uint64_t(0xffff)) + kGenerationStep;
        generation_.store(next | uint64_t(active), std::memory_order_release);
    }
    wake_.notify_all();
    fn(0, active);
    spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; }, kPauseSpins, -1);
}

void ThreadPool::worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
        spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; }, kPauseSpins, kYieldSpins);
        if (generation_.load(std::memory_order_acquire) == seen) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return generation_.load() != seen; });
        }
        seen = generation_.load(std::memory_order_acquire);
        if (stop_) return;
        const int active = int(seen & 0xffff);
        if (index >= active) continue;   // not needed for this loop
        (*job_)(index, active);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

} // namespace mmfree::cpu
