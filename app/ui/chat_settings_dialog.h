// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QDialog>

#include "core/chat_settings.h"

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QCheckBox;

// Per-conversation settings: prompt template (formats with \n escapes, stop strings), system
// text, sampling and length.
class ChatSettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit ChatSettingsDialog(const ChatSettings& settings, QWidget* parent = nullptr);
    ChatSettings settings() const;
    void setSettings(const ChatSettings& settings);

private:
    void applyPreset(int index);
    ChatSettings base_;
    QComboBox* preset_;
    QPlainTextEdit* system_;
    QLineEdit* systemFormat_;
    QLineEdit* userFormat_;
    QLineEdit* assistantFormat_;
    QLineEdit* stops_;
    QDoubleSpinBox* temperature_;
    QSpinBox* topK_;
    QDoubleSpinBox* topP_;
    QDoubleSpinBox* minP_;
    QDoubleSpinBox* repetition_;
    QSpinBox* maxTokens_;
    QCheckBox* randomSeed_;
    QSpinBox* seed_;
};
