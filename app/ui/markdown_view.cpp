// SPDX-License-Identifier: Apache-2.0
#include "ui/markdown_view.h"

#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QClipboard>
#include <QEvent>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QResizeEvent>
#include <QRegularExpression>
#include <QScrollBar>
#include <QTextBlock>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

AutoHeightBrowser::AutoHeightBrowser(QWidget* parent) : QTextBrowser(parent) {
    setFrameShape(QFrame::NoFrame);
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setOpenExternalLinks(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    setTextInteractionFlags(Qt::TextBrowserInteraction | Qt::TextSelectableByKeyboard);
    viewport()->setAutoFillBackground(false);
    setAutoFillBackground(false);
    document()->setDocumentMargin(2);
    connect(document()->documentLayout(), &QAbstractTextDocumentLayout::documentSizeChanged, this, &AutoHeightBrowser::updateHeight);
}

void AutoHeightBrowser::setMarkdownText(const QString& markdown) {
    if (markdown == markdown_) return;
    markdown_ = markdown;
    setMarkdown(markdown);
    updateHeight();
}

void AutoHeightBrowser::updateHeight() {
    document()->setTextWidth(viewport()->width());
    const int h = int(std::ceil(document()->size().height())) + contentsMargins().top() + contentsMargins().bottom();
    if (h != height()) setFixedHeight(std::max(h, fontMetrics().height()));
}

QSize AutoHeightBrowser::sizeHint() const { return {200, height()}; }
QSize AutoHeightBrowser::minimumSizeHint() const { return {50, height()}; }

void AutoHeightBrowser::resizeEvent(QResizeEvent* event) {
    QTextBrowser::resizeEvent(event);
    updateHeight();
}

CodeBlockView::CodeBlockView(QWidget* parent) : QFrame(parent) {
    setObjectName("codeBlock");
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);
    auto* header = new QWidget(this);
    header->setObjectName("codeHeader");
    auto* h = new QHBoxLayout(header);
    h->setContentsMargins(10, 3, 4, 3);
    language_ = new QLabel(header);
    language_->setObjectName("codeLanguage");
    copy_ = new QToolButton(header);
    copy_->setObjectName("codeCopy");
    copy_->setIcon(QIcon(":/icons/copy.svg"));
    copy_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    copy_->setAutoRaise(true);
    h->addWidget(language_);
    h->addStretch();
    h->addWidget(copy_);
    v->addWidget(header);
    text_ = new QPlainTextEdit(this);
    text_->setObjectName("codeText");
    text_->setReadOnly(true);
    text_->setFrameShape(QFrame::NoFrame);
    text_->setLineWrapMode(QPlainTextEdit::NoWrap);
    text_->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    text_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    text_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    v->addWidget(text_);
    connect(copy_, &QToolButton::clicked, this, [this] {
        QApplication::clipboard()->setText(code_);
        copy_->setText(tr("Copied"));
        QTimer::singleShot(1500, this, [this] { retranslate(); });
    });
    retranslate();
}

void CodeBlockView::retranslate() { copy_->setText(tr("Copy")); }

void CodeBlockView::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QFrame::changeEvent(event);
}

void CodeBlockView::setCode(const QString& language, const QString& code) {
    language_->setText(language.isEmpty() ? QStringLiteral("code") : language);
    if (code == code_) return;
    code_ = code;
    text_->setPlainText(code);
    updateHeight();
}

void CodeBlockView::resizeEvent(QResizeEvent* event) {
    QFrame::resizeEvent(event);
    updateHeight();
}

void CodeBlockView::updateHeight() {
    // Room for every line, plus the horizontal scroll bar only when a line is wider than the view.
    const QStringList lines = code_.split('\n');
    int widest = 0;
    for (const QString& line : lines) widest = std::max(widest, text_->fontMetrics().horizontalAdvance(line));
    const int margin = 2 * int(text_->document()->documentMargin());
    const bool scrolls = widest + margin > text_->viewport()->width();
    const int h = int(lines.size()) * text_->fontMetrics().lineSpacing() + margin + 4 +
                  (scrolls ? text_->horizontalScrollBar()->sizeHint().height() : 0);
    if (h != text_->height()) text_->setFixedHeight(h);
}

