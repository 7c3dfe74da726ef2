// SPDX-License-Identifier: Apache-2.0
// The simulated FPGA board from the app's side: a person picks "FPGA (simulated)" in
// Preferences, the model reloads on it and a chat reply streams from the Verilated RTL, with the
// worker reporting the FPGA backend (no silent CPU fallback). Without a loadable plugin the same
// choice falls back to the CPU and the model indicator says why.
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTimer>
#include <QToolButton>

#include <algorithm>

#include "gui_fixture.h"
#include "mmfree/backend.h"
#include "ui/chat_view.h"
#include "ui/message_widget.h"
#include "ui/preferences_dialog.h"
#include "ui/prompt_edit.h"

namespace {

struct BackendItem {
    QString text;
    bool enabled = false;
};

BackendItem backendItem(const PreferencesDialog& dialog, const QString& backend) {
    const QComboBox* box = dialog.backendBox();
    const int i = box->findData(backend);
    if (i < 0) return {};
    const auto* model = qobject_cast<const QStandardItemModel*>(box->model());
    return {box->itemText(i), model && model->item(i)->isEnabled()};
}

} // namespace

class FpgaAppTest : public QObject {
    Q_OBJECT
private:
    GuiFixture f_;

    // File ▸ Preferences, as a person does it: `backend` is chosen in the combo and OK pressed.
    // Returns what the combo showed for it.
    // The app lists devices off the UI thread; Preferences shows what the last listing found.
    bool listDevices() {
        QSignalSpy listed(f_.app, &StudioApp::devicesListed);
        f_.app->listDevices();
        return listed.wait(30000);
    }
    BackendItem chooseInPreferences(const QString& backend) {
        BackendItem shown;
        if (!listDevices()) return shown;
        QTimer::singleShot(0, this, [&] {
            auto* dialog = qobject_cast<PreferencesDialog*>(QApplication::activeModalWidget());
            if (!dialog) return;
            shown = backendItem(*dialog, backend);
            const int i = dialog->backendBox()->findData(backend);
            if (i < 0 || !shown.enabled) {
                dialog->reject();
                return;
            }
            dialog->backendBox()->setCurrentIndex(i);
            dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok)->click();
        });
        f_.window->openPreferences();
        return shown;
    }
    bool waitReady() {
        return QTest::qWaitFor([this] { return f_.chat->modelState() != ChatController::ModelState::Loading; }, 60000) &&
               f_.chat->modelState() == ChatController::ModelState::Ready;
    }
    // Types a prompt and sends it; returns the finished reply's outcome and how many tokens
    // arrived live (one signal each while the reply streams).
    GenerationOutcome sendAndWait(const QString& text, int maxTokens, int* liveTokens) {
        f_.window->newChat();
        ChatSettings s;
        s.maxTokens = maxTokens;
        s.stopAtEos = false;
        s.stopStrings.clear();
        s.seed = 5;
        f_.chat->setSettings(f_.chat->currentConversation(), s);
        QSignalSpy live(f_.chat, &ChatController::liveMetrics);
        QSignalSpy finished(f_.chat, &ChatController::replyFinished);
        PromptEdit* prompt = f_.window->chatView()->promptEdit();
        prompt->setFocus();
        QTest::keyClicks(prompt, text);
        QTest::keyClick(prompt, Qt::Key_Return);
        if (!QTest::qWaitFor([&] { return finished.size() > 0; }, 120000)) return {};
        // Live figures arrive in batches (the first token alone); the last one counts them all.
        *liveTokens = live.isEmpty() ? 0 : live.last()[3].toInt();
        return finished[0][2].value<GenerationOutcome>();
    }

