// SPDX-License-Identifier: Apache-2.0
#include "model_importer.h"

#include <QThread>
#include <memory>

ModelImporter::ModelImporter(QObject* parent) : QObject(parent) { qRegisterMetaType<ValidationReport>(); }

void ModelImporter::check(const QString& path, bool isImport) {
    if (!isImport && pending_.contains(path)) return;
    pending_.insert(path);
    auto result = std::make_shared<ValidationReport>();
    QThread* worker = QThread::create([path, result] { *result = validateModel(path, true); });
    connect(worker, &QThread::finished, this, [this, path, result, isImport] {
        pending_.remove(path);
        reports_.insert(path, *result);
        emit checked(path, *result, isImport);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

const ValidationReport* ModelImporter::report(const QString& path) const {
    const auto it = reports_.constFind(path);
    return it == reports_.cend() ? nullptr : &*it;
}
