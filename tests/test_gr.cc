// gmon gr (goroutine events) and gmon gr seq / lifetime (lifetime histograms) on the Go 1.19 fixture.
#include <csignal>
#include <regex>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

// What gmon printed while the fixture's workers came and went, and the fixture's own account of them.
struct traced_run {
    std::string out, err, truth;
};

// gmon `command` --pid on a fixture that, on SIGUSR1, spawns n workers from main.spawnWorkers that live ms
// each, then stays: --exits poll reads exits from the memory of a process that is still there. gmon is
// stopped once every worker has exited.
traced_run trace_lingering_fixture(const std::string &command, int n, int ms) {
    traced_run r;
    pid_t pid;
    auto target = start_leaking_fixture(fixture("lifecycle-plain"), n, 0, ms, &pid);
    if (!pid)
        return r;
    background g(gmon_command(command + " --pid " + std::to_string(pid)));
    if (!g.wait_for("probes attached", 30000, true)) {
        ADD_FAILURE() << g.err();
        return r;
    }
    kill(pid, SIGUSR1);
    EXPECT_TRUE(target->wait_for("leaked", 20000)) << target->out();
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(20), 0) << g.err();
    target->signal(SIGTERM);
    r.out = g.out();
    r.err = g.err();
    r.truth = target->out();
    return r;
}

// gr --format json's rows: a create row and an exit row per worker, in that order, with its parent and a
// lifetime of at least min_lifetime_ms; no event lost.
void expect_every_worker_created_and_exited(const traced_run &r, size_t n, double min_lifetime_ms) {
    auto workers = fixture_goroutines(r.truth);
    ASSERT_EQ(workers.size(), n) << r.truth;
    std::map<long, std::string> created, exited;
    for (const auto &l : lines(r.out)) {
        long goid = std::atol(json_field(l, "goroutine_id").c_str());
        if (!workers.count(goid))
            continue;
        std::string msg = json_field(l, "msg");
        EXPECT_EQ(json_field(l, "function"), "main.spawnWorkers.func1") << l;
        if (msg == "goroutine created") {
            EXPECT_FALSE(created.count(goid)) << l;
            created[goid] = l;
            EXPECT_EQ(json_field(l, "parent_goroutine_id"), std::to_string(workers[goid].parent)) << l;
            EXPECT_EQ(json_field(l, "event"), "create") << l;
        } else if (msg == "goroutine exited") {
            EXPECT_FALSE(exited.count(goid)) << l;
            exited[goid] = l;
            double ms = std::atof(json_field(l, "lifetime").c_str()) / 1e6;
            EXPECT_GE(ms, min_lifetime_ms) << l;
            EXPECT_LT(ms, 5000) << l;
            EXPECT_TRUE(created.count(goid)) << "an exit row after its create row: " << l;
        }
    }
    EXPECT_EQ(created.size(), n) << r.out;
    EXPECT_EQ(exited.size(), n) << r.out;
    EXPECT_NE(r.err.find("losses: 0 events lost"), std::string::npos) << r.err;
}

// --path on a process that ends as soon as its six workers have.
TEST(Gr, EveryWorkerIsCreatedAndExitsWithItsParentFunctionAndLifetime) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gr");
    background g(gmon_command("gr --path " + bin + " --format json"));
    traced_run r;
    trace_workload(g, bin + " spawn 6 40", &r.truth);
    r.out = g.out();
    r.err = g.err();
    expect_every_worker_created_and_exited(r, 6, 40);
    EXPECT_NE(r.err.find(", goexit1 6\n"), std::string::npos) << r.err;
}

// --path forgets each process that has ended, with its goroutines still in the live map: 30 runs of a
// program that ends with 3,000 goroutines blocked (90,000 in all, the map holds 65,536) are all tracked. The
// runs are spaced out: gmon forgets every 500 ms, and a burst of processes faster than that can fill the map
// before it does.
TEST(Gr, PathForgetsTheGoroutinesOfEndedProcesses) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gr-forget");
    background g(gmon_command("gr --path " + bin + " --format json"));
    trace_programs_that_end_with_goroutines_blocked(g, bin);
    std::string err = g.err();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(err, m, std::regex(R"(goroutines: (\d+) created)"))) << err;
    EXPECT_GE(std::stol(m[1]), 90000) << err;
    EXPECT_NE(err.find("losses: 0 events lost, 0 goroutines not tracked"), std::string::npos) << err;
}

