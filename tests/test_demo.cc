// `./gmon.sh demo` is the first thing a newcomer runs: every section it promises must be there, and every
// figure that the demo's requests and load make non-zero must be non-zero (a demo that attaches after its
// requests are over shows zeros, and passes for working).
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "test_support.h"

using namespace gmon_test;

namespace {

// The text of the section titled "==== TITLE..." up to the next title.
std::string section(const std::string &out, const std::string &title) {
    size_t at = out.find("\n==== " + title);
    if (at == std::string::npos)
        return "";
    size_t end = out.find("\n==== ", at + 1);
    return out.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The first number captured by pattern in text, or -1.
long long first_number(const std::string &text, const std::string &pattern) {
    std::smatch m;
    return std::regex_search(text, m, std::regex(pattern)) ? std::stoll(m[1]) : -1;
}

} // namespace

TEST(Demo, ShowsEveryViewWithNonZeroFigures) {
    std::string cmd = "env GMON=" + std::string(GMON_BINARY) + " FIXTURES=" + GMON_FIXTURES_DIR +
                      " GMON_DEMO_PORT=" + std::to_string(free_port()) +
                      " GMON_DEMO_METRICS=" + std::to_string(free_port()) + " " + GMON_SOURCE_DIR +
                      "/gmon.sh demo --no-build";
    auto r = run(cmd, 240);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    const std::string &out = r.out;

    std::string info = section(out, "gmon info");
    EXPECT_NE(info.find("go version:     go1.19"), std::string::npos) << out;

    std::string lifecycle = section(out, "gmon --pid");
    EXPECT_NE(lifecycle.find("msg=\"probes attached\""), std::string::npos) << out;
    EXPECT_NE(lifecycle.find("msg=\"goroutine is created\""), std::string::npos) << out;
    EXPECT_GE(first_number(lifecycle, R"(\.\.\. \((\d+) log lines in all\))"), 12) << lifecycle;

    std::string metrics = section(out, "curl");
    EXPECT_GE(first_number(metrics, R"(gmon_goroutines_created_total\{[^}]*main\.main\.func1"[^}]*\} (\d+))"),
              5)
        << metrics;

    std::string summary = section(out, "the monitor's summary");
    EXPECT_GE(first_number(summary, R"((\d+) goroutines created)"), 12) << summary;
    EXPECT_NE(summary.find("losses: 0 events lost"), std::string::npos) << summary;

    std::string snapshot = section(out, "gmon summary");
    EXPECT_GE(first_number(snapshot, R"(\ngoroutines: (\d+) )"), 5) << snapshot;
    EXPECT_NE(snapshot.find("main.main.func2.1"), std::string::npos) << "the leaked goroutine\n" << snapshot;

    std::string top = section(out, "gmon top");
    EXPECT_NE(top.find("COUNT  RUNNING"), std::string::npos) << top;
    EXPECT_NE(top.find("main.main.func2.1"), std::string::npos) << top;

    std::string gc = section(out, "gmon gc");
    EXPECT_GE(first_number(gc, R"(\ngc cycles: (\d+) )"), 1) << gc;
    EXPECT_TRUE(std::regex_search(gc, std::regex(R"(\n\d\d:\d\d:\d\d\.\d+ +\d+ +gc +1 )"))) << gc;

    std::string gm = section(out, "gmon gm");
    EXPECT_GE(first_number(gm, R"(: (\d+) allocations,)"), 1000) << gm;
    EXPECT_NE(gm.find("net/http."), std::string::npos) << gm;

    std::string sched_runtime = section(out, "gmon sched --pid");
    EXPECT_GE(first_number(sched_runtime, R"(the runtime's own sample: (\d+) timed)"), 10) << sched_runtime;
    EXPECT_NE(sched_runtime.find("latency (ns)"), std::string::npos) << sched_runtime;

    std::string sched = section(out, "gmon sched --blocked");
    EXPECT_GE(first_number(sched, R"((\d+) goroutines scheduled)"), 100) << sched;
    EXPECT_NE(sched.find("WAIT REASON"), std::string::npos) << sched;

    std::string heap = section(out, "gmon heap");
    EXPECT_GE(first_number(heap, R"(\npages: +(\d+) in use)"), 1) << heap;
    EXPECT_NE(heap.find("CLASS SIZE"), std::string::npos) << heap;

    std::string stacks = section(out, "gmon stacks");
    EXPECT_TRUE(std::regex_search(stacks, std::regex(R"(\n\d+ goroutines? \[)"))) << stacks;

    std::string exporter = section(out, "gmon exporter");
    EXPECT_GE(first_number(exporter, R"(\ngo_goroutines (\d+))"), 1) << exporter;
    EXPECT_GE(first_number(exporter, R"(\ngo_gc_duration_seconds_count (\d+))"), 1) << exporter;
    EXPECT_NE(exporter.find("\ngo_memstats_heap_alloc_bytes "), std::string::npos) << exporter;

    std::string cpu = section(out, "gmon pprof cpu");
    EXPECT_NE(cpu.find("gmon pprof cpu: "), std::string::npos) << cpu;
    EXPECT_NE(cpu.find("flat  flat%"), std::string::npos) << cpu;
    EXPECT_TRUE(std::regex_search(cpu, std::regex(R"(%\s+\S+\s+[\d.]+%\s+(runtime|syscall|net|internal/))")))
        << "the load's CPU in Go functions:\n"
        << cpu;

    std::string heap_profile = section(out, "gmon pprof heap");
    EXPECT_NE(heap_profile.find("gmon pprof heap: "), std::string::npos) << heap_profile;
    EXPECT_NE(heap_profile.find("flat  flat%"), std::string::npos) << heap_profile;

    std::string block = section(out, "gmon pprof block");
    EXPECT_NE(block.find("every blocking event recorded"), std::string::npos) << block;
    EXPECT_NE(block.find("flat  flat%"), std::string::npos) << block;
}
