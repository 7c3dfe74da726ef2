// SPDX-License-Identifier: Apache-2.0
// Build-time tool: renders the app's SVG icon to a square PNG of the given size, for the
// freedesktop hicolor theme. Uses Qt's SVG image plugin, so no other image tool is needed.
//   mmfree-render-icon ICON.svg SIZE OUT.png
#include <QDir>
#include <QFileInfo>
#include <QCoreApplication>
#include <QImage>
#include <QImageReader>
#include <cstdio>

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);   // plugins only: raster painting needs no display
    if (argc != 4) {
        std::fprintf(stderr, "usage: mmfree-render-icon ICON.svg SIZE OUT.png\n");
        return 2;
    }
    const int size = QString::fromLocal8Bit(argv[2]).toInt();
    if (size <= 0) {
        std::fprintf(stderr, "mmfree-render-icon: SIZE must be a positive number of pixels, got \"%s\"\n", argv[2]);
        return 2;
    }
    QImageReader reader(QString::fromLocal8Bit(argv[1]));
    reader.setScaledSize(QSize(size, size));   // SVG is rasterised at this size, not scaled after
    QImage image = reader.read();
    if (image.isNull()) {
        std::fprintf(stderr, "mmfree-render-icon: cannot render %s: %s (is Qt's SVG image plugin, libqt6svg6, installed?)\n",
                     argv[1], qPrintable(reader.errorString()));
        return 1;
    }
    image = image.convertToFormat(QImage::Format_ARGB32);
    const QString out = QString::fromLocal8Bit(argv[3]);
    QDir().mkpath(QFileInfo(out).absolutePath());
    if (!image.save(out, "PNG")) {
        std::fprintf(stderr, "mmfree-render-icon: cannot write %s\n", argv[3]);
        return 1;
    }
    return 0;
}