MarkdownView::MarkdownView(QWidget* parent) : QWidget(parent), layout_(new QVBoxLayout(this)) {
    layout_->setContentsMargins(0, 0, 0, 0);
    layout_->setSpacing(6);
}

QList<MarkdownView::Segment> MarkdownView::split(const QString& markdown) {
    static const QRegularExpression fence(QStringLiteral("^ {0,3}(```+|~~~+)\\s*([^`\\s]*)"));
    QList<Segment> out;
    Segment current;
    QString fenceMarker;
    auto push = [&] {
        if (current.code || !current.text.trimmed().isEmpty()) {
            if (current.code && current.text.endsWith('\n')) current.text.chop(1);
            out << current;
        }
        current = Segment{};
    };
    for (const QString& line : markdown.split('\n')) {
        if (!current.code) {
            const auto m = fence.match(line);
            if (m.hasMatch()) {
                push();
                current.code = true;
                current.language = m.captured(2);
                fenceMarker = m.captured(1);
                continue;
            }
            current.text += line + '\n';
        } else {
            const QString t = line.trimmed();
            if (t.startsWith(fenceMarker) && t.count(fenceMarker.at(0)) == t.size()) {
                push();
                continue;
            }
            current.text += line + '\n';
        }
    }
    if (!current.code && current.text.endsWith('\n')) current.text.chop(1);
    push();
    return out;
}

QString MarkdownView::keepLineBreaks(const QString& prose) {
    // Markdown joins consecutive lines into one paragraph, but for the models a single newline is
    // a paragraph break. Every line that is followed by more text ends in a hard break (two
    // spaces), except around tables, whose rows must stay as they are; lists, headings and
    // quotes start their own blocks anyway, where a trailing hard break is ignored.
    const QStringList lines = prose.split('\n');
    QString out;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString& line = lines[i];
        out += line;
        if (i + 1 == lines.size()) break;
        const QString next = lines[i + 1].trimmed();
        const bool table = line.trimmed().startsWith('|') || next.startsWith('|');
        if (!line.trimmed().isEmpty() && !next.isEmpty() && !table && !line.endsWith(QStringLiteral("  "))) out += QStringLiteral("  ");
        out += '\n';
    }
    return out;
}

void MarkdownView::setMarkdown(const QString& markdown) {
    if (markdown == markdown_) return;
    markdown_ = markdown;
    const QList<Segment> segments = split(markdown);
    // Keep the widgets whose kind still matches; streaming usually only changes the last one.
    qsizetype keep = 0;
    while (keep < widgets_.size() && keep < segments.size() &&
           (qobject_cast<CodeBlockView*>(widgets_[keep]) != nullptr) == segments[keep].code)
        ++keep;
    while (widgets_.size() > keep) delete widgets_.takeLast();
    for (qsizetype i = 0; i < segments.size(); ++i) {
        const Segment& s = segments[i];
        if (i >= widgets_.size()) {
            QWidget* w = s.code ? static_cast<QWidget*>(new CodeBlockView(this)) : new AutoHeightBrowser(this);
            layout_->addWidget(w);
            widgets_ << w;
        }
        if (s.code) static_cast<CodeBlockView*>(widgets_[i])->setCode(s.language, s.text);
        else static_cast<AutoHeightBrowser*>(widgets_[i])->setMarkdownText(keepLineBreaks(s.text));
    }
}

QList<CodeBlockView*> MarkdownView::codeBlocks() const {
    QList<CodeBlockView*> out;
    for (QWidget* w : widgets_)
        if (auto* c = qobject_cast<CodeBlockView*>(w)) out << c;
    return out;
}
