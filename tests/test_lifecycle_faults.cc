// Faults around a running lifecycle monitor: stdout that stops reading, a live map too small for the target,
// a target killed or replaced by exec while traced. gmon must count what it loses, keep its metrics
// consistent, keep its memory bounded, and never report a wrong lifetime.
#include <csignal>
#include <iostream>
#include <regex>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

const std::string STORM_SITE =
    "{stack_0=\"main.storm\",stack_1=\"main.main\",stack_2=\"runtime.main\",stack_3=\"runtime.goexit\","
    "stack_4=\"none\"}";

long rss_kb(pid_t pid) {
    for (const auto &l : lines(read_file("/proc/" + std::to_string(pid) + "/status")))
        if (l.rfind("VmRSS:", 0) == 0)
            return std::atol(l.c_str() + 6);
    return -1;
}

// A scrape that gives up after a few seconds: a stalled server must fail the test, not hang it.
run_result scrape_within(int port, int seconds) {
    return run("curl -sf --max-time " + std::to_string(seconds) +
               " http://127.0.0.1:" + std::to_string(port) + "/metrics");
}

// A FIFO for gmon's stdout that the test reads only when it wants to, shrunk to one page so that a few lines
// fill it.
struct stalled_stdout {
    std::string path;
    explicit stalled_stdout(const std::string &tag)
        : path(scratch_dir() + "/" + tag + "-" + std::to_string(getpid()) + ".fifo") {
        unlink(path.c_str());
        EXPECT_EQ(mkfifo(path.c_str(), 0600), 0);
    }
    ~stalled_stdout() {
        unlink(path.c_str());
    }
    // Returns once gmon's shell has opened the writing end.
    int open_reader() const {
        int fd = open(path.c_str(), O_RDONLY);
        if (fd >= 0)
            fcntl(fd, F_SETPIPE_SZ, 4096);
        return fd;
    }
};

// Reads a pipe to its end on a thread, so that the writer can finish.
struct pipe_drain {
    int fd;
    std::string data;
    std::thread t;
    explicit pipe_drain(int fd_) : fd(fd_) {
        t = std::thread([this] {
            char buf[65536];
            ssize_t n;
            while ((n = read(fd, buf, sizeof(buf))) > 0)
                data.append(buf, (size_t)n);
        });
    }
    ~pipe_drain() {
        if (t.joinable())
            t.join();
        close(fd);
    }
};

// gmon's stdout is a pipe nobody reads during a storm of 200,000 goroutines: the event buffer overflows.
// Events are lost and counted, /metrics still answers at once with exact counts (they come from BPF maps, not
// from the events), memory stays flat, and once the pipe is read again gmon stops cleanly with whole lines.
TEST(LifecycleFaults, StdoutThatStopsReadingLosesLogLinesNotMetrics) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "slowpipe");
    int port = free_port();
    stalled_stdout pipe("slowpipe");
    background g(gmon_command("--path " + bin + " --format json --metrics " + std::to_string(port)) + " >" +
                 pipe.path);
    int reader = pipe.open_reader();
    ASSERT_GE(reader, 0);
    if (!attached(g))
        return;
    long rss_before = rss_kb(g.pid());

    const int n = 200000;
    background target(bin + " storm " + std::to_string(n));
    int scrapes = 0;
    while (target.running()) {
        auto r = scrape_within(port, 5);
        ASSERT_EQ(r.status, 0) << "/metrics must answer while stdout is blocked";
        double created = sample_value(r.out, "gmon_goroutines_created_total" + STORM_SITE);
        double exited = sample_value(r.out, "gmon_goroutines_exited_total" + STORM_SITE);
        if (created >= 0) {
            EXPECT_GE(created, exited) << r.out;
        }
        scrapes++;
        usleep(200 * 1000);
    }
    ASSERT_EQ(target.wait(5), 0) << target.err();
    EXPECT_GT(scrapes, 1);
    std::string metrics;
    for (int tries = 0; tries < 50; tries++) { // the last exits may still be on their way into the maps
        metrics = scrape_within(port, 5).out;
        if (sample_value(metrics, "gmon_goroutines_exited_total" + STORM_SITE) >= n)
            break;
        usleep(100 * 1000);
    }
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + STORM_SITE), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_exited_total" + STORM_SITE), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutine_lifetime_seconds_count" + STORM_SITE), n);
    double lost = sample_value(metrics, "gmon_events_lost_total");
    EXPECT_GT(lost, 0) << "a pipe nobody reads must overflow the event buffer\n" << metrics;
    long rss_after = rss_kb(g.pid());
    EXPECT_LT(rss_after, rss_before + 16 * 1024) << "RSS grew from " << rss_before << " kB";

    pipe_drain drain(reader);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(20), 0) << g.err();
    drain.t.join();
    size_t events = 0;
    for (const auto &l : lines(drain.data)) {
        ASSERT_TRUE(l.size() > 2 && l.front() == '{' && l.back() == '}') << "a broken line: " << l;
        events +=
            json_field(l, "msg") == "goroutine is created" || json_field(l, "msg") == "goroutine exited";
    }
    EXPECT_LT(events, 2.0 * n) << "lines were lost, so fewer than two per goroutine can be out";
    EXPECT_NE(g.err().find("events lost"), std::string::npos) << g.err();
}

