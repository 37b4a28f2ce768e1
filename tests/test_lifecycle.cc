// End-to-end tests of the live lifecycle monitor: real BPF, real Go processes, gmon run as a subprocess.
// Each test traces its own copy of a fixture (uprobes attach to an inode), so tests can run in parallel.
#include <algorithm>
#include <csignal>
#include <memory>
#include <map>
#include <set>
#include <sstream>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {
const std::string SPAWN_SITE =
    "{stack_0=\"main.spawnWorkers\",stack_1=\"main.main\",stack_2=\"runtime.main\","
    "stack_3=\"runtime.goexit\",stack_4=\"none\"}";

// Runs `fixture spawn N MS` under `gmon --path` and checks gmon saw exactly what the fixture did.
void check_exact_trace(const std::string &variant, const std::string &extra_args) {
    const int n = 40, ms = 150;
    std::string bin =
        private_copy(fixture("lifecycle-" + variant), "exact" + variant + extra_args.substr(0, 4));
    ASSERT_FALSE(bin.empty());
    int port = free_port();
    background g(gmon_command("--path " + bin + " --format json --metrics " + std::to_string(port) + " " +
                              extra_args));
    if (!attached(g))
        return;
    background target(bin + " spawn " + std::to_string(n) + " " + std::to_string(ms));
    ASSERT_EQ(target.wait(60), 0) << target.err();
    auto truth = fixture_goroutines(target.out());
    ASSERT_EQ(truth.size(), (size_t)n) << target.out();

    // Metrics, scraped while gmon still runs (after the last exit line is out).
    g.wait_for("\"goroutine_id\":" + std::to_string(truth.rbegin()->first), 5000);
    std::string metrics = scrape_until(port, "gmon_goroutines_exited_total" + SPAWN_SITE, n);
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + SPAWN_SITE), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_exited_total" + SPAWN_SITE), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutine_lifetime_seconds_count" + SPAWN_SITE), n) << metrics;
    std::string le1 = SPAWN_SITE.substr(0, SPAWN_SITE.size() - 1) + ",le=\"1\"}";
    std::string le01 = SPAWN_SITE.substr(0, SPAWN_SITE.size() - 1) + ",le=\"0.1\"}";
    EXPECT_EQ(sample_value(metrics, "gmon_goroutine_lifetime_seconds_bucket" + le1), n);
    EXPECT_EQ(sample_value(metrics, "gmon_goroutine_lifetime_seconds_bucket" + le01), 0);
    EXPECT_EQ(sample_value(metrics, "gmon_events_lost_total"), 0);

    g.signal(SIGINT);
    ASSERT_EQ(g.wait(10), 0) << g.err();
    // The kernel here has ring buffers and the BPF compare-and-swap: by default the events come through
    // gmon's per-CPU rings.
    std::string transport = extra_args.find("--perf-buffer") != std::string::npos   ? "perf buffer"
                            : extra_args.find("--ring-buffer") != std::string::npos ? "ring buffer"
                                                                                    : "per-CPU rings";
    EXPECT_EQ(json_field(lines(g.out()).at(0), "events"), transport) << g.out().substr(0, 400);
    auto traced = traced_goroutines(g.out(), target.pid());
    for (const auto &[goid, want] : truth) {
        SCOPED_TRACE(variant + " goroutine " + std::to_string(goid));
        auto it = traced.find(goid);
        ASSERT_NE(it, traced.end()) << "gmon never reported it";
        const traced_goroutine &got = it->second;
        EXPECT_TRUE(got.created);
        EXPECT_TRUE(got.exited);
        EXPECT_EQ(got.parent, want.parent);
        ASSERT_FALSE(got.stack.empty());
        EXPECT_EQ(got.stack[0], "main.spawnWorkers");
        EXPECT_EQ(got.stack.size() > 1 ? got.stack[1] : "", "main.main");
        EXPECT_EQ(got.function.rfind("main.spawnWorkers.func", 0), 0u) << got.function;
        EXPECT_GE(got.lifetime_ms, want.lifetime_ms);
        EXPECT_LT(got.lifetime_ms, want.lifetime_ms + 500);
    }
    // The runtime's own goroutines are reported too, and every goid is reported once (checked above).
    EXPECT_TRUE(traced.count(1) && traced[1].created) << "the main goroutine's creation is missing";
    // The summary's first site row: created and exited counts of main.spawnWorkers.
    long created = -1, exited = -1;
    for (const auto &l : lines(g.err()))
        if (l.find(" main.spawnWorkers <- main.main") != std::string::npos)
            sscanf(l.c_str(), "%ld %ld", &created, &exited);
    EXPECT_EQ(created, n) << g.err();
    EXPECT_EQ(exited, n) << g.err();
}

class LifecycleVariants : public ::testing::TestWithParam<const char *> {};

TEST_P(LifecycleVariants, ReportsExactlyTheGoroutinesTheFixtureCreated) {
    check_exact_trace(GetParam(), "");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LifecycleVariants, ::testing::Values("plain", "stripped", "pie", "cgo"));

