// SPDX-License-Identifier: Apache-2.0
// mmfree-studio: chat with MatMul-free language models on the local machine.
#include <QApplication>
#include <QElapsedTimer>
#include <QCommandLineParser>
#include <QMessageBox>
#include <QTemporaryDir>
#include <QTimer>
#include <cstdio>

#include "core/app_settings.h"
#include "core/chat_controller.h"
#include "core/conversation_store.h"
#include "core/engine_service.h"
#include "core/studio_app.h"
#include "ui/main_window.h"
#include "ui/style.h"

// --self-test: the README's first command, checked end to end. Loads the model, sends one message
// through the normal chat path (controller → engine thread → store), waits for the reply and
// prints one line. Exit 0 only when the reply finished with at least one token.
static int runSelfTest(QApplication& app, StudioApp& studio, const QString& path, const QString& backend) {
    ChatController& controller = *studio.chat();
    auto fail = [](const QString& why) {
        std::fprintf(stderr, "self-test: FAILED: %s\n", qPrintable(why));
        return 1;
    };
    if (path.isEmpty()) return fail(QStringLiteral("no model: pass --model PATH or build with the embedded default model"));
    QTimer::singleShot(180000, &app, [&app] {
        std::fprintf(stderr, "self-test: FAILED: no reply within 180 s\n");
        app.exit(1);
    });
    QObject::connect(&controller, &ChatController::modelLoadFailed, &app, [&app](const QString& p, const QString& message) {
        std::fprintf(stderr, "self-test: FAILED: loading %s: %s\n", qPrintable(p), qPrintable(message));
        app.exit(1);
    });
    QObject::connect(&controller, &ChatController::replyFailed, &app, [&app](qint64, qint64, const QString& message) {
        std::fprintf(stderr, "self-test: FAILED: generation: %s\n", qPrintable(message));
        app.exit(1);
    });
    QElapsedTimer loading;   // loadModel → Ready: what a switch to this model costs
    qint64 loadMs = -1;
    QObject::connect(&controller, &ChatController::replyFinished, &app,
                     [&app, &controller, &loadMs](qint64, qint64, const GenerationOutcome& outcome) {
                         if (outcome.generatedTokens < 1) {
                             std::fprintf(stderr, "self-test: FAILED: the reply has no tokens (%s)\n", qPrintable(stopReasonName(outcome.stopReason)));
                             app.exit(1);
                             return;
                         }
                         const ModelInfo info = controller.modelInfo();
                         std::printf("self-test: ok: model %s on %s (%s), loaded in %lld ms%s, %d tokens at %.1f tok/s, first after %.0f ms: \"%s\"\n",
                                     qPrintable(info.name), qPrintable(info.backend), qPrintable(info.device), qlonglong(loadMs),
                                     info.packed ? " from its pack" : "", outcome.generatedTokens, outcome.decodeTokS, outcome.ttftMs,
                                     qPrintable(outcome.text.simplified().left(60)));
                         std::fflush(stdout);
                         app.exit(0);
                     });
    QObject::connect(&controller, &ChatController::modelStateChanged, &app, [&controller, &loading, &loadMs] {
        if (controller.modelState() != ChatController::ModelState::Ready || controller.isGenerating()) return;
        if (loadMs < 0) loadMs = loading.elapsed();
        const qint64 id = controller.newConversation();
        ChatSettings settings = controller.settings(id);
        settings.maxTokens = 8;
        settings.seed = 1;
        settings.stopAtEos = false;
        settings.stopStrings.clear();
        controller.setSettings(id, settings);
        controller.send(QStringLiteral("Once upon a time"));
    });
    loading.start();
    studio.engine()->loadModel(path, backend);   // not useModel: the self-test never changes the user's choice
    return app.exec();
}

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
    QCommandLineOption selfTest(QStringLiteral("self-test"),
                                QStringLiteral("Load the model, generate a few tokens through the chat, print a summary and exit."));
    cli.addOptions({model, backend, dataDir, language, selfTest});
    cli.process(app);

    // The self-test keeps its conversation in a throw-away folder: it never touches the user's data.
    QTemporaryDir selfTestDir;
    if (cli.isSet(selfTest) && !cli.isSet(dataDir)) qputenv("MMFREE_DATA_DIR", selfTestDir.path().toLocal8Bit());
    if (cli.isSet(dataDir)) qputenv("MMFREE_DATA_DIR", cli.value(dataDir).toLocal8Bit());
    installLanguage(cli.isSet(language) ? cli.value(language) : AppSettings::language());
    applyStudioStyle();

    // The application object owns every service; the window only shows them.
    StudioApp studio;
    if (!studio.openStore(AppSettings::databasePath())) {
        QMessageBox::critical(nullptr, QObject::tr("MMfree Studio"), studio.lastError());
        return 1;
    }
    studio.store()->purgeDeleted();   // deletions of the last session can no longer be undone

    MainWindow window(&studio);
    const auto conversations = studio.store()->conversations();
    if (!conversations.isEmpty()) studio.chat()->openConversation(conversations.first().id);

    if (cli.isSet(selfTest)) {
        window.show();
        const QString path = cli.isSet(model) ? cli.value(model) : AppSettings::defaultModelPath();
        return runSelfTest(app, studio, path, cli.isSet(backend) ? cli.value(backend) : QStringLiteral("auto"));
    }

    if (cli.isSet(backend)) AppSettings::setBackend(cli.value(backend));
    const QString path = cli.isSet(model) ? cli.value(model) : AppSettings::startupModelPath();
    if (cli.isSet(model)) AppSettings::setModelPath(path);
    studio.useModel(path);
    if (const auto api = AppSettings::apiServer(); api.enabled && !studio.applyApiServer(api))
        std::fprintf(stderr, "mmfree-studio: the local API server did not start: %s\n", qPrintable(studio.apiError()));

    window.show();
    return app.exec();
}
