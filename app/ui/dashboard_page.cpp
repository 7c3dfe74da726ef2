// SPDX-License-Identifier: Apache-2.0
#include "ui/dashboard_page.h"

#include <QComboBox>
#include <QDateTime>
#include <QEvent>
#include <QFileDialog>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QStandardPaths>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>

#include "core/app_settings.h"
#include "core/chat_controller.h"
#include "core/metrics_hub.h"

namespace {

// The dashboard's own look, scoped to the page so the app stylesheet stays untouched.
const char* kPageStyle = R"(
#dashboardPage { background: #f6f7f9; }
#metricCard { background: white; border: 1px solid #e3e6eb; border-radius: 10px; }
#cardTitle { color: #6b7280; font-size: 11px; font-weight: 600; text-transform: uppercase; }
#cardValue { color: #111827; font-size: 26px; font-weight: 600; }
#cardDetail { color: #6b7280; font-size: 11px; }
#chartFrame { background: white; border: 1px solid #e3e6eb; border-radius: 10px; }
#dashSubtitle { color: #6b7280; }
#powerNote { color: #8a5a00; font-size: 11px; }
#chartNote { color: #6b7280; font-size: 11px; }
)";

const QColor kBlue("#2f6fde"), kOrange("#d97706"), kGreen("#059669"), kViolet("#7c3aed"), kGrey("#9fb3d9"), kRed("#dc2626");

QString formatBytes(quint64 bytes) {
    const double mib = bytes / 1048576.0;
    if (mib >= 1024) return QString::number(mib / 1024.0, 'f', 2) + " GiB";
    return QString::number(mib, 'f', mib >= 100 ? 0 : 1) + " MiB";
}

// Keeps at most `budget` points: per bucket the largest value, so latency spikes stay visible.
QList<QPointF> decimate(const QVector<QPointF>& in, double now, int budget) {
    QList<QPointF> out;
    const qsizetype n = in.size();
    if (n <= budget) {
        out.reserve(n);
        for (const auto& p : in) out.append(QPointF(p.x() - now, p.y()));
        return out;
    }
    const double step = double(n) / budget;
    out.reserve(budget);
    for (int b = 0; b < budget; ++b) {
        const qsizetype lo = qsizetype(b * step), hi = std::min(n, qsizetype((b + 1) * step));
        qsizetype best = lo;
        for (qsizetype i = lo + 1; i < hi; ++i)
            if (in[i].y() > in[best].y()) best = i;
        out.append(QPointF(in[best].x() - now, in[best].y()));
    }
    return out;
}

} // namespace

DashboardPage::DashboardPage(MetricsHub* hub, QWidget* parent) : QWidget(parent), hub_(hub) { build(); }

DashboardPage::Card DashboardPage::makeCard(QWidget* parent, const QString& objectName) {
    auto* frame = new QFrame(parent);
    frame->setObjectName("metricCard");
    frame->setProperty("card", objectName);
    auto* v = new QVBoxLayout(frame);
    v->setContentsMargins(14, 10, 14, 10);
    v->setSpacing(2);
    Card c{new QLabel(frame), new QLabel(QStringLiteral("–"), frame), new QLabel(frame)};
    c.title->setObjectName("cardTitle");
    c.value->setObjectName("cardValue");
    c.value->setAccessibleName(objectName);
    c.detail->setObjectName("cardDetail");
    v->addWidget(c.title);
    v->addWidget(c.value);
    v->addWidget(c.detail);
    return c;
}

