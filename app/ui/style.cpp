// SPDX-License-Identifier: Apache-2.0
#include "ui/style.h"

#include <QApplication>
#include <QFile>
#include <QPalette>
#include <QStyleFactory>

void applyStudioStyle() {
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette p = QApplication::palette();
    p.setColor(QPalette::Window, QColor(0xf4, 0xf5, 0xf7));
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::AlternateBase, QColor(0xf0, 0xf2, 0xf5));
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xde));
    p.setColor(QPalette::Button, QColor(0xfa, 0xfb, 0xfc));
    p.setColor(QPalette::Text, QColor(0x1d, 0x22, 0x2b));
    p.setColor(QPalette::WindowText, QColor(0x1d, 0x22, 0x2b));
    p.setColor(QPalette::ButtonText, QColor(0x1d, 0x22, 0x2b));
    QApplication::setPalette(p);
    QFile qss(QStringLiteral(":/styles/studio.qss"));
    if (qss.open(QIODevice::ReadOnly)) qApp->setStyleSheet(QString::fromUtf8(qss.readAll()));
}
