// SPDX-License-Identifier: Apache-2.0
#include "ui/models_page.h"

#include <QEvent>
#include <QLabel>
#include <QVBoxLayout>

#include "core/chat_controller.h"

ModelsPage::ModelsPage(ChatController* controller, QWidget* parent) : QWidget(parent), controller_(controller) {
    setObjectName("modelsPage");
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(24, 18, 24, 18);
    title_ = new QLabel(this);
    title_->setObjectName("pageTitle");
    current_ = new QLabel(this);
    current_->setWordWrap(true);
    current_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(title_);
    v->addWidget(current_);
    v->addStretch();
    connect(controller_, &ChatController::modelStateChanged, this, &ModelsPage::update);
    retranslate();
}

void ModelsPage::retranslate() {
    title_->setText(tr("Models"));
    update();
}

void ModelsPage::update() {
    const ModelInfo m = controller_->modelInfo();
    current_->setText(m.path.isEmpty() ? tr("No model is loaded.")
                                       : tr("Current model: %1\n%2\nBackend: %3 (%4)").arg(m.name, m.path, m.backend, m.device));
}

void ModelsPage::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QWidget::changeEvent(event);
}