// --exits poll: the same rows from one probe, the exits read from memory; a lifetime may come out short of
// the truth by half the time between two scans (10 ms apart, up to 80 ms when gmon is held up on a busy
// machine or under the sanitizers).
TEST(Gr, ExitsPolledFromMemoryGiveTheSameRows) {
    traced_run r = trace_lingering_fixture("gr --format json --exits poll", 6, 100);
    expect_every_worker_created_and_exited(r, 6, 100 - 40);
    EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(\b6 exited \(found by \d+ scans of memory)")))
        << r.err;
    EXPECT_EQ(r.err.find("goexit1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(", 1 uprobe,"), std::string::npos) << r.err;
}

// Column positions in characters (a lifetime such as 1.2µs has a two-byte character).
size_t column_of(const std::string &line, const std::string &needle) {
    size_t at = line.find(needle), chars = 0;
    for (size_t i = 0; i < at && at != std::string::npos; i++)
        chars += ((unsigned char)line[i] & 0xC0) != 0x80;
    return at == std::string::npos ? std::string::npos : chars;
}

// A start function whose name is longer than any column: it is the last column, so the others stay in line.
TEST(Gr, LongFunctionNamesKeepTheColumnsInLine) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gr-long");
    background g(gmon_command("gr --path " + bin));
    trace_workload(g, bin + " long-name 5");
    auto rows = lines(g.out());
    ASSERT_FALSE(rows.empty());
    size_t lifetime = column_of(rows[0], "LIFETIME"), function = column_of(rows[0], "FUNCTION");
    size_t exits = 0;
    for (const auto &r : rows) {
        size_t name = column_of(r, "main.goroutineWhoseFunctionNameIsLongerThanForty");
        if (name == std::string::npos)
            continue;
        EXPECT_EQ(name, function) << r;
        if (r.find(" exit ") != std::string::npos) {
            exits++;
            std::smatch m;
            ASSERT_TRUE(std::regex_search(r, m, std::regex(R"( exit +([0-9.]+(ns|µs|ms|s)) )"))) << r;
            EXPECT_EQ(column_of(r, m[1].str()), lifetime) << r;
        }
    }
    EXPECT_EQ(exits, 5u) << g.out();
}

TEST(Gr, TableHasTheColumnsAndVerboseAddsRunQueueEvents) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gr-table");
    background g(gmon_command("gr -v --path " + bin));
    trace_workload(g, bin + " recurse 8 50 1");
    auto rows = lines(g.out());
    ASSERT_FALSE(rows.empty());
    EXPECT_TRUE(
        std::regex_search(rows[0], std::regex("^TIME +PID +GOID +PARENT +EVENT +LIFETIME +FUNCTION$")))
        << rows[0];
    size_t creates = 0, exits = 0, runq = 0;
    std::regex exit_row(
        R"(^\d\d:\d\d:\d\d\.\d{3} +\d+ +\d+ +\d+ +exit +[0-9.]+(ns|µs|ms|s) +main\.recurseRounds\.func1$)");
    for (const auto &r : rows) {
        creates += r.find(" create ") != std::string::npos;
        exits += std::regex_search(r, exit_row);
        runq += r.find(" steal ") != std::string::npos || r.find(" runq-get ") != std::string::npos;
    }
    EXPECT_GT(creates, 8u) << g.out();
    EXPECT_GT(exits, 8u) << g.out();
    EXPECT_GT(runq, 0u) << "no run-queue event with -v\n" << g.err();
    std::smatch m;
    std::string err = g.err();
    ASSERT_TRUE(std::regex_search(err, m, std::regex(R"(run queue: (\d+) put, (\d+) got, (\d+) stolen)")))
        << err;
    EXPECT_EQ(std::stoul(m[1]) + std::stoul(m[2]) + std::stoul(m[3]), runq) << err;
}

// Rows of the histograms `gr seq` prints: "site title" -> {"low -> high" -> count}.
std::map<std::string, std::map<std::string, long>> histograms(const std::string &out) {
    std::map<std::string, std::map<std::string, long>> got;
    std::string title;
    std::regex row(R"(^ *(\d+ -> \d+) +: (\d+) +\|)");
    for (const auto &l : lines(out)) {
        std::smatch m;
        if (std::regex_search(l, m, row))
            got[title][m[1]] = std::stol(m[2]);
        else if (l.find("goroutines that exited") != std::string::npos)
            title = l.substr(l.find("exited"));
    }
    return got;
}

TEST(GrSeq, KnownLifetimesLandInTheirBucketPerCreationSite) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gr-seq");
    background g(gmon_command("gr seq --by site --interval 0 --path " + bin));
    trace_workload(g, bin + " block 10 185");
    auto h = histograms(g.out());
    size_t sites = 0;
    for (const auto &[title, rows] : h) {
        ASSERT_TRUE(
            std::regex_search(title, std::regex(R"(since gmon attached \(\d+\.\ds\): main\.blockFor \(/)")))
            << title;
        sites++;
        long total = 0;
        for (const auto &[range, n] : rows)
            total += n;
        EXPECT_EQ(total, 10) << title << "\n" << g.out();
        EXPECT_EQ(rows.at("131072 -> 262143"), 10) << "185 ms is in the 131-262 ms row\n" << g.out();
    }
    EXPECT_EQ(sites, 4u) << "one histogram per go statement\n" << g.out();
}