// A stop request while stdout is full and nobody reads: gmon gives up on stdout after a second, says so, and
// stops with its summary instead of waiting forever.
TEST(LifecycleFaults, StopsWhenAskedEvenIfStdoutNeverDrains) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "stuckpipe");
    stalled_stdout pipe("stuckpipe");
    background g(gmon_command("--path " + bin + " --format json --metrics 0") + " >" + pipe.path);
    int reader = pipe.open_reader();
    ASSERT_GE(reader, 0);
    if (!attached(g))
        return;
    ASSERT_EQ(run(bin + " storm 2000").status, 0);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
    EXPECT_NE(g.err().find("gmon: stdout did not drain after the stop request"), std::string::npos)
        << g.err();
    EXPECT_NE(g.err().find("goroutines created, 2000 exited"), std::string::npos)
        << "the summary is complete\n"
        << g.err();
    // The runtime's own goroutines (created at start, never exited) ended with the process: said, not lost.
    std::smatch m;
    std::string err = g.err();
    ASSERT_TRUE(std::regex_search(
        err, m,
        std::regex(
            R"(: (\d+) goroutines created, (\d+) exited, (\d+) still live, (\d+) ended with their process)")))
        << g.err();
    EXPECT_EQ(std::stoll(m[1]), std::stoll(m[2]) + std::stoll(m[3]) + std::stoll(m[4])) << g.err();
    close(reader);
}

// The same when the trace ends by itself (--duration) rather than by a signal: the end of the loop counts as
// a stop for stdout too.
TEST(LifecycleFaults, DurationEndsTheTraceEvenIfStdoutNeverDrains) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "stuckduration");
    stalled_stdout pipe("stuckduration");
    background g(gmon_command("--path " + bin + " --format json --metrics 0 --duration 4") + " >" +
                 pipe.path);
    int reader = pipe.open_reader();
    ASSERT_GE(reader, 0);
    if (!attached(g))
        return;
    ASSERT_EQ(run(bin + " storm 2000").status, 0);
    EXPECT_EQ(g.wait(15), 0) << g.err();
    EXPECT_NE(g.err().find("gmon: stdout did not drain after the stop request"), std::string::npos)
        << g.err();
    close(reader);
}

} // namespace

