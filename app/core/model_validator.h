// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QList>
#include <QString>
#include <QStringList>

#include "mmfree/error.h"
#include "mmfree/model.h"

// The result of checking a model folder or packed file before it is added to the library.
// Problems are per file so people can see which one to replace ("model-00002-of-00003.safetensors:
// truncated, header says 4.9 GB, file has 2.1 GB").
struct ValidationReport {
    struct Problem {
        QString file;      // file name relative to the model folder, or the file itself
        QString message;   // one line from the engine, naming the file
        mmfree::ErrorCode code = mmfree::ErrorCode::Internal;
        bool fatal = true; // false: the model loads, but something is missing (e.g. no tokenizer)
    };
    QString path;
    QList<Problem> problems;
    bool haveConfig = false;
    mmfree::ModelConfig config;
    qint64 diskBytes = 0;
    bool canChat = false;      // a tokenizer is there and matches the vocabulary
    QString fingerprint;       // of the weights, when fully loaded

    bool ok() const;           // no fatal problem
    QString summary() const;   // all problems, one per line
};

// Checks `path` file by file with the engine's inspect_model (config.json, the safetensors
// headers, the shard index, tokenizer files, or the GGUF header); then, when `fullLoad`, loads it
// with the engine as the final word. Blocking (seconds for large models): call it off the UI thread.
ValidationReport validateModel(const QString& path, bool fullLoad = true);

// Bytes the model's files take on disk (symlinks followed once, as in the Hugging Face cache).
qint64 modelDiskBytes(const QString& path);
