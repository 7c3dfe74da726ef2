// SPDX-License-Identifier: Apache-2.0
#include "ui/preferences_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "core/app_settings.h"
#include "mmfree/backend.h"

PreferencesDialog::PreferencesDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Preferences"));
    auto* v = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    language_ = new QComboBox(this);
    language_->setObjectName("languageBox");
    for (const auto& [code, name] : availableLanguages()) language_->addItem(name, code);
    language_->setCurrentIndex(std::max(0, language_->findData(AppSettings::language())));
    form->addRow(tr("Language"), language_);

    backend_ = new QComboBox(this);
    backend_->setObjectName("backendBox");
    backend_->addItem(tr("Automatic (GPU when one works, else CPU)"), "auto");
    backend_->addItem(backendDisplayName("cpu"), "cpu");
    // Offer each compiled-in GPU / FPGA backend by name, the id as the item's data; unusable
    // ones are listed disabled, with the reason.
    QStringList seen;
    for (const auto& d : mmfree::list_devices()) {
        const QString b = QString::fromStdString(d.backend);
        if (b == "cpu" || seen.contains(b)) continue;
        seen << b;
        const QString name = backendDisplayName(b);
        backend_->addItem(d.usable ? name : tr("%1 (unavailable: %2)").arg(name, QString::fromStdString(d.reason)), b);
        if (!d.usable) backend_->setItemData(backend_->count() - 1, false, Qt::UserRole - 1);
    }
    backend_->setCurrentIndex(std::max(0, backend_->findData(AppSettings::backend())));
    form->addRow(tr("Compute backend"), backend_);
    v->addLayout(form);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    v->addWidget(buttons);
}

QString PreferencesDialog::language() const { return language_->currentData().toString(); }
QString PreferencesDialog::backend() const { return backend_->currentData().toString(); }