private slots:
    void initTestCase() {
        QVERIFY(f_.setUp());
        f_.window->loadModelFrom(f_.model);
        QVERIFY(waitReady());
    }
    void cleanupTestCase() { f_.tearDown(); }

    void backendsHaveNames() {
        QCOMPARE(backendDisplayName("fpga-sim"), QStringLiteral("FPGA (simulated)"));
        QCOMPARE(backendDisplayName("fpga"), QStringLiteral("FPGA board (plugin)"));
        QCOMPARE(backendDisplayName("plugin:/opt/mmfa/libmmfree-fpga.so"), QStringLiteral("FPGA board (plugin)"));
        QCOMPARE(backendDisplayName("vulkan"), QStringLiteral("Vulkan GPU"));
        QCOMPARE(backendDisplayName("cuda"), QStringLiteral("CUDA GPU"));
        // Every device backend in the combo is shown by name; the stored value stays the id.
        QVERIFY(listDevices());
        PreferencesDialog dialog(f_.app);
        const QComboBox* box = dialog.backendBox();
        for (int i = 0; i < box->count(); ++i) {
            const QString id = box->itemData(i).toString();
            if (id == "auto" || id == "cpu") continue;
            QVERIFY2(box->itemText(i).startsWith(backendDisplayName(id)), qPrintable(box->itemText(i)));
        }
        // Vulkan as the engine sees it here (lavapipe in a full build; absent when built without):
        // usable → enabled under its name; not → listed, disabled, with the reason.
        const auto devices = mmfree::list_devices();
        const bool vulkanUsable = std::any_of(devices.begin(), devices.end(), [](const mmfree::DeviceInfo& d) {
            return d.backend == "vulkan" && d.usable;
        });
        const BackendItem vulkan = backendItem(dialog, "vulkan");
        QCOMPARE(vulkan.enabled, vulkanUsable);
        if (vulkanUsable) QCOMPARE(vulkan.text, QStringLiteral("Vulkan GPU"));
        else QVERIFY2(vulkan.text.startsWith("Vulkan GPU (unavailable: "), qPrintable(vulkan.text));
    }

    void chatRunsOnTheSimulatedBoard() {
        QVERIFY(f_.chat->modelInfo().backend.startsWith("cpu"));
        const BackendItem shown = chooseInPreferences("fpga-sim");
        QCOMPARE(shown.text, QStringLiteral("FPGA (simulated)"));
        QVERIFY(shown.enabled);
        QCOMPARE(AppSettings::backend(), QStringLiteral("fpga-sim"));
        QVERIFY(waitReady());
        const ModelInfo info = f_.chat->modelInfo();
        QCOMPARE(info.backend, QStringLiteral("fpga-sim"));
        QVERIFY2(info.fallbackNote.isEmpty(), qPrintable(info.fallbackNote));
        QVERIFY2(info.device.startsWith("FPGA (simulated)"), qPrintable(info.device));
        QVERIFY(f_.window->modelButton()->text().contains("FPGA (simulated)"));

        int live = 0;
        const GenerationOutcome out = sendAndWait("Hello board", 6, &live);
        QCOMPARE(out.stopReason, mmfree::StopReason::MaxTokens);
        QCOMPARE(out.generatedTokens, 6);
        QCOMPARE(live, 6);
        QVERIFY(out.promptTokens > 1);
        QVERIFY(!out.text.isEmpty());
        QTRY_VERIFY(!f_.window->chatView()->messageWidgets().last()->text().isEmpty());   // shown in the chat
        QCOMPARE(f_.chat->modelInfo().backend, QStringLiteral("fpga-sim"));
    }

    // A plugin that is gone, or a file that is not one: the saved FPGA choice falls back to the
    // CPU when the model loads, the indicator says why, and chat still works.
    void unusablePluginFallsBackAndSaysWhy_data() {
        QTest::addColumn<bool>("present");
        QTest::newRow("missing") << false;
        QTest::newRow("not a plugin") << true;
    }
    void unusablePluginFallsBackAndSaysWhy() {
        QFETCH(bool, present);
        const QString plugin = f_.dir.filePath(present ? "broken/libmmfree-fpga.so" : "gone/libmmfree-fpga.so");
        if (present) {
            QDir().mkpath(QFileInfo(plugin).path());
            QFile file(plugin);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("not an ELF file");
        }
        qputenv("MMFREE_FPGA_PLUGIN", plugin.toLocal8Bit());
        if (!present) {
            QVERIFY(listDevices());
            PreferencesDialog dialog(f_.app);
            const BackendItem item = backendItem(dialog, "fpga-sim");
            QVERIFY2(item.text.startsWith("FPGA (simulated) (unavailable: ") && item.text.contains("does not exist"),
                     qPrintable(item.text));
            QVERIFY(!item.enabled);
        }
        AppSettings::setBackend("fpga-sim");   // chosen in an earlier session
        f_.window->loadModelFrom(f_.model);
        QVERIFY(waitReady());
        qunsetenv("MMFREE_FPGA_PLUGIN");
        const ModelInfo info = f_.chat->modelInfo();
        QVERIFY2(info.backend.startsWith("cpu"), qPrintable(info.backend));
        QVERIFY2(info.fallbackNote.contains("cannot load the FPGA plugin " + plugin), qPrintable(info.fallbackNote));
        QVERIFY(info.fallbackNote.contains("running on the CPU instead"));
        QVERIFY(f_.window->modelButton()->toolTip().contains(info.fallbackNote));

        int live = 0;
        const GenerationOutcome out = sendAndWait("Hello CPU", 4, &live);
        QCOMPARE(out.generatedTokens, 4);
        QCOMPARE(live, 4);
    }
};

QTEST_MAIN(FpgaAppTest)
#include "test_fpga.moc"
