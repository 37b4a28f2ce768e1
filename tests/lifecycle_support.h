// Helpers for the tests that run the live lifecycle monitor: parsing what the fixtures and gmon print,
// starting gmon and scraping its metrics.
#pragma once

#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "test_support.h"

namespace gmon_test {

struct fixture_goroutine {
    long goid = 0, parent = 0, lifetime_ms = 0;
};

// Parses "created goid=18 parent=1 function=main.worker lifetime_ms=100" lines.
inline std::map<long, fixture_goroutine> fixture_goroutines(const std::string &out) {
    std::map<long, fixture_goroutine> got;
    for (const auto &l : lines(out)) {
        fixture_goroutine g;
        if (sscanf(l.c_str(), "created goid=%ld parent=%ld function=main.worker lifetime_ms=%ld", &g.goid,
                   &g.parent, &g.lifetime_ms) == 3)
            got[g.goid] = g;
    }
    return got;
}

// The lifecycle fixture `bin on-signal-leak N M MS`, started and ready: on SIGUSR1 it spawns N workers from
// main.spawnWorkers that live MS ms each (and prints their account), leaves M goroutines of main.leak blocked
// for good, prints "leaked", and stays until its stdin closes (60 s). *pid is its PID, or 0 after a test
// failure saying why it did not start.
inline std::unique_ptr<background> start_leaking_fixture(const std::string &bin, int n, int m, int ms,
                                                         pid_t *pid) {
    auto f =
        std::make_unique<background>("sh -c 'sleep 60 | " + bin + " on-signal-leak " + std::to_string(n) +
                                     " " + std::to_string(m) + " " + std::to_string(ms) + "'");
    *pid = 0;
    bool ready = f->wait_for("ready", 20000);
    std::string out = f->out();
    std::smatch found;
    if (ready && std::regex_search(out, found, std::regex(R"(ready (\d+))")))
        *pid = std::stoi(found[1]);
    else
        ADD_FAILURE() << "the fixture did not start: " << out << f->err();
    return f;
}

struct traced_goroutine {
    bool created = false, exited = false;
    long parent = -1;
    double lifetime_ms = -1;
    double exited_at_s = -1; // the exit line's time, seconds since the epoch
    std::string function;
    std::vector<std::string> stack;
};

// An RFC 3339 time as gmon's log lines write it ("2026-11-22T04:14:25.342301642Z", or with an offset such as
// "+01:00" where local time is not UTC) as seconds since the epoch; -1 when it is not such a time.
inline double rfc3339_seconds(const std::string &t) {
    struct tm tm = {};
    double seconds = 0;
    int used = 0;
    if (sscanf(t.c_str(), "%d-%d-%dT%d:%d:%lf%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &seconds, &used) != 6)
        return -1;
    std::string zone = t.substr((size_t)used);
    int hours = 0, minutes = 0;
    if (zone != "Z" && (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
                        sscanf(zone.c_str() + 1, "%2d:%2d", &hours, &minutes) != 2))
        return -1;
    double offset = (zone[0] == '-' ? -1 : 1) * (hours * 3600.0 + minutes * 60.0); // 0 for "Z"
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return double(timegm(&tm)) + seconds - offset;
}

// The PID of the one process whose goroutines gmon's JSON lines show; 0 (a failure added) unless one.
inline pid_t only_traced_pid(const std::string &out) {
    std::set<std::string> pids;
    for (const auto &l : lines(out))
        if (json_field(l, "msg") == "goroutine is created")
            pids.insert(json_field(l, "pid"));
    if (pids.size() != 1) {
        ADD_FAILURE() << pids.size() << " processes traced, one expected";
        return 0;
    }
    return std::atoi(pids.begin()->c_str());
}

// gmon's JSON lines for one process, by goroutine ID.
inline std::map<long, traced_goroutine> traced_goroutines(const std::string &out, pid_t pid) {
    std::map<long, traced_goroutine> got;
    for (const auto &l : lines(out)) {
        if (json_field(l, "pid") != std::to_string(pid))
            continue;
        std::string msg = json_field(l, "msg");
        if (msg != "goroutine is created" && msg != "goroutine exited")
            continue;
        long goid = std::atol(json_field(l, "goroutine_id").c_str());
        traced_goroutine &g = got[goid];
        if (msg == "goroutine is created") {
            EXPECT_FALSE(g.created) << "goroutine " << goid << " created twice: " << l;
            g.created = true;
            g.parent = std::atol(json_field(l, "parent_goroutine_id").c_str());
            g.function = json_field(l, "function");
            g.stack = json_strings(l, "stack");
        } else if (msg == "goroutine exited") {
            EXPECT_FALSE(g.exited) << "goroutine " << goid << " exited twice: " << l;
            g.exited = true;
            g.lifetime_ms = std::atof(json_field(l, "lifetime").c_str()) / 1e6;
            g.exited_at_s = rfc3339_seconds(json_field(l, "time"));
        }
    }
    return got;
}

inline std::string gmon_command(const std::string &args) {
    return std::string(GMON_BINARY) + " " + args;
}

// A project of 300 ES modules in a binary tree of imports, so esbuild parses and links in parallel.
inline std::string generated_project() {
    static std::string dir;
    if (!dir.empty())
        return dir;
    dir = scratch_dir() + "/esbuild-project";
    run("mkdir -p " + dir);
    const int n = 300;
    for (int i = 0; i < n; i++) {
        std::string text, sum = std::to_string(i);
        for (int j : {2 * i + 1, 2 * i + 2}) {
            if (j >= n)
                continue;
            text += "import { v" + std::to_string(j) + " } from './m" + std::to_string(j) + ".js';\n";
            sum += " + v" + std::to_string(j);
        }
        text += "export const v" + std::to_string(i) + " = " + sum + ";\n";
        write_file(dir + "/m" + std::to_string(i) + ".js", text);
    }
    write_file(dir + "/entry.js", "import { v0 } from './m0.js';\nconsole.log(v0);\n");
    return dir;
}

// Starts gmon and waits for its probes; fails the test (returning false) if they never attach.
inline bool attached(background &g) {
    bool ok = g.wait_for("gmon: probes attached", 30000, true);
    EXPECT_TRUE(ok) << "gmon did not attach\nstdout:\n" << g.out() << "\nstderr:\n" << g.err();
    return ok;
}

// Once gmon has attached, runs workload (its stdout in *workload_out), then stops gmon with SIGINT and waits
// for it to exit 0.
inline void trace_workload(background &g, const std::string &workload, std::string *workload_out = nullptr) {
    if (!attached(g))
        return;
    auto r = run(workload, 120);
    EXPECT_EQ(r.status, 0) << r.err;
    if (workload_out)
        *workload_out = r.out;
    usleep(300 * 1000);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
}

// 30 runs of bin `park 3000`, 0.1 s apart: each ends with 3,000 goroutines blocked (90,000 in all, more than
// the live map's 65,536), for the tests of --path forgetting the processes that ended. Spaced out: gmon
// forgets every 250-500 ms, and a burst of processes faster than that can fill the map before it does.
inline void trace_programs_that_end_with_goroutines_blocked(background &g, const std::string &bin) {
    trace_workload(g, "sh -c 'for i in $(seq 1 30); do echo | " + bin +
                          " park 3000 >/dev/null || exit 1; sleep 0.1; done'");
}

// tracefs's uprobe_events (where it is mounted), to check that gmon left no named uprobe event behind. Fails
// the test when tracefs is nowhere: an empty string would make that check pass without looking.
inline std::string uprobe_events() {
    for (const char *path : {"/sys/kernel/tracing/uprobe_events", "/sys/kernel/debug/tracing/uprobe_events"})
        if (access(path, R_OK) == 0)
            return read_file(path);
    ADD_FAILURE() << "tracefs is not mounted: uprobe_events cannot be checked";
    return "";
}

inline std::string scrape(int port) {
    return run("curl -sf http://127.0.0.1:" + std::to_string(port) + "/metrics").out;
}

// The value of the sample whose line starts with prefix (a metric name with its labels), or -1.
inline double sample_value(const std::string &metrics, const std::string &prefix) {
    for (const auto &l : lines(metrics))
        if (l.compare(0, prefix.size(), prefix) == 0 && l.size() > prefix.size() && l[prefix.size()] == ' ')
            return std::atof(l.c_str() + prefix.size() + 1);
    return -1;
}

// Scrapes /metrics every 100 ms until the sample reaches at_least or 5 s pass (the last events may still be
// on their way into the maps); returns the last scrape, for the caller's exact checks.
inline std::string scrape_until(int port, const std::string &sample, double at_least) {
    std::string metrics;
    for (int tries = 0; tries < 50; tries++) {
        metrics = scrape(port);
        if (sample_value(metrics, sample) >= at_least)
            break;
        usleep(100 * 1000);
    }
    return metrics;
}

// A project of 100 modules holding 2,000-number arrays: enough allocation for a few GC cycles.
inline std::string allocating_project() {
    static std::string dir;
    if (!dir.empty())
        return dir;
    dir = scratch_dir() + "/esbuild-gc-project";
    run("mkdir -p " + dir);
    std::string entry, numbers;
    for (int j = 0; j < 2000; j++)
        numbers += std::to_string(j) + ",";
    for (int i = 0; i < 100; i++) {
        std::string m = std::to_string(i);
        write_file(dir + "/m" + m + ".js", "export const v" + m + " = [" + numbers + "];\n");
        entry += "import { v" + m + " } from './m" + m + ".js';\nconsole.log(v" + m + ");\n";
    }
    write_file(dir + "/entry.js", entry);
    return dir;
}

// `build` (esbuild and its arguments up to --outfile=) writing output in --watch mode, which ends when its
// stdin closes: here half a second after the build has written its output. With a stamp file, the shell
// writes there when it closes esbuild's stdin (seconds since the epoch): esbuild ends after that.
inline std::string esbuild_watch_command(const std::string &build, const std::string &output,
                                         const std::string &stamp) {
    std::string then = stamp.empty() ? "" : "; date +%s.%N > " + stamp;
    return "sh -c '(while [ ! -s " + output + " ]; do sleep 0.2; done; sleep 0.5" + then + ") | " + build +
           output + " --watch'";
}

// esbuild bundling allocating_project() in --watch mode: one-shot builds turn esbuild's GC off, watch mode
// keeps it on. Watch mode ends when its stdin closes: here half a second after the first build has written
// its output, however long tracing makes that build take. reference is built first without tracing; compare
// traced with it after the run.
struct esbuild_watch {
    std::string command, reference, traced;
    esbuild_watch(const std::string &bin, const std::string &tag) {
        std::string build =
            bin + " " + allocating_project() + "/entry.js --bundle --log-level=warning --outfile=";
        reference = scratch_dir() + "/" + tag + "-ref.js";
        traced = scratch_dir() + "/" + tag + ".js";
        EXPECT_EQ(run(build + reference).status, 0);
        run("rm -f " + traced);
        command = esbuild_watch_command(build, traced, "");
    }
};

// lefthook reading a 3,000-command config (`lefthook dump` parses YAML and prints it back).
struct lefthook_dump {
    std::string command, reference, traced;
    lefthook_dump(const std::string &bin, const std::string &tag) {
        std::string dir = scratch_dir() + "/lefthook-" + tag;
        run("mkdir -p " + dir);
        run("git init -q " + dir);
        std::string config = "pre-commit:\n  commands:\n";
        for (int i = 0; i < 3000; i++)
            config += "    lint-" + std::to_string(i) +
                      ":\n      glob: \"*.js\"\n      run: echo {staged_files} " + std::to_string(i) + "\n";
        write_file(dir + "/lefthook.yml", config);
        reference = dir + "/ref.txt";
        traced = dir + "/traced.txt";
        EXPECT_EQ(run("sh -c 'cd " + dir + " && " + bin + " dump > " + reference + "'").status, 0);
        command = "sh -c 'cd " + dir + " && " + bin + " dump > " + traced + "'";
    }
};

// The workload of a corpus binary: esbuild bundling in watch mode, or lefthook dumping a large config.
struct corpus_workload {
    std::string command, reference, traced;
    corpus_workload(const corpus_entry &e, const std::string &bin, const std::string &tag) {
        if (e.name.rfind("esbuild-", 0) == 0) {
            esbuild_watch w(bin, e.name + "-" + tag);
            command = w.command, reference = w.reference, traced = w.traced;
        } else {
            lefthook_dump w(bin, e.name + "-" + tag);
            command = w.command, reference = w.reference, traced = w.traced;
        }
    }
};

} // namespace gmon_test
