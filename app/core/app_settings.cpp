// SPDX-License-Identifier: Apache-2.0
#include "core/app_settings.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QLocale>
#include <QSettings>
#include <QStandardPaths>
#include <QTranslator>

namespace AppSettings {

QString modelPath() { return QSettings().value("model/path").toString(); }
void setModelPath(const QString& path) { QSettings().setValue("model/path", path); }
QString backend() { return QSettings().value("model/backend", "auto").toString(); }
void setBackend(const QString& backend) { QSettings().setValue("model/backend", backend); }
QString language() { return QSettings().value("ui/language").toString(); }
void setLanguage(const QString& code) { QSettings().setValue("ui/language", code); }

static bool looksLikeModel(const QString& dir) { return QFileInfo::exists(QDir(dir).filePath("config.json")); }

QString defaultModelPath() {
    QStringList candidates;
    if (const QString env = qEnvironmentVariable("MMFREE_DEFAULT_MODEL"); !env.isEmpty()) candidates << env;
    const QString appDir = QCoreApplication::applicationDirPath();
    candidates << appDir + "/../share/mmfree/models/default" << appDir + "/../resources/models/default";
#ifdef MMFREE_SOURCE_DIR
    candidates << QStringLiteral(MMFREE_SOURCE_DIR "/resources/models/default");
    // Until the demo model has a fixed folder name, take the first model folder there.
    const QDir models(QStringLiteral(MMFREE_SOURCE_DIR "/resources/models"));
    for (const QString& sub : models.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) candidates << models.filePath(sub);
#endif
    for (const QString& c : candidates)
        if (looksLikeModel(c)) return QDir::cleanPath(QFileInfo(c).absoluteFilePath());
    return {};
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
