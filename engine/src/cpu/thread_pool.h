// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mmfree::cpu {

// A fixed set of workers that run one parallel loop at a time. A loop is split into parts that
// any thread claims, the caller included: a worker that is slow to wake (a busy machine, a
// sleeping core) never holds the loop up, the caller runs its parts instead. Decode issues ~100
// short loops per token, so workers spin (CPU pause, then yielding) before they sleep; a pool
// whose loops come milliseconds apart (the server's sampling) sleeps at once instead, leaving
// the cores to the threads that run in between.
class ThreadPool {
public:
    explicit ThreadPool(int threads, bool spin = true);   // threads includes the caller
    ~ThreadPool();
    int size() const { return int(workers_.size()) + 1; }

    // Calls fn(part, parts) once for each part in [0, parts), parts = `threads` (all when 0),
    // on whichever threads claim them; returns when all parts are done. A part index is below
    // size(), so per-part scratch sized by size() is safe. Small loops use fewer parts.
    void run(const std::function<void(int, int)>& fn, int threads = 0);

    // From inside a part on a worker: once this thread has finished its parts of the loop, it
    // asks for [begin, begin + bytes) into its L2, a few KB at a time, until the next loop is
    // posted. Decode's next region: its weights stream while the caller runs the stages between
    // the two. Up to kIdleRanges ranges per loop; more are dropped.
    static void prefetch_when_idle(const uint8_t* begin, size_t bytes);
    static int thread_index();   // 0 on the calling thread, i on worker i (its own part is i % parts)
    static constexpr int kIdleRanges = 8;

private:
    // Each part has its own cache line, so claiming and finishing parts does not make every
    // thread contend for one shared counter (16 threads: two contended read-modify-writes per
    // part and loop, ~100 loops per token). Both fields hold the generation of the loop they
    // last saw the part claimed / finished in.
    struct alignas(64) PartSlot {
        std::atomic<uint64_t> claimed{0};
        std::atomic<uint64_t> done{0};
    };
    void worker_loop(int index);
    // Runs the parts of loop `generation` that no other thread has claimed, starting at part
    // `first` (a thread's own), so each thread usually takes its own part without a race.
    void run_parts(uint64_t generation, int parts, int first);
    void prefetch_until_next_loop(uint64_t generation);

    std::vector<std::thread> workers_;
    std::vector<PartSlot> slots_;       // size() of them
    const std::function<void(int, int)>* job_ = nullptr;
    // The current loop in one word: generation << 16 | parts. A part is claimed by raising its
    // slot's generation to the loop's, so a thread that wakes late (it saw an older loop) can
    // never claim a part of a newer loop; job_ is stable while any part is open.
    std::atomic<uint64_t> work_{0};
    std::atomic<bool> stop_{false};
    const bool spin_;
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
