// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QString>

namespace mmfree {
struct ModelConfig;
}

// What a model costs once the engine holds it, computed from its config alone (no weights
// needed, so it works for models not downloaded yet). Mirrors the engine's layout: every
// BitLinear packed at 2 bits per weight in rows padded to 128 weights, with its fp32 RMSNorm
// weight and one scale; embeddings, norms and lower bounds in fp32; one L×D fp32 state.
struct MemoryEstimate {
    qint64 parameters = 0;     // as in the checkpoint
    qint64 packedWeights = 0;  // ternary codes of every BitLinear (lm_head included)
    qint64 embeddings = 0;     // fp32 [V,H]
    qint64 vectors = 0;        // norms, scales, lower bounds (fp32)
    qint64 state = 0;          // L×D fp32: the whole context of one conversation
    qint64 workspace = 0;      // logits and activations of one step
    qint64 cpuBytes = 0;       // RAM when the CPU runs it
    qint64 gpuBytes = 0;       // device memory when a GPU runs it (the host keeps the model too)

    static MemoryEstimate fromConfig(const mmfree::ModelConfig& config);
    // A typical on-disk size of the checkpoint: parameters × bytes of its dtype.
    static qint64 checkpointBytes(const mmfree::ModelConfig& config);
};

// "1.3 GB" — decimal units, as disks and the hub report sizes.
QString formatBytes(qint64 bytes);
