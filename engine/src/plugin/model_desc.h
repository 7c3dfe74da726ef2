// SPDX-License-Identifier: Apache-2.0
// Builds the plugin ABI's plain-C view of a loaded mmfree::Model. No copies of weights: the
// description points into the Model, which must outlive it.
#pragma once
#include <vector>

#include "mmfa_plugin.h"
#include "mmfree/model.h"

namespace mmfree::plugin {

struct ModelDesc {
    mmfa_model_desc desc{};
    std::vector<mmfa_layer> layers;
};

inline mmfa_matrix matrix_of(const TernaryMatrix& m) {
    return mmfa_matrix{m.rows, m.cols, m.row_stride, m.scale, m.norm.data(), m.codes.data()};
}

inline ModelDesc describe(const Model& m) {
    ModelDesc d;
    const ModelConfig& c = m.config;
    for (const LayerWeights& l : m.layers) {
        mmfa_layer x{};
        x.attn_norm = l.attn_norm.data();
        x.i_proj = matrix_of(l.i_proj);
        x.f_proj = matrix_of(l.f_proj);
        x.g_proj = matrix_of(l.g_proj);
        x.g_norm = l.g_norm.data();
        x.o_proj = matrix_of(l.o_proj);
        x.mlp_norm = l.mlp_norm.data();
        x.gate_proj = matrix_of(l.gate_proj);
        x.down_proj = matrix_of(l.down_proj);
        d.layers.push_back(x);
    }
    d.desc.struct_size = sizeof(mmfa_model_desc);
    d.desc.vocab_size = c.vocab_size;
    d.desc.hidden_size = c.hidden_size;
    d.desc.num_layers = c.num_layers;
    d.desc.intermediate_size = c.intermediate_size;
    d.desc.state_dim = c.state_dim();
    d.desc.rms_norm_eps = c.rms_norm_eps;
    d.desc.lower_bound = m.lower_bound.empty() ? nullptr : m.lower_bound.data();
    d.desc.layers = d.layers.data();
    d.desc.final_norm = m.final_norm.data();
    d.desc.lm_head = matrix_of(m.lm_head);
    return d;
}

} // namespace mmfree::plugin
