// gmon sched: scheduling latency and time blocked per wait reason, on the Go 1.19 fixture (every variant)
// and on esbuild from go1.17 to go1.26 in watch mode.
#include <csignal>
#include <regex>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

// The final ("since gmon attached") JSON records of `gmon sched --format json`, by reason ("" for latency).
std::map<std::string, std::string> final_records(const std::string &out) {
    std::map<std::string, std::string> got;
    for (const auto &l : lines(out))
        if (json_field(l, "span") == "since_attach")
            got[json_field(l, "msg") == "scheduling latency" ? "" : json_field(l, "reason")] = l;
    return got;
}

// The count of one histogram slot ("131072-262143") in a record, 0 when absent.
long slot_count(const std::string &record, const std::string &slot) {
    std::smatch m;
    if (std::regex_search(record, m, std::regex("\"" + slot + "\":(\\d+)")))
        return std::stol(m[1]);
    return 0;
}

class SchedFixture : public ::testing::TestWithParam<std::string> {};

// block 10 185: ten goroutines each sleep, receive, select and wait for a mutex for 185 ms, near the middle
// (geometrically) of the 131-262 ms slot: a wait delayed by a busy machine (by up to 77 ms) stays in it.
TEST_P(SchedFixture, KnownWaitsShowWithTheirReasonsAndDurations) {
    std::string bin = private_copy(fixture("lifecycle-" + GetParam()), "sched");
    background g(gmon_command("sched --blocked --format json --interval 0 --path " + bin));
    trace_workload(g, bin + " block 10 185");
    auto rec = final_records(g.out());
    for (const char *reason : {"sleep", "chan receive", "select", "semacquire"}) {
        ASSERT_TRUE(rec.count(reason)) << reason << "\n" << g.out();
        const std::string &r = rec[reason];
        EXPECT_GE(std::stol(json_field(r, "count")), 10) << r;
        EXPECT_GE(slot_count(r, "131072-262143"), 10) << "ten waits of 185 ms: " << r;
        double mean_ms = std::stod(json_field(r, "mean")) / 1e6;
        EXPECT_GT(mean_ms, 100) << r;
        EXPECT_LT(mean_ms, 400) << r;
    }
    ASSERT_TRUE(rec.count("")) << g.out();
    EXPECT_GE(std::stol(json_field(rec[""], "count")), 40)
        << "each new goroutine is runnable, then runs: " << rec[""];
    EXPECT_NE(g.err().find("losses: 0 map full, 0 failed reads"), std::string::npos) << g.err();
}

INSTANTIATE_TEST_SUITE_P(Go119, SchedFixture, ::testing::Values("plain", "stripped", "pie", "cgo"));

TEST(Sched, TableListsReasonsAndVerbosePrintsTheirHistograms) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "sched-table");
    background g(gmon_command("sched --blocked -v --interval 0 --path " + bin));
    trace_workload(g, bin + " block 5 185");
    std::string out = g.out();
    EXPECT_NE(out.find("scheduling latency (runnable -> running): "), std::string::npos) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(\n  WAIT REASON +WAITS +TOTAL +MEAN\n)"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(\n  chan receive +\d+ +[0-9.]+m?s +[0-9.]+ms\n)")))
        << out;
    EXPECT_NE(out.find("blocked in select:\n"), std::string::npos) << out;
}

TEST(Sched, BadInputIsRefusedWithOneLine) {
    for (const char *args :
         {"sched", "sched --format xml --path /bin/true", "sched --interval -1 --path /bin/true",
          "sched --pid 999999999", "sched --path /bin/ls"}) {
        auto r = run(gmon_command(args));
        EXPECT_EQ(r.status, 2) << args << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << args << ": " << r.err;
    }
}

// The one record of `gmon sched --pid --format json --interval 0` without --blocked.
std::string runtime_record(const std::string &out) {
    std::string found;
    for (const auto &l : lines(out))
        if (json_field(l, "span") == "since_attach" && json_field(l, "source") == "runtime")
            found = l;
    return found;
}

// The sum of a record's "latency_ns" buckets.
long bucket_total(const std::string &record) {
    long total = 0;
    std::smatch m;
    std::string rest = record.substr(record.find("\"latency_ns\""));
    std::regex bucket(R"re("(\d+)-(\d+|inf)":(\d+))re");
    for (auto it = std::sregex_iterator(rest.begin(), rest.end(), bucket); it != std::sregex_iterator(); ++it)
        total += std::stol((*it)[3]);
    return total;
}

class SchedRuntime : public ::testing::TestWithParam<std::string> {};

