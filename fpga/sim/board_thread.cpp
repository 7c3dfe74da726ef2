// SPDX-License-Identifier: Apache-2.0
#include "board_thread.h"

#include <utility>

namespace mmfa {

BoardThread::BoardThread() : thread_([this] { loop(); }) {}

BoardThread::~BoardThread() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void BoardThread::call(const std::function<void()>& job) {
    std::lock_guard serial(serial_);
    std::unique_lock lock(mu_);
    job_ = &job;
    done_ = false;
    error_ = nullptr;
    cv_.notify_all();
    cv_.wait(lock, [this] { return done_; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void BoardThread::loop() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return job_ || stop_; });
        if (!job_) return;
        const std::function<void()>* job = std::exchange(job_, nullptr);
        // The caller is blocked until done_, so the board state needs no lock while the job runs.
        lock.unlock();
        std::exception_ptr error;
        try {
            (*job)();
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        error_ = error;
        done_ = true;
        cv_.notify_all();
    }
}

} // namespace mmfa