QChartView* DashboardPage::makeChart(const QString& name, QValueAxis** yAxis) {
    auto* chart = new QChart;
    chart->setObjectName(name);
    chart->setBackgroundBrush(Qt::white);
    chart->setBackgroundPen(Qt::NoPen);
    chart->setBackgroundRoundness(0);
    chart->setMargins(QMargins(4, 4, 8, 4));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->legend()->setFont(QFont(font().family(), 8));
    QFont titleFont = font();
    titleFont.setPointSizeF(font().pointSizeF() * 1.05);
    titleFont.setBold(true);
    chart->setTitleFont(titleFont);
    chart->setTitleBrush(QColor("#1f2937"));

    auto* x = new QValueAxis;
    x->setLabelFormat("%.0f s");
    x->setTickCount(7);
    x->setLabelsFont(QFont(font().family(), 8));
    x->setGridLineColor(QColor("#eef0f3"));
    x->setLinePenColor(QColor("#d1d5db"));
    auto* y = new QValueAxis;
    y->setLabelFormat("%.6g");   // stage times reach five digits of µs; %.4g would print 1.5e+04
    y->setTickCount(5);
    y->setLabelsFont(QFont(font().family(), 8));
    y->setGridLineColor(QColor("#eef0f3"));
    y->setLinePenColor(QColor("#d1d5db"));
    y->setRange(0, 1);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    xAxes_[name] = x;
    yAxes_[name] = y;
    *yAxis = y;

    auto* view = new QChartView(chart);
    view->setObjectName(name + "Chart");
    view->setRenderHint(QPainter::Antialiasing);
    view->setBackgroundBrush(Qt::white);
    view->setFrameShape(QFrame::NoFrame);
    view->setMinimumSize(320, 210);
    views_[name] = view;
    return view;
}

QLineSeries* DashboardPage::addSeries(const QString& chartName, const QString& key, const QColor& color, qreal width, bool dashed) {
    QChart* c = views_.value(chartName)->chart();
    auto* s = new QLineSeries(c);
    s->setObjectName(key);
    QPen pen(color, width);
    pen.setCapStyle(Qt::RoundCap);
    if (dashed) pen.setStyle(Qt::DashLine);
    s->setPen(pen);
    s->setUseOpenGL(false);   // offscreen grabs and software rendering must match the screen
    c->addSeries(s);
    s->attachAxis(xAxes_.value(chartName));
    s->attachAxis(yAxes_.value(chartName));
    seriesByKey_[key] = s;
    chartOfKey_[key] = chartName;
    return s;
}

