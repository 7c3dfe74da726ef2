// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QWidget>

class ChatController;
class QLabel;

// Placeholder for the model manager (issue 5: catalogue, downloads, import, switch). The
// model-manager work replaces this page's body; MainWindow only constructs it and adds it as a page.
class ModelsPage : public QWidget {
    Q_OBJECT
public:
    explicit ModelsPage(ChatController* controller, QWidget* parent = nullptr);

signals:
    void chooseModelRequested();

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslate();
    void update();
    ChatController* controller_;
    QLabel* title_;
    QLabel* current_;
};
