// gmon exporter against its oracle, client_golang itself: the promclient fixture (Debian's
// client_golang 1.14, Go 1.19) serves its own Go and process collectors; gmon, from outside, must serve every
// one of those series with the same type and help, and the same values: to the byte where the two reads see
// the same state (the GC summary, the heap goal, start time, limits, and in a quiet program most gauges),
// between gmon's reads taken before and after the program's own scrape for what that scrape itself changes
// (its allocations, its goroutines, its connection). Then the runtime's formulas alone, real stripped
// releases 1.17-1.27, a real Prometheus server and promtool, and bad input.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "go_exporter.h"
#include "lifecycle_support.h"
#include "runtime_metrics.h"

using namespace gmon_test;

namespace {

// A /metrics text: samples by series (name and labels as written), and HELP and TYPE by family, in order.
struct exposition {
    std::map<std::string, std::string> samples;
    std::map<std::string, std::string> help, type;
    std::vector<std::string> families;
};

exposition parse(const std::string &text) {
    exposition e;
    std::regex help(R"(^# HELP (\S+) (.*)$)"), type(R"(^# TYPE (\S+) (\S+)$)"), sample(R"(^(\S+) (\S+)$)");
    for (const auto &l : lines(text)) {
        std::smatch m;
        if (std::regex_match(l, m, help)) {
            e.help[m[1]] = m[2];
            e.families.push_back(m[1]);
        } else if (std::regex_match(l, m, type)) {
            e.type[m[1]] = m[2];
        } else if (std::regex_match(l, m, sample)) {
            e.samples[m[1]] = m[2];
        }
    }
    return e;
}

std::string scrape(const std::string &addr) {
    return run("curl -gsf http://" + addr + "/metrics").out; // -g: [::1] is an address, not a curl glob
}

// gmon exporter started on a free port; addr is "127.0.0.1:PORT" once it serves ("" when it did not).
struct exporter {
    std::unique_ptr<background> proc;
    std::string addr;
    explicit exporter(const std::string &args) {
        proc = std::make_unique<background>(gmon_command("exporter " + args + " --metrics 0"));
        if (!proc->wait_for("/metrics", 20000))
            return;
        std::smatch m;
        std::string out = proc->out();
        if (std::regex_search(out, m, std::regex(R"(http://(\S+)/metrics)")))
            addr = m[1];
    }
};

// promtool check metrics on what gmon serves at addr now.
run_result promtool_check(const std::string &addr) {
    static int n = 0;
    std::string path = scratch_dir() + "/exporter-lint-" + std::to_string(++n) + ".txt";
    write_file(path, scrape(addr));
    return run("promtool check metrics < " + path);
}

std::string fixture_addr(background &f) {
    if (!f.wait_for("ready", 30000))
        return "";
    std::smatch m;
    std::string out = f.out();
    return std::regex_search(out, m, std::regex(R"(ready (\S+))")) ? m[1].str() : "";
}

double value(const exposition &e, const std::string &series) {
    auto it = e.samples.find(series);
    return it == e.samples.end() ? NAN : std::stod(it->second);
}

// The series that must be equal to the byte whenever no GC ran between the three reads.
const std::set<std::string> EXACT = {
    "go_gc_duration_seconds_count",     "go_gc_duration_seconds_sum",
    "go_memstats_last_gc_time_seconds", "go_memstats_next_gc_bytes",
    "go_memstats_lookups_total",        "go_memstats_buck_hash_sys_bytes",
    "process_start_time_seconds",       "process_max_fds",
    "process_virtual_memory_max_bytes",
};

bool exact(const std::string &series, bool memory_limit) {
    // under a memory limit the goal follows the heap in use (mgcpacer.go memoryLimitHeapGoal)
    if (memory_limit && series == "go_memstats_next_gc_bytes")
        return false;
    return EXACT.count(series) || series.rfind("go_gc_duration_seconds{", 0) == 0 ||
           series.rfind("go_info{", 0) == 0;
}

// gmon A, the program's own F, gmon B, until no GC ran meanwhile (at most 5 tries).
struct trio {
    exposition a, f, b;
    std::string raw_a;
};

trio read_trio(const std::string &gmon_addr, const std::string &own_addr) {
    trio t;
    for (int i = 0; i < 5; i++) {
        t.raw_a = scrape(gmon_addr);
        t.a = parse(t.raw_a);
        t.f = parse(scrape(own_addr));
        t.b = parse(scrape(gmon_addr));
        std::string n = "go_gc_duration_seconds_count";
        if (t.a.samples[n] == t.f.samples[n] && t.f.samples[n] == t.b.samples[n])
            break;
    }
    return t;
}

// gmon serves these of client_golang's runtime/metrics set (GoRuntimeMetricsCollection) on Go 1.19; the
// others (go_gc_pauses_seconds, go_gc_limiter_*, go_gc_stack_starting_size_bytes, go_cgo_*) are not yet
// served.
const std::set<std::string> SERVED_RUNTIME_METRICS = {"go_gc_cycles_automatic_gc_cycles_total",
                                                      "go_gc_cycles_forced_gc_cycles_total",
                                                      "go_gc_cycles_total_gc_cycles_total",
                                                      "go_gc_heap_allocs_by_size_bytes",
                                                      "go_gc_heap_allocs_bytes_total",
                                                      "go_gc_heap_allocs_objects_total",
                                                      "go_gc_heap_frees_by_size_bytes",
                                                      "go_gc_heap_frees_bytes_total",
                                                      "go_gc_heap_frees_objects_total",
                                                      "go_gc_heap_goal_bytes",
                                                      "go_gc_heap_objects_objects",
                                                      "go_gc_heap_tiny_allocs_objects_total",
                                                      "go_memory_classes_heap_free_bytes",
                                                      "go_memory_classes_heap_objects_bytes",
                                                      "go_memory_classes_heap_released_bytes",
                                                      "go_memory_classes_heap_stacks_bytes",
                                                      "go_memory_classes_heap_unused_bytes",
                                                      "go_memory_classes_metadata_mcache_free_bytes",
                                                      "go_memory_classes_metadata_mcache_inuse_bytes",
                                                      "go_memory_classes_metadata_mspan_free_bytes",
                                                      "go_memory_classes_metadata_mspan_inuse_bytes",
                                                      "go_memory_classes_metadata_other_bytes",
                                                      "go_memory_classes_os_stacks_bytes",
                                                      "go_memory_classes_other_bytes",
                                                      "go_memory_classes_profiling_buckets_bytes",
                                                      "go_memory_classes_total_bytes",
                                                      "go_sched_gomaxprocs_threads",
                                                      "go_sched_goroutines_goroutines",
                                                      "go_sched_latencies_seconds"};

bool served(const std::string &family_or_series, bool runtime_metrics) {
    if (!runtime_metrics)
        return true;
    for (const auto &f : SERVED_RUNTIME_METRICS)
        if (family_or_series.rfind(f, 0) == 0)
            return true;
    // the MemStats-based set and the process collector, as without runtime metrics
    return family_or_series.rfind("go_memstats_", 0) == 0 || family_or_series.rfind("process_", 0) == 0 ||
           family_or_series.rfind("go_gc_duration_seconds", 0) == 0 || family_or_series == "go_goroutines" ||
           family_or_series == "go_threads" || family_or_series.rfind("go_info", 0) == 0;
}

void expect_like_client_golang(const trio &t, bool memory_limit, bool runtime_metrics = false) {
    ASSERT_FALSE(t.f.families.empty());
    size_t at = 0; // the program's families appear in gmon's in the same order
    for (const auto &fam : t.f.families) {
        if (fam.rfind("promhttp_", 0) == 0 || !served(fam, runtime_metrics))
            continue; // the HTTP handler's own series; runtime/metrics series gmon does not serve yet
        EXPECT_EQ(t.a.help.count(fam), 1u) << fam << " missing from gmon's\n" << t.raw_a;
        EXPECT_EQ(t.a.help.at(fam), t.f.help.at(fam)) << fam;
        EXPECT_EQ(t.a.type.at(fam), t.f.type.at(fam)) << fam;
        while (at < t.a.families.size() && t.a.families[at] != fam)
            at++;
        EXPECT_LT(at, t.a.families.size()) << fam << " out of client_golang's order";
    }
    for (const auto &[series, own] : t.f.samples) {
        if (series.rfind("promhttp_", 0) == 0 || !served(series, runtime_metrics))
            continue;
        ASSERT_EQ(t.a.samples.count(series), 1u) << series;
        double a = value(t.a, series), f = value(t.f, series), b = value(t.b, series);
        if (exact(series, memory_limit)) {
            EXPECT_EQ(t.a.samples.at(series), own) << series;
            EXPECT_EQ(t.b.samples.at(series), own) << series;
        } else if (series == "go_goroutines" || series == "go_sched_goroutines_goroutines") {
            // the scrape's connection and Gather's collector goroutines
            EXPECT_GE(f, a) << series;
            EXPECT_LE(f - a, 10) << series;
        } else if (series == "process_open_fds") {
            EXPECT_GE(f - a, 1) << "the scrape's connection";
            EXPECT_LE(f - a, 3) << series;
        } else if (series.find("_total") != std::string::npos || series == "go_threads" ||
                   series.rfind("go_sched_latencies_seconds", 0) == 0 || // counts of a sampled histogram
                   series == "go_sched_gomaxprocs_threads" || series == "go_gc_heap_goal_bytes" ||
                   series == "go_memstats_heap_objects" || series == "go_gc_heap_objects_objects" ||
                   series.rfind("go_gc_heap_allocs_by_size_bytes", 0) == 0 ||
                   series.rfind("go_gc_heap_frees_by_size_bytes", 0) == 0 ||
                   series.find("alloc_bytes") != std::string::npos) {
            // Counters, and what only grows without a GC: between gmon's two reads, exactly.
            EXPECT_GE(f, std::min(a, b)) << series << " " << own << " not between " << t.a.samples.at(series)
                                         << " and " << t.b.samples.at(series);
            EXPECT_LE(f, std::max(a, b)) << series << " " << own << " not between " << t.a.samples.at(series)
                                         << " and " << t.b.samples.at(series);
        } else {
            // Gauges of memory the runtime moves about on its own (spans the scrape took, pages the heap
            // reused, metadata moved between other_sys and gcMiscSys, resident pages): between gmon's two
            // reads, give or take 64 KiB or 1 %.
            double slack = std::max(64.0 * 1024, 0.01 * std::max(a, b));
            EXPECT_GE(f, std::min(a, b) - slack)
                << series << " " << own << " not near " << t.a.samples.at(series) << " .. "
                << t.b.samples.at(series);
            EXPECT_LE(f, std::max(a, b) + slack)
                << series << " " << own << " not near " << t.a.samples.at(series) << " .. "
                << t.b.samples.at(series);
        }
    }
}

class ExporterOracle : public ::testing::TestWithParam<std::string> {};

TEST_P(ExporterOracle, ServesWhatClientGolangServes) {
    std::string variant = GetParam(), env, args;
    bool runtime_metrics = variant == "runtime-metrics";
    if (runtime_metrics) { // client_golang's runtime/metrics series too: gmon's extras compared with them
        variant = "plain";
        args = " -runtime-metrics";
    } else if (variant == "memlimit") { // the goal the memory limit sets (mgcpacer.go memoryLimitHeapGoal)
        variant = "plain";
        env = "env GOMEMLIMIT=18MiB ";
    } else if (variant == "gogc") {
        variant = "plain";
        env = "env GOGC=37 ";
    }
    background f(env + fixture("promclient-" + variant) + args);
    std::string own = fixture_addr(f);
    ASSERT_FALSE(own.empty()) << f.err();
    exporter g("--pid " + std::to_string(f.pid()));
    ASSERT_FALSE(g.addr.empty()) << g.proc->err();
    trio t = read_trio(g.addr, own);
    expect_like_client_golang(t, GetParam() == "memlimit", runtime_metrics);
    if (runtime_metrics) {
        for (const auto &fam : SERVED_RUNTIME_METRICS)
            EXPECT_EQ(t.f.help.count(fam), 1u) << fam << ": client_golang 1.14 on Go 1.19 serves it";
        EXPECT_EQ(t.a.samples.count("go_sched_latencies_seconds_bucket{le=\"9.999999999999998e-08\"}"), 1u)
            << "client_golang's buckets: the runtime's thinned to powers of ten";
    }
    EXPECT_EQ(t.a.samples["go_info{version=\"go1.19.8\"}"], "1");
    EXPECT_EQ(value(t.a, "go_sched_gomaxprocs_threads"), sysconf(_SC_NPROCESSORS_ONLN));
    EXPECT_EQ(t.a.samples["go_gc_heap_goal_bytes"], t.a.samples["go_memstats_next_gc_bytes"]);
    EXPECT_EQ(t.a.samples["go_gc_gogc_percent"], GetParam() == "gogc" ? "37" : "100");
    EXPECT_EQ(t.a.samples["go_gc_gomemlimit_bytes"],
              GetParam() == "memlimit" ? "1.8874368e+07" : "9.223372036854776e+18");
    if (GetParam() == "memlimit") {
        EXPECT_LT(value(t.f, "go_memstats_next_gc_bytes"), 9e6) << "the limit's goal, below GOGC's (9.1 MB)";
    }
    // goroutines created: main, the parked ones, the runtime's, the server's
    EXPECT_GE(value(t.a, "go_sched_goroutines_created_goroutines_total"), value(t.a, "go_goroutines"));
    EXPECT_EQ(g.proc->err().find("left out"), std::string::npos) << g.proc->err();
}

INSTANTIATE_TEST_SUITE_P(Go119, ExporterOracle,
                         ::testing::Values("plain", "stripped", "pie", "cgo", "memlimit", "gogc",
                                           "runtime-metrics"));

// promtool accepts gmon's exposition as it is; a Prometheus server scrapes it and answers for the series.
TEST(Exporter, PromtoolAndAPrometheusServerReadIt) {
    background f(fixture("promclient-stripped"));
    ASSERT_FALSE(fixture_addr(f).empty()) << f.err();
    exporter g("--pid " + std::to_string(f.pid()));
    ASSERT_FALSE(g.addr.empty()) << g.proc->err();
    auto lint = promtool_check(g.addr);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err;
    EXPECT_EQ(lint.out + lint.err, "") << "promtool has remarks";

    int prom_port = free_port();
    std::string dir = scratch_dir() + "/prometheus-exporter";
    run("rm -rf " + dir + " && mkdir -p " + dir);
    write_file(dir + "/prometheus.yml", "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: go\n"
                                        "    static_configs:\n      - targets: ['" +
                                            g.addr + "']\n");
    background prometheus("prometheus --config.file=" + dir + "/prometheus.yml --storage.tsdb.path=" + dir +
                          "/data --web.listen-address=127.0.0.1:" + std::to_string(prom_port));
    std::string answer;
    for (int i = 0; i < 200 && answer.find("go1.19.8") == std::string::npos; i++) {
        usleep(200 * 1000);
        answer = run("curl -sfG http://127.0.0.1:" + std::to_string(prom_port) +
                     "/api/v1/query --data-urlencode 'query=go_info{job=\"go\"}'")
                     .out;
    }
    EXPECT_NE(answer.find("\"version\":\"go1.19.8\""), std::string::npos) << answer << prometheus.err();
    answer = run("curl -sfG http://127.0.0.1:" + std::to_string(prom_port) +
                 "/api/v1/query --data-urlencode 'query=go_goroutines{job=\"go\"} >= 11'")
                 .out;
    EXPECT_NE(answer.find("\"go_goroutines\""), std::string::npos)
        << "10 parked, main, the server: " << answer;
    prometheus.signal(SIGTERM);
    prometheus.wait(20);
}

// --path: every process that runs the binary, each series with its pid; one that exits takes its series away.
TEST(Exporter, PathFollowsProcessesThatComeAndGo) {
    std::string bin = private_copy(fixture("promclient-plain"), "exporter-path");
    exporter g("--path " + bin);
    ASSERT_FALSE(g.addr.empty()) << g.proc->err();
    auto none = parse(scrape(g.addr));
    EXPECT_EQ(none.samples["gmon_exporter_targets"], "0");
    EXPECT_EQ(none.help.count("go_goroutines"), 0u);
    auto one = std::make_unique<background>(bin);
    background two(bin + " -goroutines 3");
    ASSERT_FALSE(fixture_addr(*one).empty());
    ASSERT_FALSE(fixture_addr(two).empty());
    auto both = parse(scrape(g.addr));
    std::string p1 = std::to_string(one->pid()), p2 = std::to_string(two.pid());
    EXPECT_EQ(both.samples["gmon_exporter_targets"], "2");
    EXPECT_EQ(value(both, "go_goroutines{pid=\"" + p1 + "\"}") -
                  value(both, "go_goroutines{pid=\"" + p2 + "\"}"),
              7)
        << "10 parked against 3";
    EXPECT_EQ(both.samples.count("go_gc_duration_seconds{pid=\"" + p2 + "\",quantile=\"0.5\"}"), 1u);
    one.reset(); // killed
    usleep(200 * 1000);
    auto after = parse(scrape(g.addr));
    EXPECT_EQ(after.samples["gmon_exporter_targets"], "1");
    EXPECT_EQ(after.samples.count("go_goroutines{pid=\"" + p1 + "\"}"), 0u);
    EXPECT_EQ(after.samples.count("go_goroutines{pid=\"" + p2 + "\"}"), 1u);
    EXPECT_NE(g.proc->err().find("PID " + p1 + " is gone"), std::string::npos) << g.proc->err();
    auto lint = promtool_check(g.addr);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err;
}

// With --pid, gmon exits 0 when the process does, and says so.
// Count of go_gc_heap_allocs_by_size_bytes between two of its (cumulative) bucket bounds.
double bucket_between(const exposition &x, const std::string &le_low, const std::string &le_high) {
    std::string b = "go_gc_heap_allocs_by_size_bytes_bucket{le=\"";
    return value(x, b + le_high + "\"}") - value(x, b + le_low + "\"}");
}

// A GC before and after 2,000 allocations of 3,000 and of 50,000 bytes: every P's cached spans are released,
// so the runtime's per-class counts hold them all. The by-size histogram (client_golang's power-of-two
// buckets) gains exactly 2,000 in (1536, 3200] (class 3072) and 2,000 large ones, as gmon gm --pid, reading
// the same counters with the cached spans accounted for, counts in those classes.
TEST(Exporter, AllocationsBySizeAreExactAndGmAgrees) {
    const int k = 2000;
    background f("sh -c 'sleep 60 | " + fixture("lifecycle-plain") + " alloc-gc-on-signal " +
                 std::to_string(k) + " 3000 50000'");
    ASSERT_TRUE(f.wait_for("ready", 20000)) << f.err();
    std::string pid = f.out().substr(6, f.out().find('\n') - 6);
    exporter g("--pid " + pid);
    ASSERT_FALSE(g.addr.empty()) << g.proc->err();
    background gm(gmon_command("gm --format json --interval 0 --pid " + pid));
    ASSERT_TRUE(gm.wait_for("no probe", 20000, true)) << gm.err();
    auto before = parse(scrape(g.addr));
    kill((pid_t)std::stol(pid), SIGUSR1);
    ASSERT_TRUE(f.wait_for("allocated", 20000)) << f.out();
    usleep(600 * 1000); // two of gm's reads
    auto after = parse(scrape(g.addr));
    gm.signal(SIGINT);
    EXPECT_EQ(gm.wait(20), 0) << gm.err();
    const std::string low = "1536.9999999999998", high = "3200.9999999999995", top = "27264.999999999996";
    double mid = bucket_between(after, low, high) - bucket_between(before, low, high);
    double large = bucket_between(after, top, "+Inf") - bucket_between(before, top, "+Inf");
    EXPECT_EQ(mid, k) << scrape(g.addr);
    EXPECT_EQ(large, k);
    std::string rec = gm.out();
    long gm_mid = 0;
    for (const char *c : {"1792B", "2048B", "2304B", "2688B", "3072B", "3200B"}) {
        std::smatch m;
        if (std::regex_search(rec, m,
                              std::regex(std::string("\"count_by_class\":\\{[^}]*\"") + c + "\":(\\d+)")))
            gm_mid += std::stol(m[1]);
    }
    EXPECT_EQ(gm_mid, mid) << rec;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(rec, m, std::regex(R"("count_by_class":\{"large":(\d+))"))) << rec;
    EXPECT_EQ(std::stol(m[1]), large) << rec;
    EXPECT_EQ(value(after, "go_gc_heap_allocs_by_size_bytes_sum"),
              value(after, "go_gc_heap_allocs_bytes_total"));
    kill((pid_t)std::stol(pid), SIGKILL);
}

