// SPDX-License-Identifier: Apache-2.0
// Power and memory probes against fake sysfs/procfs trees in a temporary directory (the real
// parsing code, fake files), NVML absent and through a fake libnvidia-ml, and the arithmetic the
// dashboard and `mmfree bench --power` share.
#include <QtTest>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmfree/telemetry.h"

using namespace mmfree::telemetry;

namespace {

void write_file(const QString& root, const QString& rel, const QByteArray& content) {
    const QString path = root + "/" + rel;
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    f.write(content);
}

const PowerProbe* find_probe(const Probes& p, const std::string& name) {
    for (const auto& a : p.available)
        if (a->name() == name) return a.get();
    return nullptr;
}

const UnavailableProbe* find_unavailable(const Probes& p, const std::string& name) {
    for (const auto& u : p.unavailable)
        if (u.name == name) return &u;
    return nullptr;
}

// A probe that replays a fixed list of readings, for the meter and sampler tests.
class ScriptedProbe final : public PowerProbe {
public:
    explicit ScriptedProbe(std::vector<PowerReading> r) : readings_(std::move(r)) {}
    std::string name() const override { return "scripted"; }
    std::string device() const override { return "test"; }
    std::string source() const override { return "modeled"; }
    std::optional<PowerReading> read() override {
        if (readings_.empty()) return PowerReading{10.0, std::nullopt};
        const auto r = readings_.front();
        if (readings_.size() > 1) readings_.erase(readings_.begin());
        return r;
    }

private:
    std::vector<PowerReading> readings_;
};

constexpr uint64_t kRaplMax = 262143328850ull;   // a real package's max_energy_range_uj

} // namespace

class TestTelemetry : public QObject {
    Q_OBJECT
private slots:
    // ---- RAPL ---------------------------------------------------------------------------------
    void rapl_reads_packages_and_skips_subzones() {
        QTemporaryDir dir;
        const QString r = dir.path();
        write_file(r, "class/powercap/intel-rapl:0/name", "package-0\n");
        write_file(r, "class/powercap/intel-rapl:0/energy_uj", "1000000\n");
        write_file(r, "class/powercap/intel-rapl:0/max_energy_range_uj", QByteArray::number(kRaplMax) + "\n");
        write_file(r, "class/powercap/intel-rapl:0:0/name", "core\n");
        write_file(r, "class/powercap/intel-rapl:0:0/energy_uj", "5\n");
        write_file(r, "class/powercap/intel-rapl:1/name", "package-1\n");
        write_file(r, "class/powercap/intel-rapl:1/energy_uj", "7\n");
        write_file(r, "class/powercap/intel-rapl:1/max_energy_range_uj", QByteArray::number(kRaplMax) + "\n");

        Probes p = find_rapl_probes(r.toStdString());
        QCOMPARE(p.available.size(), size_t(2));
        QVERIFY(p.unavailable.empty());
        QCOMPARE(p.available[0]->name(), std::string("rapl:package-0"));
        QCOMPARE(p.available[0]->device(), std::string("CPU package 0"));
        QCOMPARE(p.available[0]->source(), std::string("measured"));
        QCOMPARE(p.available[1]->name(), std::string("rapl:package-1"));

        // Discovery took the first reading; 2.5 J later the probe reports 2.5 J.
        write_file(r, "class/powercap/intel-rapl:0/energy_uj", "3500000\n");
        auto reading = p.available[0]->read();
        QVERIFY(reading && reading->energy_j && !reading->watts);
        QCOMPARE(*reading->energy_j, 2.5);
    }

    void rapl_counter_wraparound() {
        QTemporaryDir dir;
        const QString r = dir.path();
        write_file(r, "class/powercap/intel-rapl:0/name", "package-0");
        write_file(r, "class/powercap/intel-rapl:0/max_energy_range_uj", QByteArray::number(kRaplMax));
        write_file(r, "class/powercap/intel-rapl:0/energy_uj", QByteArray::number(kRaplMax - 400000));
        Probes p = find_rapl_probes(r.toStdString());
        QCOMPARE(p.available.size(), size_t(1));
        // Wraps: 0.4 J up to the top of the range, then 1.1 J from zero.
        write_file(r, "class/powercap/intel-rapl:0/energy_uj", "1100000");
        auto a = p.available[0]->read();
        QVERIFY(a && a->energy_j);
        QCOMPARE(*a->energy_j, 1.5);
        // And keeps accumulating normally afterwards.
        write_file(r, "class/powercap/intel-rapl:0/energy_uj", "2100000");
        auto b = p.available[0]->read();
        QCOMPARE(*b->energy_j, 2.5);

        QCOMPARE(counter_delta(10, 30, 100), uint64_t(20));
        QCOMPARE(counter_delta(90, 5, 100), uint64_t(15));
        QCOMPARE(counter_delta(90, 5, 0), uint64_t(0));   // unknown range: a reset, count nothing
    }