// Without --blocked, one process: the runtime's own histogram, no probe. The fixture reads the same
// histogram through runtime/metrics before and after its work ("timed A B"): gmon's count since it attached
// holds the B - A schedulings the runtime timed, and at most a few more (the signal's delivery, the
// fixture's own goroutines around the two reads).
TEST_P(SchedRuntime, CountsWhatTheRuntimeTimedWithoutAProbe) {
    background f("sh -c 'sleep 60 | " + fixture("lifecycle-" + GetParam()) + " sched-on-signal 1000 8'");
    ASSERT_TRUE(f.wait_for("ready", 20000)) << f.err();
    pid_t pid = (pid_t)std::stol(f.out().substr(6));
    background g(gmon_command("sched --format json --interval 0 --pid " + std::to_string(pid)));
    ASSERT_TRUE(g.wait_for("no probe", 20000, true)) << g.err();
    kill(pid, SIGUSR1);
    ASSERT_TRUE(f.wait_for("timed", 20000)) << f.out();
    usleep(600 * 1000); // two of gmon's reads
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(20), 0) << g.err();
    std::smatch m;
    std::string fo = f.out();
    ASSERT_TRUE(std::regex_search(fo, m, std::regex(R"(timed (\d+) (\d+))"))) << fo;
    long timed = std::stol(m[2]) - std::stol(m[1]);
    ASSERT_GT(timed, 300) << "8,000 schedulings, about 1 in 8 timed: " << fo;
    std::string rec = runtime_record(g.out());
    ASSERT_FALSE(rec.empty()) << g.out() << g.err();
    long samples = std::stol(json_field(rec, "samples"));
    EXPECT_GE(samples, timed) << rec;
    EXPECT_LE(samples, timed + 10) << rec;
    EXPECT_EQ(bucket_total(rec), samples) << rec;
    EXPECT_GT(std::stol(json_field(rec, "p99_below")), std::stol(json_field(rec, "p50_below"))) << rec;
    EXPECT_EQ(g.err().find("probes attached"), std::string::npos) << g.err();
    kill(pid, SIGKILL);
}

INSTANTIATE_TEST_SUITE_P(Go119, SchedRuntime, ::testing::Values("plain", "stripped", "pie", "cgo"));

// --path without --blocked: every process running the binary is read, no probe. One that starts after gmon
// counts from its start (everything its runtime timed: B of "timed A B", and at most a few more), and keeps
// its counts once it has exited.
TEST(Sched, PathReadsEveryProcessOfTheBinaryWithoutAProbe) {
    std::string bin = private_copy(fixture("lifecycle-stripped"), "sched-path");
    background g(gmon_command("sched --format json --interval 0 --path " + bin));
    ASSERT_TRUE(g.wait_for("no probe", 20000, true)) << g.err();
    background f("sh -c 'sleep 60 | " + bin + " sched-on-signal 1000 8'");
    ASSERT_TRUE(f.wait_for("ready", 20000)) << f.err();
    pid_t pid = (pid_t)std::stol(f.out().substr(6));
    ASSERT_TRUE(
        g.wait_for("PID " + std::to_string(pid) + " runs " + bin + ": reading its histogram", 20000, true))
        << g.err();
    kill(pid, SIGUSR1);
    ASSERT_TRUE(f.wait_for("timed", 20000)) << f.out();
    // A killed process keeps what gmon read last: 1.5 s is six of its reads, room enough on a loaded machine.
    usleep(1500 * 1000);
    kill(pid, SIGKILL);
    ASSERT_TRUE(g.wait_for("PID " + std::to_string(pid) + " is gone", 20000, true)) << g.err();
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(20), 0) << g.err();
    std::smatch m;
    std::string fo = f.out();
    ASSERT_TRUE(std::regex_search(fo, m, std::regex(R"(timed (\d+) (\d+))"))) << fo;
    long timed = std::stol(m[2]);
    std::string rec = runtime_record(g.out());
    ASSERT_FALSE(rec.empty()) << g.out() << g.err();
    long samples = std::stol(json_field(rec, "samples"));
    EXPECT_GE(samples, timed) << rec;
    EXPECT_LE(samples, timed + 10) << rec;
    EXPECT_EQ(g.err().find("probes attached"), std::string::npos) << g.err();
}

TEST(Sched, RuntimeTableShowsTheRuntimesBuckets) {
    background f("sh -c 'sleep 60 | " + fixture("lifecycle-stripped") + " sched-on-signal 300 8'");
    ASSERT_TRUE(f.wait_for("ready", 20000)) << f.err();
    pid_t pid = (pid_t)std::stol(f.out().substr(6));
    background g(gmon_command("sched --interval 0 --pid " + std::to_string(pid)));
    ASSERT_TRUE(g.wait_for("no probe", 20000, true)) << g.err();
    kill(pid, SIGUSR1);
    ASSERT_TRUE(f.wait_for("timed", 20000)) << f.out();
    usleep(600 * 1000);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(20), 0) << g.err();
    std::string out = g.out();
    EXPECT_TRUE(std::regex_search(
        out, std::regex(
                 R"(the runtime's own sample: \d+ timed, median < [0-9.]+(ns|µs|ms|s), 99th percentile < )")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(\n +latency \(ns\) : count +distribution\n)"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(\n +\d+ -> \d+ +: [1-9]\d* +\|\*+ *\|)"))) << out;
    kill(pid, SIGKILL);
}

