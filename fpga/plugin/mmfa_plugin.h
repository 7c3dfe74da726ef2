/* SPDX-License-Identifier: Apache-2.0 */
/* The FPGA plugin's C ABI. The engine dlopens the plugin and calls mmfa_plugin_entry(version);
 * everything else goes through the returned table. Plain C types only, so the plugin and the
 * engine may be built by different compilers or at different times. Compatible additions append
 * fields to the end of a struct (callers pass struct_size); anything else bumps the version. */
#ifndef MMFA_PLUGIN_H
#define MMFA_PLUGIN_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MMFA_PLUGIN_ABI_VERSION 1u
#define MMFA_PLUGIN_ENTRY "mmfa_plugin_entry"

/* return codes */
enum {
    MMFA_OK = 0,
    MMFA_ERR_INVALID = 1,      /* bad argument, model too large for the device */
    MMFA_ERR_NO_DEVICE = 2,    /* no board / device node missing / bad MAGIC or VERSION */
    MMFA_ERR_TIMEOUT = 3,      /* the board did not complete in time (hung) */
    MMFA_ERR_DEVICE = 4,       /* the board reported an error (ERROR register) */
    MMFA_ERR_INTERNAL = 5
};

/* A BitLinear weight exactly as mmfree::TernaryMatrix stores it: code = w + 1 in 2 bits, four
 * per byte, rows of row_stride bytes; scale = m; norm = the BitLinear's RMSNorm weight [cols]. */
typedef struct mmfa_matrix {
    int32_t rows, cols, row_stride;
    float scale;
    const float* norm;
    const uint8_t* codes;
} mmfa_matrix;

typedef struct mmfa_layer {
    const float* attn_norm;                 /* [H] */
    mmfa_matrix i_proj, f_proj, g_proj;     /* [D,H] */
    const float* g_norm;                    /* [D] */
    mmfa_matrix o_proj;                     /* [H,D] */
    const float* mlp_norm;                  /* [H] */
    mmfa_matrix gate_proj;                  /* [2I,H] */
    mmfa_matrix down_proj;                  /* [H,I] */
} mmfa_layer;

typedef struct mmfa_model_desc {
    uint32_t struct_size;
    int32_t vocab_size, hidden_size, num_layers, intermediate_size, state_dim;
    float rms_norm_eps;
    const float* lower_bound;               /* [L,H] lb[l], or NULL when unused */
    const mmfa_layer* layers;               /* [L] */
    const float* final_norm;                /* [H] */
    mmfa_matrix lm_head;                    /* [V,H] */
} mmfa_model_desc;

typedef struct mmfa_device_info {
    uint32_t struct_size;
    char name[128];          /* "FPGA (simulated) MMFA 64 lanes" */
    char transport[32];      /* "sim", "xdma" */
    int32_t modeled;         /* 1: numbers are modeled (simulation), 0: measured on hardware */
    uint32_t version, lanes, vregs, dmax, prog_depth, beat_bytes;
    double clk_hz;           /* nominal clock */
    uint64_t card_memory_bytes;
} mmfa_device_info;

typedef struct mmfa_metrics {
    uint32_t struct_size;
    uint32_t num_counters;
    uint64_t counters[32];           /* in regs::kCounterNames order */
    double clk_hz;
    double last_token_cycles;        /* board cycles of the last token (RUN descriptor) */
    double cycles_per_token;         /* average over tokens since load */
    double modeled_tok_s;            /* clk_hz / cycles_per_token (compute + memory on the card) */
    double modeled_tok_s_with_io;    /* including modeled host<->card transfer time */
    double joules_per_token;         /* from ENERGY_FJ */
    double watts;                    /* energy / time over the same tokens */
    int32_t power_source;            /* 0 none, 1 modeled, 2 sensor, 3 host-provided */
    double sim_cycles_per_s;         /* simulator speed (wall clock), 0 on hardware */
} mmfa_metrics;

typedef struct mmfa_plugin_api {
    uint32_t abi_version;
    uint32_t struct_size;
    /* spec: "sim" or "sim:lanes=64" or "xdma:/dev/xdma0"; NULL on failure with err filled */
    void* (*open)(const char* spec, char* err, size_t errlen);
    void (*close)(void* dev);
    int (*device_info)(void* dev, mmfa_device_info* out);
    /* key/value tuning: "timeout_cycles", "timeout_ms", "mem_latency", "pcie_gb_s" */
    int (*set_option)(void* dev, const char* key, const char* value, char* err, size_t errlen);
    int (*load_model)(void* dev, const mmfa_model_desc* model, char* err, size_t errlen);
    /* x: count rows of H floats (embeddings); logits: count*V (all_positions) or V floats, may be
     * NULL when only argmax is wanted; argmax: the last row's argmax, may be NULL */
    int (*forward)(void* dev, const float* x, size_t count, float* logits, int all_positions, int32_t* argmax,
                   char* err, size_t errlen);
    int (*reset_state)(void* dev, char* err, size_t errlen);
    int (*get_state)(void* dev, float* out, size_t n, char* err, size_t errlen);  /* n = L*D */
    int (*set_state)(void* dev, const float* in, size_t n, char* err, size_t errlen);
    int (*metrics)(void* dev, mmfa_metrics* out);
    int (*soft_reset)(void* dev, char* err, size_t errlen);
} mmfa_plugin_api;

typedef const mmfa_plugin_api* (*mmfa_plugin_entry_fn)(uint32_t abi_version);

/* Returns NULL when the plugin cannot serve abi_version. */
const mmfa_plugin_api* mmfa_plugin_entry(uint32_t abi_version);

#ifdef __cplusplus
}
#endif
#endif
