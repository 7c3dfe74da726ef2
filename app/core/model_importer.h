// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>

#include "model_validator.h"

// Full checks of a model (the engine loads it) on a worker thread, so the UI never waits on a
// multi-gigabyte file: for imports, and for packed files whose config is only known once loaded.
// Reports are kept by path for the session.
class ModelImporter : public QObject {
    Q_OBJECT
public:
    explicit ModelImporter(QObject* parent = nullptr);

    // Validates `path` fully; `checked` follows with the report. A path already being checked
    // is not checked twice.
    void check(const QString& path, bool isImport);
    const ValidationReport* report(const QString& path) const;
    bool pending(const QString& path) const { return pending_.contains(path); }

signals:
    void checked(const QString& path, const ValidationReport& report, bool isImport);

private:
    QSet<QString> pending_;
    QHash<QString, ValidationReport> reports_;
};

Q_DECLARE_METATYPE(ValidationReport)
