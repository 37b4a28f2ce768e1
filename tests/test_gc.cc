// gmon gc: GC cycles and stop-the-world pauses of real Go programs (the Go 1.19 fixture in every variant, and
// esbuild from go1.17 to go1.26 in watch mode, where it keeps its garbage collector on).
#include <csignal>
#include <regex>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

std::vector<std::string> json_lines_with_msg(const std::string &out, const std::string &msg) {
    std::vector<std::string> got;
    for (const auto &l : lines(out))
        if (json_field(l, "msg") == msg)
            got.push_back(l);
    return got;
}

long long number(const std::string &line, const char *key) {
    std::string v = json_field(line, key);
    return v.empty() ? -1 : std::stoll(v);
}

class GcFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(GcFixture, ForcedCyclesAndReadMemStatsPausesAreReportedExactly) {
    std::string bin = private_copy(fixture("lifecycle-" + GetParam()), "gc");
    background g(gmon_command("gc --path " + bin + " --format json"));
    trace_workload(g, "env GOGC=off " + bin + " gc 5 7");

    auto cycles = json_lines_with_msg(g.out(), "gc cycle");
    ASSERT_EQ(cycles.size(), 5u) << g.out() << g.err();
    for (size_t i = 0; i < cycles.size(); i++) {
        const auto &c = cycles[i];
        EXPECT_EQ(number(c, "gc"), (long long)i + 1) << c;
        EXPECT_EQ(json_field(c, "trigger"), "forced") << c;
        EXPECT_EQ(json_field(c, "caller"), "runtime.GC") << c;
        long long sweep = number(c, "sweep_termination"), mark = number(c, "mark"),
                  markterm = number(c, "mark_termination");
        EXPECT_GT(sweep, 0) << c;
        EXPECT_GT(mark, 0) << c;
        EXPECT_GT(markterm, 0) << c;
        EXPECT_LT(sweep + mark + markterm, 1000000000LL) << c;
        EXPECT_EQ(number(c, "stw"), sweep + markterm) << c;
        // The live heap is read from runtime.gcController as summary and heap read it, stripped binaries
        // included (found from code); GOGC=off leaves no goal.
        EXPECT_GT(number(c, "heap_live"), 0) << c;
        EXPECT_LT(number(c, "heap_live"), 64 << 20) << c;
        EXPECT_EQ(number(c, "heap_goal"), -1) << "GOGC=off: " << c;
    }
    auto pauses = json_lines_with_msg(g.out(), "stop the world");
    size_t read_mem_stats = 0;
    for (const auto &p : pauses) {
        if (json_field(p, "caller") != "runtime.ReadMemStats")
            continue;
        read_mem_stats++;
        EXPECT_EQ(json_field(p, "reason"), "stop the world") << "Go 1.19 passes no stwReason";
        EXPECT_EQ(number(p, "goroutine_id"), 1) << p;
        EXPECT_GT(number(p, "pause"), 0) << p;
        EXPECT_LE(number(p, "stopping"), number(p, "pause")) << p;
    }
    EXPECT_EQ(read_mem_stats, 7u) << g.out();
    EXPECT_NE(g.err().find("gc cycles: 5 (heap 0, periodic 0, forced 5, unknown trigger 0)"),
              std::string::npos)
        << g.err();
    EXPECT_NE(g.err().find("losses: 0 events lost, 0 events out of order"), std::string::npos) << g.err();
    // Stripped too: gcController's fields from gmon's table, the global found from code.
    EXPECT_EQ(g.err().find("not shown"), std::string::npos) << g.err();
}

INSTANTIATE_TEST_SUITE_P(Go119, GcFixture, ::testing::Values("plain", "stripped", "pie", "cgo"));

// With GOGC=100 the goal is at least the runtime's 4 MiB minimum and more than the live heap.
TEST(Gc, HeapGoalFollowsGogc) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gc-goal");
    background g(gmon_command("gc --path " + bin + " --format json"));
    trace_workload(g, "env GOGC=100 " + bin + " gc 3 0");
    auto cycles = json_lines_with_msg(g.out(), "gc cycle");
    ASSERT_GE(cycles.size(), 3u) << g.out();
    for (const auto &c : cycles) {
        EXPECT_GE(number(c, "heap_goal"), 4 << 20) << c;
        EXPECT_GT(number(c, "heap_goal"), number(c, "heap_live")) << c;
        EXPECT_GT(number(c, "heap_live"), 0) << c;
    }
}