TEST(Exporter, ExitsWithItsProcess) {
    auto f = std::make_unique<background>(fixture("promclient-plain"));
    ASSERT_FALSE(fixture_addr(*f).empty());
    std::string pid = std::to_string(f->pid());
    exporter g("--pid " + pid);
    ASSERT_FALSE(g.addr.empty()) << g.proc->err();
    f.reset();
    EXPECT_EQ(g.proc->wait(10), 0);
    EXPECT_NE(g.proc->out().find("process " + pid + " exited"), std::string::npos) << g.proc->out();
}

// On an IPv6 address the URL gmon prints has the address in brackets, and a client reaches it as printed.
TEST(Exporter, ServesOnIPv6AtTheURLItPrints) {
    auto f = std::make_unique<background>(fixture("promclient-plain"));
    ASSERT_FALSE(fixture_addr(*f).empty());
    exporter g("--pid " + std::to_string(f->pid()) + " --metrics-addr ::1");
    ASSERT_EQ(g.addr.rfind("[::1]:", 0), 0u) << g.proc->out() << g.proc->err();
    EXPECT_NE(scrape(g.addr).find("\ngo_goroutines "), std::string::npos) << g.addr;
}

TEST(Exporter, BadInputIsRefusedWithOneLine) {
    background sleeper("sleep 30");
    usleep(100 * 1000);
    auto r = gmon("exporter --pid " + std::to_string(sleeper.pid()) + " --metrics 0");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("not a Go binary"), std::string::npos) << r.err;
    r = gmon("exporter --pid 999999999 --metrics 0");
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
    r = gmon("exporter --metrics 0");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("give --pid PID, --path BIN or --container NAME"), std::string::npos) << r.err;
    r = gmon("exporter --pid 1 --path /bin/true");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("not both"), std::string::npos) << r.err;
    r = gmon("exporter --pid 1 --metrics 70000");
    EXPECT_EQ(r.status, 2);
    r = gmon("exporter --path /nonexistent/app");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("/nonexistent/app"), std::string::npos) << r.err;
    // A release gmon has no layout for: the fixture with go1.16.8 written over its go1.19.8 (build info
    // and runtime.buildVersion) is refused, not read with the wrong offsets.
    std::string old_go = private_copy(fixture("lifecycle-stripped"), "exporter-go116");
    ASSERT_EQ(run("env LC_ALL=C sed -i 's/go1\\.19\\.8/go1.16.8/g' " + old_go).status, 0);
    running_fixture go116(old_go);
    ASSERT_GT(go116.pid, 0);
    for (const char *cmd : {"exporter --metrics 0", "sched", "gm"}) {
        r = gmon(std::string(cmd) + " --pid " + std::to_string(go116.pid));
        EXPECT_EQ(r.status, 2) << cmd;
        EXPECT_EQ(lines(r.err).size(), 1u) << cmd << ": " << r.err;
        EXPECT_NE(r.err.find("Go 1.16 is not supported (gmon supports Go 1.17 to 1.27)"), std::string::npos)
            << cmd << ": " << r.err;
    }
    // the port is taken
    background f(fixture("promclient-plain"));
    ASSERT_FALSE(fixture_addr(f).empty());
    int fd, port;
    ASSERT_GE(fd = listen_on_free_port(&port), 0);
    r = gmon("exporter --pid " + std::to_string(f.pid()) + " --metrics " + std::to_string(port));
    close(fd);
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("port " + std::to_string(port) + " on 127.0.0.1 is in use"), std::string::npos)
        << r.err;
}