    // energy_uj is root-only since Linux 5.10; the reason must say what to do. As root the mode
    // bits do not stop us, so the probe runs in a child that has dropped to "nobody".
    void rapl_permission_denied_explains() {
        QTemporaryDir dir;
        const QString r = dir.path();
        write_file(r, "class/powercap/intel-rapl:0/name", "package-0");
        write_file(r, "class/powercap/intel-rapl:0/max_energy_range_uj", QByteArray::number(kRaplMax));
        write_file(r, "class/powercap/intel-rapl:0/energy_uj", "123");
        const QByteArray energy = (r + "/class/powercap/intel-rapl:0/energy_uj").toUtf8();
        QCOMPARE(::chmod(energy.constData(), 0400), 0);
        QCOMPARE(::chmod(r.toUtf8().constData(), 0755), 0);

        auto check = [&]() -> std::string {
            Probes p = find_rapl_probes(r.toStdString());
            if (!p.available.empty()) return "probe available despite permissions";
            const auto* u = find_unavailable(p, "rapl:package-0");
            if (!u) return "no unavailable entry";
            if (u->reason.find("needs read permission on") == std::string::npos ||
                u->reason.find("energy_uj") == std::string::npos || u->reason.find("root, or a udev rule") == std::string::npos)
                return "reason does not explain: " + u->reason;
            return {};
        };
        if (::geteuid() != 0) {
            const std::string err = check();
            QVERIFY2(err.empty(), err.c_str());
            return;
        }
        int fds[2];
        QCOMPARE(::pipe(fds), 0);
        const pid_t pid = ::fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            std::string err = (::setgid(65534) == 0 && ::setuid(65534) == 0) ? check() : "could not drop privileges";
            if (::write(fds[1], err.data(), err.size()) < 0) _exit(2);
            _exit(err.empty() ? 0 : 1);
        }
        ::close(fds[1]);
        std::string msg;
        char buf[512];
        for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, size_t(n));
        ::close(fds[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0, msg.c_str());
    }

    void rapl_absent_is_not_available() {
        QTemporaryDir dir;
        Probes p = find_rapl_probes(dir.path().toStdString());
        QVERIFY(p.available.empty());
        QCOMPARE(p.unavailable.size(), size_t(1));
        QCOMPARE(p.unavailable[0].name, std::string("rapl"));
        QVERIFY(p.unavailable[0].reason.find("no RAPL") != std::string::npos);
    }

    // ---- hwmon --------------------------------------------------------------------------------
    void hwmon_gpu_power() {
        QTemporaryDir dir;
        const QString r = dir.path();
        // amdgpu with power1_average (µW), a connector entry that must be skipped, a newer amdgpu
        // with only power1_input, a card whose hwmon has no power, and an Intel card with energy.
        write_file(r, "class/drm/card0/device/hwmon/hwmon3/name", "amdgpu\n");
        write_file(r, "class/drm/card0/device/hwmon/hwmon3/power1_average", "42500000\n");
        write_file(r, "class/drm/card0/device/hwmon/hwmon3/power1_input", "99000000\n");
        write_file(r, "class/drm/card0-DP-1/device/hwmon/hwmon9/power1_average", "1\n");
        write_file(r, "class/drm/card1/device/hwmon/hwmon4/name", "amdgpu\n");
        write_file(r, "class/drm/card1/device/hwmon/hwmon4/power1_input", "15000000\n");
        write_file(r, "class/drm/card2/device/hwmon/hwmon5/name", "nouveau\n");
        write_file(r, "class/drm/card2/device/hwmon/hwmon5/temp1_input", "45000\n");
        write_file(r, "class/drm/card10/device/hwmon/hwmon6/name", "i915\n");
        write_file(r, "class/drm/card10/device/hwmon/hwmon6/energy1_input", "5000000\n");

        Probes p = find_hwmon_probes(r.toStdString());
        QCOMPARE(p.available.size(), size_t(3));
        QVERIFY(p.unavailable.empty());
        QCOMPARE(p.available[0]->name(), std::string("hwmon:card0"));
        QCOMPARE(p.available[0]->device(), std::string("amdgpu card0"));
        QCOMPARE(p.available[1]->name(), std::string("hwmon:card1"));
        QCOMPARE(p.available[2]->name(), std::string("hwmon:card10"));   // natural order: card10 after card2

        auto a = p.available[0]->read();
        QVERIFY(a && a->watts && !a->energy_j);
        QCOMPARE(*a->watts, 42.5);   // the average, not the instantaneous sample
        auto b = p.available[1]->read();
        QCOMPARE(*b->watts, 15.0);
        write_file(r, "class/drm/card10/device/hwmon/hwmon6/energy1_input", "7250000\n");
        auto c = p.available[2]->read();
        QVERIFY(c && c->energy_j && !c->watts);
        QCOMPARE(*c->energy_j, 2.25);

        // A sensor that stops reading (GPU powered down) reports why instead of a number.
        QFile::remove(r + "/class/drm/card1/device/hwmon/hwmon4/power1_input");
        QVERIFY(!p.available[1]->read());
        QVERIFY(p.available[1]->error().find("power1_input") != std::string::npos);
    }

    void hwmon_absent_is_not_available() {
        QTemporaryDir dir;
        Probes p = find_hwmon_probes(dir.path().toStdString());
        QVERIFY(p.available.empty());
        QCOMPARE(p.unavailable.size(), size_t(1));
        QCOMPARE(p.unavailable[0].name, std::string("hwmon"));

        write_file(dir.path(), "class/drm/card0/device/hwmon/hwmon0/temp1_input", "40000");
        Probes q = find_hwmon_probes(dir.path().toStdString());
        QVERIFY(q.available.empty());
        QVERIFY(q.unavailable[0].reason.find("power1_average") != std::string::npos);
    }

    // ---- NVML ---------------------------------------------------------------------------------
    void nvml_absent_is_not_available() {
        Probes p = find_nvml_probes("libmmfree-no-such-nvml.so.1");
        QVERIFY(p.available.empty());
        QCOMPARE(p.unavailable.size(), size_t(1));
        QCOMPARE(p.unavailable[0].name, std::string("nvml"));
        QVERIFY(p.unavailable[0].reason.find("not found") != std::string::npos);

        NvmlMemory mem("libmmfree-no-such-nvml.so.1");
        QVERIFY(!mem.available());
        QVERIFY(!mem.reason().empty());
        QVERIFY(mem.read().empty());
    }

    void nvml_through_fake_library() {
        Probes p = find_nvml_probes(FAKE_NVML_PATH);
        QCOMPARE(p.available.size(), size_t(2));
        QCOMPARE(p.available[0]->name(), std::string("nvml:0"));
        QCOMPARE(p.available[0]->device(), std::string("Fake GPU A"));
        QCOMPARE(p.available[0]->source(), std::string("measured"));
        auto a0 = p.available[0]->read();
        QVERIFY(a0 && a0->watts && a0->energy_j);
        QCOMPARE(*a0->watts, 150.0);
        QCOMPARE(*a0->energy_j, 0.0);   // relative to the probe's first read
        auto a1 = p.available[0]->read();
        QCOMPARE(*a1->energy_j, 2.5);
        // Device 1 has no energy counter: power only, no error.
        auto b = p.available[1]->read();
        QVERIFY(b && b->watts && !b->energy_j);
        QCOMPARE(*b->watts, 75.5);

        NvmlMemory mem(FAKE_NVML_PATH);
        QVERIFY(mem.available());
        const auto m = mem.read();
        QCOMPARE(m.size(), size_t(2));
        QCOMPARE(m[0].total_bytes, uint64_t(80) << 30);
        QCOMPARE(m[0].used_bytes, uint64_t(3) << 30);
    }

    void nvml_driver_not_loaded() {
        qputenv("FAKE_NVML_INIT_FAIL", "1");
        Probes p = find_nvml_probes(FAKE_NVML_PATH);
        qunsetenv("FAKE_NVML_INIT_FAIL");
        QVERIFY(p.available.empty());
        QCOMPARE(p.unavailable.size(), size_t(1));
        QVERIFY2(p.unavailable[0].reason.find("Driver Not Loaded") != std::string::npos, p.unavailable[0].reason.c_str());
    }

    // ---- plugin board sensors -----------------------------------------------------------------
    void board_sensors_modeled_and_measured() {
        std::vector<std::pair<std::string, double>> m = {{"fpga_cycles_per_token", 1e6}, {"board_power_w", 6.5}, {"board_power_source", 1}};
        Probes p = find_board_probes([&m] { return m; }, "fpga-sim");
        QCOMPARE(p.available.size(), size_t(1));
        PowerProbe& b = *p.available[0];
        QCOMPARE(b.name(), std::string("board"));
        QCOMPARE(b.source(), std::string("modeled"));
        QCOMPARE(*b.read()->watts, 6.5);

        m = {{"board_power_w", 13.0}, {"board_power_source", 2}, {"board_energy_uj", 5e6}};
        auto r = b.read();
        QCOMPARE(b.source(), std::string("measured"));
        QCOMPARE(*r->watts, 13.0);
        QCOMPARE(*r->energy_j, 0.0);   // the first energy reading is the origin
        m = {{"board_power_w", 13.0}, {"board_power_source", 2}, {"board_energy_uj", 7e6}};
        QCOMPARE(*b.read()->energy_j, 2.0);

        // No source code: a simulator's figures are modeled, a real board's measured.
        std::vector<std::pair<std::string, double>> plain = {{"board_power_w", 5.0}};
        QCOMPARE(find_board_probes([&plain] { return plain; }, "fpga-sim").available[0]->source(), std::string("modeled"));
        QCOMPARE(find_board_probes([&plain] { return plain; }, "plugin:xdma").available[0]->source(), std::string("measured"));

        // No power figures, or source 0 (none): not available, with the reason.
        std::vector<std::pair<std::string, double>> none = {{"fpga_cycles_per_token", 1.0}};
        Probes q = find_board_probes([&none] { return none; }, "fpga-sim");
        QVERIFY(q.available.empty());
        QVERIFY(q.unavailable[0].reason.find("board_power_w") != std::string::npos);
        none = {{"board_power_w", 0.0}, {"board_power_source", 0}};
        QVERIFY(find_board_probes([&none] { return none; }, "fpga-sim").available.empty());
        // No plugin at all: nothing to report.
        Probes z = find_board_probes({}, "cpu");
        QVERIFY(z.available.empty() && z.unavailable.empty());
    }

    void find_power_probes_combines_sources() {
        QTemporaryDir dir;
        write_file(dir.path(), "class/drm/card0/device/hwmon/hwmon0/power1_average", "30000000");
        ProbeOptions o;
        o.sysfs_root = dir.path().toStdString();
        o.nvml_library = "libmmfree-no-such-nvml.so.1";
        Probes p = find_power_probes(o);
        QCOMPARE(p.available.size(), size_t(1));
        QVERIFY(find_probe(p, "hwmon:card0"));
        QVERIFY(find_unavailable(p, "nvml"));
        QVERIFY(find_unavailable(p, "rapl"));
        QVERIFY(!find_unavailable(p, "board"));
    }

    // ---- process memory -----------------------------------------------------------------------
    void process_memory_from_status_and_statm() {
        QTemporaryDir dir;
        write_file(dir.path(), "self/status", "Name:\tmmfree\nVmPeak:\t  900000 kB\nVmHWM:\t  524288 kB\nVmRSS:\t  262144 kB\nThreads:\t4\n");
        auto m = read_process_memory(dir.path().toStdString());
        QVERIFY(m);
        QCOMPARE(m->rss_bytes, uint64_t(262144) * 1024);
        QCOMPARE(m->peak_rss_bytes, uint64_t(524288) * 1024);

        QTemporaryDir dir2;
        write_file(dir2.path(), "self/statm", "5000 1000 300 10 0 800 0\n");
        auto s = read_process_memory(dir2.path().toStdString());
        QVERIFY(s);
        QCOMPARE(s->rss_bytes, uint64_t(1000) * uint64_t(sysconf(_SC_PAGESIZE)));

        QTemporaryDir empty;
        QVERIFY(!read_process_memory(empty.path().toStdString()));

        auto real = read_process_memory();
        QVERIFY(real && real->rss_bytes > 0 && real->peak_rss_bytes >= real->rss_bytes);
    }

    // ---- arithmetic ---------------------------------------------------------------------------
    void percentiles_on_known_series() {
        const std::vector<double> v = {7, 1, 10, 3, 5, 2, 9, 4, 8, 6};   // 1..10, shuffled
        QCOMPARE(percentile(v, 50), 5.5);
        QCOMPARE(percentile(v, 95), 9.55);
        QCOMPARE(percentile(v, 0), 1.0);
        QCOMPARE(percentile(v, 100), 10.0);
        QCOMPARE(percentile(v, 25), 3.25);
        QCOMPARE(percentile({}, 50), 0.0);
        QCOMPARE(percentile({42}, 95), 42.0);
        // A latency series with one stall: p50 ignores it, p95 sees it.
        std::vector<double> lat(19, 20.0);
        lat.push_back(200.0);
        QCOMPARE(percentile(lat, 50), 20.0);
        QCOMPARE(percentile(lat, 95), 20.0 + 0.05 * 180.0);
    }

    void joules_per_token_math() {
        QCOMPARE(*joules_per_token(10.0, 20), 0.5);
        QCOMPARE(*tokens_per_joule(10.0, 20), 2.0);
        QVERIFY(!joules_per_token(10.0, 0));
        QVERIFY(!tokens_per_joule(0.0, 20));
        QVERIFY(!joules_per_token(-1.0, 5));
    }

    // Constant 10 W sampled every 0.1 s for 1 s is 10 J; the paused second is not counted.
    void meter_integrates_power_and_skips_pauses() {
        PowerMeter m(std::make_unique<ScriptedProbe>(std::vector<PowerReading>{}));
        m.resume(0.0);
        for (int i = 1; i <= 10; ++i) m.sample(0.1 * i);
        m.pause(1.0);
        QCOMPARE(m.energy_j(), 10.0);
        QCOMPARE(m.counted_s(), 1.0);
        m.sample(1.5);
        m.sample(2.0);
        m.resume(2.0);
        m.add(2.5, {20.0, std::nullopt});   // 10 W → 20 W over 0.5 s: trapezoid 7.5 J
        m.pause(2.5);
        QVERIFY(qFuzzyCompare(m.energy_j(), 17.5));
        QVERIFY(qFuzzyCompare(*m.average_watts(), 17.5 / 1.5));
    }

    // A counter-only probe (RAPL): energy from the counter, watts from Δenergy/Δt.
    void meter_uses_energy_counter() {
        PowerMeter m(std::make_unique<ScriptedProbe>(std::vector<PowerReading>{}));
        m.resume(0.0);   // scripted probe gives 10 W here; energy starts with the next readings
        m.add(1.0, {std::nullopt, 100.0});
        m.add(2.0, {std::nullopt, 130.0});
        m.add(4.0, {std::nullopt, 190.0});
        QCOMPARE(*m.last_watts(), 30.0);
        m.pause(4.0);   // 10 W reading without energy: ends the chain
        // 1 s of held 10 W before the counter started, then exactly 90 J from the counter.
        QVERIFY(qFuzzyCompare(m.energy_j(), 10.0 + 90.0));
        const auto jpt = joules_per_token(m.energy_j(), 50);
        QCOMPARE(*jpt, 2.0);
    }

    void sampler_runs_in_background() {
        std::vector<std::unique_ptr<PowerProbe>> probes;
        probes.push_back(std::make_unique<ScriptedProbe>(std::vector<PowerReading>{}));
        PowerSampler s(std::move(probes), 5);
        s.resume();
        QTest::qWait(100);
        s.pause();
        const auto f = s.figures();
        QCOMPARE(f.size(), size_t(1));
        QVERIFY2(f[0].samples >= 5, qPrintable(QString::number(f[0].samples)));
        QVERIFY(f[0].counted_s > 0.05);
        QVERIFY(qFuzzyCompare(*f[0].average_watts, 10.0));
        QCOMPARE(f[0].source, std::string("modeled"));
    }
};

QTEST_GUILESS_MAIN(TestTelemetry)
#include "test_telemetry.moc"
