// SPDX-License-Identifier: Apache-2.0
#include "ui/chat_settings_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace {
QDoubleSpinBox* doubleBox(double min, double max, double step, int decimals, QWidget* parent) {
    auto* b = new QDoubleSpinBox(parent);
    b->setRange(min, max);
    b->setSingleStep(step);
    b->setDecimals(decimals);
    return b;
}
// Stop strings are edited as one line: separated by " | ", with \n escapes.
QString joinStops(const QStringList& stops) {
    QStringList e;
    for (const auto& s : stops) e << escapeControl(s);
    return e.join(QStringLiteral(" | "));
}
QStringList splitStops(const QString& text) {
    QStringList out;
    for (const QString& part : text.split(QStringLiteral(" | "), Qt::SkipEmptyParts)) {
        const QString s = unescapeControl(part);
        if (!s.isEmpty()) out << s;
    }
    return out;
}
} // namespace

ChatSettingsDialog::ChatSettingsDialog(const ChatSettings& settings, QWidget* parent) : QDialog(parent), base_(settings) {
    setWindowTitle(tr("Chat settings"));
    setObjectName("chatSettingsDialog");
    auto* v = new QVBoxLayout(this);

    auto* templ = new QGroupBox(tr("Prompt template"), this);
    auto* tf = new QFormLayout(templ);
    preset_ = new QComboBox(templ);
    preset_->addItem(tr("Plain transcript (User / Assistant)"));
    preset_->addItem(tr("Raw text continuation"));
    preset_->addItem(tr("Custom"));
    system_ = new QPlainTextEdit(templ);
    system_->setPlaceholderText(tr("Optional text placed before the conversation, e.g. who the assistant is"));
    system_->setFixedHeight(70);
    systemFormat_ = new QLineEdit(templ);
    userFormat_ = new QLineEdit(templ);
    assistantFormat_ = new QLineEdit(templ);
    stops_ = new QLineEdit(templ);
    tf->addRow(tr("Preset"), preset_);
    tf->addRow(tr("System text"), system_);
    tf->addRow(tr("System format"), systemFormat_);
    tf->addRow(tr("User turn"), userFormat_);
    tf->addRow(tr("Assistant turn"), assistantFormat_);
    tf->addRow(tr("Stop strings"), stops_);
    auto* hint = new QLabel(tr("{text} and {system} are replaced by the message; \\n is a new line. Base models "
                               "continue the transcript, so the reply ends at the first stop string "
                               "(separate several with \" | \")."), templ);
    hint->setWordWrap(true);
    hint->setObjectName("hint");
    tf->addRow(hint);
    v->addWidget(templ);

    auto* sampling = new QGroupBox(tr("Sampling"), this);
    auto* sf = new QFormLayout(sampling);
    temperature_ = doubleBox(0, 5, 0.05, 2, sampling);
    topK_ = new QSpinBox(sampling);
    topK_->setRange(0, 1000);
    topK_->setSpecialValueText(tr("off"));
    topP_ = doubleBox(0, 1, 0.01, 2, sampling);
    minP_ = doubleBox(0, 1, 0.01, 2, sampling);
    repetition_ = doubleBox(1, 3, 0.01, 2, sampling);
    maxTokens_ = new QSpinBox(sampling);
    maxTokens_->setRange(1, 1 << 20);
    randomSeed_ = new QCheckBox(tr("New random seed for every reply"), sampling);
    seed_ = new QSpinBox(sampling);
    seed_->setRange(0, INT_MAX);
    sf->addRow(tr("Temperature"), temperature_);
    sf->addRow(tr("Top-k"), topK_);
    sf->addRow(tr("Top-p"), topP_);
    sf->addRow(tr("Min-p"), minP_);
    sf->addRow(tr("Repetition penalty"), repetition_);
    sf->addRow(tr("Max tokens"), maxTokens_);
    sf->addRow(tr("Seed"), seed_);
    sf->addRow(QString(), randomSeed_);
    v->addWidget(sampling);
    connect(randomSeed_, &QCheckBox::toggled, seed_, &QSpinBox::setDisabled);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this, [this] { setSettings(ChatSettings{}); });
    v->addWidget(buttons);

    connect(preset_, &QComboBox::activated, this, &ChatSettingsDialog::applyPreset);
    for (auto* e : {systemFormat_, userFormat_, assistantFormat_, stops_})
        connect(e, &QLineEdit::textEdited, this, [this] { preset_->setCurrentIndex(2); });
    setSettings(settings);
}

void ChatSettingsDialog::applyPreset(int index) {
    ChatSettings s = settings();
    if (index == 0) {
        const ChatSettings d;
        s.systemFormat = d.systemFormat;
        s.userFormat = d.userFormat;
        s.assistantFormat = d.assistantFormat;
        s.stopStrings = d.stopStrings;
    } else if (index == 1) {
        // The message is the text to continue; nothing is added and nothing stops the reply early.
        s.systemFormat = QStringLiteral("{system}\n");
        s.userFormat = QStringLiteral("{text}");
        s.assistantFormat = QStringLiteral("{text}");
        s.stopStrings.clear();
    } else {
        return;
    }
    setSettings(s);
    preset_->setCurrentIndex(index);
}

void ChatSettingsDialog::setSettings(const ChatSettings& s) {
    system_->setPlainText(s.systemText);
    systemFormat_->setText(escapeControl(s.systemFormat));
    userFormat_->setText(escapeControl(s.userFormat));
    assistantFormat_->setText(escapeControl(s.assistantFormat));
    stops_->setText(joinStops(s.stopStrings));
    temperature_->setValue(s.temperature);
    topK_->setValue(s.topK);
    topP_->setValue(s.topP);
    minP_->setValue(s.minP);
    repetition_->setValue(s.repetitionPenalty);
    maxTokens_->setValue(s.maxTokens);
    randomSeed_->setChecked(s.seed < 0);
    seed_->setValue(s.seed < 0 ? 0 : int(std::min<qint64>(s.seed, INT_MAX)));
    seed_->setDisabled(s.seed < 0);
    const ChatSettings d;
    if (s.userFormat == d.userFormat && s.assistantFormat == d.assistantFormat && s.stopStrings == d.stopStrings)
        preset_->setCurrentIndex(0);
    else if (s.userFormat == "{text}" && s.assistantFormat == "{text}" && s.stopStrings.isEmpty())
        preset_->setCurrentIndex(1);
    else
        preset_->setCurrentIndex(2);
}

ChatSettings ChatSettingsDialog::settings() const {
    ChatSettings s = base_;
    s.systemText = system_->toPlainText();
    s.systemFormat = unescapeControl(systemFormat_->text());
    s.userFormat = unescapeControl(userFormat_->text());
    s.assistantFormat = unescapeControl(assistantFormat_->text());
    s.stopStrings = splitStops(stops_->text());
    s.temperature = temperature_->value();
    s.topK = topK_->value();
    s.topP = topP_->value();
    s.minP = minP_->value();
    s.repetitionPenalty = repetition_->value();
    s.maxTokens = maxTokens_->value();
    s.seed = randomSeed_->isChecked() ? -1 : seed_->value();
    return s;
}
