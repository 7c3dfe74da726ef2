// SPDX-License-Identifier: Apache-2.0
#include "ui/preferences_dialog.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/studio_app.h"

PreferencesDialog::PreferencesDialog(StudioApp* app, QWidget* parent) : QDialog(parent), app_(app) {
    setWindowTitle(tr("Preferences"));
    setObjectName("preferencesDialog");
    auto* v = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    language_ = new QComboBox(this);
    language_->setObjectName("languageBox");
    for (const auto& [code, name] : availableLanguages()) language_->addItem(name, code);
    language_->setCurrentIndex(std::max(0, language_->findData(AppSettings::language())));
    form->addRow(tr("Language"), language_);

    backend_ = new QComboBox(this);
    backend_->setObjectName("backendBox");
    form->addRow(tr("Compute backend"), backend_);
    v->addLayout(form);
    fillBackends();
    // Probing GPUs can take seconds: the list fills in when StudioApp's background probe answers.
    connect(app_, &StudioApp::devicesListed, this, &PreferencesDialog::fillBackends);
    if (!app_->devicesKnown()) app_->listDevices();

    // The local OpenAI-compatible server, on the model the app has loaded.
    const AppSettings::ApiServerSettings api = AppSettings::apiServer();
    apiGroup_ = new QGroupBox(tr("Local API server (OpenAI-compatible)"), this);
    apiGroup_->setObjectName("apiGroup");
    apiGroup_->setCheckable(true);
    apiGroup_->setChecked(api.enabled);
    auto* af = new QFormLayout(apiGroup_);
    apiPort_ = new QSpinBox(apiGroup_);
    apiPort_->setObjectName("apiPort");
    apiPort_->setRange(1, 65535);
    apiPort_->setValue(api.port);
    af->addRow(tr("Port"), apiPort_);
    auto* where = new QWidget(apiGroup_);
    auto* wh = new QVBoxLayout(where);
    wh->setContentsMargins(0, 0, 0, 0);
    loopback_ = new QRadioButton(tr("This computer only (127.0.0.1)"), where);
    loopback_->setObjectName("apiLoopback");
    allInterfaces_ = new QRadioButton(tr("All network interfaces (other computers; needs the API key)"), where);
    allInterfaces_->setObjectName("apiAllInterfaces");
    (api.allInterfaces ? allInterfaces_ : loopback_)->setChecked(true);
    wh->addWidget(loopback_);
    wh->addWidget(allInterfaces_);
    af->addRow(tr("Listen on"), where);
    auto* keyRow = new QHBoxLayout;
    apiKey_ = new QLineEdit(api.apiKey, apiGroup_);
    apiKey_->setObjectName("apiKey");
    apiKey_->setReadOnly(true);
    apiKey_->setPlaceholderText(tr("none (loopback only)"));
    newKey_ = new QPushButton(tr("New key"), apiGroup_);
    newKey_->setObjectName("apiNewKey");
    copyKey_ = new QPushButton(tr("Copy"), apiGroup_);
    copyKey_->setObjectName("apiCopyKey");
    keyRow->addWidget(apiKey_, 1);
    keyRow->addWidget(newKey_);
    keyRow->addWidget(copyKey_);
    af->addRow(tr("API key"), keyRow);
    cors_ = new QPlainTextEdit(api.corsOrigins.join('\n'), apiGroup_);
    cors_->setObjectName("apiCors");
    cors_->setPlaceholderText(tr("One origin per line, e.g. http://localhost:3000 (empty: no browser access)"));
    cors_->setMaximumHeight(64);
    af->addRow(tr("Allowed CORS origins"), cors_);
    apiStatus_ = new QLabel(apiGroup_);
    apiStatus_->setObjectName("apiStatus");
    apiStatus_->setWordWrap(true);
    apiStatus_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    af->addRow(apiStatus_);
    v->addWidget(apiGroup_);

    connect(newKey_, &QPushButton::clicked, this, [this] {
        apiKey_->setText(AppSettings::generateApiKey());
        updateApiState();
    });
    connect(copyKey_, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(apiKey_->text()); });
    connect(allInterfaces_, &QRadioButton::toggled, this, [this](bool on) {
        // Reachable from other computers only with a key: make one the moment it is needed.
        if (on && apiKey_->text().isEmpty()) apiKey_->setText(AppSettings::generateApiKey());
        updateApiState();
    });
    connect(apiGroup_, &QGroupBox::toggled, this, &PreferencesDialog::updateApiState);
    connect(apiPort_, &QSpinBox::valueChanged, this, &PreferencesDialog::updateApiState);
    updateApiState();

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    v->addWidget(buttons);
}

void PreferencesDialog::fillBackends() {
    const QString keep = backend_->count() ? backend_->currentData().toString() : AppSettings::backend();
    backend_->clear();
    backend_->addItem(tr("Automatic (GPU when one works, else CPU)"), "auto");
    backend_->addItem(backendDisplayName("cpu"), "cpu");
    // Each compiled-in GPU / FPGA backend by name, the id as the item's data; unusable ones are
    // listed disabled, with the reason.
    QStringList seen;
    for (const DeviceChoice& d : app_->devices()) {
        if (d.backend == "cpu" || seen.contains(d.backend)) continue;
        seen << d.backend;
        const QString name = backendDisplayName(d.backend);
        backend_->addItem(d.usable ? name : tr("%1 (unavailable: %2)").arg(name, d.reason), d.backend);
        if (!d.usable) backend_->setItemData(backend_->count() - 1, false, Qt::UserRole - 1);
    }
    if (backend_->findData(keep) < 0) backend_->addItem(backendDisplayName(keep), keep);   // until the probe answers
    backend_->setCurrentIndex(std::max(0, backend_->findData(keep)));
}

void PreferencesDialog::updateApiState() {
    const auto s = apiServer();
    copyKey_->setEnabled(!s.apiKey.isEmpty());
    const QString host = s.allInterfaces ? QStringLiteral("0.0.0.0") : QStringLiteral("127.0.0.1");
    QString text = s.enabled ? tr("Serves the loaded model at http://%1:%2/v1").arg(host).arg(s.port) : tr("Off");
    if (app_->apiRunning()) text += '\n' + tr("Running now at %1").arg(app_->apiAddress());
    if (!app_->apiError().isEmpty()) text += '\n' + tr("Last start failed: %1").arg(app_->apiError());
    apiStatus_->setText(text);
}

QString PreferencesDialog::language() const { return language_->currentData().toString(); }
QString PreferencesDialog::backend() const { return backend_->currentData().toString(); }

AppSettings::ApiServerSettings PreferencesDialog::apiServer() const {
    AppSettings::ApiServerSettings s;
    s.enabled = apiGroup_->isChecked();
    s.port = apiPort_->value();
    s.allInterfaces = allInterfaces_->isChecked();
    s.apiKey = apiKey_->text();
    for (const QString& line : cors_->toPlainText().split('\n', Qt::SkipEmptyParts))
        if (!line.trimmed().isEmpty()) s.corsOrigins << line.trimmed();
    return s;
}
