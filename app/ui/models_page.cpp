// SPDX-License-Identifier: Apache-2.0
#include "ui/models_page.h"

#include <QApplication>
#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QLocale>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QVBoxLayout>
#include <functional>

#include "core/app_settings.h"
#include "core/model_pack.h"
#include "core/chat_controller.h"
#include "core/hf_client.h"
#include "core/model_catalog.h"

namespace {

// Three lines per model: name + state, size + memory, then progress or what is wrong.
class ModelRowDelegate : public QStyledItemDelegate {
public:
    ModelRowDelegate(std::function<QString()> currentPath, QObject* parent)
        : QStyledItemDelegate(parent), currentPath_(std::move(currentPath)) {}

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const override {
        return {option.rect.width(), 3 * option.fontMetrics.height() + 22};
    }

    void paint(QPainter* p, const QStyleOptionViewItem& optionIn, const QModelIndex& index) const override {
        QStyleOptionViewItem option = optionIn;
        initStyleOption(&option, index);
        const QWidget* w = option.widget;
        QStyle* style = w ? w->style() : QApplication::style();
        option.text.clear();
        style->drawPrimitive(QStyle::PE_PanelItemViewItem, &option, p, w);

        const auto state = ModelCatalog::State(index.data(ModelCatalog::StateRole).toInt());
        const bool selected = option.state & QStyle::State_Selected;
        const QColor text = option.palette.color(selected ? QPalette::HighlightedText : QPalette::Text);
        QColor dim = text;
        dim.setAlphaF(0.65);
        const QRect r = option.rect.adjusted(10, 6, -10, -6);
        const int lh = option.fontMetrics.height();

        p->save();
        QFont bold = option.font;
        bold.setBold(true);
        p->setFont(bold);
        p->setPen(text);
        QString name = index.data(Qt::DisplayRole).toString();
        const QString path = index.data(ModelCatalog::PathRole).toString();
        const QString current = currentPath_();
        if (!current.isEmpty() && !path.isEmpty() && QDir::cleanPath(path) == QDir::cleanPath(current))
            name += QStringLiteral("  ●  ") + ModelsPage::tr("in use");
        p->drawText(QRect(r.left(), r.top(), r.width() - 120, lh), Qt::AlignLeft | Qt::AlignVCenter,
                    QFontMetrics(bold).elidedText(name, Qt::ElideRight, r.width() - 120));

        QColor badge = state == ModelCatalog::State::Installed ? QColor(0x2e, 0x9d, 0x5b)
                     : state == ModelCatalog::State::Broken    ? QColor(0xc6, 0x3b, 0x3b)
                     : state == ModelCatalog::State::Available ? dim
                                                               : QColor(0x2f, 0x7d, 0xd1);
        if (selected) badge = text;   // colours do not read on the selection highlight
        p->setFont(option.font);
        p->setPen(badge);
        p->drawText(QRect(r.right() - 120, r.top(), 120, lh), Qt::AlignRight | Qt::AlignVCenter,
                    index.data(ModelCatalog::StateTextRole).toString());

        p->setPen(dim);
        const QString second = index.data(ModelCatalog::SizeTextRole).toString() + QStringLiteral("  ·  ") +
                               index.data(ModelCatalog::MemoryTextRole).toString();
        p->drawText(QRect(r.left(), r.top() + lh + 2, r.width(), lh), Qt::AlignLeft | Qt::AlignVCenter,
                    option.fontMetrics.elidedText(second, Qt::ElideRight, r.width()));

        const double progress = index.data(ModelCatalog::ProgressRole).toDouble();
        int textLeft = r.left();
        if (progress >= 0) {
            QStyleOptionProgressBar bar;
            bar.rect = QRect(r.left(), r.top() + 2 * lh + 6, 140, lh - 4);
            bar.minimum = 0;
            bar.maximum = 1000;
            bar.progress = int(progress * 1000);
            bar.state = QStyle::State_Enabled | QStyle::State_Horizontal;
            bar.palette = option.palette;
            style->drawControl(QStyle::CE_ProgressBar, &bar, p, w);
            textLeft += 150;
        }
        if (state == ModelCatalog::State::Broken) p->setPen(badge);
        const QString third = index.data(ModelCatalog::StatusTextRole).toString().section(u'\n', 0, 0);
        p->drawText(QRect(textLeft, r.top() + 2 * lh + 4, r.right() - textLeft, lh), Qt::AlignLeft | Qt::AlignVCenter,
                    option.fontMetrics.elidedText(third, Qt::ElideRight, r.right() - textLeft));
        p->restore();
    }

private:
    std::function<QString()> currentPath_;
};

QString compactCount(qint64 n) {
    if (n >= 1000000) return QString::number(n / 1e6, 'f', 1) + u'M';
    if (n >= 1000) return QString::number(n / 1e3, 'f', 1) + u'k';
    return QString::number(n);
}

} // namespace

