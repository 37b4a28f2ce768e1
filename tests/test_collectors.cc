// The lifecycle monitor's --collect gc,sched,malloc,blocked,runtime: the runtime collectors' series in
// /metrics, checked against what the Go 1.19 fixture does, and linted by promtool.
#include <csignal>
#include <regex>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

TEST(Collectors, GcSchedAndMallocSeriesMatchTheWorkload) {
    std::string bin = private_copy(fixture("lifecycle-pie"), "collect");
    int port = free_port();
    background g(gmon_command("--path " + bin +
                              " --level WARN --collect goroutines,gc,blocked,malloc --metrics " +
                              std::to_string(port)));
    if (!attached(g))
        return;
    ASSERT_EQ(run("env GOGC=off " + bin + " gc 3 2").status, 0);
    ASSERT_EQ(run(bin + " block 4 50").status, 0);
    ASSERT_EQ(run(bin + " alloc 100 3000").status, 0);
    std::string metrics = scrape(port);
    std::string path = scratch_dir() + "/collect-metrics.txt";
    write_file(path, metrics);
    auto lint = run("promtool check metrics < " + path);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err << metrics;
    // The three processes have exited by now: their sites are named through the load bias each one's runtime
    // start gave (runtime.main's address), not left as hex addresses.
    EXPECT_EQ(metrics.find("stack_0=\"0x"), std::string::npos) << metrics;

    EXPECT_EQ(sample_value(metrics, "gmon_gc_cycles_total{trigger=\"forced\"}"), 3) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_gc_stw_pause_seconds_count{reason=\"GC sweep termination\"}"), 3);
    EXPECT_EQ(sample_value(metrics, "gmon_gc_stw_pause_seconds_count{reason=\"GC mark termination\"}"), 3);
    EXPECT_EQ(sample_value(metrics, "gmon_gc_stw_pause_seconds_count{reason=\"stop the world\"}"), 2)
        << "two ReadMemStats (Go 1.19 passes no reason)";
    EXPECT_GT(sample_value(metrics, "gmon_gc_mark_seconds_total"), 0);

    EXPECT_GE(sample_value(metrics, "gmon_goroutine_blocks_total{reason=\"chan receive\"}"), 4) << metrics;
    EXPECT_GE(sample_value(metrics, "gmon_goroutine_blocks_total{reason=\"select\"}"), 4);
    EXPECT_GE(sample_value(metrics, "gmon_goroutine_blocked_seconds_total{reason=\"select\"}"), 4 * 0.04);
    EXPECT_GE(sample_value(metrics, "gmon_sched_latency_seconds_count"), 16)
        << "every new goroutine is scheduled";

    double allocs = sample_value(metrics, "gmon_allocations_total{size_class=\"3072\"}");
    EXPECT_GE(allocs, 100) << metrics;
    EXPECT_LE(allocs, 110);
    EXPECT_GE(sample_value(metrics, "gmon_allocated_bytes_total{size_class=\"3072\"}"), 100 * 3000);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
}

TEST(Collectors, UnknownCollectorIsRefused) {
    auto r = run(gmon_command("--path /bin/true --collect gc,heap"));
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("--collect takes goroutines, gc, sched, malloc, blocked and runtime, not \"heap\""),
              std::string::npos)
        << r.err;
}

// --collect malloc on one process: the runtime's own per-class counters, no allocator probe; exact.
TEST(Collectors, MallocOfOneProcessFromTheRuntimesCounters) {
    background f("sh -c 'sleep 60 | " + fixture("lifecycle-plain") + " alloc-on-signal 2000 3000 50000'");
    ASSERT_TRUE(f.wait_for("ready", 20000)) << f.err();
    pid_t pid = (pid_t)std::stol(f.out().substr(6));
    int port = free_port();
    background g(gmon_command("--pid " + std::to_string(pid) + " --level WARN --collect malloc --metrics " +
                              std::to_string(port)));
    if (!attached(g))
        return;
    kill(pid, SIGUSR1);
    ASSERT_TRUE(f.wait_for("allocated", 20000)) << f.out();
    std::string metrics = scrape(port);
    EXPECT_EQ(sample_value(metrics, "gmon_allocations_total{size_class=\"3072\"}"), 2000) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_allocated_bytes_total{size_class=\"3072\"}"), 2000 * 3072);
    EXPECT_EQ(sample_value(metrics, "gmon_allocations_total{size_class=\"large\"}"), 2000);
    EXPECT_NE(metrics.find("the count times the class's size"), std::string::npos) << metrics;
    std::string path = scratch_dir() + "/collect-malloc-counters.txt";
    write_file(path, metrics);
    auto lint = run("promtool check metrics < " + path);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err << metrics;
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
    kill(pid, SIGKILL);
}

