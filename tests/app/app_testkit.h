// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QString>

// Helpers shared by the app's test suites.
namespace apptest {

// Writes a small Hugging Face-format MatMul-free model into `dir` (created when missing):
// config.json, model.safetensors with random f32 weights (V = 32000 so the real Mistral
// tokenizer from tests/data fits, H = 64, L = 2) and that tokenizer.model. Random weights still
// stream real tokens through the whole pipeline: load → tokenize → prefill → sample → detokenize.
// Returns the folder, or an empty string after a failed QTest check.
QString makeChatModel(const QString& dir, unsigned seed = 7);

// The tokenizer-less golden model (loading it for chat must fail with a clear message).
QString goldenModelWithoutTokenizer();

} // namespace apptest