ModelsPage::ModelsPage(ChatController* controller, ModelCatalog* catalog, QWidget* parent)
    : QWidget(parent), controller_(controller), catalog_(catalog) {
    setObjectName("modelsPage");

    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(24, 18, 24, 18);
    title_ = new QLabel(this);
    title_->setObjectName("pageTitle");
    current_ = new QLabel(this);
    current_->setWordWrap(true);
    current_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // The engine reports no percentage while loading; a busy bar says it is working.
    loading_ = new QProgressBar(this);
    loading_->setObjectName("modelLoading");
    loading_->setRange(0, 0);
    loading_->setMaximumHeight(6);
    loading_->setTextVisible(false);
    loading_->hide();
    v->addWidget(title_);
    v->addWidget(current_);
    v->addWidget(loading_);

    // Finding models: hub search, a repository id, or files already on this computer.
    auto* findRow = new QHBoxLayout;
    searchEdit_ = new QLineEdit(this);
    searchEdit_->setObjectName("modelSearch");
    searchEdit_->setClearButtonEnabled(true);
    searchButton_ = new QPushButton(this);
    searchButton_->setObjectName("searchButton");
    repoEdit_ = new QLineEdit(this);
    repoEdit_->setObjectName("repoId");
    addButton_ = new QPushButton(this);
    addButton_->setObjectName("addRepoButton");
    importFolderButton_ = new QPushButton(QIcon(QStringLiteral(":/icons/import.svg")), QString(), this);
    importFolderButton_->setObjectName("importFolderButton");
    importFileButton_ = new QPushButton(this);
    importFileButton_->setObjectName("importFileButton");
    findRow->addWidget(searchEdit_, 3);
    findRow->addWidget(searchButton_);
    findRow->addSpacing(12);
    findRow->addWidget(repoEdit_, 2);
    findRow->addWidget(addButton_);
    findRow->addSpacing(12);
    findRow->addWidget(importFolderButton_);
    findRow->addWidget(importFileButton_);
    v->addLayout(findRow);

    resultsTitle_ = new QLabel(this);
    resultsTitle_->hide();
    results_ = new QListWidget(this);
    results_->setObjectName("searchResults");
    results_->setMaximumHeight(150);
    results_->hide();
    v->addWidget(resultsTitle_);
    v->addWidget(results_);

    auto* split = new QSplitter(Qt::Horizontal, this);
    list_ = new QListView(split);
    list_->setObjectName("modelList");
    list_->setModel(catalog_);
    list_->setItemDelegate(new ModelRowDelegate([this] { return controller_->modelInfo().path; }, list_));
    list_->setSelectionMode(QAbstractItemView::SingleSelection);
    list_->setUniformItemSizes(true);

    auto* details = new QWidget(split);
    auto* dv = new QVBoxLayout(details);
    dv->setContentsMargins(12, 0, 0, 0);
    detailTitle_ = new QLabel(details);
    QFont f = detailTitle_->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.15);
    detailTitle_->setFont(f);
    detailTitle_->setWordWrap(true);
    detail_ = new QLabel(details);
    detail_->setWordWrap(true);
    detail_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    detail_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    progress_ = new QProgressBar(details);
    progress_->setObjectName("downloadProgress");
    progress_->setRange(0, 1000);
    progress_->setTextVisible(false);
    status_ = new QLabel(details);
    status_->setObjectName("downloadStatus");
    status_->setWordWrap(true);
    auto* buttons = new QHBoxLayout;
    auto makeButton = [&](const char* name) {
        auto* b = new QPushButton(details);
        b->setObjectName(QString::fromLatin1(name));
        buttons->addWidget(b);
        return b;
    };
    downloadButton_ = makeButton("downloadButton");
    pauseButton_ = makeButton("pauseButton");
    resumeButton_ = makeButton("resumeButton");
    cancelButton_ = makeButton("cancelButton");
    useButton_ = makeButton("useButton");
    deleteButton_ = makeButton("deleteButton");
    deleteButton_->setIcon(QIcon(QStringLiteral(":/icons/delete.svg")));
    removePackButton_ = makeButton("removePackButton");
    buttons->addStretch();
    dv->addWidget(detailTitle_);
    dv->addWidget(detail_);
    dv->addWidget(progress_);
    dv->addWidget(status_);
    dv->addLayout(buttons);
    dv->addStretch();
    split->addWidget(list_);
    split->addWidget(details);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    v->addWidget(split, 1);

    notice_ = new QLabel(this);
    notice_->setObjectName("modelsNotice");
    notice_->setWordWrap(true);
    notice_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    notice_->hide();
    v->addWidget(notice_);

    connect(searchButton_, &QPushButton::clicked, this, [this] { search(searchEdit_->text()); });
    connect(searchEdit_, &QLineEdit::returnPressed, this, [this] { search(searchEdit_->text()); });
    connect(addButton_, &QPushButton::clicked, this, [this] { addRepo(repoEdit_->text()); });
    connect(repoEdit_, &QLineEdit::returnPressed, this, [this] { addRepo(repoEdit_->text()); });
    connect(importFolderButton_, &QPushButton::clicked, this, [this] { chooseImport(true); });
    connect(importFileButton_, &QPushButton::clicked, this, [this] { chooseImport(false); });
    connect(results_, &QListWidget::itemActivated, this,
            [this](QListWidgetItem* item) { addRepo(item->data(Qt::UserRole).toString()); });

    connect(downloadButton_, &QPushButton::clicked, this, [this] {
        QString error;
        if (!catalog_->startDownload(selectedId(), &error)) showNotice(error, true);
    });
    connect(pauseButton_, &QPushButton::clicked, this, [this] { catalog_->pauseDownload(selectedId()); });
    connect(resumeButton_, &QPushButton::clicked, this, [this] {
        showNotice({});   // the "stopped" line belongs to the run that stopped
        catalog_->resumeDownload(selectedId());
    });
    connect(cancelButton_, &QPushButton::clicked, this, [this] { catalog_->cancelDownload(selectedId()); });
    connect(useButton_, &QPushButton::clicked, this, &ModelsPage::useSelected);
    connect(deleteButton_, &QPushButton::clicked, this, &ModelsPage::deleteSelected);
    connect(removePackButton_, &QPushButton::clicked, this, [this] {
        const auto* e = catalog_->entry(selectedId());
        if (!e || e->path.isEmpty()) return;
        const qint64 bytes = ModelPack::diskBytes(e->path);
        const QString name = e->name;
        if (ModelPack::remove(e->path)) showNotice(tr("Removed the packed copy of %1 (%2 freed); the next use packs it again.").arg(name, formatBytes(bytes)));
        updateActions();
    });

    connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this] {
        // Ask the hub for exact sizes only when someone looks at a model not on disk yet.
        const auto* e = catalog_->entry(selectedId());
        if (e && e->state == ModelCatalog::State::Available && !e->downloadExact &&
            (e->source == ModelCatalog::Source::Release || e->source == ModelCatalog::Source::Hub))
            catalog_->fetchDetails(e->id);
        updateActions();
    });
    connect(catalog_, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex& a, const QModelIndex& b) {
        const int row = list_->currentIndex().row();
        if (row >= a.row() && row <= b.row()) updateActions();
    });
    connect(catalog_, &QAbstractItemModel::modelReset, this, &ModelsPage::updateActions);
    // A new packed copy shows in the details (its size is read from disk there).
    connect(controller_->engine(), &EngineService::packingFinished, this, &ModelsPage::updateActions);
    connect(catalog_, &ModelCatalog::notice, this, [this](const QString& t) { showNotice(t); });
    connect(catalog_, &ModelCatalog::downloadFinished, this, [this](const QString& id) {
        const auto* e = catalog_->entry(id);
        showNotice(e && e->state == ModelCatalog::State::Installed
                       ? tr("%1 is downloaded and verified. Choose “Use this model” to chat with it.").arg(e->name)
                       : tr("%1 was downloaded but does not check out: %2").arg(id, e ? e->problem : QString()),
                   !e || e->state != ModelCatalog::State::Installed);
    });
    connect(catalog_, &ModelCatalog::downloadFailed, this,
            [this](const QString& id, const QString& message) { showNotice(tr("Download of %1 stopped: %2").arg(id, message), true); });
    connect(catalog_, &ModelCatalog::removed, this, [this](const QString&, qint64, const QString& message) { showNotice(message); });
    connect(catalog_, &ModelCatalog::importFinished, this, [this](const QString& id, const ValidationReport& r) {
        QStringList lines;
        for (const auto& p : r.problems) lines << QStringLiteral("• %1: %2").arg(p.file, p.message);
        if (!r.ok()) {
            showNotice(tr("%1 was not added; these files have problems:\n%2").arg(QDir::toNativeSeparators(r.path), lines.join(u'\n')), true);
            return;
        }
        selectModel(id);
        showNotice(lines.isEmpty() ? tr("Added %1.").arg(QDir::toNativeSeparators(r.path))
                                   : tr("Added %1, with notes:\n%2").arg(QDir::toNativeSeparators(r.path), lines.join(u'\n')));
    });
    connect(catalog_, &ModelCatalog::searchFinished, this, [this](const QList<HubSearchResult>& found, const NetError& e) {
        searchButton_->setEnabled(true);
        results_->clear();
        if (!e.ok()) {
            resultsTitle_->hide();
            results_->hide();
            showNotice(tr("Search failed: %1").arg(e.message), true);
            return;
        }
        resultsTitle_->setText(found.isEmpty() ? tr("No MatMul-free models matched.")
                                               : tr("%n model(s) on the hub — double-click one to add it:", nullptr, int(found.size())));
        for (const HubSearchResult& r : found) {
            auto* item = new QListWidgetItem(tr("%1   ·   %2 downloads   ·   %3 likes").arg(r.repoId, compactCount(r.downloads)).arg(r.likes),
                                             results_);
            item->setData(Qt::UserRole, r.repoId);
            item->setToolTip(r.tags.join(QStringLiteral(", ")));
        }
        resultsTitle_->show();
        results_->setVisible(!found.isEmpty());
    });

    connect(controller_, &ChatController::modelStateChanged, this, [this] {
        updateCurrent();
        if (!pendingUse_.isEmpty() && controller_->modelState() == ChatController::ModelState::Ready &&
            QDir::cleanPath(controller_->modelInfo().path) == QDir::cleanPath(pendingUse_)) {
            showNotice(tr("Now chatting with %1.").arg(controller_->modelInfo().name));
            pendingUse_.clear();
        }
        list_->viewport()->update();
        updateActions();
    });
    connect(controller_, &ChatController::modelLoadFailed, this, [this](const QString& path, const QString& message) {
        if (pendingUse_.isEmpty() || QDir::cleanPath(path) != QDir::cleanPath(pendingUse_)) return;
        pendingUse_.clear();
        const bool kept = controller_->modelState() == ChatController::ModelState::Ready;
        showNotice(kept ? tr("Could not load %1: %2\n%3 is still running.").arg(QDir::toNativeSeparators(path), message,
                                                                               controller_->modelInfo().name)
                        : tr("Could not load %1: %2").arg(QDir::toNativeSeparators(path), message),
                   true);
    });

    catalog_->refresh();
    retranslate();
}

