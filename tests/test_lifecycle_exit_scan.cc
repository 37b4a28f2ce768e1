// gmon --exits poll: goroutine exits found by reading the tracked goroutines' runtime.g from the target's
// memory instead of a uprobe on runtime.goexit1. Real BPF and real Go processes; the truth is what the
// fixture prints, or what a second gmon with the exit probe reports of the very same goroutines.
#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <regex>
#include <vector>

#include "count_table.h"
#include "held_exits.h"
#include "lifecycle_exit_scan.h"
#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

const std::string SPAWN_SITE =
    "{stack_0=\"main.spawnWorkers\",stack_1=\"main.main\",stack_2=\"runtime.main\","
    "stack_3=\"runtime.goexit\",stack_4=\"none\"}";
const std::string LEAK_SITE =
    "{stack_0=\"main.leak\",stack_1=\"main.main\",stack_2=\"runtime.main\",stack_3=\"runtime.goexit\","
    "stack_4=\"none\"}";

// For each goroutine of process pid in gmon's JSON lines: the line numbers of its creation and of its exit
// (npos when absent).
std::map<long, std::pair<size_t, size_t>> line_numbers(const std::string &out, pid_t pid) {
    std::map<long, std::pair<size_t, size_t>> at;
    auto ls = lines(out);
    for (size_t i = 0; i < ls.size(); i++) {
        if (json_field(ls[i], "pid") != std::to_string(pid))
            continue;
        std::string msg = json_field(ls[i], "msg");
        long goid = std::atol(json_field(ls[i], "goroutine_id").c_str());
        auto it = at.emplace(goid, std::make_pair(std::string::npos, std::string::npos)).first;
        if (msg == "goroutine is created")
            it->second.first = i;
        else if (msg == "goroutine exited")
            it->second.second = i;
    }
    return at;
}

struct leak_run {
    std::unique_ptr<background> fixture, gmon;
    pid_t pid = 0;
    int port = 0;
};

// The fixture `on-signal-leak N M MS` (N workers of MS ms, then M goroutines blocked for good, alive until
// its stdin closes) traced by gmon --pid with extra_args; returns once the fixture has leaked.
void trace_leak(leak_run &r, const std::string &variant, int n, int m, int ms,
                const std::string &extra_args) {
    std::string bin =
        private_copy(fixture("lifecycle-" + variant), "exitscan" + variant + std::to_string(ms));
    ASSERT_FALSE(bin.empty());
    r.fixture = start_leaking_fixture(bin, n, m, ms, &r.pid);
    ASSERT_NE(r.pid, 0);
    r.port = free_port();
    r.gmon = std::make_unique<background>(gmon_command("--pid " + std::to_string(r.pid) +
                                                       " --format json --metrics " + std::to_string(r.port) +
                                                       " " + extra_args));
    if (!attached(*r.gmon))
        return;
    kill(r.pid, SIGUSR1);
    ASSERT_TRUE(r.fixture->wait_for("leaked", 30000)) << r.fixture->out();
}

// Scrapes until the spawn site's exits reach n (a scan every few ms finds them) or 5 s pass.
std::string scrape_until_exited(int port, int n) {
    return scrape_until(port, "gmon_goroutines_exited_total" + SPAWN_SITE, n);
}

// The n workers all created and exited, none live, and the m leaked goroutines live, as /metrics says.
void expect_every_worker_exited(const std::string &metrics, int n, int m) {
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + SPAWN_SITE), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_exited_total" + SPAWN_SITE), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_live" + SPAWN_SITE), 0) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_live" + LEAK_SITE), m) << metrics;
}

class ExitScanVariants : public ::testing::TestWithParam<const char *> {};

// 6,000 workers alive at once, with --max-goroutines 8192: 2,048 live slots, so most workers go to the live
// map behind them (its flag tells the scan to read it). Every exit is found, in the slots and in the map,
// and so are the leaked goroutines, still live; nothing is untracked.
TEST(ExitScan, GoroutinesBeyondTheSlotsAreFoundInTheMap) {
    const int n = 6000, m = 7, ms = 400;
    leak_run r;
    trace_leak(r, "plain", n, m, ms, "--exits poll --max-goroutines 8192");
    if (HasFatalFailure() || !r.gmon)
        return;
    std::string metrics = scrape_until_exited(r.port, n);
    expect_every_worker_exited(metrics, n, m);
    r.gmon->signal(SIGINT);
    ASSERT_EQ(r.gmon->wait(10), 0) << r.gmon->err();
    r.fixture->signal(SIGTERM);
    EXPECT_NE(r.gmon->err().find(" 0 untracked (live map full)"), std::string::npos) << r.gmon->err();
}