// --collect sched: the runtime's own latency histogram, read at each scrape (no probe), as client_golang
// names it; what the program's own runtime/metrics counted between two scrapes ("timed A B"), and at most a
// few more.
TEST(Collectors, SchedReadsTheRuntimesHistogram) {
    background f("sh -c 'sleep 60 | " + fixture("lifecycle-stripped") + " sched-on-signal 1000 8'");
    ASSERT_TRUE(f.wait_for("ready", 20000)) << f.err();
    pid_t pid = (pid_t)std::stol(f.out().substr(6));
    int port = free_port();
    background g(gmon_command("--pid " + std::to_string(pid) + " --level WARN --collect sched --metrics " +
                              std::to_string(port)));
    if (!attached(g))
        return;
    double before = sample_value(scrape(port), "go_sched_latencies_seconds_count");
    kill(pid, SIGUSR1);
    ASSERT_TRUE(f.wait_for("timed", 20000)) << f.out();
    std::string metrics = scrape(port);
    std::smatch m;
    std::string fo = f.out();
    ASSERT_TRUE(std::regex_search(fo, m, std::regex(R"(timed (\d+) (\d+))"))) << fo;
    double timed = std::stod(m[2]) - std::stod(m[1]);
    double got = sample_value(metrics, "go_sched_latencies_seconds_count") - before;
    EXPECT_GE(got, timed) << metrics;
    EXPECT_LE(got, timed + 10) << metrics;
    EXPECT_NE(
        metrics.find("# HELP go_sched_latencies_seconds Distribution of the time goroutines have spent"),
        std::string::npos)
        << metrics;
    EXPECT_EQ(metrics.find("gmon_goroutine_blocks_total"), std::string::npos) << "blocked is not asked for";
    std::string path = scratch_dir() + "/collect-sched.txt";
    write_file(path, metrics);
    auto lint = run("promtool check metrics < " + path);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err << metrics;
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
    kill(pid, SIGKILL);
}

// --collect runtime: gmon exporter's families in the monitor's /metrics, read from the traced process's
// memory (no probe of their own), next to the goroutine series; with --path, every process with a pid label.
TEST(Collectors, RuntimeAddsTheExportersFamilies) {
    background f("sh -c 'sleep 60 | " + fixture("lifecycle-plain") + " park-all 7'");
    ASSERT_TRUE(f.wait_for("ready", 20000)) << f.err();
    std::string pid = f.out().substr(6, f.out().find('\n') - 6);
    int port = free_port();
    background g(
        gmon_command("--pid " + pid + " --level WARN --collect runtime --metrics " + std::to_string(port)));
    if (!attached(g))
        return;
    std::string metrics = scrape(port);
    std::string path = scratch_dir() + "/collect-runtime.txt";
    write_file(path, metrics);
    auto lint = run("promtool check metrics < " + path);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err << metrics;
    EXPECT_EQ(sample_value(metrics, "go_info{version=\"go1.19.8\"}"), 1) << metrics;
    EXPECT_GE(sample_value(metrics, "go_goroutines"), 8) << "main and the 7 parked";
    // No GC yet: from Go 1.19 the heap's counts hold only spans the Ps released, none so far, and
    // runtime/metrics (so client_golang) reads 0 too; the heap's pages are in use all the same.
    EXPECT_GE(sample_value(metrics, "go_memstats_heap_alloc_bytes"), 0);
    EXPECT_GT(sample_value(metrics, "go_memstats_heap_inuse_bytes"), 0);
    EXPECT_GT(sample_value(metrics, "process_resident_memory_bytes"), 0);
    EXPECT_NE(metrics.find("# TYPE go_sched_latencies_seconds histogram"), std::string::npos);
    EXPECT_NE(metrics.find("# TYPE gmon_goroutines_created_total counter"), std::string::npos) << metrics;
    EXPECT_EQ(metrics.find("gmon_exporter_read_bytes"), std::string::npos)
        << "the exporter's own series stay its";
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
    kill((pid_t)std::stol(pid), SIGKILL);
}

} // namespace