ModelsPage::~ModelsPage() = default;

void ModelsPage::retranslate() {
    title_->setText(tr("Models"));
    searchEdit_->setPlaceholderText(tr("Search the Hugging Face Hub for MatMul-free (hgrn_bit) models"));
    searchButton_->setText(tr("Search"));
    repoEdit_->setPlaceholderText(tr("owner/name, e.g. ridger/MMfreeLM-2.7B"));
    addButton_->setText(tr("Add"));
    importFolderButton_->setText(tr("Import folder…"));
    importFileButton_->setText(tr("Import file…"));
    downloadButton_->setText(tr("Download"));
    pauseButton_->setText(tr("Pause"));
    resumeButton_->setText(tr("Resume"));
    cancelButton_->setText(tr("Cancel download"));
    useButton_->setText(tr("Use this model"));
    deleteButton_->setText(tr("Delete"));
    removePackButton_->setText(tr("Remove packed copy"));
    updateCurrent();
    updateActions();
}

void ModelsPage::updateCurrent() {
    const ModelInfo m = controller_->modelInfo();
    QString text = m.path.isEmpty() ? tr("No model is loaded.")
                                    : tr("Current model: %1 — %2 on %3").arg(m.name, m.backend, m.device);
    const bool loading = controller_->modelState() == ChatController::ModelState::Loading;
    if (loading) text += QStringLiteral("\n") + tr("Loading %1 …").arg(QDir::toNativeSeparators(controller_->requestedModelPath()));
    current_->setText(text);
    loading_->setVisible(loading);
}

