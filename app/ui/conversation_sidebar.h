// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QTimer>
#include <QWidget>

#include "core/chat_controller.h"

class QLabel;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QPushButton;
class QStackedWidget;
class QToolButton;

// The conversation list: new, rename (double-click or F2), delete with undo, search across all
// messages (Ctrl+F), export and import.
class ConversationSidebar : public QWidget {
    Q_OBJECT
public:
    explicit ConversationSidebar(ChatController* controller, QWidget* parent = nullptr);

    QLineEdit* searchField() const { return search_; }
    QListWidget* conversationList() const { return list_; }
    QListWidget* resultList() const { return results_; }
    QPushButton* newButton() const { return new_; }
    QPushButton* undoButton() const { return undo_; }
    QWidget* undoBar() const { return undoBar_; }

public slots:
    void reload();
    void focusSearch();
    void renameCurrent();
    void deleteConversation(qint64 id);
    void exportConversation(qint64 id, const QString& format);   // "md" or "json"; asks for a file
    void importConversation();

protected:
    void changeEvent(QEvent* event) override;

private:
    void runSearch();
    void showMenu(const QPoint& pos);
    void retranslate();

    ChatController* controller_;
    QPushButton* new_;
    QToolButton* import_;
    QLineEdit* search_;
    QStackedWidget* pages_;
    QListWidget* list_;
    QListWidget* results_;
    QWidget* undoBar_;
    QLabel* undoText_;
    QPushButton* undo_;
    QTimer undoTimer_;
    QTimer searchTimer_;
    QTimer reloadTimer_;   // coalesces reloads, and never clears the list under an open editor
    bool reloading_ = false;
};