TEST(Gc, TableHasOneRowPerCycleAndPause) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gc-table");
    background g(gmon_command("gc --path " + bin));
    trace_workload(g, "env GOGC=off " + bin + " gc 3 2");
    auto rows = lines(g.out());
    ASSERT_FALSE(rows.empty());
    EXPECT_NE(rows[0].find("SWEEP-TERM"), std::string::npos) << rows[0];
    size_t gc_rows = 0, stw_rows = 0;
    for (const auto &r : rows) {
        gc_rows +=
            std::regex_search(r, std::regex(R"( gc +\d+ +forced .* [0-9.]+KiB +off +\(runtime\.GC\)$)"));
        stw_rows +=
            r.find(" stw ") != std::string::npos && r.find("(runtime.ReadMemStats)") != std::string::npos;
    }
    EXPECT_EQ(gc_rows, 3u) << g.out();
    EXPECT_EQ(stw_rows, 2u) << g.out();
}

TEST(Gc, BadInputIsRefusedWithOneLine) {
    for (const char *args : {"gc", "gc --format xml --path /bin/true", "gc --pid 999999999",
                             "gc --path /bin/ls", "gc --duration 0 --path /bin/true"}) {
        auto r = run(gmon_command(args));
        EXPECT_EQ(r.status, 2) << args << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << args << ": " << r.err;
    }
}

class GcCorpus : public ::testing::TestWithParam<corpus_entry> {};

TEST_P(GcCorpus, CyclesOfRealStrippedBinariesHaveSaneDurations) {
    const corpus_entry &e = GetParam();
    std::string bin = private_copy(corpus(e.name), "gc-" + e.name);
    corpus_workload w(e, bin, "gc");
    background g(gmon_command("gc --path " + bin + " --format json"));
    trace_workload(g, w.command);
    EXPECT_EQ(read_file(w.traced), read_file(w.reference)) << "esbuild's output changed";

    auto cycles = json_lines_with_msg(g.out(), "gc cycle");
    EXPECT_GT(cycles.size(), 0u) << e.name << "\n" << g.err();
    size_t unread = 0; /* cycles without a live heap: only at the end, once the workload has exited */
    for (size_t i = 0; i < cycles.size(); i++) {
        const auto &c = cycles[i];
        EXPECT_EQ(number(c, "gc"), (long long)i + 1) << c;
        for (const char *phase : {"sweep_termination", "mark", "mark_termination"}) {
            EXPECT_GT(number(c, phase), 0) << phase << ": " << c;
            EXPECT_LT(number(c, phase), 10000000000LL) << phase << ": " << c;
        }
        EXPECT_NE(json_field(c, "trigger"), "forced") << c;
        // The live heap where summary and heap read it: from gmon's layout table and runtime.gcController
        // found from code, told among the bases the code could mean by its contents (go1.17's code does
        // not pin it down, go1.18's points at another global first). The goal the runtime computes from it.
        if (number(c, "heap_live") > 0) {
            EXPECT_EQ(unread, 0u) << "a cycle read after one that was not: " << c;
            EXPECT_GE(number(c, "heap_goal"), number(c, "heap_live")) << c;
        } else {
            unread++;
        }
    }
    {
        EXPECT_LT(unread, cycles.size()) << g.err();
        if (unread) {
            EXPECT_NE(g.err().find("live heap not read for " + std::to_string(unread) + " cycles (" +
                                   std::to_string(unread) + " of them: the process was exiting or gone)"),
                      std::string::npos)
                << g.err();
        }
    }
    EXPECT_EQ(g.err().find("not shown"), std::string::npos) << g.err();
    EXPECT_NE(g.err().find("losses: 0 events lost, 0 events out of order"), std::string::npos) << g.err();
}

INSTANTIATE_TEST_SUITE_P(Npm, GcCorpus, ::testing::ValuesIn(corpus_manifest()), corpus_test_name);

} // namespace