// The runtime's formulas on their own.
TEST(RuntimeMetricsCompute, PauseQuantilesAsReadGCStats) {
    go_gc_ring r{};
    uint64_t q[5];
    go_gc_pause_quantiles(&r, q);
    for (uint64_t v : q)
        EXPECT_EQ(v, 0u) << "no GC yet";
    r.numgc = 3;                                                                     // cycles 0, 1, 2
    r.pause_ns[0] = 30, r.pause_ns[1] = 10, r.pause_ns[2] = 20, r.pause_ns[3] = 999; // 3: not yet
    go_gc_pause_quantiles(&r, q);
    EXPECT_EQ(q[0], 10u);
    EXPECT_EQ(q[1], 10u); // sorted[3*1/4 = 0]
    EXPECT_EQ(q[2], 20u); // sorted[1]
    EXPECT_EQ(q[3], 30u); // sorted[3*3/4 = 2]
    EXPECT_EQ(q[4], 30u);
    r.numgc = 300; // the ring wrapped: the last 256 cycles, 44 to 299
    for (int i = 0; i < GC_PAUSE_RING; i++)
        r.pause_ns[i] = (uint64_t)i;
    go_gc_pause_quantiles(&r, q);
    EXPECT_EQ(q[0], 0u);
    EXPECT_EQ(q[2], 128u);
    EXPECT_EQ(q[4], 255u);
    EXPECT_EQ(go_duration_seconds(1500000000), 1.5);
    EXPECT_EQ(go_duration_seconds(123456), 0.000123456);
}

