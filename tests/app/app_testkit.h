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

// Splits the model.safetensors of a makeChatModel folder into two shards plus
// model.safetensors.index.json (the single file is removed). Returns false after a failed check.
bool shardChatModel(const QString& dir);

// Packs a model folder into a GGUF file at `file` with the engine's converter; returns `file`.
QString packChatModel(const QString& folder, const QString& file);

// The tokenizer-less golden model (loading it for chat must fail with a clear message).
QString goldenModelWithoutTokenizer();

} // namespace apptest
