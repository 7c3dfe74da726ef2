// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QFrame>

#include "core/chat_settings.h"

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;
class QToolButton;
class MarkdownView;

// One message: who wrote it, its Markdown, and its actions (copy; edit and resend for the
// user's messages; regenerate for the last reply).
class MessageWidget : public QFrame {
    Q_OBJECT
public:
    explicit MessageWidget(const ChatMessage& message, QWidget* parent = nullptr);

    qint64 messageId() const { return message_.id; }
    MessageRole role() const { return message_.role; }
    QString text() const { return message_.content; }
    void setText(const QString& text);
    void setStreaming(bool streaming);
    void setInterrupted(bool interrupted);
    void setCanRegenerate(bool can);
    void setActionsEnabled(bool enabled);   // no edit / regenerate while a reply streams
    void startEditing();
    bool isEditing() const;

    MarkdownView* markdownView() const { return view_; }
    QToolButton* copyButton() const { return copy_; }
    QToolButton* editButton() const { return edit_; }
    QToolButton* regenerateButton() const { return regenerate_; }
    QPlainTextEdit* editor() const { return editor_; }
    QPushButton* resendButton() const { return resend_; }

signals:
    void editAndResend(qint64 messageId, const QString& text);
    void regenerateRequested();

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslate();
    ChatMessage message_;
    QLabel* who_;
    QLabel* badge_;
    QStackedWidget* body_;
    MarkdownView* view_;
    QPlainTextEdit* editor_;
    QPushButton* resend_;
    QPushButton* cancelEdit_;
    QToolButton* copy_;
    QToolButton* edit_;
    QToolButton* regenerate_;
    bool streaming_ = false;
    bool interrupted_ = false;
};