TEST(Lifecycle, PerfBufferFallbackDeliversTheSameEvents) {
    check_exact_trace("plain", "--perf-buffer");
}

TEST(Lifecycle, RingBufferDeliversTheSameEvents) {
    check_exact_trace("plain", "--ring-buffer");
}

TEST(Lifecycle, ByPidFollowsOneProcessAndStopsWhenItExits) {
    std::string bin = private_copy(fixture("lifecycle-pie"), "bypid");
    background other(bin + " on-signal 5 10"); // same binary, not the target: must not show up
    background target(bin + " on-signal 12 50");
    ASSERT_TRUE(target.wait_for("ready", 10000));
    ASSERT_TRUE(other.wait_for("ready", 10000));
    background g(gmon_command("--pid " + std::to_string(target.pid()) + " --format json --metrics 0"));
    if (!attached(g))
        return;
    other.signal(SIGUSR1);
    target.signal(SIGUSR1);
    ASSERT_EQ(target.wait(30), 0);
    ASSERT_EQ(other.wait(30), 0);
    EXPECT_EQ(g.wait(10), 0) << "gmon must exit 0 by itself when its target exits\n" << g.err();
    EXPECT_TRUE(g.out().find("target process exited") != std::string::npos) << g.out();
    auto truth = fixture_goroutines(target.out());
    auto traced = traced_goroutines(g.out(), target.pid());
    ASSERT_EQ(truth.size(), 12u);
    for (const auto &[goid, want] : truth) {
        ASSERT_TRUE(traced[goid].created && traced[goid].exited) << goid;
        EXPECT_EQ(traced[goid].parent, want.parent);
        EXPECT_EQ(traced[goid].stack.at(0), "main.spawnWorkers");
    }
    EXPECT_TRUE(traced_goroutines(g.out(), other.pid()).empty()) << "events of another process leaked in";
}

TEST(Lifecycle, HttpServerSeedScenarioWithCleanMetrics) {
    std::string bin = private_copy(fixture("httpserver-plain"), "http");
    int http_port = free_port(), metrics_port = free_port();
    background server(bin + " -addr 127.0.0.1:" + std::to_string(http_port));
    usleep(300 * 1000);
    background g(
        gmon_command("-pid " + std::to_string(server.pid()) + " -metrics " + std::to_string(metrics_port)));
    if (!attached(g))
        return;
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(run("curl -sf http://127.0.0.1:" + std::to_string(http_port) + "/get/200").status, 0);
    ASSERT_TRUE(g.wait_for("net/http.(*conn).serve", 5000)) << g.out();
    std::string metrics = scrape(metrics_port);
    std::string path = scratch_dir() + "/http-metrics.txt";
    write_file(path, metrics);
    auto lint = run("promtool check metrics < " + path);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err << metrics;
    // A request handled on a connection goroutine started by Serve, whose handler spawns backgroundJob.
    EXPECT_GE(
        sample_value(metrics,
                     "gmon_goroutines_created_total{stack_0=\"net/http.(*Server).Serve\","
                     "stack_1=\"net/http.(*Server).ListenAndServe\",stack_2=\"net/http.ListenAndServe\","
                     "stack_3=\"main.main\",stack_4=\"runtime.main\"}"),
        3)
        << metrics;
    EXPECT_NE(metrics.find("gmon_goroutine_lifetime_seconds_bucket{"), std::string::npos);
    EXPECT_NE(metrics.find("gmon_goroutines_live{"), std::string::npos);
    EXPECT_NE(metrics.find("gmon_probe_hits_total{probe=\"runtime.newproc1\"}"), std::string::npos);
    // logfmt lines like the seed's.
    bool seen = false;
    for (const auto &l : lines(g.out()))
        if (l.find("level=INFO msg=\"goroutine is created\" goroutine_id=") != std::string::npos &&
            l.find(" stack.0=net/http.(*Server).Serve stack.1=") != std::string::npos)
            seen = true;
    EXPECT_TRUE(seen) << g.out();
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0);
}

TEST(Lifecycle, LeakShowsAsGrowingOldestLiveAge) {
    std::string bin = private_copy(fixture("httpserver-pie"), "leak");
    int http_port = free_port(), metrics_port = free_port();
    background server(bin + " -addr 127.0.0.1:" + std::to_string(http_port));
    usleep(300 * 1000);
    background g(gmon_command("--pid " + std::to_string(server.pid()) + " --level WARN --metrics " +
                              std::to_string(metrics_port)));
    if (!attached(g))
        return;
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(run("curl -sf http://127.0.0.1:" + std::to_string(http_port) + "/leak").status, 0);
    std::string site =
        "{stack_0=\"main.main.func2\",stack_1=\"net/http.HandlerFunc.ServeHTTP\","
        "stack_2=\"net/http.(*ServeMux).ServeHTTP\",stack_3=\"net/http.serverHandler.ServeHTTP\","
        "stack_4=\"net/http.(*conn).serve\"}";
    usleep(300 * 1000);
    std::string first = scrape(metrics_port);
    sleep(2);
    std::string second = scrape(metrics_port);
    EXPECT_EQ(sample_value(second, "gmon_goroutines_live" + site), 2) << second;
    double age1 = sample_value(first, "gmon_goroutine_oldest_live_age_seconds" + site);
    double age2 = sample_value(second, "gmon_goroutine_oldest_live_age_seconds" + site);
    EXPECT_GT(age1, 0) << first;
    EXPECT_GT(age2, age1 + 1.5);
    EXPECT_TRUE(g.out().empty()) << "WARN level prints no event lines:\n" << g.out().substr(0, 2000);
    g.signal(SIGTERM);
    EXPECT_EQ(g.wait(10), 0);
    EXPECT_NE(g.err().find("main.main.func2"), std::string::npos) << "the summary names the leaking site";
}