QString ModelsPage::selectedId() const {
    const QModelIndex i = list_->currentIndex();
    return i.isValid() ? i.data(ModelCatalog::IdRole).toString() : QString();
}

void ModelsPage::selectModel(const QString& id) {
    const int row = catalog_->rowOf(id);
    if (row >= 0) list_->setCurrentIndex(catalog_->index(row));
}

void ModelsPage::updateActions() {
    const QModelIndex idx = list_->currentIndex();
    const auto* e = idx.isValid() ? catalog_->entry(idx.data(ModelCatalog::IdRole).toString()) : nullptr;
    for (QPushButton* b : {downloadButton_, pauseButton_, resumeButton_, cancelButton_, useButton_, deleteButton_, removePackButton_})
        b->setVisible(false);
    if (!e) {
        detailTitle_->setText(tr("Choose a model on the left."));
        detail_->clear();
        progress_->hide();
        status_->clear();
        return;
    }
    using S = ModelCatalog::State;
    const bool hubModel = e->source == ModelCatalog::Source::Release || e->source == ModelCatalog::Source::Hub ||
                          e->source == ModelCatalog::Source::Cache;
    // Compared as files, not strings: a cache snapshot or a relative path names the same model.
    const bool inUse = !e->path.isEmpty() && controller_->modelState() == ChatController::ModelState::Ready &&
                       QFileInfo(e->path).canonicalFilePath() == QFileInfo(controller_->modelInfo().path).canonicalFilePath();
    const bool loading = controller_->modelState() == ChatController::ModelState::Loading;
    downloadButton_->setVisible(hubModel && e->state == S::Available);
    pauseButton_->setVisible(e->state == S::Downloading);
    resumeButton_->setVisible(e->state == S::Paused);
    cancelButton_->setVisible(e->state == S::Downloading || e->state == S::Paused);
    useButton_->setVisible(e->state == S::Installed);
    useButton_->setEnabled(e->canChat && !inUse && !loading);
    useButton_->setToolTip(!e->canChat ? tr("This model has no usable tokenizer, so it cannot chat.")
                           : inUse     ? tr("This model is running now.")
                                       : QString());
    deleteButton_->setVisible(idx.data(ModelCatalog::CanDeleteRole).toBool() && e->state != S::Downloading);
    deleteButton_->setEnabled(!inUse);
    deleteButton_->setToolTip(inUse ? tr("Switch to another model before deleting this one.") : QString());

    detailTitle_->setText(e->source == ModelCatalog::Source::Imported || e->source == ModelCatalog::Source::Demo ? e->name : e->id);
    QStringList lines;
    lines << tr("State: %1").arg(ModelCatalog::stateText(*e));
    if (!e->location.isEmpty()) lines << e->location;
    lines << idx.data(ModelCatalog::SizeTextRole).toString();
    if (e->haveMemory) {
        const MemoryEstimate& m = e->memory;
        lines << tr("%1 parameters").arg(QLocale().toString(m.parameters));
        lines << tr("Memory on CPU: %1 · on GPU: %2").arg(formatBytes(m.cpuBytes), formatBytes(m.gpuBytes));
        lines << tr("(ternary weights %1 at 2 bits each, embeddings %2 in fp32, state %3 per conversation)")
                     .arg(formatBytes(m.packedWeights), formatBytes(m.embeddings), formatBytes(m.state));
    }
    if (e->state == S::Installed && !e->problem.isEmpty()) lines << e->problem;
    // The packed copy that makes switching to a folder model instant (built after its first load).
    const qint64 packBytes = e->path.isEmpty() ? 0 : ModelPack::diskBytes(e->path);
    if (packBytes > 0) lines << tr("Packed copy for instant switching: %1").arg(formatBytes(packBytes));
    else if (e->state == S::Installed && ModelPack::isPackable(e->path))
        lines << tr("Not packed yet: the first use packs it, later switches load the pack.");
    removePackButton_->setVisible(packBytes > 0);
    detail_->setText(lines.join(u'\n'));
    const double p = idx.data(ModelCatalog::ProgressRole).toDouble();
    progress_->setVisible(p >= 0);
    progress_->setValue(p >= 0 ? int(p * 1000) : 0);
    QString status;
    if (e->state == S::Downloading || e->state == S::Paused) status = idx.data(ModelCatalog::StatusTextRole).toString();
    else if (e->state != S::Installed) status = e->problem;   // broken, or what the hub said about it
    status_->setText(status);
    status_->setVisible(!status_->text().isEmpty());
}