TEST(RuntimeMetricsCompute, HeapGoalAsTheRuntime) {
    go_goal_inputs in{};
    in.minor = 18;
    in.heap_goal = 12345;
    EXPECT_EQ(go_heap_goal(&in), 12345u) << "a field up to 1.18";
    in = go_goal_inputs{};
    in.minor = 21;
    in.percent_goal = 8 << 20;
    in.memory_limit = INT64_MAX;
    in.mapped_ready = 20 << 20;
    in.heap_free = 2 << 20;
    in.total_alloc = 10 << 20;
    in.total_free = 4 << 20;
    in.heap_marked = 3 << 20;
    in.triggered = ~0ull;
    EXPECT_EQ(go_heap_goal(&in), 8u << 20) << "GOGC's goal, no limit";
    in.sweep_dist_min_trigger = 9 << 20;
    EXPECT_EQ(go_heap_goal(&in), 9u << 20) << "raised to the sweeper's minimum";
    in.triggered = 9 << 20;
    EXPECT_EQ(go_heap_goal(&in), (9u << 20) + (64 << 10)) << "64 KiB of runway past the trigger";
    // A limit of 1 GiB: non-heap memory is 20 - 2 - 6 = 12 MiB, leaving 1012 MiB, less 3 % (at least 1 MiB).
    in.memory_limit = 1 << 30;
    in.percent_goal = 4ull << 30;
    uint64_t room = (1 << 30) - (12 << 20);
    EXPECT_EQ(go_heap_goal(&in), room - room / 100 * 3);
    in.memory_limit = 30 << 20; // 18 MiB left: 3 % is below the 1 MiB minimum
    EXPECT_EQ(go_heap_goal(&in), (18u << 20) - (1 << 20));
    in.memory_limit = 1 << 30;
    in.minor = 20; // 1 MiB of headroom before 1.21
    EXPECT_EQ(go_heap_goal(&in), room - (1 << 20));
    in.memory_limit = 10 << 20; // below what is mapped: the marked heap
    EXPECT_EQ(go_heap_goal(&in), 3u << 20);
}

