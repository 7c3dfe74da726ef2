// SPDX-License-Identifier: Apache-2.0
#include "model_validator.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QSet>

#include "mmfree/inspect.h"

namespace {

using Problem = ValidationReport::Problem;

// What a failed check means for the library, decided by the kind of file and the ErrorCode only:
// a model without a usable tokenizer still computes logits, anything else stops it loading.
bool isFatal(const mmfree::FileCheck& check) {
    return check.role != mmfree::FileCheck::Role::Tokenizer && check.code != mmfree::ErrorCode::TokenizerMissing;
}

} // namespace

bool ValidationReport::ok() const {
    for (const Problem& p : problems)
        if (p.fatal) return false;
    return true;
}

QString ValidationReport::summary() const {
    QStringList lines;
    for (const Problem& p : problems) lines << p.message;   // the engine's messages name their file
    return lines.join(u'\n');
}

qint64 modelDiskBytes(const QString& path) {
    const QFileInfo fi(path);
    if (fi.isFile()) return fi.size();
    qint64 n = 0;
    QSet<QString> seen;   // the HF cache may link several names to one blob
    QDirIterator it(path, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QFileInfo f(it.next());
        const QString target = f.canonicalFilePath();
        if (target.isEmpty() || seen.contains(target)) continue;
        seen.insert(target);
        n += QFileInfo(target).size();
    }
    return n;
}

ValidationReport validateModel(const QString& path, bool fullLoad) {
    ValidationReport r;
    r.path = path;
    const mmfree::ModelInspection in = mmfree::inspect_model(path.toStdString(), fullLoad);
    if (QFileInfo::exists(path)) r.diskBytes = modelDiskBytes(path);
    for (const mmfree::FileCheck& f : in.files) {
        if (f.ok) continue;
        r.problems << Problem{QString::fromStdString(f.file), QString::fromStdString(f.message), f.code, isFatal(f)};
    }
    r.haveConfig = in.have_config;
    if (in.have_config) r.config = in.config;
    r.canChat = in.can_chat();
    r.fingerprint = QString::fromStdString(in.fingerprint);
    return r;
}