// Every worker's exit is found, with its lifetime within the scan interval, and one probe is attached.
TEST_P(ExitScanVariants, FindsEveryExitWithOneTrapPerGoroutine) {
    const int n = 40, m = 7, ms = 150, scan_ms = 5;
    leak_run r;
    trace_leak(r, GetParam(), n, m, ms, "--exits poll --exit-scan-ms " + std::to_string(scan_ms));
    if (HasFatalFailure() || !r.gmon)
        return;
    EXPECT_NE(r.gmon->err().find(", 1 uprobe,"), std::string::npos)
        << "--exits poll attaches the creation probe only\n"
        << r.gmon->err();
    std::string metrics = scrape_until_exited(r.port, n);
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + SPAWN_SITE), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_exited_total" + SPAWN_SITE), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutine_lifetime_seconds_count" + SPAWN_SITE), n) << metrics;
    std::string le1 = SPAWN_SITE.substr(0, SPAWN_SITE.size() - 1) + ",le=\"1\"}";
    std::string le01 = SPAWN_SITE.substr(0, SPAWN_SITE.size() - 1) + ",le=\"0.1\"}";
    EXPECT_EQ(sample_value(metrics, "gmon_goroutine_lifetime_seconds_bucket" + le1), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutine_lifetime_seconds_bucket" + le01), 0) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_live" + LEAK_SITE), m) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_exited_total" + LEAK_SITE), 0) << metrics;
    EXPECT_GT(sample_value(metrics, "gmon_exit_scans_total"), 0) << metrics;
    EXPECT_GE(sample_value(metrics, "gmon_exits_found_total"), n) << metrics;
    EXPECT_EQ(metrics.find("probe=\"runtime.goexit1\""), std::string::npos) << "no goexit1 probe to count";

    r.gmon->signal(SIGINT);
    ASSERT_EQ(r.gmon->wait(10), 0) << r.gmon->err();
    r.fixture->signal(SIGTERM);
    auto truth = fixture_goroutines(r.fixture->out());
    ASSERT_EQ(truth.size(), (size_t)n) << r.fixture->out();
    auto traced = traced_goroutines(r.gmon->out(), r.pid);
    auto at = line_numbers(r.gmon->out(), r.pid);
    for (const auto &[goid, want] : truth) {
        SCOPED_TRACE("goroutine " + std::to_string(goid));
        const traced_goroutine &got = traced[goid];
        ASSERT_TRUE(got.created && got.exited);
        EXPECT_EQ(got.parent, want.parent);
        EXPECT_EQ(got.stack.at(0), "main.spawnWorkers");
        // Placed in the middle of the window it ended in: early by at most half the time between two scans
        // (scan_ms, more when gmon's thread is held up on this busy machine; the worker sleeps ms, so it
        // lived at least that long), late only by as much.
        EXPECT_GE(got.lifetime_ms, want.lifetime_ms - 50);
        EXPECT_LT(got.lifetime_ms, want.lifetime_ms + 500);
        EXPECT_LT(at[goid].first, at[goid].second) << "an exit is logged after its creation";
    }
    std::string err = r.gmon->err();
    EXPECT_NE(err.find("exits found by reading the tracked goroutines: "), std::string::npos) << err;
    EXPECT_EQ(err.find("please report"), std::string::npos) << err;
    EXPECT_NE(err.find("losses: 0 events lost"), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ExitScanVariants, ::testing::Values("plain", "pie"));

// Goroutines that end at once leave their g to the next one (the runtime's free list): a g whose goid
// changed is an exit too. 3,000 goroutines of no lifetime, every exit counted, nothing else; each exit
// logged after its creation, though both happen between two scans.
TEST(ExitScan, CountsTheExitsOfGsTheRuntimeReused) {
    const int n = 3000, m = 3;
    leak_run r;
    trace_leak(r, "plain", n, m, 0, "--exits poll");
    if (HasFatalFailure() || !r.gmon)
        return;
    std::string metrics = scrape_until_exited(r.port, n);
    expect_every_worker_exited(metrics, n, m);
    r.gmon->signal(SIGINT);
    EXPECT_EQ(r.gmon->wait(10), 0) << r.gmon->err();
    r.fixture->signal(SIGTERM);
    auto truth = fixture_goroutines(r.fixture->out());
    ASSERT_EQ(truth.size(), (size_t)n);
    auto at = line_numbers(r.gmon->out(), r.pid);
    size_t ordered = 0;
    for (const auto &[goid, want] : truth) {
        auto it = at.find(goid);
        ASSERT_NE(it, at.end()) << goid;
        ASSERT_NE(it->second.second, std::string::npos) << "goroutine " << goid << ": no exit line";
        EXPECT_LT(it->second.first, it->second.second)
            << "goroutine " << goid << ": exit logged before creation";
        ordered += it->second.first < it->second.second;
    }
    EXPECT_EQ(ordered, (size_t)n);
}