namespace {

const std::string SPAWN_SITE =
    "{stack_0=\"main.spawnWorkers\",stack_1=\"main.main\",stack_2=\"runtime.main\","
    "stack_3=\"runtime.goexit\",stack_4=\"none\"}";

// A live map of 1,024 entries (the least --max-goroutines takes) for 1,500 goroutines alive at once: most
// creations do not fit. They are counted, by site and in total, their log lines say so, their exits carry no
// lifetime, and the lifetimes that are reported are right. The live gauge leaves the untracked out and ends
// at 0.
TEST(LifecycleFaults, FullLiveMapGivesUnknownLifetimesNeverWrongOnes) {
    const int n = 1500, ms = 300, room = 1024;
    std::string bin = private_copy(fixture("lifecycle-plain"), "mapfull");
    int port = free_port();
    background g(gmon_command("--path " + bin + " --format json --max-goroutines 1024 --metrics " +
                              std::to_string(port)));
    if (!attached(g))
        return;
    background target(bin + " spawn " + std::to_string(n) + " " + std::to_string(ms));
    ASSERT_EQ(target.wait(60), 0) << target.err();
    auto truth = fixture_goroutines(target.out());
    ASSERT_EQ(truth.size(), (size_t)n);
    std::string metrics;
    for (int tries = 0; tries < 50; tries++) {
        metrics = scrape(port);
        double exited = sample_value(metrics, "gmon_goroutines_exited_total" + SPAWN_SITE);
        double untracked = sample_value(metrics, "gmon_goroutines_untracked_total" + SPAWN_SITE);
        if (exited >= 0 && exited + std::max(untracked, 0.0) >= n)
            break;
        usleep(100 * 1000);
    }
    double untracked = sample_value(metrics, "gmon_goroutines_untracked_total" + SPAWN_SITE);
    double exited = sample_value(metrics, "gmon_goroutines_exited_total" + SPAWN_SITE);
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + SPAWN_SITE), n) << metrics;
    EXPECT_GE(untracked, n - room) << metrics;
    EXPECT_EQ(exited + untracked, n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutine_lifetime_seconds_count" + SPAWN_SITE), exited);
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_live" + SPAWN_SITE), 0) << metrics;
    EXPECT_GE(sample_value(metrics, "gmon_map_full_total{map=\"live\"}"), untracked);
    EXPECT_GE(sample_value(metrics, "gmon_goroutine_exits_untracked_total"), untracked);

    g.signal(SIGINT);
    ASSERT_EQ(g.wait(10), 0) << g.err();
    std::set<long> flagged_created, unknown_exits, timed_exits;
    for (const auto &l : lines(g.out())) {
        if (json_field(l, "pid") != std::to_string(target.pid()))
            continue;
        long goid = std::atol(json_field(l, "goroutine_id").c_str());
        if (!truth.count(goid))
            continue;
        std::string msg = json_field(l, "msg");
        if (msg == "goroutine is created" && !json_field(l, "untracked").empty())
            flagged_created.insert(goid);
        if (msg != "goroutine exited")
            continue;
        SCOPED_TRACE(l);
        if (json_field(l, "lifetime").empty()) {
            EXPECT_EQ(json_field(l, "created").rfind("unknown", 0), 0u);
            EXPECT_EQ(json_field(l, "function").rfind("main.spawnWorkers.func", 0), 0u);
            unknown_exits.insert(goid);
            continue;
        }
        timed_exits.insert(goid);
        double lifetime_ms = std::atof(json_field(l, "lifetime").c_str()) / 1e6;
        EXPECT_GE(lifetime_ms, ms);
        EXPECT_LT(lifetime_ms, ms + 500);
    }
    EXPECT_EQ(flagged_created.size(), (size_t)untracked) << "each untracked creation says so";
    EXPECT_EQ(unknown_exits, flagged_created) << "exactly the untracked exit without a lifetime";
    EXPECT_EQ(timed_exits.size() + unknown_exits.size(), (size_t)n);
    EXPECT_NE(g.out().find("\"level\":\"WARN\",\"msg\":\"live-goroutine map full"), std::string::npos);
}

} // namespace

