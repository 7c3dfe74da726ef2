// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QHash>
#include <QTimer>
#include <QWidget>

#include "core/chat_controller.h"

class QLabel;
class QPushButton;
class QScrollArea;
class QTextBrowser;
class QToolButton;
class QVBoxLayout;
class MessageWidget;
class PromptEdit;

// The conversation on the right: its messages, the model notice when there is no usable model,
// and the composer (Enter sends, Shift+Enter new line, Stop while a reply streams).
class ChatView : public QWidget {
    Q_OBJECT
public:
    explicit ChatView(ChatController* controller, QWidget* parent = nullptr);

    PromptEdit* promptEdit() const { return prompt_; }
    QPushButton* sendButton() const { return send_; }
    QPushButton* stopButton() const { return stop_; }
    QToolButton* settingsButton() const { return settings_; }
    QWidget* modelNotice() const { return notice_; }
    QPushButton* chooseModelButton() const { return chooseModel_; }
    QLabel* errorBanner() const { return error_; }
    QList<MessageWidget*> messageWidgets() const;
    qint64 shownConversation() const { return shown_; }
    QTextBrowser* completionDocument() const { return document_; }
    QLabel* emptyLabel() const { return empty_; }
    // The story openings the built-in model's empty screen offers (it is a storyteller, not a chat model).
    static QStringList storyOpenings();

public slots:
    void showConversation(qint64 id);
    void startSuggestion(const QString& link);   // "story:N": a new text with opening N, continued
    void submit();
    void openSettings();

signals:
    void chooseModelRequested();
    void openModelsRequested();
    void retryModelRequested();

protected:
    void changeEvent(QEvent* event) override;

private:
    void rebuild();
    void updateModelNotice();
    void updateButtons();
    void updateTitle();
    void applyPendingText();
    void retranslate();
    MessageWidget* widgetFor(qint64 messageId) const;
    bool showsBuiltInModel() const;
    QString emptyText() const;

    ChatController* controller_;
    qint64 shown_ = 0;
    QLabel* title_;
    QToolButton* settings_;
    QWidget* notice_;
    QLabel* noticeTitle_;
    QLabel* noticeText_;
    QPushButton* chooseModel_;
    QPushButton* retryModel_;
    QPushButton* openModels_;
    QLabel* error_;
    QScrollArea* scroll_;
    QWidget* list_;
    QVBoxLayout* listLayout_;
    QLabel* empty_;
    QTextBrowser* document_;
    PromptEdit* prompt_;
    QPushButton* send_;
    QPushButton* stop_;
    QList<MessageWidget*> widgets_;
    bool stickToBottom_ = true;
    // Streamed text is applied at most every 40 ms: re-rendering Markdown per token is wasted work.
    QTimer renderTimer_;
    qint64 pendingMessage_ = 0;
    QString pendingText_;
};
