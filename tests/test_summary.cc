// gmon summary: the goroutines of a running Go 1.19 fixture that holds a known population (100 receiving, 50
// in select, 20 sleeping, 10 waiting for a mutex, 5 in read(2)), on every variant, stripped included.
#include <csignal>
#include <regex>

#include "runtime_state_layout.h"
#include "test_support.h"

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

TEST(Summary, BadInputIsRefusedWithOneLine) {
    for (const char *args :
         {"summary", "summary --pid 999999999", "summary --pid 1 --pc nowhere", "summary --pid 1 extra"}) {
        auto r = gmon(args);
        EXPECT_EQ(r.status, 2) << args << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << args << ": " << r.err;
    }
}

} // namespace
