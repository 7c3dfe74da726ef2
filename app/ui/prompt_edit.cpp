// SPDX-License-Identifier: Apache-2.0
#include "ui/prompt_edit.h"

#include <QKeyEvent>

PromptEdit::PromptEdit(QWidget* parent) : QPlainTextEdit(parent) {
    setObjectName("promptEdit");
    setTabChangesFocus(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    connect(this, &QPlainTextEdit::textChanged, this, &PromptEdit::adjustHeight);
    adjustHeight();
}

QSize PromptEdit::sizeHint() const { return {400, height()}; }

void PromptEdit::adjustHeight() {
    const int lines = std::clamp(document()->lineCount(), 2, 8);
    const int h = lines * fontMetrics().lineSpacing() + 2 * int(document()->documentMargin()) + frameWidth() * 2 + 8;
    if (h != height()) setFixedHeight(h);
}

void PromptEdit::keyPressEvent(QKeyEvent* event) {
    const bool enter = event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter;
    if (enter && !(event->modifiers() & (Qt::ShiftModifier | Qt::AltModifier | Qt::ControlModifier))) {
        emit submitted();
        event->accept();
        return;
    }
    if (enter && (event->modifiers() & Qt::ShiftModifier)) {
        insertPlainText(QStringLiteral("\n"));
        event->accept();
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
}