TEST(ExitScan, RefusesBadOptions) {
    struct {
        const char *args, *message;
    } cases[] = {
        {"--exits sometimes", "--exits must be probe or poll, not \"sometimes\""},
        {"--exit-scan-ms 5", "--exit-scan-ms applies to --exits poll only"},
        {"--exits poll --exit-scan-ms 0", "--exit-scan-ms"},
        {"--exits poll --exit-scan-ms 1001", "--exit-scan-ms"},
        {"--exits probe --exit-scan-ms 20", "--exit-scan-ms applies to --exits poll only"},
    };
    // Every command that traces lifecycles takes the two options alike.
    for (const char *command : {"", "gr ", "gr seq ", "pprof creation ", "pprof live "}) {
        for (const auto &c : cases) {
            auto r = run(gmon_command(std::string(command) + "--pid 1 " + c.args));
            EXPECT_EQ(r.status, 2) << command << c.args << "\n" << r.err;
            EXPECT_NE(r.err.find(c.message), std::string::npos) << command << c.args << "\n" << r.err;
            EXPECT_EQ(lines(r.err).size(), 1u) << command << c.args << "\n" << r.err;
        }
    }
}

// The table the scan counts exits in: rows found again after growth, removal by key, nothing else lost.
TEST(ExitScan, CountTableKeepsEveryRowThroughGrowthAndRemoval) {
    struct count_table t;
    count_table_init(&t, 12, 2); // a key size that is not a multiple of 8
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t key[3] = {i % 7, i, 0};
        const uint64_t add[2] = {1, i};
        ASSERT_EQ(count_table_add(&t, key, add), 0);
        ASSERT_EQ(count_table_add(&t, key, add), 0);
    }
    EXPECT_EQ(t.used, 5000u);
    auto odd_process = [](const void *key, const void *, const void *) {
        return *static_cast<const uint32_t *>(key) % 2 == 1;
    };
    count_table_remove_if(&t, odd_process, nullptr);
    size_t kept = 0;
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t key[3] = {i % 7, i, 0};
        const uint64_t *row = count_table_find(&t, key);
        if (i % 7 % 2 == 1) {
            EXPECT_EQ(row, nullptr) << i;
            continue;
        }
        ASSERT_NE(row, nullptr) << i;
        EXPECT_EQ(row[0], 2u);
        EXPECT_EQ(row[1], 2u * i);
        kept++;
    }
    EXPECT_EQ(t.used, kept);
    count_table_free(&t);
}

// Exits found before their creation was told wait in held_exits: released by creation time, each once, in
// the order they were held, the younger ones kept in order for a later release.
TEST(ExitScan, HeldExitsAreReleasedByCreationTimeInOrder) {
    struct held_exits h = {};
    const uint64_t created[] = {50, 10, 70, 20, 90, 30, 60};
    for (size_t i = 0; i < 7000; i++) {
        struct lifecycle_event ev = {};
        ev.goid = i;
        ASSERT_TRUE(held_exits_add(&h, &ev, created[i % 7] + i / 7 * 100));
    }
    std::vector<uint64_t> told;
    auto tell = [](void *ctx, const struct lifecycle_event *ev) {
        static_cast<std::vector<uint64_t> *>(ctx)->push_back(ev->goid);
    };
    held_exits_release(&h, 0, tell, &told);
    EXPECT_TRUE(told.empty());
    held_exits_release(&h, 55, tell, &told);
    EXPECT_EQ(told, (std::vector<uint64_t>{0, 1, 3, 5})); // created 50, 10, 20, 30
    ASSERT_EQ(h.n, 6996u);
    EXPECT_EQ(h.items[0].ev.goid, 2u); // the first kept, then the others in order
    EXPECT_EQ(h.items[1].ev.goid, 4u);
    EXPECT_EQ(h.items[2].ev.goid, 6u);
    EXPECT_EQ(h.items[3].ev.goid, 7u);
    told.clear();
    held_exits_release(&h, INT64_MAX, tell, &told);
    ASSERT_EQ(told.size(), 6996u);
    EXPECT_EQ(h.n, 0u);
    for (size_t i = 1; i < told.size(); i++)
        EXPECT_LT(told[i - 1], told[i]) << i;
    held_exits_free(&h);
    EXPECT_EQ(h.items, nullptr);
}

