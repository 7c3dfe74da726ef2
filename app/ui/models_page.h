// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QWidget>

class ChatController;
class ModelCatalog;
class QLabel;
class QLineEdit;
class QListView;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTimer;

// The model manager: the catalogue (released checkpoints, demo model, Hugging Face cache,
// imports, repos added by id or found by search) with size, memory needs and state; downloads
// with progress, speed and time left, pause / resume / cancel; import; delete with the bytes
// freed; and "Use this model", which loads it on the engine thread (a failed load leaves the
// previous model running).
class ModelsPage : public QWidget {
    Q_OBJECT
public:
    // The catalogue belongs to StudioApp; the page shows it and forwards what the person asks for.
    ModelsPage(ChatController* controller, ModelCatalog* catalog, QWidget* parent = nullptr);
    ~ModelsPage() override;

    ModelCatalog* catalog() const { return catalog_; }
    QListView* list() const { return list_; }
    QString selectedId() const;
    void selectModel(const QString& id);
    QLabel* noticeLabel() const { return notice_; }
    QProgressBar* progressBar() const { return progress_; }
    QLabel* statusLabel() const { return status_; }
    QPushButton* removePackButton() const { return removePackButton_; }

public slots:
    void addRepo(const QString& repoId);
    void search(const QString& text);
    void importPath(const QString& path);
    void useSelected();
    void deleteSelected();

signals:
    void chooseModelRequested();
    void useModelRequested(const QString& path);

protected:
    void changeEvent(QEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void retranslate();
    void updateCurrent();
    void updateActions();
    void showNotice(const QString& text, bool error = false);
    void chooseImport(bool folder);

    ChatController* controller_;
    ModelCatalog* catalog_;
    QString pendingUse_;          // path asked for with "Use this model", until it loads or fails
    QString previousModelName_;
    bool shownBefore_ = false;

    QLabel* title_;
    QLabel* current_;
    QProgressBar* loading_;       // busy while the engine thread loads a model
    QLineEdit* searchEdit_;
    QPushButton* searchButton_;
    QLineEdit* repoEdit_;
    QPushButton* addButton_;
    QPushButton* importFolderButton_;
    QPushButton* importFileButton_;
    QLabel* resultsTitle_;
    QListWidget* results_;
    QListView* list_;
    QLabel* detailTitle_;
    QLabel* detail_;
    QProgressBar* progress_;
    QLabel* status_;
    QPushButton* downloadButton_;
    QPushButton* pauseButton_;
    QPushButton* resumeButton_;
    QPushButton* cancelButton_;
    QPushButton* useButton_;
    QPushButton* deleteButton_;
    QPushButton* removePackButton_;
    QLabel* notice_;
};
