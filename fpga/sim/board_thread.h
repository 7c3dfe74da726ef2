// SPDX-License-Identifier: Apache-2.0
// The simulated board's own thread. The Verilated model is created, clocked and destroyed only
// there; a host call posts its work and waits for it (exceptions included), so the caller (the
// app's engine worker) only ever waits on the board, as it would on real hardware. One call at a
// time keeps the simulation deterministic: the clock still advances only inside calls.
#pragma once
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>

namespace mmfa {

class BoardThread {
public:
    BoardThread();
    ~BoardThread();
    BoardThread(const BoardThread&) = delete;
    BoardThread& operator=(const BoardThread&) = delete;

    // Runs f on the board thread and returns its result; rethrows what f threw.
    template <class F> auto run(F&& f) -> std::invoke_result_t<F&> {
        using R = std::invoke_result_t<F&>;
        if constexpr (std::is_void_v<R>) {
            call(f);
        } else {
            R result{};
            call([&] { result = f(); });
            return result;
        }
    }
    std::thread::id id() const { return thread_.get_id(); }

private:
    void call(const std::function<void()>& job);
    void loop();

    std::mutex serial_;   // one host call at a time, whichever thread it comes from
    std::mutex mu_;
    std::condition_variable cv_;
    const std::function<void()>* job_ = nullptr;
    std::exception_ptr error_;
    bool done_ = false, stop_ = false;
    std::thread thread_;   // last: starts after the state above exists
};

} // namespace mmfa