void ModelsPage::showNotice(const QString& text, bool error) {
    notice_->setText(text);
    notice_->setProperty("error", error);
    notice_->setStyleSheet(error ? QStringLiteral("color: #c63b3b;") : QString());
    notice_->setVisible(!text.isEmpty());
}

void ModelsPage::addRepo(const QString& repoId) {
    QString error;
    if (!catalog_->addRepo(repoId, &error)) {
        showNotice(error, true);
        return;
    }
    repoEdit_->clear();
    selectModel(repoId.trimmed());
}

void ModelsPage::search(const QString& text) {
    searchButton_->setEnabled(false);
    resultsTitle_->setText(tr("Searching the hub …"));
    resultsTitle_->show();
    catalog_->search(text);
}

void ModelsPage::importPath(const QString& path) {
    if (path.isEmpty()) return;
    showNotice(tr("Checking %1 …").arg(QDir::toNativeSeparators(path)));
    catalog_->importPath(path);
}

void ModelsPage::chooseImport(bool folder) {
    const QString path = folder ? QFileDialog::getExistingDirectory(this, tr("Import a model folder"), QDir::homePath())
                                : QFileDialog::getOpenFileName(this, tr("Import a packed model file"), QDir::homePath(),
                                                               tr("Packed models (*.gguf);;All files (*)"));
    importPath(path);
}

