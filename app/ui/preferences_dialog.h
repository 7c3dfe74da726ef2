// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QDialog>

class QComboBox;

// Application preferences: the UI language (applied at once) and the compute backend.
class PreferencesDialog : public QDialog {
    Q_OBJECT
public:
    explicit PreferencesDialog(QWidget* parent = nullptr);
    QString language() const;
    QString backend() const;
    QComboBox* languageBox() const { return language_; }
    QComboBox* backendBox() const { return backend_; }

private:
    QComboBox* language_;
    QComboBox* backend_;
};