void DashboardPage::build() {
    setObjectName("dashboardPage");
    setStyleSheet(kPageStyle);
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(20, 14, 20, 14);
    v->setSpacing(10);

    // Header: title, what is measured, and the controls.
    auto* header = new QHBoxLayout;
    auto* titles = new QVBoxLayout;
    title_ = new QLabel(this);
    title_->setObjectName("pageTitle");
    subtitle_ = new QLabel(this);
    subtitle_->setObjectName("dashSubtitle");
    titles->addWidget(title_);
    titles->addWidget(subtitle_);
    header->addLayout(titles, 1);
    windowLabel_ = new QLabel(this);
    window_ = new QComboBox(this);
    window_->setObjectName("windowCombo");
    for (int s : {60, 120, 300, 600}) window_->addItem(QString(), s);
    window_->setCurrentIndex(1);
    pause_ = new QPushButton(this);
    pause_->setObjectName("pauseButton");
    pause_->setCheckable(true);
    csv_ = new QPushButton(this);
    csv_->setObjectName("exportCsvButton");
    png_ = new QPushButton(this);
    png_->setObjectName("exportPngButton");
    header->addWidget(windowLabel_);
    header->addWidget(window_);
    header->addSpacing(8);
    header->addWidget(pause_);
    header->addWidget(csv_);
    header->addWidget(png_);
    v->addLayout(header);

    // Current values in large type.
    auto* cards = new QHBoxLayout;
    cards->setSpacing(10);
    throughput_ = makeCard(this, "throughput");
    latency_ = makeCard(this, "latency");
    ttft_ = makeCard(this, "ttft");
    memory_ = makeCard(this, "memory");
    power_ = makeCard(this, "power");
    energy_ = makeCard(this, "energy");
    for (const Card& c : {throughput_, latency_, ttft_, memory_, power_, energy_}) cards->addWidget(c.value->parentWidget(), 1);
    v->addLayout(cards);

    // The five graphs: three on top, memory and a wide power graph (its probe notes) below.
    auto* grid = new QGridLayout;
    grid->setSpacing(10);
    QValueAxis* y = nullptr;
    const QStringList names = {"throughput", "latency", "stages", "memory", "power", "traffic"};
    for (int i = 0; i < names.size(); ++i) {
        auto* frame = new QFrame(this);
        frame->setObjectName("chartFrame");
        auto* fl = new QVBoxLayout(frame);
        fl->setContentsMargins(6, 6, 6, 6);
        fl->addWidget(makeChart(names[i], &y));
        auto note = [&](const char* objectName) {
            auto* l = new QLabel(frame);
            l->setObjectName(objectName);
            l->setWordWrap(true);
            fl->addWidget(l);
            return l;
        };
        if (names[i] == "power") powerNote_ = note("powerNote");
        if (names[i] == "stages") stagesNote_ = note("chartNote");
        if (names[i] == "memory") memoryNote_ = note("chartNote");
        grid->addWidget(frame, i / 3, i % 3);
    }
    v->addLayout(grid, 1);

    addSeries("throughput", MetricsHub::kTokensPerSecond, kBlue, 2.2);
    addSeries("latency", MetricsHub::kLatency, kGrey, 1.0);
    addSeries("latency", MetricsHub::kLatencyP50, kBlue, 2.2);
    addSeries("latency", MetricsHub::kLatencyP95, kOrange, 2.2, true);
    addSeries("stages", MetricsHub::kStageNormQuant, kGreen, 1.6);
    addSeries("stages", MetricsHub::kStageBitLinear, kBlue, 1.6);
    addSeries("stages", MetricsHub::kStageMlgru, kViolet, 1.6);
    addSeries("stages", MetricsHub::kStageLmHead, kOrange, 1.6);
    addSeries("memory", MetricsHub::kRss, kGreen, 2.2);
    // Parallel streams and the local API server's traffic, apart from the chats' throughput.
    addSeries("traffic", MetricsHub::kActiveStreams, kBlue, 2.2);
    addSeries("traffic", MetricsHub::kApiRequestsPerSecond, kOrange, 2.2);
    addSeries("traffic", MetricsHub::kApiActive, kViolet, 1.6, true);
    addDeviceMemorySeries();
    const QList<QColor> powerColors = {kRed, kViolet, kOrange, kBlue, kGreen};
    const auto probes = hub_->probes();
    for (int i = 0; i < probes.size(); ++i)
        addSeries("power", QString(MetricsHub::kPowerPrefix) + probes[i].name, powerColors[i % powerColors.size()], 2.2);
    views_["throughput"]->chart()->legend()->hide();

    connect(hub_, &MetricsHub::updated, this, &DashboardPage::onHubUpdated);
    connect(pause_, &QPushButton::toggled, this, &DashboardPage::setPaused);
    connect(window_, &QComboBox::currentIndexChanged, this, [this](int) { setWindowSeconds(window_->currentData().toDouble()); });
    connect(csv_, &QPushButton::clicked, this, &DashboardPage::onExportCsv);
    connect(png_, &QPushButton::clicked, this, &DashboardPage::onExportPng);
    retranslate();
}

void DashboardPage::retranslate() {
    title_->setText(tr("Dashboard"));
    windowLabel_->setText(tr("Show the last"));
    const QStringList windows = {tr("1 minute"), tr("2 minutes"), tr("5 minutes"), tr("10 minutes")};
    for (int i = 0; i < windows.size(); ++i) window_->setItemText(i, windows[i]);
    pause_->setText(paused_ ? tr("Resume") : tr("Pause"));
    csv_->setText(tr("Export CSV…"));
    png_->setText(tr("Export PNG…"));
    throughput_.title->setText(tr("Tokens / s"));
    latency_.title->setText(tr("Latency p50"));
    ttft_.title->setText(tr("First token"));
    memory_.title->setText(tr("Memory"));
    power_.title->setText(tr("Power"));
    energy_.title->setText(tr("Energy"));
    views_["throughput"]->chart()->setTitle(tr("Throughput (tokens/s)"));
    views_["latency"]->chart()->setTitle(tr("Per-token latency (ms)"));
    views_["memory"]->chart()->setTitle(tr("Memory (MiB)"));
    views_["power"]->chart()->setTitle(tr("Power (W)"));
    views_["traffic"]->chart()->setTitle(tr("Streams and API traffic"));
    updateSeriesNames();
    for (const auto& p : hub_->probes()) {
        if (auto* s = seriesByKey_.value(QString(MetricsHub::kPowerPrefix) + p.name))
            s->setName(p.source == "modeled" ? tr("%1 (modeled)").arg(p.device) : p.device);
    }
    // Say why each missing source is missing, so an empty power graph is never a mystery.
    QStringList notes;
    for (const auto& u : hub_->unavailableProbes()) notes << tr("%1: not available — %2").arg(u.name, u.reason);
    powerNote_->setText(notes.join('\n'));
    powerNote_->setVisible(!notes.isEmpty());
    if (hub_->probes().isEmpty()) views_["power"]->chart()->setTitle(tr("Power (W) — no sensor available"));
    refresh();
}

