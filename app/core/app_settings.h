// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QString>
#include <QStringList>

// Application-wide preferences (QSettings) and where things live on disk.
namespace AppSettings {

QString modelPath();                 // the model chosen by path last time (empty: none)
void setModelPath(const QString& path);
QString backend();                   // "auto", "cpu", "vulkan", "cuda", …
void setBackend(const QString& backend);
QString language();                  // "" follows the system locale; else "en", "zh_CN", "ja", "ru"
void setLanguage(const QString& code);

// The local OpenAI-compatible API server (Preferences → Local API server).
struct ApiServerSettings {
    bool enabled = false;
    int port = 8080;
    bool allInterfaces = false;      // else loopback only; all interfaces require the key
    QString apiKey;                  // generated on first use of all interfaces
    QStringList corsOrigins;         // empty: CORS off
    bool operator==(const ApiServerSettings&) const = default;
};
ApiServerSettings apiServer();
void setApiServer(const ApiServerSettings& settings);
// A new random key ("mmf-" and 40 hex digits) from the system's cryptographic generator.
QString generateApiKey();

// The model to open on first run: the embedded demo model (mmfree::default_model_path()).
QString defaultModelPath();
// The model the app should open: the one chosen last, else the default.
QString startupModelPath();

// Where conversations.sqlite lives: $MMFREE_DATA_DIR or the platform's app data folder.
QString dataDirectory();
QString databasePath();

} // namespace AppSettings

// Installs the translators for `code` ("" = system locale) on the application; returns the
// language actually used ("en" when there is no translation for the request).
QString installLanguage(const QString& code);
// The UI languages offered in settings: code → the language's own name.
QList<QPair<QString, QString>> availableLanguages();
// What a person reads for a backend id ("fpga-sim" → "FPGA (simulated)"); the id itself
// for one it does not know.
QString backendDisplayName(const QString& backend);