// What only the probes measure is refused without them, rather than ignored.
TEST(Sched, ProbeOnlyOptionsNeedBlocked) {
    running_fixture f(fixture("lifecycle-plain"));
    ASSERT_GT(f.pid, 0);
    for (const char *opt : {"-v", "--go-version 1.19", "--perf-buffer"}) {
        auto r = run(gmon_command(std::string("sched ") + opt + " --pid " + std::to_string(f.pid)));
        EXPECT_EQ(r.status, 2) << opt << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
        EXPECT_NE(r.err.find("add --blocked"), std::string::npos) << r.err;
    }
}

class SchedCorpusRuntime : public ::testing::TestWithParam<corpus_entry> {};

// Every release 1.17-1.27 keeps sched.timeToRun where the layout says: esbuild in watch mode, its module
// rewritten while gmon reads, schedules goroutines the runtime times.
TEST_P(SchedCorpusRuntime, RealStrippedReleasesGiveTheirHistogram) {
    const corpus_entry &e = GetParam();
    idle_esbuild es(e, "sched-runtime");
    ASSERT_FALSE(es.pid.empty()) << e.name << " did not start";
    background g(gmon_command("sched --format json --interval 0 --duration 3 --pid " + es.pid));
    ASSERT_TRUE(g.wait_for("no probe", 20000, true)) << g.err();
    for (int i = 0; i < 5; i++) {
        write_file(es.dir + "/entry.js", "console.log(" + std::to_string(i) + ");\n");
        usleep(300 * 1000);
    }
    EXPECT_EQ(g.wait(20), 0) << g.err();
    std::string rec = runtime_record(g.out());
    ASSERT_FALSE(rec.empty()) << g.out() << g.err();
    EXPECT_GT(std::stol(json_field(rec, "samples")), 0) << rec;
    EXPECT_EQ(bucket_total(rec), std::stol(json_field(rec, "samples"))) << rec;
}

INSTANTIATE_TEST_SUITE_P(Npm, SchedCorpusRuntime, ::testing::ValuesIn(esbuild_corpus()), corpus_test_name);

class SchedLefthookRuntime : public ::testing::TestWithParam<corpus_entry> {};

// go1.21, go1.24, go1.27 (lefthook waiting for its hook, idle: the histogram is read, whatever it holds).
TEST_P(SchedLefthookRuntime, RealStrippedReleasesGiveTheirHistogram) {
    waiting_lefthook hook(GetParam(), "sched-runtime");
    ASSERT_FALSE(hook.pid.empty()) << GetParam().name << " did not start";
    auto r = run(gmon_command("sched --format json --interval 0 --duration 1 --pid " + hook.pid));
    EXPECT_EQ(r.status, 0) << r.err;
    std::string rec = runtime_record(r.out);
    ASSERT_FALSE(rec.empty()) << r.out << r.err;
    EXPECT_EQ(bucket_total(rec), std::stol(json_field(rec, "samples"))) << rec;
}

INSTANTIATE_TEST_SUITE_P(Npm, SchedLefthookRuntime, ::testing::ValuesIn(lefthook_corpus()), corpus_test_name);

class SchedCorpus : public ::testing::TestWithParam<corpus_entry> {};

// Every reason must be one of the release's own strings, read from the binary: never a number.
TEST_P(SchedCorpus, RealStrippedBinariesShowNamedWaitReasons) {
    const corpus_entry &e = GetParam();
    std::string bin = private_copy(corpus(e.name), "sched-" + e.name);
    corpus_workload w(e, bin, "sched");
    background g(gmon_command("sched --blocked --format json --interval 0 --path " + bin));
    trace_workload(g, w.command);
    EXPECT_EQ(read_file(w.traced), read_file(w.reference)) << "esbuild's output changed";
    auto rec = final_records(g.out());
    ASSERT_TRUE(rec.count("")) << g.out() << g.err();
    EXPECT_GT(std::stol(json_field(rec[""], "count")), 100) << rec[""];
    size_t reasons = 0;
    for (const auto &[reason, r] : rec) {
        if (reason.empty())
            continue;
        reasons++;
        EXPECT_EQ(reason.find("wait reason"), std::string::npos) << r;
        EXPECT_GT(std::stol(json_field(r, "count")), 0) << r;
    }
    EXPECT_GT(reasons, 1u) << g.out();
    EXPECT_TRUE(rec.count("chan receive") || rec.count("GC worker (idle)") || rec.count("select")) << g.out();
}

INSTANTIATE_TEST_SUITE_P(Npm, SchedCorpus, ::testing::ValuesIn(corpus_manifest()), corpus_test_name);

} // namespace