// Which exits are held: those of goroutines created at or after the cutoff, the time before which every
// creation has been handed over: 1 ms before the last one handed over, or before the read that emptied the
// buffer, whichever is later. At the detach, every creation has been (INT64_MAX).
TEST(ExitScan, ExitsAreHeldOnlyWhileTheirCreationMayBeInTheBuffer) {
    const int64_t ms = 1000000;
    EXPECT_EQ(held_exits_cutoff(50 * ms, 80 * ms, false), 49 * ms) << "a read that stopped short";
    EXPECT_EQ(held_exits_cutoff(50 * ms, 80 * ms, true), 79 * ms) << "a read that emptied the buffer";
    EXPECT_EQ(held_exits_cutoff(90 * ms, 80 * ms, true), 89 * ms)
        << "a creation handed over after the read began";
    EXPECT_EQ(held_exits_cutoff(0, 80 * ms, false), -ms) << "nothing handed over yet: hold every exit";
    EXPECT_GT(held_exits_cutoff(INT64_MAX, 80 * ms, false), INT64_MAX - 2 * ms);

    struct held_exits h = {};
    struct lifecycle_event ev = {};
    int64_t cutoff = 49 * ms;
    EXPECT_FALSE(held_exits_hold(&h, cutoff, &ev, (uint64_t)(cutoff - 1))) << "created before: told now";
    EXPECT_TRUE(held_exits_hold(&h, cutoff, &ev, (uint64_t)cutoff)) << "created at the cutoff: held";
    EXPECT_TRUE(held_exits_hold(&h, cutoff, &ev, (uint64_t)(cutoff + 1)));
    EXPECT_EQ(h.n, 2u);
    size_t told = 0;
    auto count = [](void *ctx, const struct lifecycle_event *) { ++*static_cast<size_t *>(ctx); };
    held_exits_release(&h, cutoff, count, &told);
    EXPECT_EQ(told, 0u) << "released only once created before the cutoff";
    held_exits_release(&h, held_exits_cutoff(INT64_MAX, 0, true), count, &told);
    EXPECT_EQ(told, 2u) << "the detach releases every one";
    held_exits_free(&h);
}

// The order a scan tells its exits in: by process, then by creation, whatever the order the slots and the map
// gave. A scan's goroutines are usually one run or two (the slots' goid order from some slot on), merged in
// one pass; anything else is sorted. Each goroutine comes out once.
TEST(ExitScan, ScanTellsExitsByProcessThenCreation) {
    struct lifecycle_exit_scan s = {};
    const size_t n = 1000;
    std::vector<goroutine_key> keys(n);
    std::vector<goroutine_info> infos(n);
    std::vector<uint32_t> order(n), scratch(n);
    s.keys = keys.data();
    s.infos = infos.data();
    s.order = order.data();
    s.ended = scratch.data();
    auto check = [&](const char *what) {
        SCOPED_TRACE(what);
        std::vector<bool> seen(n);
        for (size_t i = 0; i < n; i++) {
            ASSERT_LT(order[i], n);
            EXPECT_FALSE(seen[order[i]]) << "twice: " << order[i];
            seen[order[i]] = true;
            if (i == 0)
                continue;
            const auto &a = keys[order[i - 1]], &b = keys[order[i]];
            bool sorted = a.tgid < b.tgid ||
                          (a.tgid == b.tgid && infos[order[i - 1]].created_ns <= infos[order[i]].created_ns);
            EXPECT_TRUE(sorted) << "at " << i;
        }
    };
    for (size_t i = 0; i < n; i++) {
        keys[i].tgid = 7;
        infos[i].created_ns = 1000 + (i + 600) % n; // a rotation: the slots read from slot 0
        order[i] = (uint32_t)i;
    }
    lifecycle_exit_scan_sort(&s, n);
    check("two runs");
    EXPECT_EQ(infos[order[0]].created_ns, 1000u);
    lifecycle_exit_scan_sort(&s, n);
    check("sorted already");
    for (size_t i = 0; i < n; i++) {
        keys[i].tgid = 7 + (uint32_t)(i * 7919 % 3);
        infos[i].created_ns = i * 104729 % 997; // repeats: equal times of one process
        order[i] = (uint32_t)i;
    }
    lifecycle_exit_scan_sort(&s, n);
    check("three processes, any order");
}

} // namespace
