// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QFrame>
#include <QList>
#include <QTextBrowser>

class QPlainTextEdit;
class QLabel;
class QToolButton;
class QVBoxLayout;

// A read-only QTextBrowser as tall as its document, so a list of them scrolls as one page.
class AutoHeightBrowser : public QTextBrowser {
    Q_OBJECT
public:
    explicit AutoHeightBrowser(QWidget* parent = nullptr);
    void setMarkdownText(const QString& markdown);
    QString markdownText() const { return markdown_; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void updateHeight();
    QString markdown_;
};

// A fenced code block: language, a Copy button, monospace text that scrolls sideways.
class CodeBlockView : public QFrame {
    Q_OBJECT
public:
    explicit CodeBlockView(QWidget* parent = nullptr);
    void setCode(const QString& language, const QString& code);
    QString code() const { return code_; }
    QToolButton* copyButton() const { return copy_; }

protected:
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void retranslate();
    void updateHeight();
    QLabel* language_;
    QToolButton* copy_;
    QPlainTextEdit* text_;
    QString code_;
};

// Markdown rendered as alternating prose (QTextDocument's Markdown) and code blocks with copy
// buttons. setMarkdown() is cheap to call repeatedly while a reply streams: unchanged segments
// are left alone, and an unclosed ``` fence is shown as code already.
class MarkdownView : public QWidget {
    Q_OBJECT
public:
    explicit MarkdownView(QWidget* parent = nullptr);
    void setMarkdown(const QString& markdown);
    QString markdown() const { return markdown_; }
    QList<CodeBlockView*> codeBlocks() const;

    struct Segment {
        bool code = false;
        QString language;
        QString text;
    };
    static QList<Segment> split(const QString& markdown);
    // Prose with every single newline turned into a Markdown hard break (tables excepted).
    static QString keepLineBreaks(const QString& prose);

private:
    QVBoxLayout* layout_;
    QList<QWidget*> widgets_;
    QString markdown_;
};
