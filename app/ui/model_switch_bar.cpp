// SPDX-License-Identifier: Apache-2.0
#include "ui/model_switch_bar.h"

#include <QDir>
#include <QEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

#include "core/app_settings.h"
#include "core/chat_controller.h"

namespace {
QString samePath(const QString& p) { return p.isEmpty() ? QString() : QDir::cleanPath(QFileInfo(p).absoluteFilePath()); }
} // namespace

ModelSwitchBar::ModelSwitchBar(ChatController* controller, QWidget* parent) : QFrame(parent), controller_(controller) {
    setObjectName("modelSwitchBar");
    setFrameShape(QFrame::StyledPanel);
    auto* h = new QHBoxLayout(this);
    h->setContentsMargins(12, 6, 12, 6);
    label_ = new QLabel(this);
    label_->setWordWrap(true);
    switch_ = new QPushButton(this);
    switch_->setObjectName("switchBackButton");
    keep_ = new QPushButton(this);
    keep_->setObjectName("keepModelButton");
    h->addWidget(label_, 1);
    h->addWidget(switch_);
    h->addWidget(keep_);
    hide();

    connect(switch_, &QPushButton::clicked, this, [this] {
        if (offered_.isEmpty()) return;
        emit useModelRequested(offered_);
        reconsider();
    });
    connect(keep_, &QPushButton::clicked, this, [this] {
        dismissed_.insert(controller_->currentConversation());
        reconsider();
    });
    connect(controller_, &ChatController::currentConversationChanged, this, &ModelSwitchBar::reconsider);
    connect(controller_, &ChatController::busyChanged, this, &ModelSwitchBar::reconsider);
    connect(controller_, &ChatController::modelStateChanged, this, &ModelSwitchBar::reconsider);
    retranslate();
}

void ModelSwitchBar::reconsider() {
    const qint64 id = controller_->currentConversation();
    const auto conv = id ? controller_->store()->conversation(id) : std::nullopt;
    const QString wanted = conv ? conv->modelPath : QString();
    const QString running = controller_->modelInfo().path;
    const bool loading = controller_->modelState() == ChatController::ModelState::Loading;
    const bool offer = !wanted.isEmpty() && samePath(wanted) != samePath(running) && QFileInfo::exists(wanted) &&
                       !dismissed_.contains(id);
    offered_ = offer ? wanted : QString();
    retranslate();
    switch_->setEnabled(!loading && !controller_->isGenerating());   // a switch would stop every reply
    setVisible(offer);
}

void ModelSwitchBar::retranslate() {
    const QString name = QFileInfo(offered_).fileName();
    const QString running = controller_->modelInfo().name;
    label_->setText(running.isEmpty() ? tr("This conversation ran on %1.").arg(name)
                                      : tr("This conversation ran on %1; %2 is loaded now.").arg(name, running));
    switch_->setText(tr("Switch to %1").arg(name));
    keep_->setText(tr("Keep %1").arg(running.isEmpty() ? tr("current") : running));
}

void ModelSwitchBar::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QFrame::changeEvent(event);
}
