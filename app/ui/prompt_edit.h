// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QPlainTextEdit>

// The message box: Enter sends, Shift+Enter starts a new line; grows with its text up to a limit.
class PromptEdit : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit PromptEdit(QWidget* parent = nullptr);
    QSize sizeHint() const override;

signals:
    void submitted();

protected:
    void keyPressEvent(QKeyEvent* event) override;

private:
    void adjustHeight();
};
