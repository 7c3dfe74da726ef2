// SPDX-License-Identifier: Apache-2.0
#include "core/app_settings.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QLocale>
#include <QRandomGenerator>
#include <QSettings>
#include <QStandardPaths>
#include <QTranslator>

#include "mmfree/model.h"

namespace AppSettings {

QString modelPath() { return QSettings().value("model/path").toString(); }
void setModelPath(const QString& path) { QSettings().setValue("model/path", path); }
QString backend() { return QSettings().value("model/backend", "auto").toString(); }
void setBackend(const QString& backend) { QSettings().setValue("model/backend", backend); }
QString language() { return QSettings().value("ui/language").toString(); }
void setLanguage(const QString& code) { QSettings().setValue("ui/language", code); }

ApiServerSettings apiServer() {
    QSettings q;
    ApiServerSettings s;
    s.enabled = q.value("api/enabled", s.enabled).toBool();
    s.port = q.value("api/port", s.port).toInt();
    s.allInterfaces = q.value("api/allInterfaces", s.allInterfaces).toBool();
    s.apiKey = q.value("api/key").toString();
    s.corsOrigins = q.value("api/corsOrigins").toStringList();
    return s;
}

void setApiServer(const ApiServerSettings& s) {
    QSettings q;
    q.setValue("api/enabled", s.enabled);
    q.setValue("api/port", s.port);
    q.setValue("api/allInterfaces", s.allInterfaces);
    q.setValue("api/key", s.apiKey);
    q.setValue("api/corsOrigins", s.corsOrigins);
}

QString generateApiKey() {
    QByteArray bytes(20, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32*>(bytes.data()), bytes.size() / 4);
    return QStringLiteral("mmf-") + QString::fromLatin1(bytes.toHex());
}

QString defaultModelPath() {
    // One lookup for the CLI and the app: $MMFREE_MODEL, <exe>/../share/mmfree/models (installed
    // under any prefix), then the source tree's resources/models (running from a build folder).
    const auto packed = mmfree::default_model_path();
    return packed.empty() ? QString() : QString::fromStdString(packed.string());
}

QString startupModelPath() {
    const QString chosen = modelPath();
    return chosen.isEmpty() ? defaultModelPath() : chosen;
}

QString dataDirectory() {
    QString dir = qEnvironmentVariable("MMFREE_DATA_DIR");
    if (dir.isEmpty()) dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(dir);
    return dir;
}

QString databasePath() { return QDir(dataDirectory()).filePath("conversations.sqlite"); }

} // namespace AppSettings

QString installLanguage(const QString& code) {
    static QTranslator* appTranslator = nullptr;
    static QTranslator* qtTranslator = nullptr;
    auto* app = QCoreApplication::instance();
    for (QTranslator** t : {&appTranslator, &qtTranslator}) {
        if (*t) {
            app->removeTranslator(*t);
            delete *t;
            *t = nullptr;
        }
    }
    const QLocale locale = code.isEmpty() ? QLocale::system() : QLocale(code);
    auto* mine = new QTranslator(app);
    // QTranslator::load(locale, …) tries zh_CN, zh, … in the order of the locale's UI languages.
    if (!mine->load(locale, QStringLiteral("mmfree_studio"), QStringLiteral("_"), QStringLiteral(":/i18n"))) {
        delete mine;
        QLocale::setDefault(QLocale(QLocale::English));
        return QStringLiteral("en");
    }
    app->installTranslator(mine);
    appTranslator = mine;
    auto* qt = new QTranslator(app);
    if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"), QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
        app->installTranslator(qt);
        qtTranslator = qt;
    } else {
        delete qt;
    }
    QLocale::setDefault(locale);
    const QString file = QFileInfo(mine->filePath()).completeBaseName();   // mmfree_studio_zh_CN
    return file.mid(QStringLiteral("mmfree_studio_").size());
}

QList<QPair<QString, QString>> availableLanguages() {
    return {{QString(), QCoreApplication::translate("AppSettings", "System language")},
            {"en", "English"},
            {"zh_CN", QStringLiteral("简体中文")},
            {"ja", QStringLiteral("日本語")},
            {"ru", QStringLiteral("Русский")}};
}

QString backendDisplayName(const QString& backend) {
    if (backend == QLatin1String("cpu")) return QCoreApplication::translate("AppSettings", "CPU");
    if (backend == QLatin1String("cpu-reference")) return QCoreApplication::translate("AppSettings", "CPU (reference)");
    if (backend == QLatin1String("vulkan")) return QCoreApplication::translate("AppSettings", "Vulkan GPU");
    if (backend == QLatin1String("cuda")) return QCoreApplication::translate("AppSettings", "CUDA GPU");
    if (backend == QLatin1String("fpga-sim")) return QCoreApplication::translate("AppSettings", "FPGA (simulated)");
    // a real board: the plugin over XDMA ("fpga"), or any plugin named by path
    if (backend == QLatin1String("fpga") || backend.startsWith(QLatin1String("plugin:")))
        return QCoreApplication::translate("AppSettings", "FPGA board (plugin)");
    return backend;
}
