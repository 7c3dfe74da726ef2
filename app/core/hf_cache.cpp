// SPDX-License-Identifier: Apache-2.0
#include "hf_cache.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

QString hfHubCacheDirectory() {
    const QString hubCache = qEnvironmentVariable("HF_HUB_CACHE");
    if (!hubCache.isEmpty()) return hubCache;
    const QString home = qEnvironmentVariable("HF_HOME");
    if (!home.isEmpty()) return home + QStringLiteral("/hub");
    const QString xdg = qEnvironmentVariable("XDG_CACHE_HOME");
    return (xdg.isEmpty() ? QDir::homePath() + QStringLiteral("/.cache") : xdg) + QStringLiteral("/huggingface/hub");
}

QList<HfCachedModel> scanHfCache(const QString& hubDir) {
    QList<HfCachedModel> out;
    const QDir hub(hubDir);
    for (const QString& name : hub.entryList({QStringLiteral("models--*")}, QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        // models--owner--name; names may themselves contain "-" but not "--".
        const QStringList parts = name.mid(8).split(QStringLiteral("--"));
        if (parts.size() != 2) continue;
        HfCachedModel m;
        m.repoId = parts[0] + u'/' + parts[1];
        m.repoDir = hub.filePath(name);
        const QDir snapshots(m.repoDir + QStringLiteral("/snapshots"));
        QFile ref(m.repoDir + QStringLiteral("/refs/main"));
        if (ref.open(QIODevice::ReadOnly)) m.revision = QString::fromLatin1(ref.readAll()).trimmed();
        if (m.revision.isEmpty() || !snapshots.exists(m.revision)) {
            const QStringList revs = snapshots.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time);
            if (revs.isEmpty()) continue;
            m.revision = revs.first();
        }
        m.snapshotDir = snapshots.filePath(m.revision);
        QFile config(m.snapshotDir + QStringLiteral("/config.json"));
        if (!config.open(QIODevice::ReadOnly)) continue;
        if (QJsonDocument::fromJson(config.readAll()).object().value(QStringLiteral("model_type")).toString() !=
            QLatin1String("hgrn_bit"))
            continue;
        out << m;
    }
    return out;
}
