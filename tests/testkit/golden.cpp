// SPDX-License-Identifier: Apache-2.0
#include "golden.h"

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <sstream>

#include "format/safetensors.h"
#include "mmfree/sampler.h"

namespace mmfree::testkit {

std::vector<std::string> golden_case_names() { return {"tiny-a", "tiny-b", "tiny-c-bf16"}; }

template <class T> static std::vector<T> read(const TensorSet& ts, const std::string& name) {
    const TensorView* t = ts.find(name);
    if (!t) throw std::runtime_error("expected.safetensors lacks " + name);
    std::vector<T> v(size_t(t->elements()));
    std::memcpy(v.data(), t->data, t->nbytes);
    return v;
}

GoldenCase load_golden(const std::string& name) {
    GoldenCase g;
    g.name = name;
    g.dir = std::string(MMFREE_TEST_DATA) + "/" + name;
    g.model = load_model(g.dir);
    TensorSet ts = TensorSet::open_file(g.dir + "/expected.safetensors");
    g.prompt = read<int32_t>(ts, "prompt");
    g.prefill_logits = read<float>(ts, "prefill_logits");
    g.hidden_states = read<float>(ts, "hidden_states");
    g.greedy_tokens = read<int32_t>(ts, "greedy_tokens");
    g.decode_logits = read<float>(ts, "decode_logits");
    g.full_logits = read<float>(ts, "full_logits");
    g.V = g.model->config.vocab_size;
    g.T = int(g.prompt.size());
    return g;
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < ref.size() && i < a.size(); ++i) {
        num += double(a[i] - ref[i]) * (a[i] - ref[i]);
        den += double(ref[i]) * ref[i];
    }
    if (a.size() != ref.size()) return INFINITY;
    return std::sqrt(num / std::max(den, 1e-30));
}

double argmax_agreement(const std::vector<float>& a, const std::vector<float>& ref, int V) {
    const size_t rows = ref.size() / size_t(V);
    size_t same = 0;
    for (size_t r = 0; r < rows; ++r) {
        const float* ra = &a[r * V];
        const float* rr = &ref[r * V];
        const int32_t mine = argmax(ra, V), theirs = argmax(rr, V);
        // An exact tie in our logits (identical ternary rows give identical sums) may be split
        // either way by the reference's float summation order: tiny-c-bf16's BOS row has its top
        // two logits 6e-8 apart. A choice within 1e-6 of the reference's best counts as agreement.
        float scale = 0;
        for (int v = 0; v < V; ++v) scale = std::max(scale, std::fabs(rr[v]));
        same += mine == theirs || rr[mine] >= rr[theirs] - 1e-6f * std::max(scale, 1.0f);
    }
    return rows ? double(same) / double(rows) : 1.0;
}

std::string check_tolerance(const std::vector<float>& got, const std::vector<float>& ref, int V, const std::string& what) {
    if (got.size() != ref.size())
        return what + ": size " + std::to_string(got.size()) + " != expected " + std::to_string(ref.size());
    const double e = rel_l2(got, ref), agree = argmax_agreement(got, ref, V);
    if (e <= 2e-2 && agree >= 0.95) return {};
    std::ostringstream ss;
    ss << what << ": rel L2 " << e << " (limit 2e-2), argmax agreement " << agree * 100 << "% (limit 95%)";
    return ss.str();
}

std::map<std::string, double> metrics_of(Executor& ex) {
    std::map<std::string, double> m;
    for (const auto& [k, v] : ex.diagnostics().extra_metrics()) m[k] = v;
    return m;
}

std::string check_executor(Executor& ex, const GoldenCase& g) {
    const int V = g.V;
    ex.reset_state();
    std::vector<float> prefill(size_t(g.T) * V);
    ex.forward(g.prompt.data(), g.prompt.size(), prefill.data(), true);
    if (auto err = check_tolerance(prefill, g.prefill_logits, V, g.name + " prefill_logits"); !err.empty()) return err;

    // Greedy decoding through the recurrent path, one token per step.
    const std::vector<float> after_prompt = ex.save_state();
    std::vector<int32_t> greedy = {argmax(&prefill[size_t(g.T - 1) * V], V)};
    std::vector<float> decode, row(V);
    for (size_t i = 1; i < g.greedy_tokens.size(); ++i) {
        ex.forward(&greedy.back(), 1, row.data(), false);
        decode.insert(decode.end(), row.begin(), row.end());
        greedy.push_back(argmax(row.data(), V));
    }
    if (greedy != g.greedy_tokens) {
        std::ostringstream ss;
        ss << g.name << ": greedy tokens differ:";
        for (size_t i = 0; i < greedy.size(); ++i)
            if (greedy[i] != g.greedy_tokens[i]) ss << " step " << i << " got " << greedy[i] << " want " << g.greedy_tokens[i] << ";";
        return ss.str();
    }
    if (auto err = check_tolerance(decode, g.decode_logits, V, g.name + " decode_logits"); !err.empty()) return err;

    // Teacher-forced: restore the post-prompt state and feed the golden tokens one by one.
    ex.load_state(after_prompt);
    std::vector<float> forced(prefill);
    for (size_t i = 0; i < g.greedy_tokens.size(); ++i) {
        ex.forward(&g.greedy_tokens[i], 1, row.data(), false);
        forced.insert(forced.end(), row.begin(), row.end());
    }
    if (auto err = check_tolerance(forced, g.full_logits, V, g.name + " teacher-forced full_logits"); !err.empty()) return err;
    return {};
}

