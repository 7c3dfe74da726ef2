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
// Then ~0.1–0.2 ms of yields before a worker sleeps: enough for the gaps inside a decode step and
// between the tokens of one stream; a server's steps are a few ms apart, and workers that yielded
// for 20,000 rounds (~10–20 ms) took the cores its HTTP threads needed (2-core VM, demo model, 64
// streaming clients, two rounds: 6,548 / 6,948 → 7,108 / 7,259 tok/s; decode alone unchanged).
constexpr int kYieldSpins = 200;
constexpr int kMaxThreads = 0xffff;  // parts and the next part share 16-bit fields of work_

uint64_t generation_of(uint64_t w) { return w >> 32; }
int parts_of(uint64_t w) { return int((w >> 16) & 0xffff); }
int next_of(uint64_t w) { return int(w & 0xffff); }

} // namespace

ThreadPool::ThreadPool(int threads, bool spin) : spin_(spin) {
    threads = std::min(threads, kMaxThreads);
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        work_.store((generation_of(work_.load()) + 1) << 32);   // wakes spinners; no parts
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run(const std::function<void(int, int)>& fn, int threads) {
    const int parts = threads <= 0 ? size() : std::min(threads, size());
    if (parts == 1) return fn(0, 1);
    const uint64_t generation = generation_of(work_.load(std::memory_order_relaxed)) + 1;
    {
        std::lock_guard lock(mutex_);   // pairs with a worker going to sleep
        job_ = &fn;
        done_.store(0, std::memory_order_relaxed);
        work_.store(generation << 32 | uint64_t(parts) << 16, std::memory_order_release);
    }
    wake_.notify_all();
    run_parts(generation);
    spin_until([&] { return done_.load(std::memory_order_acquire) == parts; }, kPauseSpins, -1);
}

void ThreadPool::run_parts(uint64_t generation) {
    uint64_t w = work_.load(std::memory_order_acquire);
    for (;;) {
        if (generation_of(w) != generation || next_of(w) >= parts_of(w)) return;
        if (!work_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
        (*job_)(next_of(w), parts_of(w));
        done_.fetch_add(1, std::memory_order_acq_rel);
        w = work_.load(std::memory_order_acquire);
    }
}

void ThreadPool::worker_loop() {
    uint64_t seen = 0;
    auto changed = [&] { return generation_of(work_.load(std::memory_order_acquire)) != seen; };
    for (;;) {
        if (spin_) spin_until(changed, kPauseSpins, kYieldSpins);
        if (!changed()) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, changed);
        }
        if (stop_) return;
        seen = generation_of(work_.load(std::memory_order_acquire));
        run_parts(seen);
    }
}

} // namespace mmfree::cpu