void DashboardPage::addDeviceMemorySeries() {
    // The executor's budget reading arrives with the first model load, after the page exists. The
    // budget itself is a number in the note, not a line: a GPU's budget (tens of GiB) would flatten
    // the lines that move.
    if (hub_->seriesKeys().contains(MetricsHub::kDeviceMemory) && !seriesByKey_.contains(MetricsHub::kDeviceMemory))
        addSeries("memory", MetricsHub::kDeviceMemory, kViolet, 2.2);
}

void DashboardPage::updateSeriesNames() {
    const MetricsHub::Current c = hub_->current();
    const QHash<QString, QString> names = {
        {MetricsHub::kTokensPerSecond, tr("tokens/s")}, {MetricsHub::kLatency, tr("per token")},
        {MetricsHub::kLatencyP50, tr("p50")},           {MetricsHub::kLatencyP95, tr("p95")},
        {MetricsHub::kRss, tr("process RSS")},
        {MetricsHub::kActiveStreams, tr("chat streams")},    {MetricsHub::kApiRequestsPerSecond, tr("API requests/s")},
        {MetricsHub::kApiActive, tr("API in flight")},
        // With a budget reading the line is this process's use, not NVML's whole-GPU figure.
        {MetricsHub::kDeviceMemory, c.budgetAvailable ? tr("device memory used") : tr("GPU memory used")}};
    for (auto it = seriesByKey_.begin(); it != seriesByKey_.end(); ++it)
        if (names.contains(it.key())) it.value()->setName(names.value(it.key()));

    // Stages: the note under the chart gives the last token's time per stage (the legend has no
    // room for numbers); a fused backend has no separate norm/quant and MLGRU figures, so those
    // lines leave the chart instead of reading 0.
    const mmfree::StageTimes& st = c.stages;
    struct Stage {
        const char* key;
        QString name;
        double value;
        bool shown;
    };
    const Stage stages[] = {
        {MetricsHub::kStageNormQuant, tr("norm + quant"), st.norm_quant_us, !st.fused},
        {MetricsHub::kStageBitLinear, st.fused ? tr("BitLinear (fused)") : tr("BitLinear"), st.bitlinear_us, true},
        {MetricsHub::kStageMlgru, tr("MLGRU"), st.mlgru_us, !st.fused},
        {MetricsHub::kStageLmHead, tr("lm_head"), st.lm_head_us, true}};
    QChart* chart = views_["stages"]->chart();
    QStringList now;
    for (const Stage& stage : stages) {
        QLineSeries* series = seriesByKey_.value(stage.key);
        series->setName(stage.name);
        series->setVisible(stage.shown);
        for (QLegendMarker* m : chart->legend()->markers(series)) m->setVisible(stage.shown);
        if (stage.shown) now << QStringLiteral("%1 %2 µs").arg(stage.name, QString::number(stage.value, 'f', stage.value >= 100 ? 0 : 1));
    }
    // Say what measured them: a GPU's own clock, or the CPU's around each kernel.
    const QString backend = hub_->backend();
    QString source;
    if (backend == "vulkan" || backend == "cuda") source = tr("GPU timestamps");
    else if (backend.startsWith("cpu")) source = tr("CPU timers");
    else if (!backend.isEmpty()) source = tr("%1 backend").arg(backendDisplayName(backend));
    chart->setTitle(source.isEmpty() ? tr("Time per stage per token (µs)") : tr("Time per stage per token (µs) — %1").arg(source));
    QString stagesText = st.valid ? tr("Last token: %1").arg(now.join(QStringLiteral(" · ")))
                                  : tr("Per-stage times appear while a reply streams, on backends that measure them.");
    if (st.valid && st.fused)
        stagesText += '\n' + tr("The fused decode kernels run norm, quantization and the MLGRU inside the BitLinear dispatches; "
                                "their time is counted there.");
    stagesNote_->setText(stagesText);

    // Device memory: the executor's used / budget, or why there is none.
    QString memory;
    if (c.budgetAvailable) memory = tr("Device memory (VK_EXT_memory_budget): %1 used / %2 budget").arg(formatBytes(c.budgetUsedBytes), formatBytes(c.budgetBytes));
    else if (c.budgetKnown && !backend.startsWith("cpu")) memory = tr("Device memory used / budget: not available on this device");
    memoryNote_->setText(memory);
    memoryNote_->setVisible(!memory.isEmpty());
}

