// SPDX-License-Identifier: Apache-2.0
#include "model_memory.h"

#include <QLocale>
#include <algorithm>

#include "mmfree/model.h"

MemoryEstimate MemoryEstimate::fromConfig(const mmfree::ModelConfig& c) {
    const qint64 V = c.vocab_size, H = c.hidden_size, L = c.num_layers, I = c.intermediate_size, D = c.state_dim();
    MemoryEstimate m;
    auto bitlinear = [&](qint64 rows, qint64 cols) {
        m.packedWeights += rows * mmfree::TernaryMatrix::stride_for(int(cols));
        m.vectors += (cols + 1) * qint64(sizeof(float));   // its RMSNorm γ and the scale
        m.parameters += rows * cols + cols;
    };
    for (qint64 l = 0; l < L; ++l) {
        for (int k = 0; k < 3; ++k) bitlinear(D, H);   // i, f, g projections
        bitlinear(H, D);                               // o
        bitlinear(2 * I, H);                           // gate + up, fused
        bitlinear(H, I);                               // down
        m.vectors += (H + D + H) * qint64(sizeof(float));
        m.parameters += H + D + H;
    }
    bitlinear(V, H);                                   // lm_head
    m.embeddings = V * H * qint64(sizeof(float));
    m.parameters += V * H + H;
    m.vectors += H * qint64(sizeof(float));            // final norm
    if (c.use_lower_bound) {
        m.vectors += L * H * qint64(sizeof(float));
        m.parameters += L * H;
    }
    m.state = L * D * qint64(sizeof(float));
    m.workspace = (V + 8 * std::max({H, D, 2 * I})) * qint64(sizeof(float));
    const qint64 model = m.packedWeights + m.embeddings + m.vectors;
    m.cpuBytes = model + m.state + m.workspace;
    m.gpuBytes = model + m.state + m.workspace;
    return m;
}

qint64 MemoryEstimate::checkpointBytes(const mmfree::ModelConfig& c) {
    const QString dtype = QString::fromStdString(c.torch_dtype);
    const int bytes = dtype == QLatin1String("float32") || dtype.isEmpty() ? 4 : 2;
    return fromConfig(c).parameters * bytes;
}

QString formatBytes(qint64 bytes) {
    if (bytes < 0) return QStringLiteral("?");
    return QLocale().formattedDataSize(bytes, bytes < 1000 * 1000 ? 0 : 1, QLocale::DataSizeSIFormat);
}