TEST(GoExporter, FamiliesSortedAsClientGolangSortsThem) {
    const exporter_family_info *f;
    int n = go_exporter_families(&f);
    ASSERT_GT(n, 30);
    for (int i = 1; i < n; i++)
        EXPECT_LT(std::string(f[i - 1].name), std::string(f[i].name));
}

class ExporterCorpus : public ::testing::TestWithParam<corpus_entry> {};

// Real stripped releases: every family present, and sane.
void expect_sane(const std::string &addr, const corpus_entry &e, const std::string &pid) {
    std::string text = scrape(addr);
    auto x = parse(text);
    int minor = std::stoi(e.go_version.substr(4));
    for (const char *fam : {"go_gc_duration_seconds",
                            "go_gc_gogc_percent",
                            "go_goroutines",
                            "go_info",
                            "go_memstats_alloc_bytes",
                            "go_memstats_alloc_bytes_total",
                            "go_memstats_buck_hash_sys_bytes",
                            "go_memstats_frees_total",
                            "go_memstats_gc_sys_bytes",
                            "go_memstats_heap_alloc_bytes",
                            "go_memstats_heap_idle_bytes",
                            "go_memstats_heap_inuse_bytes",
                            "go_memstats_heap_objects",
                            "go_memstats_heap_released_bytes",
                            "go_memstats_heap_sys_bytes",
                            "go_memstats_last_gc_time_seconds",
                            "go_memstats_lookups_total",
                            "go_memstats_mallocs_total",
                            "go_memstats_mcache_inuse_bytes",
                            "go_memstats_mcache_sys_bytes",
                            "go_memstats_mspan_inuse_bytes",
                            "go_memstats_mspan_sys_bytes",
                            "go_memstats_next_gc_bytes",
                            "go_memstats_other_sys_bytes",
                            "go_memstats_stack_inuse_bytes",
                            "go_memstats_stack_sys_bytes",
                            "go_memstats_sys_bytes",
                            "go_sched_goroutines_created_goroutines_total",
                            "go_threads",
                            "process_cpu_seconds_total",
                            "process_max_fds",
                            "process_open_fds",
                            "process_resident_memory_bytes",
                            "process_start_time_seconds",
                            "process_virtual_memory_bytes",
                            "process_virtual_memory_max_bytes"})
        EXPECT_EQ(x.help.count(fam), 1u) << fam << " missing\n" << text;
    for (const auto &fam : SERVED_RUNTIME_METRICS)
        EXPECT_EQ(x.help.count(fam), 1u) << fam << " missing\n" << text;
    EXPECT_EQ(x.help.count("go_gc_gomemlimit_bytes"), minor >= 19 ? 1u : 0u) << "from go1.19";
    EXPECT_EQ(x.samples["go_info{version=\"" + e.go_version + "\"}"], "1");
    auto v = [&](const std::string &s) { return value(x, s); };
    EXPECT_GE(v("go_goroutines"), 1);
    EXPECT_GE(v("go_sched_goroutines_created_goroutines_total"), v("go_goroutines"));
    EXPECT_GE(v("go_threads"), 2);
    EXPECT_EQ(v("go_sched_gomaxprocs_threads"), sysconf(_SC_NPROCESSORS_ONLN));
    EXPECT_EQ(v("go_gc_gogc_percent"), 100);
    EXPECT_GE(v("go_memstats_mallocs_total"), v("go_memstats_frees_total"));
    EXPECT_GT(v("go_memstats_heap_objects"), 100);
    EXPECT_LE(v("go_memstats_heap_alloc_bytes"), v("go_memstats_heap_inuse_bytes"));
    EXPECT_LE(v("go_memstats_heap_inuse_bytes"), v("go_memstats_heap_sys_bytes"));
    EXPECT_LE(v("go_memstats_heap_sys_bytes"), v("go_memstats_sys_bytes"));
    EXPECT_LE(v("go_memstats_heap_released_bytes"), v("go_memstats_heap_idle_bytes"));
    EXPECT_LE(v("go_memstats_stack_inuse_bytes"), v("go_memstats_stack_sys_bytes"));
    EXPECT_LE(v("go_memstats_mspan_inuse_bytes"), v("go_memstats_mspan_sys_bytes"));
    EXPECT_LE(v("go_memstats_mcache_inuse_bytes"), v("go_memstats_mcache_sys_bytes"));
    EXPECT_LE(v("go_memstats_heap_inuse_bytes"), v("process_resident_memory_bytes"));
    EXPECT_GE(v("go_memstats_next_gc_bytes"), 4 << 20) << "GOGC=100: the 4 MiB minimum at least";
    EXPECT_LT(v("go_memstats_next_gc_bytes"), v("go_memstats_sys_bytes") * 4);
    EXPECT_EQ(v("go_memstats_sys_bytes"),
              v("go_memstats_heap_sys_bytes") + v("go_memstats_stack_sys_bytes") +
                  v("go_memstats_mspan_sys_bytes") + v("go_memstats_mcache_sys_bytes") +
                  v("go_memstats_buck_hash_sys_bytes") + v("go_memstats_gc_sys_bytes") +
                  v("go_memstats_other_sys_bytes"))
        << "MemStats.Sys is the sum of the *Sys fields";
    // runtime/metrics' own figures, over the same counters: consistent with the MemStats set
    EXPECT_EQ(v("go_gc_heap_allocs_objects_total") + v("go_gc_heap_tiny_allocs_objects_total"),
              v("go_memstats_mallocs_total"));
    EXPECT_EQ(v("go_gc_heap_allocs_by_size_bytes_count"), v("go_gc_heap_allocs_objects_total"));
    EXPECT_EQ(v("go_gc_heap_allocs_by_size_bytes_sum"), v("go_gc_heap_allocs_bytes_total"));
    EXPECT_EQ(v("go_gc_heap_frees_by_size_bytes_count"), v("go_gc_heap_frees_objects_total"));
    EXPECT_EQ(v("go_gc_heap_objects_objects"), v("go_memstats_heap_objects"));
    EXPECT_EQ(v("go_memory_classes_total_bytes"), v("go_memstats_sys_bytes"));
    EXPECT_EQ(v("go_memory_classes_heap_objects_bytes"), v("go_memstats_heap_alloc_bytes"));
    EXPECT_EQ(v("go_gc_cycles_total_gc_cycles_total"), v("go_gc_duration_seconds_count"));
    EXPECT_EQ(v("go_gc_cycles_automatic_gc_cycles_total") + v("go_gc_cycles_forced_gc_cycles_total"),
              v("go_gc_cycles_total_gc_cycles_total"));
    EXPECT_GE(v("go_sched_goroutines_goroutines"), v("go_goroutines"));
    if (minor < 26)
        EXPECT_EQ(v("go_sched_goroutines_goroutines"), v("go_goroutines")) << "gcount() up to go1.25";
    else
        EXPECT_GT(v("go_sched_goroutines_goroutines"), v("go_goroutines")) << "gcount(true) from go1.26";
    double gcs = v("go_gc_duration_seconds_count");
    if (gcs > 0) {
        EXPECT_GT(v("go_memstats_last_gc_time_seconds"), v("process_start_time_seconds") - 1);
        EXPECT_LE(v("go_memstats_last_gc_time_seconds"), (double)time(nullptr) + 1);
        EXPECT_LE(v("go_gc_duration_seconds{quantile=\"0\"}"), v("go_gc_duration_seconds{quantile=\"1\"}"));
        EXPECT_LT(v("go_gc_duration_seconds{quantile=\"1\"}"), 1.0);
    }
    auto again = parse(scrape(addr));
    EXPECT_GE(value(again, "go_gc_duration_seconds_count"), gcs) << "numgc only grows";
    // Up to go1.18 a P counts a span's free slots as allocated when it caches the span, and takes back those
    // still free when it releases it (mcache.go refill, releaseAll: at every GC): the runtime's own count,
    // and so client_golang's, goes down then.
    if (minor >= 19 || value(again, "go_gc_duration_seconds_count") == gcs) {
        EXPECT_GE(value(again, "go_memstats_mallocs_total"), v("go_memstats_mallocs_total"));
    }
    EXPECT_GE(value(again, "go_sched_latencies_seconds_count"), v("go_sched_latencies_seconds_count"));
    EXPECT_GT(v("go_sched_latencies_seconds_count"), 0) << "goroutines were scheduled (1 in 8 sampled)";
    auto lint = promtool_check(addr);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err;
    (void)pid;
}

TEST_P(ExporterCorpus, EveryFamilyOfRealStrippedReleases) {
    const corpus_entry &e = GetParam();
    std::string pid;
    std::unique_ptr<idle_esbuild> es;
    std::unique_ptr<waiting_lefthook> hook;
    if (e.name.rfind("esbuild", 0) == 0) {
        es = std::make_unique<idle_esbuild>(e, "exporter");
        pid = es->pid;
    } else {
        hook = std::make_unique<waiting_lefthook>(e, "exporter");
        pid = hook->pid;
    }
    ASSERT_FALSE(pid.empty()) << e.name << " did not start";
    exporter g("--pid " + pid);
    ASSERT_FALSE(g.addr.empty()) << g.proc->err();
    expect_sane(g.addr, e, pid);
    EXPECT_EQ(g.proc->err().find("left out"), std::string::npos) << g.proc->err();
}

INSTANTIATE_TEST_SUITE_P(Npm, ExporterCorpus, ::testing::ValuesIn(corpus_manifest()), corpus_test_name);

} // namespace
