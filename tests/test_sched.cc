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

// The count of one histogram slot ("65536-131071") in a record, 0 when absent.
long slot_count(const std::string &record, const std::string &slot) {
    std::smatch m;
    if (std::regex_search(record, m, std::regex("\"" + slot + "\":(\\d+)")))
        return std::stol(m[1]);
    return 0;
}

class SchedFixture : public ::testing::TestWithParam<std::string> {};

// block 10 100: ten goroutines each sleep, receive, select and wait for a mutex for 100 ms.
TEST_P(SchedFixture, KnownWaitsShowWithTheirReasonsAndDurations) {
    std::string bin = private_copy(fixture("lifecycle-" + GetParam()), "sched");
    background g(gmon_command("sched --format json --interval 0 --path " + bin));
    trace_workload(g, bin + " block 10 100");
    auto rec = final_records(g.out());
    for (const char *reason : {"sleep", "chan receive", "select", "semacquire"}) {
        ASSERT_TRUE(rec.count(reason)) << reason << "\n" << g.out();
        const std::string &r = rec[reason];
        EXPECT_GE(std::stol(json_field(r, "count")), 10) << r;
        EXPECT_GE(slot_count(r, "65536-131071"), 10) << "ten waits of 100 ms: " << r;
        double mean_ms = std::stod(json_field(r, "mean")) / 1e6;
        EXPECT_GT(mean_ms, 50) << r;
        EXPECT_LT(mean_ms, 200) << r;
    }
    ASSERT_TRUE(rec.count("")) << g.out();
    EXPECT_GE(std::stol(json_field(rec[""], "count")), 40)
        << "each new goroutine is runnable, then runs: " << rec[""];
    EXPECT_NE(g.err().find("losses: 0 map full, 0 failed reads"), std::string::npos) << g.err();
}

INSTANTIATE_TEST_SUITE_P(Go119, SchedFixture, ::testing::Values("plain", "stripped", "pie", "cgo"));

TEST(Sched, TableListsReasonsAndVerbosePrintsTheirHistograms) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "sched-table");
    background g(gmon_command("sched -v --interval 0 --path " + bin));
    trace_workload(g, bin + " block 5 100");
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

class SchedCorpus : public ::testing::TestWithParam<corpus_entry> {};

// Every reason must be one of the release's own strings, read from the binary: never a number.
TEST_P(SchedCorpus, RealStrippedBinariesShowNamedWaitReasons) {
    const corpus_entry &e = GetParam();
    std::string bin = private_copy(corpus(e.name), "sched-" + e.name);
    corpus_workload w(e, bin, "sched");
    background g(gmon_command("sched --format json --interval 0 --path " + bin));
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
