// gmon summary: the goroutines of a running Go 1.19 fixture that holds a known population (100 receiving, 50
// in select, 20 sleeping, 10 waiting for a mutex, 5 in read(2)), on every variant, stripped included.
#include <csignal>
#include <sched.h>
#include <regex>
#include <set>

#include "runtime_state_layout.h"
#include "test_support.h"

extern "C" {
#include "goroutine_json_rows.h"
#include "goroutine_snapshot.h"
#include "json_writer.h"
#include "text_buf.h"
}

using namespace gmon_test;

namespace {

// (start, status, wait reason) -> count, from `summary --json`.
std::map<std::string, int> census(const std::string &json) {
    std::map<std::string, int> got;
    std::regex g(R"re(\{"id":(\d+),"status":"([a-z]+)","wait_reason":"([^"]*)","start":"([^"]*)")re");
    for (std::sregex_iterator i(json.begin(), json.end(), g), end; i != end; ++i)
        got[(*i)[4].str() + "|" + (*i)[2].str() + "|" + (*i)[3].str()]++;
    return got;
}

class SummaryFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(SummaryFixture, KnownPopulationIsCountedExactly) {
    population p(fixture("lifecycle-" + GetParam()));
    auto r = gmon("summary --json --pid " + p.pid());
    ASSERT_EQ(r.status, 0) << r.err;
    auto c = census(r.out);
    EXPECT_EQ(c["main.popRecv|waiting|chan receive"], 100) << r.out;
    EXPECT_EQ(c["main.popSelect|waiting|select"], 50) << r.out;
    EXPECT_EQ(c["main.popSleep|waiting|sleep"], 20) << r.out;
    EXPECT_EQ(c["main.popLock|waiting|semacquire"], 10) << r.out;
    EXPECT_EQ(c["main.popSyscall|syscall|"], 5) << r.out;
    EXPECT_EQ(c["runtime.forcegchelper|waiting|force gc (idle)"], 1) << r.out;
    EXPECT_EQ(json_field(r.out, "gomaxprocs"), std::to_string(sysconf(_SC_NPROCESSORS_ONLN))) << r.out;
    EXPECT_EQ(json_field(r.out, "go_version"), "go1.19.8");
    long threads = 0;
    std::smatch m;
    std::string out = r.out;
    std::regex state(R"re("(running|sleeping|disk sleep|stopped|idle|other)":(\d+))re");
    for (std::sregex_iterator i(out.begin(), out.end(), state), end; i != end; ++i)
        threads += std::stol((*i)[2]);
    EXPECT_GE(threads, 6) << "five goroutines in read(2) hold a thread each, and main another: " << r.out;
    EXPECT_GE(std::stol(json_field(r.out, "uptime_s")), 0);
    EXPECT_LT(std::stol(json_field(r.out, "uptime_s")), 600);
    EXPECT_EQ(json_field(r.out, "allgs_from"),
              GetParam() == "stripped" ? "code of runtime.allgadd" : "symbol table");
    // Where they are now: the first function outside the runtime on each stack, walked from g.sched.
    std::regex now(
        R"re("start":"main\.(popRecv|popSelect)","go_statement":"[^"]*","now_at":"main\.(popRecv|popSelect) \([^"]*population\.go:\d+\)")re");
    std::map<std::string, int> now_at;
    std::string json = r.out;
    for (std::sregex_iterator i(json.begin(), json.end(), now), end; i != end; ++i)
        if ((*i)[1] == (*i)[2])
            now_at[(*i)[1]]++;
    EXPECT_EQ(now_at["popRecv"], 100) << r.out;
    EXPECT_EQ(now_at["popSelect"], 50) << r.out;
    // The go statement of every receiver is population.go's start closure.
    EXPECT_NE(r.out.find(R"("start":"main.popRecv","go_statement":"main.population.func1 (/)"),
              std::string::npos)
        << r.out;
}

INSTANTIATE_TEST_SUITE_P(Go119, SummaryFixture, ::testing::Values("plain", "stripped", "pie", "cgo"));

TEST(Summary, TableHasTheHeaderAndARowPerGoroutine) {
    population p(fixture("lifecycle-stripped"));
    auto r = gmon("summary --pid " + p.pid());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(std::regex_search(
        r.out, std::regex(R"(\ngoroutines: \d+ \(runnable \d+, |goroutines: \d+ \(.*waiting 18\d)")))
        << r.out;
    EXPECT_TRUE(
        std::regex_search(r.out, std::regex(R"(\nGOID +PARENT +STATUS +WAIT REASON +WAITED +START\n)")))
        << r.out;
    EXPECT_TRUE(
        std::regex_search(r.out, std::regex(R"(\n\d+ +- +waiting +chan receive +\S+ +main\.popRecv\n)")))
        << r.out;
    auto current = gmon("summary --pc current --pid " + p.pid());
    EXPECT_TRUE(std::regex_search(current.out,
                                  std::regex(R"(\nGOID +PARENT +STATUS +WAIT REASON +WAITED +NOW AT\n)")))
        << current.out;
    EXPECT_TRUE(std::regex_search(
        current.out,
        std::regex(R"(\n\d+ +- +waiting +chan receive +\S+ +main\.popRecv \(.*population\.go:\d+\)\n)")))
        << current.out;
    auto caller = gmon("summary --pc caller --pid " + p.pid());
    EXPECT_TRUE(
        std::regex_search(caller.out, std::regex(R"(main\.population\.func1 \(.*population\.go:\d+\))")))
        << caller.out;
}

// How long each goroutine has been blocked: a GC that finds it blocked stamps g.waitsince with the end of the
// cycle before (the fixture forces two after its goroutines block, then says "ready"), so after a pause every
// blocked goroutine has waited at least the pause, and never longer than the process has lived; goroutines
// that are not blocked have no figure.
TEST(Summary, WaitedComesFromTheGCStamp) {
    population p(fixture("lifecycle-pie"));
    usleep(1200 * 1000);
    auto r = gmon("summary --json --pid " + p.pid());
    ASSERT_EQ(r.status, 0) << r.err;
    std::regex g(
        R"re("status":"([a-z]+)","wait_reason":"[^"]*","start":"([^"]*)",[^{}]*"waited_approx_ns":(\d+|null),"parent_id":(\d+|null)\})re");
    int blocked = 0;
    double uptime_ns = std::stod(json_field(r.out, "uptime_s")) * 1e9 + 1e9;
    for (std::sregex_iterator i(r.out.begin(), r.out.end(), g), end; i != end; ++i) {
        std::string status = (*i)[1], start = (*i)[2], waited = (*i)[3];
        if (status == "running" || status == "runnable") {
            EXPECT_EQ(waited, "null") << start;
            continue;
        }
        if (start.rfind("main.pop", 0) != 0)
            continue;
        ASSERT_NE(waited, "null") << start << " " << status;
        EXPECT_GE(std::stod(waited), 1.2e9) << start;
        EXPECT_LE(std::stod(waited), uptime_ns) << start;
        blocked++;
    }
    EXPECT_EQ(blocked, 185) << r.out;
    auto text = gmon("summary --pid " + p.pid());
    EXPECT_TRUE(
        std::regex_search(text.out, std::regex(R"(\n\d+ +- +waiting +sleep +~\d+\.\d\ds +main\.popSleep\n)")))
        << text.out;
}

