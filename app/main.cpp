// SPDX-License-Identifier: Apache-2.0
// mmfree-studio: chat with MatMul-free language models on the local machine.
#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>

#include "core/app_settings.h"
#include "core/chat_controller.h"
#include "core/conversation_store.h"
#include "ui/main_window.h"
#include "ui/style.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("MMfree"));
    QApplication::setApplicationName(QStringLiteral("MMfree Studio"));
    QApplication::setApplicationVersion(QStringLiteral(MMFREE_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("mmfree-studio"));

    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("Chat with MatMul-free language models, locally."));
    cli.addHelpOption();
    cli.addVersionOption();
    QCommandLineOption model(QStringLiteral("model"), QStringLiteral("Open this model folder (and remember it)."), QStringLiteral("path"));
    QCommandLineOption backend(QStringLiteral("backend"), QStringLiteral("auto, cpu, vulkan, cuda, …"), QStringLiteral("name"));
    QCommandLineOption dataDir(QStringLiteral("data-dir"), QStringLiteral("Keep conversations in this folder."), QStringLiteral("path"));
    QCommandLineOption language(QStringLiteral("language"), QStringLiteral("UI language: en, zh_CN, ja, ru."), QStringLiteral("code"));
    cli.addOptions({model, backend, dataDir, language});
    cli.process(app);

    if (cli.isSet(dataDir)) qputenv("MMFREE_DATA_DIR", cli.value(dataDir).toLocal8Bit());
    installLanguage(cli.isSet(language) ? cli.value(language) : AppSettings::language());
    applyStudioStyle();

    ConversationStore store;
    if (!store.open(AppSettings::databasePath())) {
        QMessageBox::critical(nullptr, QObject::tr("MMfree Studio"), store.lastError());
        return 1;
    }
    store.purgeDeleted();   // deletions of the last session can no longer be undone

    ChatController controller(&store);
    MainWindow window(&controller);
    const auto conversations = store.conversations();
    if (!conversations.isEmpty()) controller.openConversation(conversations.first().id);

    if (cli.isSet(backend)) AppSettings::setBackend(cli.value(backend));
    const QString path = cli.isSet(model) ? cli.value(model) : AppSettings::startupModelPath();
    if (cli.isSet(model)) AppSettings::setModelPath(path);
    if (!path.isEmpty()) controller.loadModel(path, AppSettings::backend());

    window.show();
    return app.exec();
}