namespace {

// Waits until the sample reaches want (the maps are read at scrape time, events take a moment).
double await_sample(int port, const std::string &name, double want, std::string *metrics) {
    double v = -1;
    for (int tries = 0; tries < 100 && v != want; tries++) {
        *metrics = scrape(port);
        v = sample_value(*metrics, name);
        if (v != want)
            usleep(100 * 1000);
    }
    return v;
}

// With --path, a process SIGKILLed with 50 goroutines alive is retired: its goroutines leave the live gauge
// and keep their place in the created counter. The next process of the same binary is traced from scratch.
TEST(LifecycleFaults, KilledProcessIsRetiredAndTheNextOneTraced) {
    std::string bin = private_copy(fixture("lifecycle-pie"), "killed");
    int port = free_port();
    background g(gmon_command("--path " + bin + " --format json --metrics " + std::to_string(port)));
    if (!attached(g))
        return;
    background first(bin + " on-signal 50 60000");
    ASSERT_TRUE(first.wait_for("ready", 10000));
    first.signal(SIGUSR1);
    std::string metrics;
    ASSERT_EQ(await_sample(port, "gmon_goroutines_live" + SPAWN_SITE, 50, &metrics), 50) << metrics;
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(5), 128 + SIGKILL);
    std::string exited_line = "\"msg\":\"process exited\",\"pid\":" + std::to_string(first.pid());
    EXPECT_TRUE(g.wait_for(exited_line, 5000)) << g.out().substr(0, 3000);
    EXPECT_EQ(await_sample(port, "gmon_goroutines_live" + SPAWN_SITE, 0, &metrics), 0) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + SPAWN_SITE), 50);
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_exited_total" + SPAWN_SITE), 0);

    background second(bin + " spawn 10 50");
    ASSERT_EQ(second.wait(30), 0);
    EXPECT_EQ(await_sample(port, "gmon_goroutines_exited_total" + SPAWN_SITE, 10, &metrics), 10) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + SPAWN_SITE), 60);
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_live" + SPAWN_SITE), 0);
    g.signal(SIGINT);
    ASSERT_EQ(g.wait(10), 0) << g.err();
    auto truth = fixture_goroutines(second.out());
    auto traced = traced_goroutines(g.out(), second.pid());
    ASSERT_EQ(truth.size(), 10u);
    for (const auto &[goid, want] : truth) {
        EXPECT_TRUE(traced[goid].created && traced[goid].exited) << goid;
        EXPECT_GE(traced[goid].lifetime_ms, 50);
        EXPECT_EQ(traced[goid].stack.at(0), "main.spawnWorkers");
    }
}

// With --pid, a target SIGKILLed while traced ends gmon: exit status 0, the exit logged, nothing attached.
TEST(LifecycleFaults, KilledTargetByPidEndsTheTrace) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "killedpid");
    background target(bin + " on-signal 20 60000");
    ASSERT_TRUE(target.wait_for("ready", 10000));
    background g(gmon_command("--pid " + std::to_string(target.pid()) + " --format json --metrics 0"));
    if (!attached(g))
        return;
    target.signal(SIGUSR1);
    // All 20 creations seen before the kill (the first one alone left the rest racing the SIGKILL).
    ASSERT_TRUE(g.wait_for_times("\"goroutine is created\"", 20, 10000)) << g.out();
    target.signal(SIGKILL);
    EXPECT_EQ(target.wait(5), 128 + SIGKILL);
    EXPECT_EQ(g.wait(5), 0) << g.err();
    EXPECT_NE(g.out().find("\"msg\":\"target process exited\""), std::string::npos) << g.out();
    EXPECT_NE(g.err().find("20 goroutines created, 0 exited"), std::string::npos) << g.err();
    EXPECT_EQ(uprobe_events().find(bin), std::string::npos);
}

} // namespace