void DashboardPage::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QWidget::changeEvent(event);
}

void DashboardPage::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    refresh();   // catch up with what was collected while hidden
}

void DashboardPage::setPaused(bool paused) {
    paused_ = paused;
    if (pause_->isChecked() != paused) pause_->setChecked(paused);
    pause_->setText(paused_ ? tr("Resume") : tr("Pause"));
    if (!paused_) refresh();
}

void DashboardPage::setWindowSeconds(double seconds) {
    windowSeconds_ = seconds;
    const int i = window_->findData(int(seconds));
    if (i >= 0 && i != window_->currentIndex()) window_->setCurrentIndex(i);
    const bool was = paused_;
    paused_ = false;   // a new window redraws even when paused
    refresh();
    paused_ = was;
}

void DashboardPage::onHubUpdated() {
    if (paused_ || !isVisible()) return;
    // The numbers follow every sample; the graphs redraw once a second, because painting four
    // antialiased charts is the one thing here that costs noticeable CPU time.
    if (lastChartDraw_.isValid() && lastChartDraw_.elapsed() < chartIntervalMs_) {
        updateCards();
        return;
    }
    refresh();
}

void DashboardPage::refresh() {
    if (paused_ || !isVisible()) return;
    lastChartDraw_.start();
    addDeviceMemorySeries();
    updateSeriesNames();
    const double now = hub_->now();
    const double from = now - windowSeconds_;
    // Until the window has filled, show only the time there is data for (at least 30 s), so the
    // first seconds of a session are not squeezed against the right edge.
    double first = now;
    QHash<QString, QVector<QPointF>> data;
    for (auto it = seriesByKey_.begin(); it != seriesByKey_.end(); ++it) {
        QVector<QPointF> pts = hub_->series(it.key(), from);
        if (!pts.isEmpty()) first = std::min(first, pts.first().x());
        data.insert(it.key(), std::move(pts));
    }
    const double span = std::clamp(now - first, 30.0, windowSeconds_);
    QHash<QString, double> top;
    for (auto it = seriesByKey_.begin(); it != seriesByKey_.end(); ++it) {
        const QVector<QPointF>& pts = data[it.key()];
        // About one point per pixel of a chart's plot area; more would only cost drawing time.
        const QList<QPointF> shown = decimate(pts, now, 600);
        it.value()->replace(shown);
        double& m = top[chartOfKey_.value(it.key())];
        for (const auto& p : shown) m = std::max(m, p.y());
    }
    for (auto it = views_.begin(); it != views_.end(); ++it) {
        xAxes_[it.key()]->setRange(-span, 0);
        const double m = top.value(it.key());
        yAxes_[it.key()]->setRange(0, m > 0 ? m * 1.15 : 1);
        yAxes_[it.key()]->applyNiceNumbers();
    }
    updateCards();
}

