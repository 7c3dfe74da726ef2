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
constexpr int kMaxThreads = 0xffff;  // parts share a 16-bit field of work_

uint64_t generation_of(uint64_t w) { return w >> 16; }
int parts_of(uint64_t w) { return int(w & 0xffff); }

// What this thread asks for while idle after its parts (prefetch_when_idle), and its index.
struct IdleRanges {
    const uint8_t* begin[ThreadPool::kIdleRanges];
    size_t bytes[ThreadPool::kIdleRanges];
    int count = 0;
};
thread_local IdleRanges idle_ranges;
thread_local int pool_thread_index = 0;
// Prefetches issued between two looks at work_: a new loop waits at most for these to issue.
constexpr size_t kIdlePiece = 4096;

} // namespace

ThreadPool::ThreadPool(int threads, bool spin) : slots_(size_t(std::clamp(threads, 1, kMaxThreads))), spin_(spin) {
    threads = std::clamp(threads, 1, kMaxThreads);
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        work_.store((generation_of(work_.load()) + 1) << 16);   // wakes spinners; no parts
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::prefetch_when_idle(const uint8_t* begin, size_t bytes) {
    IdleRanges& r = idle_ranges;
    if (pool_thread_index == 0 || bytes == 0 || r.count == kIdleRanges) return;
    r.begin[r.count] = begin;
    r.bytes[r.count] = bytes;
    ++r.count;
}

int ThreadPool::thread_index() { return pool_thread_index; }

void ThreadPool::prefetch_until_next_loop(uint64_t generation) {
    IdleRanges& r = idle_ranges;
    for (int i = 0; i < r.count; ++i)
        for (size_t off = 0; off < r.bytes[i]; off += kIdlePiece) {
            if (generation_of(work_.load(std::memory_order_relaxed)) != generation) {
                r.count = 0;
                return;
            }
#if defined(__x86_64__)
            const size_t end = std::min(r.bytes[i], off + kIdlePiece);
            for (size_t b = off; b < end; b += 64) _mm_prefetch(reinterpret_cast<const char*>(r.begin[i] + b), _MM_HINT_T1);
#endif
        }
    r.count = 0;
}

void ThreadPool::run(const std::function<void(int, int)>& fn, int threads) {
    const int parts = threads <= 0 ? size() : std::min(threads, size());
    if (parts == 1) return fn(0, 1);
    const uint64_t generation = generation_of(work_.load(std::memory_order_relaxed)) + 1;
    {
        std::lock_guard lock(mutex_);   // pairs with a worker going to sleep
        job_ = &fn;
        work_.store(generation << 16 | uint64_t(parts), std::memory_order_release);
    }
    wake_.notify_all();
    run_parts(generation, parts, 0);
    for (int p = 0; p < parts; ++p) {
        const auto& done = slots_[size_t(p)].done;
        spin_until([&] { return done.load(std::memory_order_acquire) == generation; }, kPauseSpins, -1);
    }
}

void ThreadPool::run_parts(uint64_t generation, int parts, int first) {
    for (int k = 0; k < parts; ++k) {
        const int p = (first + k) % parts;
        PartSlot& slot = slots_[size_t(p)];
        uint64_t seen = slot.claimed.load(std::memory_order_relaxed);
        // Generations only grow: a part already at this loop's (or a newer one's) is taken.
        if (seen >= generation || !slot.claimed.compare_exchange_strong(seen, generation, std::memory_order_acq_rel)) continue;
        (*job_)(p, parts);
        slot.done.store(generation, std::memory_order_release);
    }
}

void ThreadPool::worker_loop(int index) {
    pool_thread_index = index;
    uint64_t seen = 0;
    auto changed = [&] { return generation_of(work_.load(std::memory_order_acquire)) != seen; };
    for (;;) {
        if (spin_) spin_until(changed, kPauseSpins, kYieldSpins);
        if (!changed()) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, changed);
        }
        // Read the loop before looking at stop_: the destructor may post its wake-up (a loop of
        // no parts) between a look at stop_ and this load, and no part could be split by it.
        const uint64_t w = work_.load(std::memory_order_acquire);
        if (stop_ || parts_of(w) == 0) return;
        seen = generation_of(w);
        run_parts(seen, parts_of(w), index % parts_of(w));
        prefetch_until_next_loop(seen);
    }
}

} // namespace mmfree::cpu