// --exits poll: ten 185 ms lifetimes, known within half the time between two scans (10 ms apart), stay in
// their row (from 131 ms: 54 ms of room).
TEST(GrSeq, PolledExitsLandInTheSameRow) {
    traced_run r =
        trace_lingering_fixture("gr seq --by site --interval 0 --exits poll --exit-scan-ms 10", 10, 185);
    auto h = histograms(r.out);
    ASSERT_EQ(h.size(), 1u) << r.out;
    const auto &[title, rows] = *h.begin();
    EXPECT_NE(title.find("main.spawnWorkers ("), std::string::npos) << title;
    long total = 0;
    for (const auto &[range, n] : rows)
        total += n;
    EXPECT_EQ(total, 10) << r.out;
    EXPECT_EQ(rows.count("131072 -> 262143") ? rows.at("131072 -> 262143") : 0, 10) << r.out;
    EXPECT_TRUE(
        std::regex_search(r.err, std::regex(R"(\b10 exited \(read from memory in \d+ scans, every 10 ms)")))
        << r.err;
}

// --path forgets the goroutines each ended process left running (they never exit) and keeps its histograms:
// 30 runs of a program that ends with 3,000 goroutines blocked (90,000; the map holds 65,536) are all
// tracked.
TEST(GrSeq, PathForgetsTheGoroutinesOfEndedProcesses) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gr-seq-forget");
    background g(gmon_command("gr seq --interval 0 --path " + bin));
    trace_programs_that_end_with_goroutines_blocked(g, bin);
    std::string err = g.err();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(err, m, std::regex(R"(goroutines: (\d+) created)"))) << err;
    EXPECT_GE(std::stol(m[1]), 90000) << err;
    EXPECT_NE(err.find("losses: 0 not tracked (live map full)"), std::string::npos) << err;
}

TEST(GrSeq, LifetimeAliasPrintsJsonPerInterval) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "lifetime");
    background g(gmon_command("lifetime --format json --interval 1 --path " + bin));
    trace_workload(g, bin + " block 5 185");
    long interval_total = 0, final_total = -1;
    for (const auto &l : lines(g.out())) {
        ASSERT_EQ(json_field(l, "msg"), "goroutine lifetimes") << l;
        EXPECT_NE(l.find("\"lifetime_us\":{"), std::string::npos) << l;
        long n = std::atol(json_field(l, "goroutines").c_str());
        if (json_field(l, "span") == "since_attach") {
            final_total = n;
            EXPECT_NE(l.find("\"131072-262143\":20"), std::string::npos) << l;
        } else {
            interval_total += n;
        }
    }
    EXPECT_EQ(final_total, 20) << g.out();
    EXPECT_LE(interval_total, 20) << g.out();
}

TEST(Gr, BadInputIsRefusedWithOneLine) {
    for (const char *args :
         {"gr", "gr --format xml --path /bin/true", "gr seq --by pid --path /bin/true",
          "gr seq --interval x --path /bin/true", "lifetime --pid 999999999", "gr --path /bin/ls"}) {
        auto r = run(gmon_command(args));
        EXPECT_EQ(r.status, 2) << args << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << args << ": " << r.err;
    }
}

} // namespace