namespace {

// The long-running monitor over a one-minute storm: a new process every second or so (each one retired when
// it ends), about a million goroutines, the GC collector on and /metrics scraped every second. In the
// release build its RSS must be flat over the second half; in the ASan build LeakSanitizer checks at exit
// (abort_on_error: a leak fails the exit status), and ASan's quarantine makes RSS meaningless.
TEST(LifecycleFaults, OneMinuteStormLeavesMemoryFlat) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "leakstorm");
    int port = free_port();
    background g(
        gmon_command("--path " + bin + " --level WARN --collect gc --metrics " + std::to_string(port)));
    if (!attached(g))
        return;
    background storm("sh -c 'end=$(($(date +%s) + 60)); n=0; while [ $(date +%s) -lt $end ]; do " + bin +
                     " storm 20000 >/dev/null || exit 1; n=$((n + 1)); done; echo runs=$n'");
    std::vector<long> rss;
    int failed_scrapes = 0;
    for (int s = 0; s < 60 && storm.running(); s++) {
        failed_scrapes += scrape_within(port, 5).status != 0;
        rss.push_back(rss_kb(g.pid()));
        sleep(1);
    }
    ASSERT_EQ(storm.wait(30), 0) << storm.err();
    int runs = 0;
    sscanf(storm.out().c_str(), "runs=%d", &runs);
    EXPECT_GT(runs, 5) << storm.out();
    EXPECT_EQ(failed_scrapes, 0);
    std::string metrics = scrape(port);
    double created = sample_value(metrics, "gmon_goroutines_created_total" + STORM_SITE);
    EXPECT_EQ(created, 20000.0 * runs) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_live" + STORM_SITE), 0);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(30), 0) << "a leak report fails the exit status in the ASan build\n" << g.err();
    EXPECT_EQ(g.err().find("LeakSanitizer"), std::string::npos) << g.err();
    ASSERT_GE(rss.size(), 50u);
    long half = rss[rss.size() / 2], last = rss.back();
    std::cout << "gmon RSS over the storm: " << rss[5] << " kB at 5 s, " << half << " kB halfway, " << last
              << " kB at the end; " << runs << " processes, " << created << " goroutines\n";
#ifndef __SANITIZE_ADDRESS__
    // Keeping the sites of ended processes grew it by ~630 kB here (30 kB a process); now it does not move.
    EXPECT_LT(last - half, 256) << "RSS grew in the second half of the storm";
#endif
}

} // namespace

namespace {

const std::string HOLDER_SITE =
    "{stack_0=\"main.startHolders\",stack_1=\"main.init.0\",stack_2=\"runtime.doInit\","
    "stack_3=\"runtime.main\",stack_4=\"runtime.goexit\"}";

// A PIE target execs its own binary while traced by PID, with 30 goroutines alive that gmon saw created. The
// exec ends them: they leave the live gauge, none gets a lifetime, and the goroutine IDs the new program
// reuses from 1 never meet their stale entries. The new program is traced on, symbolized at its new load
// address.
TEST(LifecycleFaults, ExecOfTheSameBinaryStartsAFreshTrace) {
    std::string bin = private_copy(fixture("lifecycle-pie"), "execself");
    background target(bin + " exec-self 30");
    ASSERT_TRUE(target.wait_for("ready", 10000));
    int port = free_port();
    background g(gmon_command("--pid " + std::to_string(target.pid()) + " --format json --metrics " +
                              std::to_string(port)));
    if (!attached(g))
        return;
    target.signal(SIGUSR1);
    ASSERT_TRUE(target.wait_for("holding", 10000));
    std::string metrics;
    ASSERT_EQ(await_sample(port, "gmon_goroutines_live" + HOLDER_SITE, 30, &metrics), 30) << metrics;

    target.signal(SIGUSR2); // exec: the same binary, waiting for SIGUSR1 in on-signal mode
    ASSERT_TRUE(g.wait_for("\"msg\":\"process replaced its program (exec of the same binary)\"", 5000))
        << g.out().substr(0, 4000);
    ASSERT_TRUE(target.wait_for("ready", 10000));
    EXPECT_EQ(await_sample(port, "gmon_goroutines_live" + HOLDER_SITE, 0, &metrics), 0) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + HOLDER_SITE), 30);
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_exited_total" + HOLDER_SITE), 0);
    EXPECT_EQ(sample_value(metrics, "gmon_goroutine_oldest_live_age_seconds" + HOLDER_SITE), -1)
        << "no stale goroutine may look like a leak\n"
        << metrics;

    target.signal(SIGUSR1);
    ASSERT_EQ(target.wait(30), 0) << target.err();
    EXPECT_EQ(g.wait(10), 0) << g.err();
    auto truth = fixture_goroutines(target.out());
    std::string out = g.out(); // the new program's lines only: goroutine IDs start from 1 again
    auto traced = traced_goroutines(out.substr(out.find("(exec of the same binary)")), target.pid());
    ASSERT_EQ(truth.size(), 10u) << target.out();
    for (const auto &[goid, want] : truth) {
        SCOPED_TRACE("goroutine " + std::to_string(goid));
        const traced_goroutine &got = traced[goid];
        ASSERT_TRUE(got.created && got.exited);
        EXPECT_EQ(got.stack.at(0), "main.spawnWorkers") << "symbolized with the new load bias";
        EXPECT_GE(got.lifetime_ms, 50);
        EXPECT_LT(got.lifetime_ms, 550) << "a stale entry of the old program would give a longer one";
    }
    EXPECT_NE(g.err().find("10 exited"), std::string::npos) << g.err();
}

