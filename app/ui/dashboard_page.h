// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QElapsedTimer>
#include <QHash>
#include <QWidget>

class ChatController;
class MetricsHub;
class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QLineSeries;
class QPushButton;
class QValueAxis;

// The live dashboard: tokens/s, per-token latency with p50/p95, time per forward-pass stage, memory
// (with the device's budget) and power over the last minutes as Qt Charts graphs, the current values in large type, pause, and export of the series
// (CSV) and of the view (PNG). The data comes from a MetricsHub; the page only draws, at the
// hub's sampling rate and only while visible, never per token.
class DashboardPage : public QWidget {
    Q_OBJECT
public:
    // Draws the application's hub (StudioApp owns it).
    explicit DashboardPage(MetricsHub* hub, QWidget* parent = nullptr);

    MetricsHub* hub() const { return hub_; }

    bool isPaused() const { return paused_; }
    void setPaused(bool paused);
    double windowSeconds() const { return windowSeconds_; }
    void setWindowSeconds(double seconds);

    bool exportCsv(const QString& path, QString* error = nullptr) const;
    bool exportPng(const QString& path);   // grab() renders, so not const

    // What the charts show now: points in the series drawn for a hub key (0 when not drawn).
    int plottedPoints(const QString& key) const;
    QChart* chart(const QString& name) const;   // "throughput", "latency", "stages", "memory", "power", "traffic"

public slots:
    void refresh();   // redraw from the hub (no-op while paused or hidden)

protected:
    void changeEvent(QEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    struct Card {
        QLabel* title;
        QLabel* value;
        QLabel* detail;
    };
    void build();
    void retranslate();
    Card makeCard(QWidget* parent, const QString& objectName);
    QChartView* makeChart(const QString& name, QValueAxis** yAxis);
    QLineSeries* addSeries(const QString& chartName, const QString& key, const QColor& color, qreal width, bool dashed = false);
    void updateCards();
    void updateSeriesNames();   // legends carry the current stage times, so they follow the data
    void addDeviceMemorySeries();
    void onHubUpdated();
    void onExportCsv();
    void onExportPng();

    MetricsHub* hub_;
    bool paused_ = false;
    double windowSeconds_ = 120;
    int chartIntervalMs_ = 1000;
    QElapsedTimer lastChartDraw_;

    QLabel* title_ = nullptr;
    QLabel* subtitle_ = nullptr;
    QLabel* windowLabel_ = nullptr;
    QComboBox* window_ = nullptr;
    QPushButton* pause_ = nullptr;
    QPushButton* csv_ = nullptr;
    QPushButton* png_ = nullptr;
    Card throughput_{}, latency_{}, ttft_{}, memory_{}, power_{}, energy_{};
    QLabel* powerNote_ = nullptr;
    QLabel* stagesNote_ = nullptr;
    QLabel* memoryNote_ = nullptr;

    QHash<QString, QChartView*> views_;         // by chart name
    QHash<QString, QValueAxis*> xAxes_, yAxes_;
    QHash<QString, QLineSeries*> seriesByKey_;  // hub key → drawn series
    QHash<QString, QString> chartOfKey_;        // hub key → chart name
};