// The figure after "key " on the fixture's ready line (the runtime's own runtime.ReadMemStats).
uint64_t ready_figure(const population &p, const std::string &key) {
    std::smatch m;
    std::string out = p.proc.out();
    if (!std::regex_search(out, m, std::regex(" " + key + " (\\d+)")))
        return ~0ull;
    return std::stoull(m[1]);
}

// The header's scheduler, GC and heap figures against runtime.ReadMemStats, which the fixture calls after its
// two GCs and prints on its ready line (the process is idle from then on), on every variant: the stripped one
// finds runtime.sched, memstats, gcController and mheap_ from code and takes the layout from gmon's table.
// Right after the ready line a P may still be in _Psyscall, held for the main goroutine's read(2) until
// sysmon retakes it (10 ms or more: proc.go, retake): gmon snapshots again, for up to 2 s, until every P is
// idle.
TEST_P(SummaryFixture, HeaderAgreesWithReadMemStats) {
    population p(fixture("lifecycle-" + GetParam()));
    auto r = gmon("summary --json --pid " + p.pid());
    for (int tries = 0; tries < 40 && r.status == 0 &&
                        object_u(r.out, "sched", "idle_ps") != (uint64_t)sysconf(_SC_NPROCESSORS_ONLN);
         tries++) {
        usleep(50 * 1000);
        r = gmon("summary --json --pid " + p.pid());
    }
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json_field(r.out, "state_layout_from"), GetParam() == "stripped" ? "table (go1.19)" : "DWARF");
    EXPECT_EQ(object_u(r.out, "gc", "cycles"), ready_figure(p, "numgc")) << r.out;
    EXPECT_EQ(object_u(r.out, "gc", "forced"), 2u) << r.out;
    EXPECT_EQ(object_u(r.out, "gc", "pause_total_ns"), ready_figure(p, "pause_total_ns")) << r.out;
    uint64_t inuse = object_u(r.out, "heap", "inuse_bytes"), want = ready_figure(p, "heapinuse");
    EXPECT_GE(inuse + 64 * 1024, want) << r.out;
    EXPECT_LE(inuse, want + 64 * 1024) << r.out;
    EXPECT_EQ(object_u(r.out, "heap", "sys_bytes") % 8192, 0u);
    EXPECT_GE(object_u(r.out, "heap", "sys_bytes") + 64 * 1024, ready_figure(p, "heapsys")) << r.out;
    uint64_t mallocs = object_u(r.out, "heap", "mallocs"), frees = object_u(r.out, "heap", "frees");
    EXPECT_GE(mallocs, ready_figure(p, "mallocs")) << r.out;
    EXPECT_LE(mallocs, ready_figure(p, "mallocs") + 200) << r.out;
    EXPECT_GE(frees, ready_figure(p, "frees")) << r.out;
    EXPECT_LE(frees, ready_figure(p, "frees") + 200) << r.out;
    EXPECT_LE(object_u(r.out, "heap", "live_bytes"), inuse) << r.out;
    // Idle: every P idle with an empty run queue; the Ms the five read(2) goroutines hold are counted.
    EXPECT_EQ(object_u(r.out, "sched", "idle_ps"), (uint64_t)sysconf(_SC_NPROCESSORS_ONLN)) << r.out;
    EXPECT_EQ(object_u(r.out, "sched", "global_runq"), 0u) << r.out;
    EXPECT_GE(object_u(r.out, "sched", "ms_created"), 6u) << r.out;
    std::regex ps(R"re(\{"id":(\d+),"status":"idle","schedtick":\d+,"syscalltick":\d+,"runq":0,"m":null)re");
    std::string json = r.out;
    EXPECT_EQ(std::distance(std::sregex_iterator(json.begin(), json.end(), ps), std::sregex_iterator()),
              sysconf(_SC_NPROCESSORS_ONLN))
        << r.out;
    auto text = gmon("summary --pid " + p.pid());
    EXPECT_TRUE(std::regex_search(
        text.out,
        std::regex(R"(\nsched: +\d+ Ms created, \d+ idle, 0 spinning; \d+ idle Ps; global run queue 0\n)")))
        << text.out;
    EXPECT_TRUE(std::regex_search(
        text.out, std::regex(R"(\ngc: +\d+ cycles \(2 forced\), total pause \S+, last \S+ ago\n)")))
        << text.out;
    EXPECT_TRUE(std::regex_search(
        text.out,
        std::regex(
            R"(\nheap: +in use \S+, sys \S+, live \S+ \(marked by the last GC\), objects \d+ \(mallocs \d+, frees \d+\)\n)")))
        << text.out;
    EXPECT_TRUE(
        std::regex_search(text.out, std::regex(R"(\nP0 +idle +schedtick \d+ +syscalltick \d+ +runq 0)")))
        << text.out;
}

