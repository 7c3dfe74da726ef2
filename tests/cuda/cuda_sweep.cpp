// SPDX-License-Identifier: Apache-2.0
// Tuning sweep for the CUDA backend on a GPU machine (not a CTest test): builds each synthetic
// release model once and times decode and prefill-512 for several kernel settings, which the
// executor reads from the environment when it is created. Prints one line per setting.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mmfree/backend.h"
#include "mmfree/model.h"

using namespace mmfree;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
    std::vector<std::string> sizes;
    for (int i = 1; i < argc; ++i) sizes.push_back(argv[i]);
    if (sizes.empty()) sizes = {"370M", "1.3B", "2.7B"};
    // "prefetch:blocks[:stage_kb],…"; blocks 0 = default, stage_kb absent = default
    const char* variants_env = std::getenv("SWEEP");
    const std::string variants = variants_env ? variants_env : "0:0,0:132,0:0:0";
    for (const auto& size : sizes) {
        auto t0 = Clock::now();
        auto model = make_synthetic_model(release_config(size));
        std::printf("# %s: synthetic model in %.1f s, %.1f MB packed\n", size.c_str(), seconds_since(t0), model->packed_weight_bytes() / 1e6);
        const int V = model->config.vocab_size;
        std::vector<int32_t> prompt(512);
        for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = int32_t((i * 7919 + 13) % size_t(V));
        size_t pos = 0;
        while (pos < variants.size()) {
            size_t end = variants.find(',', pos);
            if (end == std::string::npos) end = variants.size();
            const std::string v = variants.substr(pos, end - pos);
            pos = end + 1;
            const auto colon = v.find(':'), colon2 = colon == std::string::npos ? colon : v.find(':', colon + 1);
            setenv("MMFREE_CUDA_PREFETCH", v.substr(0, colon).c_str(), 1);
            const std::string blocks = colon == std::string::npos ? "0" : v.substr(colon + 1, colon2 - colon - 1);
            if (blocks != "0") setenv("MMFREE_CUDA_BLOCKS", blocks.c_str(), 1);
            else unsetenv("MMFREE_CUDA_BLOCKS");
            if (colon2 != std::string::npos) setenv("MMFREE_CUDA_STAGE_KB", v.substr(colon2 + 1).c_str(), 1);
            else unsetenv("MMFREE_CUDA_STAGE_KB");
            BackendOptions o;
            o.backend = "cuda";
            o.allow_fallback = false;
            try {
                auto ex = create_executor(model, o);
                std::vector<float> logits(static_cast<size_t>(V));
                ex->forward(prompt.data(), 16, logits.data(), false);
                int32_t tok = ex->forward_argmax(prompt[0]);
                std::vector<double> tg, pp;
                for (int r = 0; r < 3; ++r) {
                    ex->reset_state();
                    auto t = Clock::now();
                    ex->forward(prompt.data(), prompt.size(), logits.data(), false);
                    pp.push_back(prompt.size() / seconds_since(t));
                    ex->reset_state();
                    t = Clock::now();
                    for (int i = 0; i < 256; ++i) tok = ex->forward_argmax(tok);
                    tg.push_back(256 / seconds_since(t));
                }
                std::sort(tg.begin(), tg.end());
                std::sort(pp.begin(), pp.end());
                double extra_blocks = 0;
                for (auto& [k, val] : ex->diagnostics().extra_metrics())
                    if (k == "cuda_decode_blocks") extra_blocks = val;
                std::printf("%-5s %-10s blocks %3.0f  decode %8.0f tok/s (%.1f us/tok)  pp512 %8.0f tok/s\n", size.c_str(), v.c_str(),
                            extra_blocks, tg[1], 1e6 / tg[1], pp[1]);
                std::fflush(stdout);
                // Where a layer phase's time goes (per-block timeline of the profiling path).
                ex.reset();
                o.profile = true;
                auto pex = create_executor(model, o);
                for (int i = 0; i < 64; ++i) tok = pex->forward_argmax(tok);
                std::printf("%-5s %-10s phase ns:", size.c_str(), v.c_str());
                for (auto& [k, val] : pex->diagnostics().extra_metrics())
                    if (k.rfind("cuda_decode_phase_", 0) == 0 || k == "cuda_decode_lm_head_ns" || k == "cuda_decode_ns_per_cycle" ||
                        k == "cuda_decode_token_us")
                        std::printf(" %s %.1f", k.substr(k.rfind("cuda_decode_phase_", 0) == 0 ? 18 : 12).c_str(), val);
                std::printf("\n");
            } catch (const std::exception& e) {
                std::printf("%-5s %s: %s\n", size.c_str(), v.c_str(), e.what());
            }
            std::fflush(stdout);
        }
        // Stage split of prefill, from the profiling path.
        unsetenv("MMFREE_CUDA_BLOCKS");
        unsetenv("MMFREE_CUDA_STAGE_KB");
        setenv("MMFREE_CUDA_PREFETCH", "0", 1);
        BackendOptions o;
        o.backend = "cuda";
        o.allow_fallback = false;
        o.profile = true;
        auto ex = create_executor(model, o);
        std::vector<float> logits(static_cast<size_t>(V));
        ex->forward(prompt.data(), prompt.size(), logits.data(), false);
        ex->reset_state();
        ex->forward(prompt.data(), prompt.size(), logits.data(), false);
        const StageTimes p = ex->last_stage_times();
        std::printf("%-5s prefill-512 stages ms: norm_quant %.2f gemm %.2f scan %.2f lm_head %.2f total %.2f\n", size.c_str(),
                    p.norm_quant_us / 1e3, p.bitlinear_us / 1e3, p.mlgru_us / 1e3, p.lm_head_us / 1e3, p.total_us() / 1e3);
        std::printf("%-5s read bandwidth %.0f GB/s\n", size.c_str(), ex->diagnostics().measure_read_bandwidth_gb_s());
        std::fflush(stdout);
    }
    return 0;
}