// Execing another program ends the traced Go program: with --path the process is retired like an exited
// one; with --pid gmon stops (the lifecycle monitor and gmon gc alike), exit status 0, and says why.
TEST(LifecycleFaults, ExecOfAnotherProgramRetiresTheProcess) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "execother");
    int port = free_port();
    background by_path(gmon_command("--path " + bin + " --format json --metrics " + std::to_string(port)));
    if (!attached(by_path))
        return;
    background target(bin + " exec-other 20");
    ASSERT_TRUE(target.wait_for("ready", 10000));
    background by_pid(gmon_command("--pid " + std::to_string(target.pid()) + " --format json --metrics 0"));
    if (!attached(by_pid))
        return;
    background gc_by_pid(gmon_command("gc --pid " + std::to_string(target.pid())));
    if (!attached(gc_by_pid))
        return;
    target.signal(SIGUSR1);
    ASSERT_TRUE(target.wait_for("holding", 10000));
    std::string metrics;
    ASSERT_EQ(await_sample(port, "gmon_goroutines_live" + HOLDER_SITE, 20, &metrics), 20) << metrics;
    target.signal(SIGUSR2); // exec /bin/sleep
    std::string line = "\"msg\":\"process replaced its program (exec of another binary)\",\"pid\":" +
                       std::to_string(target.pid());
    EXPECT_TRUE(by_path.wait_for(line, 5000)) << by_path.out().substr(0, 4000);
    EXPECT_EQ(await_sample(port, "gmon_goroutines_live" + HOLDER_SITE, 0, &metrics), 0) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + HOLDER_SITE), 20);
    EXPECT_EQ(by_pid.wait(5), 0) << by_pid.err();
    EXPECT_NE(by_pid.out().find("\"msg\":\"target process replaced its program (exec of another binary)\""),
              std::string::npos)
        << by_pid.out();
    EXPECT_EQ(gc_by_pid.wait(5), 0) << gc_by_pid.err();
    EXPECT_NE(gc_by_pid.err().find("gmon gc: process " + std::to_string(target.pid()) +
                                   " replaced its program (exec)"),
              std::string::npos)
        << gc_by_pid.err();
    EXPECT_TRUE(target.running()) << "the new program runs on";
    by_path.signal(SIGINT);
    EXPECT_EQ(by_path.wait(10), 0);
}

} // namespace

namespace {

// A second gmon on a binary the first one already probes: the kernel wrote the first one's breakpoints into
// every read-only mapping of the file, so the second one once read 0xCC where newproc1 returns and refused
// ("0 RET instructions"). Both must attach and both must see every goroutine.
TEST(LifecycleFaults, TwoMonitorsOnOneBinaryBothSeeEverything) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "twomon");
    background first(gmon_command("--path " + bin + " --format json --metrics 0"));
    if (!attached(first))
        return;
    background second(gmon_command("--path " + bin + " --format json --metrics 0"));
    if (!attached(second))
        return;
    background target(bin + " spawn 12 20");
    ASSERT_EQ(target.wait(30), 0);
    usleep(300 * 1000);
    first.signal(SIGINT);
    second.signal(SIGINT);
    ASSERT_EQ(first.wait(10), 0) << first.err();
    ASSERT_EQ(second.wait(10), 0) << second.err();
    auto truth = fixture_goroutines(target.out());
    ASSERT_EQ(truth.size(), 12u);
    for (background *g : {&first, &second}) {
        auto traced = traced_goroutines(g->out(), target.pid());
        for (const auto &[goid, want] : truth)
            EXPECT_TRUE(traced[goid].created && traced[goid].exited) << goid;
    }
}

} // namespace
