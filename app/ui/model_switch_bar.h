// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QFrame>
#include <QSet>

class ChatController;
class QLabel;
class QPushButton;

// Shown above a conversation that last ran on another model than the one loaded now, offering
// to switch back to it (each conversation remembers its model; its saved state only fits that
// model). Hidden when the models match, the old model is gone, or the person chose to stay.
class ModelSwitchBar : public QFrame {
    Q_OBJECT
public:
    explicit ModelSwitchBar(ChatController* controller, QWidget* parent = nullptr);

    QLabel* label() const { return label_; }
    QPushButton* switchButton() const { return switch_; }
    QPushButton* keepButton() const { return keep_; }
    QString offeredPath() const { return offered_; }

signals:
    void useModelRequested(const QString& path);   // the main window switches (StudioApp::useModel)

protected:
    void changeEvent(QEvent* event) override;

private:
    void reconsider();
    void retranslate();

    ChatController* controller_;
    QLabel* label_;
    QPushButton* switch_;
    QPushButton* keep_;
    QString offered_;            // the model this bar offers to switch to
    QSet<qint64> dismissed_;     // conversations where the person chose to keep the current model
};