// --bin on the stripped build: the unstripped build's symbol table gives allgs and its DWARF the layouts; the
// population is counted the same.
TEST(Summary, BinGivesAStrippedTargetTheUnstrippedBuildsSymbols) {
    population p(fixture("lifecycle-stripped"));
    auto r = gmon("summary --json --pid " + p.pid() + " --bin " + fixture("lifecycle-plain"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json_field(r.out, "allgs_from"), "symbol table") << r.out;
    EXPECT_EQ(json_field(r.out, "state_layout_from"), "DWARF of --bin") << r.out;
    auto c = census(r.out);
    EXPECT_EQ(c["main.popRecv|waiting|chan receive"], 100) << r.out;
    EXPECT_EQ(c["main.popSyscall|syscall|"], 5) << r.out;
    EXPECT_EQ(object_u(r.out, "gc", "cycles"), ready_figure(p, "numgc")) << r.out;
    auto other = gmon("summary --pid " + p.pid() + " --bin " + fixture("httpserver-plain"));
    EXPECT_EQ(other.status, 2);
    EXPECT_NE(other.err.find("not a build of the same program"), std::string::npos) << other.err;
}

// The table of state layouts (computed from each release's source by tests/tools/state_table.py) equals the
// DWARF of the go1.19 fixtures field by field, and covers every release from 1.17 to 1.27.
TEST(StateLayout, TableEqualsTheFixturesDwarfAndCoversTheReleases) {
    for (const char *variant : {"plain", "pie", "cgo"}) {
        std::string bin = fixture(std::string("lifecycle-") + variant);
        struct go_version v {};
        v.major = 1;
        v.minor = 19;
        struct state_layout dwarf, table, chosen;
        ASSERT_TRUE(state_layout_from_dwarf(bin.c_str(), &dwarf)) << bin;
        state_layout_from_table(&v, &table);
        for (int f = 0; f < STATE_FIELDS; f++) {
            EXPECT_EQ(dwarf.f[f].offset, table.f[f].offset) << state_field_name((enum state_field)f);
            EXPECT_EQ(dwarf.f[f].size, table.f[f].size) << state_field_name((enum state_field)f);
            EXPECT_EQ(dwarf.f[f].base, table.f[f].base) << state_field_name((enum state_field)f);
            // go1.17 only; go1.17-1.18 only (two); from go1.25; from go1.26 (two)
            if (f != HEAP_SYS && f != GCC_HEAP_GOAL && f != GCC_TRIGGER && f != SCHED_GFREE_NOSTACK_N &&
                f != SCHED_GOROUTINES_CREATED && f != P_GOROUTINES_CREATED) {
                EXPECT_TRUE(state_has(&dwarf, (enum state_field)f)) << state_field_name((enum state_field)f);
            }
        }
        state_layout_select(bin.c_str(), &v, &chosen);
        EXPECT_STREQ(chosen.from, "DWARF");
        EXPECT_EQ(chosen.mismatches, 0) << chosen.first_mismatch;
    }
    for (int minor = 17; minor <= 27; minor++) {
        struct go_version v {};
        v.major = 1;
        v.minor = minor;
        struct state_layout l;
        state_layout_from_table(&v, &l);
        EXPECT_NE(l.from[0], 0) << "go1." << minor;
        EXPECT_TRUE(state_has(&l, SCHED_NPIDLE)) << "go1." << minor;
        EXPECT_TRUE(state_has(&l, GC_PAUSE_NS)) << "go1." << minor;
        EXPECT_EQ(state_has(&l, GCC_HEAP_GOAL), minor <= 18) << "go1." << minor;
        EXPECT_EQ(state_has(&l, GCC_PERCENT_HEAP_GOAL), minor >= 19) << "go1." << minor;
        EXPECT_EQ(state_has(&l, HS_INPTRSCALARBITS), minor <= 24) << "go1." << minor;
        EXPECT_EQ(state_has(&l, SCHED_GFREE_NOSTACK_N), minor >= 25) << "go1." << minor;
        EXPECT_EQ(state_has(&l, P_GOROUTINES_CREATED), minor >= 26) << "go1." << minor;
    }
}

class SummaryCorpus : public ::testing::TestWithParam<corpus_entry> {};

// esbuild in watch mode (alive until its stdin closes), stripped, go1.17 to go1.26: allgs from code, the
// runtime's own goroutines with their start functions and wait reasons, allp consistent.
TEST_P(SummaryCorpus, RuntimeGoroutinesOfRealStrippedBinaries) {
    const corpus_entry &e = GetParam();
    idle_esbuild watch(e, "summary");
    const std::string &pid = watch.pid;
    ASSERT_FALSE(pid.empty()) << "esbuild --watch is not running";
    // esbuild may be stopping the world for its first GC just then (every P "gcstop"): the checks below are
    // of the idle program, so read it again, a moment later, until no P is stopped for the GC (2 s at most).
    auto r = gmon("summary --json --pid " + pid);
    for (int i = 0; i < 20 && r.status == 0 && r.out.find(R"("status":"gcstop")") != std::string::npos; i++) {
        usleep(100 * 1000);
        r = gmon("summary --json --pid " + pid);
    }
    ASSERT_EQ(r.status, 0) << r.err;
    auto c = census(r.out);
    EXPECT_EQ(c["runtime.forcegchelper|waiting|force gc (idle)"], 1) << r.out;
    // The creator, recorded from go1.21 (g.parentGoid): runtime's init, run by goroutine 1, starts
    // forcegchelper.
    std::smatch fgc;
    std::regex forcegc(R"re("start":"runtime\.forcegchelper"[^}]*"parent_id":(\d+|null)\})re");
    ASSERT_TRUE(std::regex_search(r.out, fgc, forcegc)) << r.out;
    int minor = std::stoi(e.go_version.substr(4));
    EXPECT_EQ(fgc[1].str(), minor >= 21 ? "1" : "null") << e.go_version;
    EXPECT_NE(r.out.find(R"({"id":1,"status":")"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(R"("start":"runtime.main")"), std::string::npos) << r.out;
    EXPECT_EQ(json_field(r.out, "allgs_from"), "code of runtime.allgadd") << r.out;
    EXPECT_EQ(json_field(r.out, "gomaxprocs"), std::to_string(sysconf(_SC_NPROCESSORS_ONLN))) << r.out;
    EXPECT_EQ(json_field(r.out, "go_version"), e.go_version);
    // The header: a layout from gmon's table for every release, globals found from code, and figures that
    // agree with the process.
    EXPECT_EQ(json_field(r.out, "state_layout_from"),
              "table (" + e.go_version.substr(0, e.go_version.find('.', 4)) + ")")
        << r.out;
    EXPECT_LE(object_u(r.out, "gc", "forced"), object_u(r.out, "gc", "cycles")) << r.out;
    uint64_t inuse = object_u(r.out, "heap", "inuse_bytes");
    long rss_kib = 0;
    for (const auto &l : lines(read_file("/proc/" + pid + "/status")))
        if (l.rfind("VmRSS:", 0) == 0)
            rss_kib = std::stol(l.substr(6));
    EXPECT_GT(inuse, 256u * 1024) << r.out;
    EXPECT_LE(inuse, (uint64_t)rss_kib * 1024) << "heap in use beyond the resident set: " << r.out;
    EXPECT_GE(object_u(r.out, "heap", "sys_bytes"), inuse) << r.out;
    // gcController (the live heap): go1.17's code does not pin it down, go1.18's points at another global
    // first; its contents tell it among the bases the code could mean. heapMarked exists once a GC has ended
    // (before, go1.17's init fakes one and later releases hold 0), which an idle esbuild may not have done
    // yet: then null, and the text says why.
    if (object_u(r.out, "gc", "cycles") > 0) {
        EXPECT_LE(object_u(r.out, "heap", "live_bytes"), inuse) << r.out;
        EXPECT_GT(object_u(r.out, "heap", "live_bytes"), 0u) << r.out;
    } else {
        EXPECT_NE(r.out.find(R"("live_bytes":null)"), std::string::npos) << r.out;
        // The text is a second read: esbuild's first GC may have ended in between (seen under ASan), and then
        // the live heap is there instead of the reason.
        auto text = gmon("summary --pid " + pid);
        bool still_none = std::regex_search(text.out, std::regex(R"(\ngc: +0 cycles)"));
        EXPECT_EQ(text.out.find("(no GC has ended yet)") != std::string::npos, still_none) << text.out;
    }
    EXPECT_GT(object_u(r.out, "heap", "objects"), 1000u) << r.out;
    EXPECT_LE(object_u(r.out, "sched", "idle_ps"), (uint64_t)sysconf(_SC_NPROCESSORS_ONLN)) << r.out;
    EXPECT_GE(object_u(r.out, "sched", "ms_created"), 2u) << r.out;
    std::regex ps(R"re(\{"id":(\d+),"status":"(idle|running|syscall)","schedtick")re");
    std::string json = r.out;
    EXPECT_EQ(std::distance(std::sregex_iterator(json.begin(), json.end(), ps), std::sregex_iterator()),
              sysconf(_SC_NPROCESSORS_ONLN))
        << r.out;
}

INSTANTIATE_TEST_SUITE_P(Npm, SummaryCorpus, ::testing::ValuesIn(esbuild_corpus()), corpus_test_name);

// True when every thread of pid is stopped (state T in /proc/PID/task/*/stat).
bool all_stopped(pid_t pid) {
    auto r = run("sh -c 'cat /proc/" + std::to_string(pid) + "/task/*/stat'");
    size_t threads = 0, stopped = 0;
    for (const auto &l : lines(r.out)) {
        size_t paren = l.rfind(')');
        if (paren == std::string::npos || paren + 2 >= l.size())
            continue;
        threads++;
        stopped += l[paren + 2] == 'T';
    }
    return threads > 0 && stopped == threads;
}

bool none_stopped(pid_t pid) {
    auto r = run("sh -c 'cat /proc/" + std::to_string(pid) + "/task/*/stat'");
    for (const auto &l : lines(r.out)) {
        size_t paren = l.rfind(')');
        if (paren != std::string::npos && paren + 2 < l.size() && l[paren + 2] == 'T')
            return false;
    }
    return !r.out.empty();
}

TEST(Summary, FreezeResumesTheTargetAfterSuccessFailureAndSignals) {
    population p(fixture("lifecycle-plain"));
    std::string pid = p.pid();
    auto ok = gmon("summary --freeze --json --pid " + pid);
    EXPECT_EQ(ok.status, 0) << ok.err;
    EXPECT_EQ(census(ok.out)["main.popRecv|waiting|chan receive"], 100) << ok.out;
    EXPECT_TRUE(none_stopped(p.pid_number())) << "after success";
    auto bad = gmon("var --freeze --pid " + pid + " --name main.NoSuchThing");
    EXPECT_EQ(bad.status, 2);
    EXPECT_TRUE(none_stopped(p.pid_number())) << "after failure";
    for (int sig : {SIGINT, SIGTERM}) {
        background g("env GMON_TEST_FREEZE_HOLD_MS=10000 " + std::string(GMON_BINARY) +
                     " summary --freeze --pid " + pid);
        bool frozen = false;
        for (int i = 0; i < 100 && !(frozen = all_stopped(p.pid_number())); i++)
            usleep(50 * 1000);
        EXPECT_TRUE(frozen) << "gmon never froze the target";
        g.signal(sig);
        EXPECT_EQ(g.wait(5), 128 + sig);
        bool resumed = false;
        for (int i = 0; i < 20 && !(resumed = none_stopped(p.pid_number())); i++)
            usleep(50 * 1000);
        EXPECT_TRUE(resumed) << "signal " << sig;
    }
    // A process someone else stopped stays stopped.
    kill(p.pid_number(), SIGSTOP);
    for (int i = 0; i < 40 && !all_stopped(p.pid_number()); i++)
        usleep(50 * 1000);
    EXPECT_EQ(gmon("summary --freeze --pid " + pid).status, 0);
    EXPECT_TRUE(all_stopped(p.pid_number())) << "gmon resumed a process it had not stopped";
    kill(p.pid_number(), SIGCONT);
}

// The rows of summary --json's parked goroutines (lifecycle fixture's park mode), in order, without the one
// figure that may change between two reads (a GC stamps the waits).
std::vector<std::string> parked_rows(const std::string &json) {
    std::vector<std::string> rows;
    std::regex row(
        R"re(\{"id":\d+,"status":"waiting","wait_reason":"chan receive","start":"main\.park\.func1",[^}]*\})re");
    for (std::sregex_iterator i(json.begin(), json.end(), row), end; i != end; ++i)
        rows.push_back(std::regex_replace(i->str(), std::regex(R"("waited_approx_ns":(\d+|null))"), "W"));
    return rows;
}

// The clone system calls of a command, from strace: how many threads it started. (LeakSanitizer, in the
// sanitizer build, starts a thread of its own at exit and cannot run under ptrace: off for this run.)
int clones(const std::string &command) {
    std::string trace = scratch_dir() + "/clones.txt";
    auto r = run("env ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" strace -f -qq --seccomp-bpf -e "
                 "trace=clone,clone3 -o " +
                 trace + " " + command);
    EXPECT_EQ(r.status, 0) << command << ": " << r.err;
    int n = 0;
    for (const auto &l : lines(read_file(trace)))
        n += l.find("clone") != std::string::npos;
    return n;
}

// From 8,192 goroutines, two threads read the gs and walk the stacks, each its half, and the halves are put
// back together. With two CPUs that path is taken (two threads started), and its rows are those one thread
// reads (gmon confined to one CPU: none started): 20,000 parked goroutines, each where it is parked.
TEST(Summary, TwoThreadsReadALargeSnapshotAsOneDoes) {
    cpu_set_t allowed;
    ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
    ASSERT_GE(CPU_COUNT(&allowed), 2) << "the two-thread path needs two CPUs";
    population p(fixture("lifecycle-plain"), "park 20000");
    std::string summary = std::string(GMON_BINARY) + " summary --json --pid " + p.pid();
    // "ready" comes once the 20,000 exist: wait until they are parked too.
    for (int i = 0; i < 50 && parked_rows(run("taskset -c 0 " + summary).out).size() < 20000; i++)
        usleep(100 * 1000);
    // A thread to read the gs (one more for each read taken again, at most two: the scheduler moved), one to
    // walk the stacks.
    int threads = clones(summary);
    EXPECT_GE(threads, 2);
    EXPECT_LE(threads, 4);
    EXPECT_EQ(clones("taskset -c 0 " + summary), 0) << "one CPU: no thread";
    auto two = run(summary), one = run("taskset -c 0 " + summary);
    ASSERT_EQ(two.status, 0) << two.err;
    ASSERT_EQ(one.status, 0) << one.err;
    // The parked goroutines stay where they are; the runtime's own may move between the two reads.
    auto rows_two = parked_rows(two.out), rows_one = parked_rows(one.out);
    EXPECT_EQ(rows_two.size(), 20000u) << two.out.substr(0, 2000);
    EXPECT_EQ(rows_one.size(), 20000u) << one.out.substr(0, 2000);
    std::regex where(
        R"re("go_statement":"main\.park \([^"]*population\.go:108\)","now_at":"main\.parked \([^"]*population\.go:101\)")re");
    size_t differ = 0, elsewhere = 0;
    while (differ < rows_two.size() && differ < rows_one.size() && rows_two[differ] == rows_one[differ])
        differ++;
    for (const auto &r : rows_two)
        elsewhere += !std::regex_search(r, where);
    EXPECT_EQ(elsewhere, 0u) << "parked goroutines placed elsewhere than parked()";
    EXPECT_TRUE(rows_two == rows_one)
        << "first difference at row " << differ << ": two threads wrote "
        << (differ < rows_two.size() ? rows_two[differ] : "nothing") << "; one wrote "
        << (differ < rows_one.size() ? rows_one[differ] : "nothing");
}

// A row as summary --json wrote it member by member, from what the snapshot says of each member.
std::string row_in_full(const goroutine_snapshot &s, const goroutine &g) {
    auto quoted = [](const char *text) {
        char *q = json_quote(text);
        std::string out = q ? q : "?";
        free(q);
        return out;
    };
    char unnamed[32];
    const char *reason = snapshot_reason(&s, &g, unnamed, sizeof(unnamed));
    return "{\"id\":" + std::to_string(g.goid) + ",\"status\":" + quoted(snapshot_status_name(g.status)) +
           ",\"wait_reason\":" + quoted(g.status == GOROUTINE_WAITING ? reason : "") +
           ",\"start\":" + quoted(snapshot_location(&s, &g, PC_START)) +
           ",\"go_statement\":" + quoted(snapshot_location(&s, &g, PC_CALLER)) +
           ",\"now_at\":" + quoted(snapshot_location(&s, &g, PC_CURRENT)) +
           ",\"waited_approx_ns\":" + (g.waited_ns >= 0 ? std::to_string(g.waited_ns) : "null") +
           ",\"parent_id\":" + (snapshot_has_parent(&s) ? std::to_string(g.parent) : "null") + "}";
}

// Rows are assembled from a table of their middles (status to now_at), kept by what a middle depends on:
// status, wait reason, start function, go statement and current PC. Over a real snapshot's goroutines made
// into more distinct middles than the table holds (each field changed alone, each middle met twice), every
// row must equal the row written in full, with the table summary uses and with one slot for all.
TEST(SummaryRows, EveryRowEqualsTheRowWrittenInFull) {
    population p(fixture("lifecycle-plain"));
    static goroutine_snapshot s;
    gmon_error err;
    ASSERT_EQ(snapshot_open(&s, p.pid_number(), nullptr, &err), 0) << err.msg;
    s.walk_stacks = true;
    ASSERT_EQ(snapshot_take(&s, false, &err), 0) << err.msg;
    // Bases: goroutines of distinct places; each variant of a base changes one field of the key.
    std::vector<goroutine> bases, keys, rows;
    for (size_t i = 0; i < s.n && bases.size() < 8; i++) {
        bool seen = false;
        for (const auto &b : bases)
            seen |=
                b.startpc == s.gs[i].startpc && b.gopc == s.gs[i].gopc && b.current_pc == s.gs[i].current_pc;
        if (!seen)
            bases.push_back(s.gs[i]);
    }
    ASSERT_EQ(bases.size(), 8u);
    for (const auto &b : bases) {
        for (uint8_t r = 0; r < 40; r++)
            keys.push_back(b), keys.back().status = GOROUTINE_WAITING, keys.back().reason = r;
        for (uint32_t st : {GOROUTINE_WAITING, GOROUTINE_RUNNABLE, GOROUTINE_SYSCALL, GOROUTINE_RUNNING})
            keys.push_back(b), keys.back().status = st;
        for (const auto &o : bases) { // each right after b itself: one slot must tell the two apart
            keys.push_back(b), keys.push_back(b), keys.back().current_pc = o.current_pc;
            keys.push_back(b), keys.push_back(b), keys.back().gopc = o.gopc;
            keys.push_back(b), keys.push_back(b), keys.back().startpc = o.startpc;
        }
        keys.push_back(b), keys.back().current_pc = 0;
        keys.push_back(b), keys.back().startpc = 0x1234; /* names no function */
    }
    std::set<std::string> middles;
    for (size_t i = 0; i < 2 * keys.size(); i++) { // each middle met twice
        goroutine g = keys[i % keys.size()];
        g.goid = 100000 + (uint64_t)i;
        g.waited_ns = i % 3 ? (int64_t)i * 1000 : -1;
        rows.push_back(g);
        std::string row = row_in_full(s, g);
        size_t from = row.find(",\"status\""), to = row.find(",\"waited_approx_ns\"");
        middles.insert(row.substr(from, to - from));
    }
    ASSERT_GT(middles.size(), 256u) << "more middles than the table's slots";
    std::string expected = "[";
    for (size_t i = 0; i < rows.size(); i++)
        expected += (i ? "," : "") + row_in_full(s, rows[i]);
    expected += "]\n";
    goroutine *read_gs = s.gs;
    size_t read_n = s.n;
    s.gs = rows.data();
    s.n = rows.size();
    // The table as summary keeps it, and one of a single slot, where every two middles collide.
    for (size_t slots : {(size_t)ROW_MIDDLES, (size_t)1}) {
        text_buf buf = {};
        json_writer w;
        json_init_buffer(&w, &buf);
        snapshot_json_goroutines_kept(&s, &w, slots);
        std::string out(buf.data ? buf.data : "", buf.len);
        text_buf_free(&buf);
        size_t differ = 0;
        while (differ < out.size() && differ < expected.size() && out[differ] == expected[differ])
            differ++;
        EXPECT_TRUE(out == expected) << slots << " slots, first difference at byte " << differ << ": "
                                     << out.substr(differ > 200 ? differ - 200 : 0, 400);
    }
    s.gs = read_gs;
    s.n = read_n;
    snapshot_close(&s);
}

TEST(Summary, BadInputIsRefusedWithOneLine) {
    for (const char *args :
         {"summary", "summary --pid 999999999", "summary --pid 1 --pc nowhere", "summary --pid 1 extra"}) {
        auto r = gmon(args);
        EXPECT_EQ(r.status, 2) << args << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << args << ": " << r.err;
    }
}

} // namespace