std::string check_prefill_many(Executor& batched, const std::vector<std::vector<int32_t>>& prompts, size_t first_round,
                               const std::function<std::unique_ptr<Executor>()>& alone, bool alone_in_rounds) {
    const size_t n = prompts.size(), V = size_t(batched.model().config.vocab_size);
    std::vector<size_t> fed(n, 0);
    for (int round = 0; round < 2; ++round) {
        std::vector<PromptPiece> pieces;
        for (size_t i = n; i-- > 0;) {
            const size_t rest = prompts[i].size() - 1 - fed[i];
            const size_t take = round == 0 ? std::min(rest, first_round) : rest;
            if (take == 0) continue;
            pieces.push_back({int(i), &prompts[i][fed[i]], take});
            fed[i] += take;
        }
        batched.prefill_many(pieces);
    }
    std::vector<int32_t> ids(n), last(n);
    for (size_t i = 0; i < n; ++i) {
        ids[i] = int32_t(i);
        last[i] = prompts[i].back();
    }
    std::vector<std::vector<float>> states;
    for (size_t i = 0; i < n; ++i) states.push_back(batched.save_slot(int(i)));
    std::vector<float> logits(n * V), row(n * V);
    batched.decode(ids.data(), last.data(), n, logits.data(), nullptr);
    for (size_t i = 0; i < n; ++i) {
        auto ex = alone();
        const size_t fed_alone = alone_in_rounds ? std::min(prompts[i].size() - 1, first_round) : 0;
        if (fed_alone) ex->prefill(int(i), prompts[i].data(), fed_alone, nullptr, false);
        ex->prefill(int(i), prompts[i].data() + fed_alone, prompts[i].size() - 1 - fed_alone, nullptr, false);
        if (ex->save_slot(int(i)) != states[i]) return "state of prompt " + std::to_string(i) + " differs from the prompt alone";
        ex->decode(ids.data(), last.data(), n, row.data(), nullptr);
        if (std::memcmp(&row[i * V], &logits[i * V], V * sizeof(float)) != 0)
            return "logits of prompt " + std::to_string(i) + " differ from the prompt alone";
    }
    return {};
}

std::string check_decode_logits(const std::function<std::unique_ptr<Executor>()>& make, int slots) {
    auto a = make(), b = make();
    const size_t V = size_t(a->model().config.vocab_size);
    std::vector<float> want;
    for (int n : {1, 3, slots}) {
        std::vector<int32_t> ids(static_cast<size_t>(n)), tokens(static_cast<size_t>(n));
        for (int r = 0; r < n; ++r) {
            ids[size_t(r)] = slots - 1 - r;
            tokens[size_t(r)] = int32_t((r * 37 + n) % int(V));
        }
        want.assign(size_t(n) * V, 0.f);
        a->decode(ids.data(), tokens.data(), size_t(n), want.data(), nullptr);
        const float* got = b->decode_logits(ids.data(), tokens.data(), size_t(n));
        if (std::memcmp(got, want.data(), want.size() * sizeof(float)) != 0)
            return "decode_logits of " + std::to_string(n) + " rows differs from decode's logits";
    }
    return {};
}

std::string check_decode_sample(const std::function<std::unique_ptr<Executor>()>& make, int slots) {
    auto a = make(), b = make();
    const size_t V = size_t(a->model().config.vocab_size);
    std::mt19937_64 rng(7);
    Sampler host(SamplingParams{});
    for (int step = 0; step < 6; ++step) {
        const int n = step % 3 == 0 ? 1 : step % 3 == 1 ? 3 : slots;
        std::vector<int32_t> ids(static_cast<size_t>(n)), tokens(static_cast<size_t>(n)), got(static_cast<size_t>(n));
        std::vector<sampling::Draw> draws(static_cast<size_t>(n));
        for (int r = 0; r < n; ++r) {
            ids[size_t(r)] = slots - 1 - r;
            tokens[size_t(r)] = int32_t((r * 37 + n + step) % int(V));
            sampling::Draw& d = draws[size_t(r)];
            if ((r + step) % 5 == 0) continue;   // greedy
            d.inv_temperature = 1.0f / (0.3f + 0.25f * float((r + step) % 6));
            d.top_k = (r + step) % 4 == 1 ? uint32_t(1 + r % 9) : 0u;
            d.top_p = (r + step) % 3 == 2 ? sampling::top_p_units(0.5f + 0.1f * float(r % 5)) : sampling::Draw::kTopPOne;
            d.min_p = r % 2 ? 0.02f * float(step + 1) : 0.0f;
            d.u = rng();
        }
        const float* logits = a->decode_logits(ids.data(), tokens.data(), size_t(n));
        b->decode_sample(ids.data(), tokens.data(), size_t(n), draws.data(), got.data());
        for (int r = 0; r < n; ++r) {
            const int32_t want = host.draw(logits + size_t(r) * V, V, draws[size_t(r)]);
            if (got[size_t(r)] != want)
                return "decode_sample step " + std::to_string(step) + " row " + std::to_string(r) + ": token " +
                       std::to_string(got[size_t(r)]) + ", the host draws " + std::to_string(want);
        }
    }
    return {};
}

} // namespace mmfree::testkit
