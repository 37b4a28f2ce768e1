// gmon gr (goroutine events) and gmon gr seq / lifetime (lifetime histograms) on the Go 1.19 fixture.
#include <csignal>
#include <regex>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

TEST(Gr, EveryWorkerIsCreatedAndExitsWithItsParentFunctionAndLifetime) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gr");
    background g(gmon_command("gr --path " + bin + " --format json"));
    std::string truth;
    trace_workload(g, bin + " spawn 6 40", &truth);
    auto workers = fixture_goroutines(truth);
    ASSERT_EQ(workers.size(), 6u) << truth;
    std::map<long, std::string> created, exited;
    for (const auto &l : lines(g.out())) {
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
            EXPECT_GE(ms, 40) << l;
            EXPECT_LT(ms, 5000) << l;
        }
    }
    EXPECT_EQ(created.size(), 6u) << g.out();
    EXPECT_EQ(exited.size(), 6u) << g.out();
    EXPECT_NE(g.err().find("losses: 0 events lost"), std::string::npos) << g.err();
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
    trace_workload(g, bin + " block 10 100");
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
        EXPECT_EQ(rows.at("65536 -> 131071"), 10) << "100 ms is in the 65.5-131 ms row\n" << g.out();
    }
    EXPECT_EQ(sites, 4u) << "one histogram per go statement\n" << g.out();
}

TEST(GrSeq, LifetimeAliasPrintsJsonPerInterval) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "lifetime");
    background g(gmon_command("lifetime --format json --interval 1 --path " + bin));
    trace_workload(g, bin + " block 5 100");
    long interval_total = 0, final_total = -1;
    for (const auto &l : lines(g.out())) {
        ASSERT_EQ(json_field(l, "msg"), "goroutine lifetimes") << l;
        EXPECT_NE(l.find("\"lifetime_us\":{"), std::string::npos) << l;
        long n = std::atol(json_field(l, "goroutines").c_str());
        if (json_field(l, "span") == "since_attach") {
            final_total = n;
            EXPECT_NE(l.find("\"65536-131071\":20"), std::string::npos) << l;
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
