// SPDX-License-Identifier: Apache-2.0
// llama-speed: llama.cpp's prompt processing (pp) and greedy decode (tg) speed on the CPU, measured
// over libllama directly (no Node in the loop), the way `mmfree bench` measures ours: random prompt
// tokens, empty cache before each run, medians of --reps runs after one warm-up. Prints JSON.
// Usage: llama-speed MODEL.gguf [--pp 512] [--tg 128] [--reps 3] [--threads N] [--backends DIR]
#include <ggml-backend.h>
#include <llama.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int by_value(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static double median(double* v, int n) {
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void quiet(enum ggml_log_level level, const char* text, void* user) {
    (void)user;
    if (level >= GGML_LOG_LEVEL_WARN) fputs(text, stderr);
}

static bool no_progress_dots(float progress, void* user) {
    (void)progress;
    (void)user;
    return true;
}

static void must_decode(struct llama_context* ctx, struct llama_batch batch) {
    if (llama_decode(ctx, batch) != 0) {
        fprintf(stderr, "llama-speed: llama_decode failed\n");
        exit(1);
    }
}

// The whole prompt in one llama_decode call (split into ubatches by llama.cpp as it likes).
static double prefill_tok_s(struct llama_context* ctx, llama_token* prompt, int pp) {
    llama_memory_clear(llama_get_memory(ctx), true);
    const double t0 = now_s();
    must_decode(ctx, llama_batch_get_one(prompt, pp));
    llama_synchronize(ctx);
    return pp / (now_s() - t0);
}

// One token per step, each the argmax of the previous step's logits, as `mmfree bench` decodes.
static double decode_tok_s(struct llama_context* ctx, llama_token first, int tg, int vocab) {
    llama_memory_clear(llama_get_memory(ctx), true);
    llama_token tok = first;
    const double t0 = now_s();
    for (int i = 0; i < tg; ++i) {
        must_decode(ctx, llama_batch_get_one(&tok, 1));
        const float* logits = llama_get_logits_ith(ctx, -1);
        int best = 0;
        for (int v = 1; v < vocab; ++v) if (logits[v] > logits[best]) best = v;
        tok = best;
    }
    return tg / (now_s() - t0);
}

// Which of the prebuilt CPU variants ggml chose (libggml-cpu-zen4.so, …-sapphirerapids.so, …).
static void loaded_cpu_variant(char* name, size_t size) {
    snprintf(name, size, "unknown");
    FILE* maps = fopen("/proc/self/maps", "r");
    if (!maps) return;
    char line[4096];
    while (fgets(line, sizeof line, maps)) {
        const char* lib = strstr(line, "libggml-cpu-");
        if (!lib) continue;
        snprintf(name, size, "%.*s", (int)strcspn(lib, "\n"), lib);
        break;
    }
    fclose(maps);
}

int main(int argc, char** argv) {
    const char* model_path = NULL;
    const char* backends = NULL;
    int pp = 512, tg = 128, reps = 3, threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (a[0] != '-') { model_path = a; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "llama-speed: %s needs a value\n", a); return 2; }
        const char* v = argv[++i];
        if (!strcmp(a, "--pp")) pp = atoi(v);
        else if (!strcmp(a, "--tg")) tg = atoi(v);
        else if (!strcmp(a, "--reps")) reps = atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--backends")) backends = v;
        else { fprintf(stderr, "llama-speed: unknown option %s\n", a); return 2; }
    }
    if (!model_path || pp < 1 || tg < 1 || reps < 1 || reps > 100 || threads < 1) {
        fprintf(stderr, "usage: llama-speed MODEL.gguf [--pp 512] [--tg 128] [--reps 3] [--threads N] [--backends DIR]\n");
        return 2;
    }

    llama_log_set(quiet, NULL);
    // The prebuilt ggml picks the best of its CPU variants (libggml-cpu-*.so) at run time.
    if (backends) ggml_backend_load_all_from_path(backends);
    else ggml_backend_load_all();
    llama_backend_init();

    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.progress_callback = no_progress_dots;
    struct llama_model* model = llama_model_load_from_file(model_path, mp);
    if (!model) { fprintf(stderr, "llama-speed: cannot load %s\n", model_path); return 1; }

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)(pp > tg ? pp : tg) + 16;
    cp.n_batch = (uint32_t)pp;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.offload_kqv = false;
    cp.op_offload = false;   // no GPU work even where a GPU backend is loaded
    struct llama_context* ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "llama-speed: cannot create a context\n"); return 1; }

    const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_token* prompt = malloc(sizeof *prompt * (size_t)pp);
    srand(1);
    for (int i = 0; i < pp; ++i) prompt[i] = rand() % vocab;

    prefill_tok_s(ctx, prompt, pp < 16 ? pp : 16);   // warm-up: page the weights in, start the threads
    decode_tok_s(ctx, prompt[0], 4, vocab);
    double* pp_runs = malloc(sizeof(double) * (size_t)reps);
    double* tg_runs = malloc(sizeof(double) * (size_t)reps);
    for (int r = 0; r < reps; ++r) {
        pp_runs[r] = prefill_tok_s(ctx, prompt, pp);
        tg_runs[r] = decode_tok_s(ctx, prompt[0], tg, vocab);
    }
    char variant[256];
    loaded_cpu_variant(variant, sizeof variant);
    printf("{\"engine\": \"llama.cpp\", \"cpu_variant\": \"%s\", \"threads\": %d, \"reps\": %d, \"pp%d_tok_s\": %.2f, \"tg%d_tok_s\": %.2f, ",
           variant, threads, reps, pp, median(pp_runs, reps), tg, median(tg_runs, reps));
    // Every run too (sorted by median()), for the spread.
    printf("\"pp_tok_s_all\": [");
    for (int r = 0; r < reps; ++r) printf("%s%.2f", r ? ", " : "", pp_runs[r]);
    printf("], \"tg_tok_s_all\": [");
    for (int r = 0; r < reps; ++r) printf("%s%.2f", r ? ", " : "", tg_runs[r]);
    printf("], \"model_bytes\": %llu, \"system_info\": \"%s\"}\n", (unsigned long long)llama_model_size(model), llama_print_system_info());
    free(pp_runs);
    free(tg_runs);
    free(prompt);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