void ModelsPage::useSelected() {
    const auto* e = catalog_->entry(selectedId());
    if (!e || e->state != ModelCatalog::State::Installed || e->path.isEmpty()) return;
    pendingUse_ = e->path;
    showNotice(tr("Loading %1 …").arg(e->name));
    // The engine swaps models only once the new one is fully loaded.
    emit useModelRequested(e->path);
}

void ModelsPage::deleteSelected() {
    const auto* e = catalog_->entry(selectedId());
    if (!e) return;
    if (!e->path.isEmpty() && QDir::cleanPath(e->path) == QDir::cleanPath(controller_->modelInfo().path)) {
        showNotice(tr("%1 is running; switch to another model before deleting it.").arg(e->name), true);
        return;
    }
    const bool filesGo = e->source != ModelCatalog::Source::Imported && e->diskBytes > 0;
    const QString question = filesGo ? tr("Delete %1 and free %2 of disk space?").arg(e->name, formatBytes(e->diskBytes))
                                     : tr("Remove %1 from the library? Its files stay where they are.").arg(e->name);
    if (QMessageBox::question(this, tr("Delete model"), question, QMessageBox::Yes | QMessageBox::No, QMessageBox::No) != QMessageBox::Yes)
        return;
    const QString id = e->id;
    catalog_->remove(id);   // `removed` carries the message with the bytes freed
    selectModel(id);
}

void ModelsPage::showEvent(QShowEvent* event) {
    // Pick up what changed on disk since the last look (e.g. a model fetched into the HF cache
    // by another tool); live downloads survive the rescan.
    if (shownBefore_) {
        const QString keep = selectedId();
        catalog_->refresh();
        selectModel(keep);
    }
    shownBefore_ = true;
    QWidget::showEvent(event);
}

void ModelsPage::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QWidget::changeEvent(event);
}
