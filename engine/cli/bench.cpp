// SPDX-License-Identifier: Apache-2.0
// `mmfree bench`: prompt processing (pp512) and generation (tg128) like llama-bench, plus the
// streaming-read bandwidth of the weights' memory measured in the same run, as one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <mutex>
#include <random>
#include <sys/resource.h>

#include "args.h"
#include "mmfree/model.h"
#include "mmfree/session.h"
#include "mmfree/telemetry.h"

namespace mmfree::cli {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

size_t peak_rss_bytes() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return size_t(ru.ru_maxrss) * 1024;
}

// "1,8,64,256" → {1, 8, 64, 256}; each at least 1.
std::vector<int> parse_batch_sizes(const std::string& csv) {
    std::vector<int> out;
    for (int32_t v : parse_ids(csv)) {
        if (v < 1 || v > 4096) throw Error(ErrorCode::InvalidArgument, "--batch takes sizes from 1 to 4096, e.g. --batch 1,8,64,256");
        out.push_back(int(v));
    }
    if (out.empty()) throw Error(ErrorCode::InvalidArgument, "--batch needs at least one size, e.g. --batch 1,8,64,256");
    return out;
}

} // namespace

int cmd_bench(const Args& a) {
    a.allow_only({"-m", "--model", "--synthetic", "--backend", "--device", "--threads", "--cpu-weights", "--profile", "--power", "--pp", "--tg", "--reps",
                  "--batch"});
    const int pp = a.get_int("--pp", 512), tg = a.get_int("--tg", 128), reps = a.get_int("--reps", 3);
    if (pp < 1 || tg < 2 || reps < 1) throw Error(ErrorCode::InvalidArgument, "--pp ≥ 1, --tg ≥ 2 and --reps ≥ 1");
    const std::vector<int> batches = a.has("--batch") ? parse_batch_sizes(a.get("--batch")) : std::vector<int>{};

    const auto t_load = Clock::now();
    std::shared_ptr<const Model> model;
    std::string name;
    if (a.has("--synthetic")) {
        name = a.get("--synthetic");
        model = make_synthetic_model(release_config(name));
        name = "synthetic-" + name;
    } else {
        const std::string path = model_path(a).string();   // -m, else the default model
        model = load_model(path);
        name = path;
    }
    const double load_s = seconds_since(t_load);

    std::string note;
    BackendOptions backend = backend_from(a);
    for (int b : batches) backend.slot_count = std::max(backend.slot_count, b);
    auto exec = create_executor(model, backend, &note);
    if (!note.empty()) std::fprintf(stderr, "mmfree: %s\n", note.c_str());
    Session session(std::move(exec));
    Executor& ex = session.executor();
    const int V = model->config.vocab_size;
    std::mt19937 rng(42);
    std::vector<int32_t> prompt(static_cast<size_t>(pp));
    for (auto& t : prompt) t = int32_t(rng() % uint32_t(V));

    // Warm-up: first-touch page faults, pipeline creation, clocks ramping up.
    session.reset();
    session.prefill(std::vector<int32_t>(prompt.begin(), prompt.begin() + std::min(pp, 16)));
    ex.forward_argmax(prompt[0]);

    // --power: probes sampled on their own thread during the generation runs only.
    std::unique_ptr<telemetry::PowerSampler> power;
    std::vector<telemetry::UnavailableProbe> power_unavailable;
    std::mutex board_mutex;
    std::vector<std::pair<std::string, double>> board_snapshot;   // extra_metrics(), read between runs
    auto refresh_board = [&] {
        if (!power) return;
        auto m = ex.diagnostics().extra_metrics();   // on this thread: the executor is not shared with the sampler
        std::lock_guard lock(board_mutex);
        board_snapshot = std::move(m);
    };
    // The probes for this executor; the board's sensors come from the snapshot refresh_board keeps.
    auto find_probes = [&] {
        telemetry::ProbeOptions po;
        po.backend_name = ex.backend_name();
        po.board_metrics = [&] { std::lock_guard lock(board_mutex); return board_snapshot; };
        return telemetry::find_power_probes(po);
    };
    if (a.has("--power")) {
        board_snapshot = ex.diagnostics().extra_metrics();
        telemetry::Probes probes = find_probes();
        power_unavailable = std::move(probes.unavailable);
        power = std::make_unique<telemetry::PowerSampler>(std::move(probes.available), 20);
    }

    std::vector<double> pp_rates, tg_rates;
    StageTimes stage_sum, prefill_sum;   // --profile: decode per token, prefill per prompt
    int stage_count = 0, prefill_count = 0;
    auto add_stages = [](StageTimes& sum, const StageTimes& s) {
        sum.norm_quant_us += s.norm_quant_us; sum.bitlinear_us += s.bitlinear_us;
        sum.mlgru_us += s.mlgru_us; sum.lm_head_us += s.lm_head_us;
        sum.valid = s.valid;
    };
    // A sum of n stage splits as their mean, in microseconds / unit.
    auto stages_json = [](const StageTimes& sum, int n, double unit) {
        return nlohmann::json{{"norm_quant", sum.norm_quant_us / n / unit},
                              {"bitlinear", sum.bitlinear_us / n / unit},
                              {"mlgru", sum.mlgru_us / n / unit},
                              {"lm_head", sum.lm_head_us / n / unit}};
    };
    for (int r = 0; r < reps; ++r) {
        session.reset();
        auto t0 = Clock::now();
        session.prefill(prompt);
        pp_rates.push_back(pp / seconds_since(t0));
        if (a.has("--profile") && ex.last_stage_times().valid) {
            add_stages(prefill_sum, ex.last_stage_times());
            ++prefill_count;
        }

        session.reset();
        int32_t tok = prompt[0];
        refresh_board();
        if (power) power->resume();
        t0 = Clock::now();
        for (int i = 0; i < tg; ++i) {
            tok = ex.forward_argmax(tok);
            if (a.has("--profile")) {
                add_stages(stage_sum, ex.last_stage_times());
                ++stage_count;
            }
        }
        tg_rates.push_back(tg / seconds_since(t0));
        refresh_board();
        if (power) power->pause();
    }
    // --batch: B sequences advancing together, one token each per step (the continuous-batching
    // decode), tg steps per rep; greedy, argmax only (no logits read-back), as tg above; then
    // sampled on the device where the backend can.
    nlohmann::json batch_results = nlohmann::json::array();
    for (int B : batches) {
        std::vector<int32_t> slot_ids(static_cast<size_t>(B)), tokens(static_cast<size_t>(B)), next(static_cast<size_t>(B));
        for (int b = 0; b < B; ++b) {
            slot_ids[size_t(b)] = b;
            tokens[size_t(b)] = prompt[size_t(b) % prompt.size()];
        }
        std::unique_ptr<telemetry::PowerSampler> batch_power;
        if (a.has("--power")) batch_power = std::make_unique<telemetry::PowerSampler>(find_probes().available, 20);
        for (int b = 0; b < B; ++b) ex.reset_slot(b);
        ex.decode(slot_ids.data(), tokens.data(), size_t(B), nullptr, next.data());   // warm-up: pipelines for this B
        std::vector<double> rates;
        StageTimes step_sum;   // --profile: where a step of B goes
        int steps = 0;
        for (int r = 0; r < reps; ++r) {
            for (int b = 0; b < B; ++b) ex.reset_slot(b);
            refresh_board();
            if (batch_power) batch_power->resume();
            const auto t0 = Clock::now();
            for (int i = 0; i < tg; ++i) {
                ex.decode(slot_ids.data(), tokens.data(), size_t(B), nullptr, next.data());
                tokens.swap(next);
                if (a.has("--profile") && ex.last_stage_times().valid) {
                    add_stages(step_sum, ex.last_stage_times());
                    ++steps;
                }
            }
            rates.push_back(double(B) * tg / seconds_since(t0));
            refresh_board();
            if (batch_power) batch_power->pause();
        }
        const double aggregate = median(rates);
        nlohmann::json entry{{"batch", B},
                             {"aggregate_tok_s", aggregate},
                             {"per_stream_tok_s", aggregate / B},
                             {"aggregate_tok_s_all", rates},
                             {"device_memory_bytes", ex.device_memory_bytes()}};
        if (steps > 0) entry["stages_us_per_step"] = stages_json(step_sum, steps, 1.0);
        // The same steps with every row drawn as a chat client samples (T 0.7, top-p 0.95, the
        // whole vocabulary), where the backend draws on the device: what its sampler costs.
        if (ex.samples_on_device()) {
            std::vector<Sampler> samplers;
            for (int b = 0; b < B; ++b) {
                SamplingParams sp;
                sp.temperature = 0.7f; sp.top_p = 0.95f; sp.top_k = 0; sp.min_p = 0; sp.repetition_penalty = 1;
                sp.seed = uint64_t(b);
                samplers.emplace_back(sp);
            }
            std::vector<sampling::Draw> draws(static_cast<size_t>(B));
            std::vector<double> sampled;
            for (int r = 0; r < reps; ++r) {
                for (int b = 0; b < B; ++b) ex.reset_slot(b);
                const auto t0 = Clock::now();
                for (int i = 0; i < tg; ++i) {
                    for (int b = 0; b < B; ++b) draws[size_t(b)] = samplers[size_t(b)].next_draw();
                    ex.decode_sample(slot_ids.data(), tokens.data(), size_t(B), draws.data(), next.data());
                    tokens.swap(next);
                }
                sampled.push_back(double(B) * tg / seconds_since(t0));
            }
            entry["sampled_aggregate_tok_s"] = median(sampled);
        }
        if (batch_power) {
            // The first probe that measured: J/token over the batch runs' tokens.
            nlohmann::json jpt = "not available";
            for (const auto& f : batch_power->figures())
                if (f.counted_s > 0 && f.samples >= 2)
                    if (const auto v = telemetry::joules_per_token(f.energy_j, double(B) * tg * reps)) {
                        jpt = *v;
                        entry["power_probe"] = f.name;
                        break;
                    }
            entry["j_per_token"] = jpt;
        }
        batch_results.push_back(entry);
    }

    const size_t peak_rss = peak_rss_bytes();  // before the bandwidth probe's 1 GiB buffer
    const double bandwidth = ex.diagnostics().measure_read_bandwidth_gb_s();
    // The synchronization floor for the hand-overs a token needs: the H-long inputs (i/f/g, o,
    // gate/up, lm_head) and down_proj's (I floats: gate/up hands over silu(gate)·up).
    const auto& cfg = model->config;
    const double floor_h = ex.diagnostics().measure_step_floor_us(cfg.hidden_size);
    const double floor_i = floor_h > 0 ? ex.diagnostics().measure_step_floor_us(cfg.intermediate_size) : 0.0;
    const double tg_med = median(tg_rates);
    const size_t wbpt = model->weight_bytes_per_token();
    // What decode really streams: a backend with its own weight layout (the CPU's 1.6-bit copy)
    // says so in its metrics; otherwise the model's packed 2-bit codes.
    const auto extra = ex.diagnostics().extra_metrics();
    double bits_per_weight = 2.0;
    size_t bytes_read = wbpt;
    for (const auto& [k, v] : extra) {
        if (k == "bits_per_weight") bits_per_weight = v;
        if (k == "weight_bytes_read_per_token") bytes_read = size_t(v);
    }
    const double decode_gb_s = double(bytes_read) * tg_med / 1e9;

    nlohmann::json j;
    j["backend"] = ex.backend_name();
    j["device"] = ex.device_name();
    j["model"] = name;
    j["parameters"] = model->parameter_count();
    j["load_s"] = load_s;
    j["reps"] = reps;
    j["pp" + std::to_string(pp) + "_tok_s"] = median(pp_rates);
    j["tg" + std::to_string(tg) + "_tok_s"] = tg_med;
    j["pp_tok_s_all"] = pp_rates;
    j["tg_tok_s_all"] = tg_rates;
    j["weight_bytes_per_token"] = wbpt;   // the model's 2-bit codes
    if (ex.backend_name() == "cpu") j["cpu_weights"] = bits_per_weight < 1.9 ? "1.6bit" : "2bit";
    j["bits_per_weight"] = bits_per_weight;
    j["weight_bytes_read_per_token"] = bytes_read;
    j["decode_gb_s"] = decode_gb_s;
    j["bandwidth_gb_s"] = bandwidth;
    j["decode_pct_of_bandwidth"] = bandwidth > 0 ? 100.0 * decode_gb_s / bandwidth : 0.0;
    if (floor_h > 0) {
        j["step_floor_us"] = {{std::to_string(cfg.hidden_size), floor_h}, {std::to_string(cfg.intermediate_size), floor_i}};
        // 4 hand-overs per layer and one to lm_head, nothing else: the decode speed no kernel
        // that keeps one grid-wide step per BitLinear can exceed on this device.
        const double floor_token_us = cfg.num_layers * (3 * floor_h + floor_i) + floor_h;
        j["step_floor_decode_ceiling_tok_s"] = 1e6 / floor_token_us;
    }
    if (!batches.empty()) j["batches"] = batch_results;
    j["peak_rss_bytes"] = peak_rss;
    j["device_memory_bytes"] = ex.device_memory_bytes();
    if (a.has("--profile")) {
        if (stage_count && stage_sum.valid) {
            j["stages_us_per_token"] = stages_json(stage_sum, stage_count, 1.0);
        } else {
            j["stages_us_per_token"] = "not measured by this backend";
        }
        // The whole prompt's device time per stage (profiling adds a timestamp per dispatch).
        if (prefill_count) j["prefill_stages_ms"] = stages_json(prefill_sum, prefill_count, 1e3);
    }
    if (power) {
        // One entry per probe: figures over the generation runs (tg × reps tokens), or why not.
        const double tokens = double(tg) * reps;
        nlohmann::json list = nlohmann::json::array();
        for (const auto& f : power->figures()) {
            nlohmann::json p{{"probe", f.name}, {"device", f.device}, {"power_source", f.source}};
            if (f.counted_s > 0 && f.samples >= 2) {
                p["power_w"] = f.average_watts.value_or(0.0);
                p["energy_j"] = f.energy_j;
                const auto jpt = telemetry::joules_per_token(f.energy_j, tokens);
                const auto tpj = telemetry::tokens_per_joule(f.energy_j, tokens);
                p["j_per_token"] = jpt ? nlohmann::json(*jpt) : nlohmann::json("not available");
                p["tokens_per_j"] = tpj ? nlohmann::json(*tpj) : nlohmann::json("not available");
                p["seconds"] = f.counted_s;
                p["samples"] = f.samples;
            } else {
                p["power_w"] = "not available";
                p["reason"] = f.error.empty() ? "no readings during the run" : f.error;
            }
            list.push_back(p);
        }
        for (const auto& u : power_unavailable)
            list.push_back({{"probe", u.name}, {"power_source", "not available"}, {"reason", u.reason}});
        j["power"] = list;
    }
    for (const auto& [k, v] : extra)
        if (!j.contains(k)) j[k] = v;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
}

} // namespace mmfree::cli
