// SPDX-License-Identifier: Apache-2.0
#include "sample_rows.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <iterator>
#include <map>
#include <mutex>
#include <random>

#include "mmfree/scheduler.h"

namespace mmfree::testkit {

std::vector<SampleRows> hostile_sample_rows(uint64_t seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](const auto& options) { return options[std::uniform_int_distribution<size_t>(0, std::size(options) - 1)(rng)]; };
    const float temps[] = {0.0f, 0.05f, 0.7f, 1.0f, 1.6f};
    const uint32_t top_ks[] = {0, 0, 1, 2, 5, 40, 100000};
    const float top_ps[] = {1.0f, 1.0f, 0.1f, 0.5f, 0.9f, 0.95f, 0.999f};
    const float min_ps[] = {0.0f, 0.0f, 0.05f, 0.3f, 1.0f, 1.5f};
    std::vector<SampleRows> all;
    for (size_t V : {size_t(1), size_t(3), size_t(97), size_t(1000), size_t(32000)}) {
        const int rows = V == 32000 ? 24 : 64;
        SampleRows s;
        s.V = V;
        s.logits.resize(size_t(rows) * V);
        s.draws.resize(size_t(rows));
        for (int r = 0; r < rows; ++r) {
            float* row = &s.logits[size_t(r) * V];
            const float scale = std::uniform_real_distribution<float>(0.3f, 12.0f)(rng);
            std::normal_distribution<float> normal(0.0f, scale);
            const int kind = r % 8;
            for (size_t i = 0; i < V; ++i) {
                const float x = normal(rng);
                row[i] = kind == 1 ? std::round(x / scale * 2) : kind == 2 ? std::round(x / scale) * 0.0f - 0.0f * float(i % 2) : x;
            }
            if (kind == 3) row[rng() % V] = NAN;
            if (kind == 4) row[0] = NAN;
            if (kind == 5) row[rng() % V] = INFINITY;
            if (kind == 6) std::fill(row, row + V, -INFINITY);
            SamplingParams p;
            p.temperature = pick(temps);
            p.top_k = int(pick(top_ks));
            p.top_p = pick(top_ps);
            p.min_p = pick(min_ps);
            p.repetition_penalty = 1.0f;
            p.seed = rng();
            s.draws[size_t(r)] = Sampler(p).next_draw();
        }
        all.push_back(std::move(s));
    }
    return all;
}

std::string check_host_draws(const SampleRows& rows, const std::vector<int32_t>& got) {
    const Sampler host(SamplingParams{});
    if (got.size() != rows.draws.size())
        return std::to_string(got.size()) + " tokens for " + std::to_string(rows.draws.size()) + " rows";
    for (size_t r = 0; r < rows.draws.size(); ++r) {
        const sampling::Draw& d = rows.draws[r];
        const int32_t want = host.draw(&rows.logits[r * rows.V], rows.V, d);
        if (got[r] != want)
            return "V " + std::to_string(rows.V) + " row " + std::to_string(r) + " (1/T " + std::to_string(d.inv_temperature) + ", top_k " +
                   std::to_string(d.top_k) + ", top_p " + std::to_string(d.top_p) + "/2^24, min_p " + std::to_string(d.min_p) + "): " +
                   std::to_string(got[r]) + ", the host draws " + std::to_string(want);
    }
    return "";
}

std::string check_scheduled_draws(const std::function<std::unique_ptr<Executor>()>& make) {
    constexpr int kRequests = 6;
    auto run = [&](bool logprobs) {
        std::mutex mu;
        std::condition_variable cv;
        std::map<int, std::vector<int32_t>> finished;
        {
            auto executor = make();
            const int V = executor->model().config.vocab_size;
            Scheduler sched(std::move(executor), nullptr);
            for (int i = 0; i < kRequests; ++i) {
                Request r;
                for (int t = 0; t < 3 + 5 * i; ++t) r.prompt.push_back(int32_t((t * 31 + i * 7 + 1) % V));
                r.options.max_tokens = 6 + 3 * i;
                r.options.stop_at_eos = false;
                SamplingParams& p = r.options.sampling;
                p = SamplingParams{};
                p.repetition_penalty = 1.0f;
                p.temperature = i == 0 ? 0.0f : 0.4f + 0.3f * float(i);
                p.top_k = i == 2 ? 7 : 0;
                p.top_p = i == 3 || i == 5 ? 0.8f : 1.0f;
                p.min_p = i == 4 || i == 5 ? 0.1f : 0.0f;
                p.seed = 1000 + uint64_t(i);
                r.logprobs = logprobs;
                r.on_finish = [&, i](const FinishEvent& f) {
                    std::lock_guard lock(mu);
                    finished[i] = f.tokens;
                    cv.notify_all();
                };
                sched.submit(std::move(r));
            }
            std::unique_lock lock(mu);
            cv.wait_for(lock, std::chrono::seconds(120), [&] { return finished.size() == kRequests; });
        }
        return finished;
    };
    const auto device = run(false), host = run(true);
    if (device.size() != kRequests || host.size() != kRequests)
        return std::to_string(device.size()) + " / " + std::to_string(host.size()) + " of " + std::to_string(kRequests) + " requests finished";
    for (int i = 0; i < kRequests; ++i) {
        if (device.at(i).size() != size_t(6 + 3 * i))
            return "request " + std::to_string(i) + ": " + std::to_string(device.at(i).size()) + " tokens, want " + std::to_string(6 + 3 * i);
        if (device.at(i) != host.at(i)) return "request " + std::to_string(i) + " differs between device and host draws";
    }
    return {};
}

} // namespace mmfree::testkit
