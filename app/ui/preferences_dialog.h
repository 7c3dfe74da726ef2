// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QDialog>

#include "core/app_settings.h"

class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QRadioButton;
class QSpinBox;
class StudioApp;

// Application preferences: the UI language, the compute backend (devices listed off the UI
// thread by StudioApp) and the local API server.
class PreferencesDialog : public QDialog {
    Q_OBJECT
public:
    explicit PreferencesDialog(StudioApp* app, QWidget* parent = nullptr);
    QString language() const;
    QString backend() const;
    AppSettings::ApiServerSettings apiServer() const;

    QComboBox* languageBox() const { return language_; }
    QComboBox* backendBox() const { return backend_; }
    QGroupBox* apiGroup() const { return apiGroup_; }
    QSpinBox* apiPortBox() const { return apiPort_; }
    QRadioButton* loopbackButton() const { return loopback_; }
    QRadioButton* allInterfacesButton() const { return allInterfaces_; }
    QLineEdit* apiKeyEdit() const { return apiKey_; }
    QPushButton* copyKeyButton() const { return copyKey_; }
    QPlainTextEdit* corsEdit() const { return cors_; }

private:
    void fillBackends();
    void updateApiState();

    StudioApp* app_;
    QComboBox* language_;
    QComboBox* backend_;
    QGroupBox* apiGroup_;
    QSpinBox* apiPort_;
    QRadioButton* loopback_;
    QRadioButton* allInterfaces_;
    QLineEdit* apiKey_;
    QPushButton* newKey_;
    QPushButton* copyKey_;
    QPlainTextEdit* cors_;
    QLabel* apiStatus_;
};