TEST(Lifecycle, SeriesCapFoldsExtraSitesIntoOther) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "cap");
    int port = free_port();
    background g(
        gmon_command("--path " + bin + " --level WARN --max-series 2 --metrics " + std::to_string(port)));
    if (!attached(g))
        return;
    background target(bin + " spawn 10 1");
    ASSERT_EQ(target.wait(30), 0);
    std::string metrics = scrape(port);
    size_t series = 0;
    double created = 0;
    for (const auto &l : lines(metrics))
        if (l.rfind("gmon_goroutines_created_total{", 0) == 0) {
            series++;
            created += std::atof(l.c_str() + l.rfind(' ') + 1);
        }
    EXPECT_EQ(series, 3u) << "two label sets and \"other\"\n" << metrics;
    std::string other =
        "{stack_0=\"other\",stack_1=\"other\",stack_2=\"other\",stack_3=\"other\",stack_4=\"other\"}";
    EXPECT_GT(sample_value(metrics, "gmon_goroutines_created_total" + other), 0) << metrics;
    EXPECT_GT(sample_value(metrics, "gmon_creation_sites_folded_total"), 0);
    EXPECT_EQ(created, sample_value(metrics, "gmon_probe_hits_total{probe=\"runtime.newproc1\"}"))
        << "folding loses no creation";
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0);
}

// An empty cache of compiled programs makes the start-up last the compile (~1 s), not the 60-100 ms of an
// attach from the cache, which a scrape (curl started by a shell) could miss altogether.
TEST(Lifecycle, MetricsScrapedDuringStartupAreServed) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "early");
    int port = free_port();
    std::string cache = scratch_dir() + "/early-cache";
    background g("env GMON_CACHE_DIR=" + cache + " " +
                 gmon_command("--path " + bin + " --level WARN --metrics " + std::to_string(port)));
    int served = 0;
    while (g.running() && g.err().find("probes attached") == std::string::npos)
        served += scrape(port).find("gmon_probes_attached") != std::string::npos;
    EXPECT_TRUE(g.running()) << "gmon died while being scraped during startup\n" << g.err();
    EXPECT_GT(served, 0) << "the metrics server answers before the probes are attached";
    EXPECT_NE(g.err().find("BPF program compiled"), std::string::npos) << g.err();
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0);
}

// --path says which processes it traces: those running the binary when it attached, each one started later
// (before any of its goroutines), and each one's exit.
TEST(Lifecycle, PathLogsEveryProcessItTraces) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "processes");
    auto before = std::make_unique<running_fixture>(bin);
    ASSERT_GT(before->pid, 0);
    std::string early = std::to_string(before->pid);
    background g(gmon_command("--path " + bin + " --format json --metrics 0"));
    ASSERT_TRUE(attached(g));
    background later(bin + " spawn 3 5");
    ASSERT_EQ(later.wait(60), 0) << later.err();
    std::string late = std::to_string(later.pid());
    before.reset(); // its stdin closes: it exits
    g.wait_for("\"msg\":\"process exited\",\"pid\":" + early, 5000);
    g.wait_for("\"msg\":\"process exited\",\"pid\":" + late, 5000);
    g.signal(SIGINT);
    ASSERT_EQ(g.wait(20), 0) << g.err();
    std::vector<std::string> seen; // "msg pid" of the process lines, and the first creation of the later one
    for (const auto &l : lines(g.out())) {
        std::string msg = json_field(l, "msg"), pid = json_field(l, "pid");
        if (msg.rfind("process", 0) == 0 || (msg == "goroutine is created" && pid == late))
            seen.push_back(msg + " " + pid);
    }
    auto at = [&](const std::string &what) {
        return std::find(seen.begin(), seen.end(), what) - seen.begin();
    };
    EXPECT_LT(at("process found running " + early), (long)seen.size()) << g.out();
    EXPECT_LT(at("process started " + late), at("goroutine is created " + late)) << g.out();
    EXPECT_LT(at("goroutine is created " + late), (long)seen.size()) << g.out();
    EXPECT_LT(at("process exited " + late), (long)seen.size()) << g.out();
    EXPECT_LT(at("process exited " + early), (long)seen.size()) << g.out();
    EXPECT_EQ(at("process started " + early), (long)seen.size()) << "it ran before gmon attached\n"
                                                                 << g.out();
}

} // namespace