void DashboardPage::updateCards() {
    const MetricsHub::Current c = hub_->current();
    QString sub = c.generating ? tr("Generating: %n stream(s)", nullptr, c.activeStreams) : tr("Idle");
    if (!hub_->backend().isEmpty()) sub += tr(" · backend %1").arg(backendDisplayName(hub_->backend()));
    subtitle_->setText(sub);

    throughput_.value->setText(c.tokensPerSecond > 0 ? QString::number(c.tokensPerSecond, 'f', c.tokensPerSecond >= 100 ? 0 : 1) : "–");
    // Every stream together above; one reply's own rate beside it.
    throughput_.detail->setText(c.activeStreams > 1 ? tr("all %n streams · per stream: see latency", nullptr, c.activeStreams)
                                : c.decodeTokS > 0 ? tr("last reply: %1 tokens/s").arg(QString::number(c.decodeTokS, 'f', 1))
                                                   : tr("%n token(s)", nullptr, c.tokens));
    latency_.value->setText(c.p50Ms > 0 ? QString::number(c.p50Ms, 'f', c.p50Ms >= 10 ? 1 : 2) + " ms" : "–");
    latency_.detail->setText(c.p95Ms > 0 ? tr("p95 %1 ms · last %2 ms").arg(QString::number(c.p95Ms, 'f', 1), QString::number(c.latencyMs, 'f', 1))
                                         : QString());
    ttft_.value->setText(c.ttftMs > 0 ? QString::number(c.ttftMs, 'f', 0) + " ms" : "–");
    ttft_.detail->setText(c.ttftMs > 0 ? tr("last reply") : tr("after the first reply"));
    memory_.value->setText(c.rssBytes ? formatBytes(c.rssBytes) : "–");
    QString mem = c.peakRssBytes ? tr("peak %1").arg(formatBytes(c.peakRssBytes)) : QString();
    if (c.budgetAvailable) mem += tr(" · device %1 / %2 budget").arg(formatBytes(c.budgetUsedBytes), formatBytes(c.budgetBytes));
    else if (c.deviceTotalBytes) mem += tr(" · GPU %1 / %2").arg(formatBytes(c.deviceUsedBytes), formatBytes(c.deviceTotalBytes));
    memory_.detail->setText(mem);
    if (c.powerW >= 0) {
        power_.value->setText(QString::number(c.powerW, 'f', c.powerW >= 100 ? 0 : 1) + " W");
        // The badge: modeled watts are never shown as measured.
        power_.detail->setText(QStringLiteral("%1 · %2").arg(c.powerSource == "modeled" ? tr("modeled") : tr("measured"), c.powerProbe));
    } else {
        power_.value->setText(tr("n/a"));
        power_.detail->setText(tr("no power sensor available"));
    }
    if (c.joulesPerToken >= 0) {
        energy_.value->setText(QString::number(c.joulesPerToken, 'f', c.joulesPerToken >= 1 ? 2 : 3) + " J/tok");
        energy_.detail->setText(tr("%1 tokens per joule").arg(QString::number(c.tokensPerJoule, 'f', 2)));
    } else {
        energy_.value->setText("–");
        energy_.detail->setText(c.powerW >= 0 ? tr("after a reply") : tr("needs a power sensor"));
    }
}

int DashboardPage::plottedPoints(const QString& key) const {
    const auto* s = seriesByKey_.value(key);
    return s ? int(s->count()) : 0;
}

QChart* DashboardPage::chart(const QString& name) const {
    const auto* v = views_.value(name);
    return v ? v->chart() : nullptr;
}

bool DashboardPage::exportCsv(const QString& path, QString* error) const { return hub_->exportCsv(path, error); }

bool DashboardPage::exportPng(const QString& path) { return grab().save(path, "PNG"); }

void DashboardPage::onExportCsv() {
    const QString stamp = QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss");
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString path = QFileDialog::getSaveFileName(this, tr("Export series as CSV"), dir + "/mmfree-metrics-" + stamp + ".csv",
                                                      tr("CSV files (*.csv)"));
    if (path.isEmpty()) return;
    QString error;
    if (!exportCsv(path, &error)) QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1: %2").arg(path, error));
}

void DashboardPage::onExportPng() {
    const QString stamp = QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss");
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    const QString path = QFileDialog::getSaveFileName(this, tr("Export view as PNG"), dir + "/mmfree-dashboard-" + stamp + ".png",
                                                      tr("PNG images (*.png)"));
    if (path.isEmpty()) return;
    if (!exportPng(path)) QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1").arg(path));
}
