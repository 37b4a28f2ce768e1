// gmon pprof cpu against the target's own CPU profile: the cpuburn fixture burns CPU in main.burnA, burnB
// and burnC (60, 30 and 10 % of its CPU time, under pprof labels worker=a|b|c) and serves net/http/pprof.
// gmon's profile and the fixture's own /debug/pprof/profile?seconds=10, taken over the same window, must rank
// the same top functions with shares within 5 points of each other (more when few samples make the shares
// uncertain: four standard deviations) and hold the same label sets; in the
// cgo build, the time spent in C shows as a C frame named from the ELF symbols, under its Go callers. Real
// BPF, real perf events, real processes, go tool pprof reading both files.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "lifecycle_support.h"
#include "pprof_raw.h"

using namespace gmon_test;

namespace {

struct burner {
    std::unique_ptr<background> proc;
    std::string addr, dir;
    std::string pid() const {
        return std::to_string(proc->pid());
    }
};

// The fixture variant started and ready, with a scratch directory of its own.
void start_burner(burner &b, const std::string &variant) {
    b.proc = std::make_unique<background>(fixture("cpuburn-" + variant));
    ASSERT_TRUE(b.proc->wait_for("ready", 30000)) << b.proc->err();
    std::smatch m;
    std::string out = b.proc->out();
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(ready (\S+))")));
    b.addr = m[1];
    b.dir = scratch_dir() + "/cpu-" + variant + "-" + b.pid();
    run("mkdir -p " + b.dir);
}

// Flat (or cumulative) share in percent of each function in `go tool pprof -top` of file.
std::map<std::string, double> flat_shares(const std::string &file, bool cumulative = false) {
    auto r = run(std::string(GO_EXECUTABLE) + " tool pprof -top -nodecount=100 " + file);
    EXPECT_EQ(r.status, 0) << r.err;
    std::map<std::string, double> share;
    std::regex row(R"(^\s*\S+\s+([\d.]+)%\s+[\d.]+%\s+\S+\s+([\d.]+)%\s+(.+)$)");
    for (const auto &l : lines(r.out)) {
        std::smatch m;
        if (std::regex_match(l, m, row))
            share[m[3]] += std::stod(m[cumulative ? 2 : 1]);
    }
    return share;
}

// How many samples one raw sample stands for: its first value, samples/count.
long long sample_count(const raw_sample &s) {
    return std::stoll(s.values.substr(0, s.values.find(' ')));
}

// The number of samples in a profile.
long long sample_count(const std::vector<raw_sample> &samples) {
    long long n = 0;
    for (const auto &s : samples)
        n += sample_count(s);
    return n;
}

// How far apart two profiles' shares (in percent) of one function may be when the two sampled the same CPU
// time independently, n1 and n2 samples each: four standard deviations of the difference of two binomial
// proportions around p, never less than 5 points nor more than 10. A profile of 10 s at 100 Hz of one CPU's
// worth of work has ~1,000 samples: a 30 % share is then known to ±1.4 points per profile, and a fixed
// 5-point bound between two such profiles fails one run in 60 per function by chance alone.
double share_tolerance(double p_percent, long long n1, long long n2) {
    double p = p_percent / 100;
    double sd = std::sqrt(p * (1 - p) * (1.0 / std::max(n1, 1LL) + 1.0 / std::max(n2, 1LL)));
    return std::min(10.0, std::max(5.0, 400 * sd));
}

// The label values of key in `go tool pprof -tags` of file.
std::set<std::string> tag_values(const std::string &file, const std::string &key) {
    auto r = run(std::string(GO_EXECUTABLE) + " tool pprof -tags " + file);
    EXPECT_EQ(r.status, 0) << r.err;
    std::set<std::string> values;
    bool in_key = false;
    std::regex value_row(R"(^\s+\S+ \(\s*[\d.]+%\): (.+)$)");
    for (const auto &l : lines(r.out)) {
        std::smatch m;
        if (l.find(key + ": Total") != std::string::npos)
            in_key = true;
        else if (l.find(": Total") != std::string::npos || l.empty())
            in_key = false;
        else if (in_key && std::regex_match(l, m, value_row))
            values.insert(m[1]);
    }
    return values;
}

// Whether a stack of raw_samples has a frame gmon could not name ("0x..." or "FILE+0x..."), leaving out the
// vDSO's static functions, which have no symbol in the image the kernel maps.
bool has_unnamed_frame(const std::string &stack) {
    for (const auto &l : lines(stack)) {
        std::string name = l.substr(l.find(' ') + 1);
        if ((name.rfind("0x", 0) == 0 || name.find("+0x") != std::string::npos ||
             name.rfind("[kernel] 0x", 0) == 0) &&
            name.rfind("[vdso]", 0) != 0)
            return true;
    }
    return false;
}

class CpuProfile : public ::testing::TestWithParam<std::string> {};

TEST_P(CpuProfile, MatchesTheProgramsOwnProfileOverTheSameWindow) {
    burner b;
    start_burner(b, GetParam());
    if (HasFatalFailure())
        return;
    std::string gmon_file = b.dir + "/gmon.pb.gz", own_file = b.dir + "/own.pb.gz";
    background g(std::string(GMON_BINARY) + " pprof cpu --pid " + b.pid() + " --duration 10 -o " + gmon_file);
    ASSERT_TRUE(g.wait_for("gmon: probes attached", 30000, true)) << g.err();
    auto own = run("curl -sf -o " + own_file + " 'http://" + b.addr + "/debug/pprof/profile?seconds=10'", 30);
    ASSERT_EQ(own.status, 0) << own.err;
    ASSERT_EQ(g.wait(20), 0) << g.err();
    EXPECT_NE(g.err().find(" samples in "), std::string::npos) << g.err();
    for (const char *loss : {"could not be read", "not counted", "collisions", "not told", "cut where"})
        EXPECT_EQ(g.err().find(loss), std::string::npos) << loss << ": " << g.err();

    // Flat shares, and cumulative ones: when the machine is busy, Go's own profile puts up to a third of its
    // samples in runtime.asyncPreempt (the preemption its signal interrupted), under the burn function that
    // was preempted; a function's cumulative share holds them.
    auto mine = flat_shares(gmon_file), theirs = flat_shares(own_file);
    auto mine_cum = flat_shares(gmon_file, true), theirs_cum = flat_shares(own_file, true);
    std::string header;
    auto samples = raw_samples(gmon_file, &header);
    long long n_mine = sample_count(samples), n_theirs = sample_count(raw_samples(own_file, nullptr));
    EXPECT_GT(n_mine, 300);
    EXPECT_GT(n_theirs, 300);
    for (const char *fn : {"main.burnA", "main.burnB", "main.burnC"}) {
        EXPECT_GT(theirs[fn], 3) << fn << " in the program's own profile";
        EXPECT_NEAR(mine_cum[fn], theirs_cum[fn], share_tolerance(theirs_cum[fn], n_mine, n_theirs))
            << fn << " cumulative; samples: " << n_mine << " by gmon, " << n_theirs << " by the program";
        if (theirs["runtime.asyncPreempt"] < 2) {
            EXPECT_NEAR(mine[fn], theirs[fn], share_tolerance(theirs[fn], n_mine, n_theirs))
                << fn << " flat; samples: " << n_mine << " by gmon, " << n_theirs << " by the program";
        }
    }
    EXPECT_GT(mine["main.burnA"], mine["main.burnB"]);
    EXPECT_GT(mine["main.burnB"], mine["main.burnC"]);
    std::set<std::string> workers = {"a", "b", "c"};
    EXPECT_EQ(tag_values(gmon_file, "worker"), workers);
    EXPECT_EQ(tag_values(own_file, "worker"), workers);

    // The form of Go's own CPU profile: sample types, period, duration; every frame named.
    EXPECT_NE(header.find("PeriodType: cpu nanoseconds"), std::string::npos) << header;
    EXPECT_NE(header.find("Period: 10101010"), std::string::npos) << header; // 1 s / 99
    EXPECT_NE(header.find("samples/count cpu/nanoseconds"), std::string::npos) << header;
    auto info = run(std::string(GO_EXECUTABLE) + " tool pprof -top " + gmon_file);
    EXPECT_TRUE(std::regex_search(info.out, std::regex(R"(Duration: (9\.\d|10\.\d)\ds)"))) << info.out;
    int burn_stacks = 0;
    long long total = 0, external = 0;
    for (const auto &s : samples) {
        long long n = sample_count(s);
        total += n;
        external += s.stack.find("runtime._ExternalCode") != std::string::npos ? n : 0;
        burn_stacks += s.stack.find("main.burnA") != std::string::npos &&
                       s.stack.find("runtime/pprof.Do") != std::string::npos &&
                       s.stack.find("main.worker") != std::string::npos;
        EXPECT_EQ(s.stack.find("?"), std::string::npos) << s.text();
        EXPECT_FALSE(has_unnamed_frame(s.stack)) << s.text();
    }
    EXPECT_GT(burn_stacks, 0) << "main.burnA under its callers (inlined frames expanded: main.worker.func1)";
    EXPECT_LT(external * 50, total) << "samples gmon could not attribute: under 2 %";
}

INSTANTIATE_TEST_SUITE_P(Builds, CpuProfile, ::testing::Values("plain", "stripped", "pie"));

// The cgo build's worker=cgo spends 20 % of its cycles in the C function burn_in_c (static: inlined into the
// cgo wrapper _cgo_..._Cfunc_burn_in_c). Go's own profile cannot see into C; gmon names the C frame from the
// binary's ELF symbols and puts the goroutine's Go frames under it, read from where runtime.cgocall left
// them.
TEST(CpuProfileCgo, CFramesAreNamedUnderTheirGoCallers) {
    burner b;
    start_burner(b, "cgo");
    if (HasFatalFailure())
        return;
    std::string file = b.dir + "/gmon.pb.gz";
    auto r = gmon("pprof cpu --pid " + b.pid() + " --duration 5 -o " + file, 60);
    ASSERT_EQ(r.status, 0) << r.err;
    auto shares = flat_shares(file);
    double in_c = 0;
    for (const auto &[fn, share] : shares)
        if (fn.find("Cfunc_burn_in_c") != std::string::npos && fn.rfind("main.", 0) != 0)
            in_c += share;
    EXPECT_GT(in_c, 5) << "the C function's own samples";
    int under_go = 0;
    for (const auto &s : raw_samples(file, nullptr)) {
        size_t c = s.stack.find("_Cfunc_burn_in_c :0"), cgocall = s.stack.find("runtime.cgocall"),
               caller = s.stack.find("main.burnInC");
        if (c != std::string::npos && c < cgocall && cgocall < caller && caller != std::string::npos &&
            s.labels.find("cgo") != std::string::npos)
            under_go++;
    }
    EXPECT_GT(under_go, 0) << "C frame <- runtime.cgocall <- main._Cfunc_burn_in_c <- main.burnInC";
    EXPECT_GT(shares["main.burnA"], shares["main.burnB"]);
}

// --kernel adds the kernel's frames to samples taken in the kernel, named from /proc/kallsyms (read before
// gmon gives up the capability that shows its addresses); --by goroutine labels samples with goroutine IDs.
// The fixture is in the kernel well under 1 % of its time (its sleeps' futex and timer calls): at 199 Hz a
// 4-second profile held a few kernel samples, and none in one CI run; at 997 Hz 8 to 18 of some 3,000.
TEST(CpuProfileOptions, KernelFramesAndGoroutineLabels) {
    burner b;
    start_burner(b, "plain");
    if (HasFatalFailure())
        return;
    std::string file = b.dir + "/kernel.pb.gz";
    auto r =
        gmon("pprof cpu --pid " + b.pid() + " --duration 4 --kernel --by goroutine --hz 997 -o " + file, 60);
    ASSERT_EQ(r.status, 0) << r.err;
    std::string header;
    auto samples = raw_samples(file, &header);
    EXPECT_NE(header.find("Period: 1003009"), std::string::npos) << header; // 1 s / 997
    std::string unnamed_kernel;
    std::set<std::string> goroutines;
    for (const auto &s : samples) {
        if (s.stack.find("[kernel] 0x") != std::string::npos)
            unnamed_kernel += s.text();
        std::smatch m;
        if (std::regex_search(s.labels, m, std::regex(R"(goroutine:\[(\d+)\])")))
            goroutines.insert(m[1]);
    }
    EXPECT_EQ(unnamed_kernel, "") << "kernel frames /proc/kallsyms does not name";
    EXPECT_GE(goroutines.size(), 3u) << "the three workers at least";
    auto tags = tag_values(file, "worker");
    EXPECT_EQ(tags, (std::set<std::string>{"a", "b", "c"}));
    // Some samples are in the kernel (the fixture sleeps and reads the clock): their frames are the kernel's
    // functions by the names /proc/kallsyms gives them.
    std::set<std::string> kernel_names;
    for (const auto &l : lines(read_file("/proc/kallsyms")))
        if (l.size() > 19)
            kernel_names.insert(l.substr(19, l.find_first_of(" \t", 19) - 19));
    long long in_kernel = 0, all = sample_count(samples);
    for (const auto &s : samples) {
        std::string first = lines(s.stack).empty() ? "" : lines(s.stack)[0];
        std::string name = first.substr(first.find(' ') + 1);
        in_kernel += kernel_names.count(name.substr(0, name.find(' '))) > 0 ? sample_count(s) : 0;
    }
    EXPECT_GT(in_kernel, 0) << "no sample's leaf is a kernel function, of " << all;
}

// A target that exits while it is profiled: gmon writes what it sampled and says the process exited.
TEST(CpuProfileFaults, TargetExitingMidProfileLeavesWhatWasSampled) {
    burner b;
    start_burner(b, "plain");
    if (HasFatalFailure())
        return;
    std::string file = b.dir + "/exit.pb.gz";
    background g(std::string(GMON_BINARY) + " pprof cpu --pid " + b.pid() + " --hz 997 --duration 60 -o " +
                 file);
    ASSERT_TRUE(g.wait_for("gmon: probes attached", 60000, true)) << g.err();
    sleep(5);
    b.proc->signal(SIGKILL);
    EXPECT_EQ(g.wait(20), 0) << g.err();
    std::string err = g.err();
    EXPECT_NE(err.find("process " + b.pid() + " exited"), std::string::npos) << err;
    EXPECT_NE(err.find("until it exited"), std::string::npos) << err;
    auto shares = flat_shares(file);
    EXPECT_GT(shares["main.burnA"], 20) << "samples taken while it ran, symbolized after it exited";
    // The vDSO's symbols were read while it ran (from its memory, gone with it): time.Now's frames in it are
    // named (about 1 % of the samples: some 40 of 5 s at 997 Hz).
    int vdso = 0;
    for (const auto &s : raw_samples(file, nullptr))
        vdso += s.stack.find("clock_gettime") != std::string::npos;
    EXPECT_GT(vdso, 0);
}

TEST(CpuProfileBadInput, RefusesWhatItCannotDo) {
    struct {
        std::string args, says;
    } cases[] = {
        {"--pid 1 --hz 0", "--hz"},
        {"--pid 1 --hz 1001", "--hz"},
        {"--pid 1 --hz many", "--hz"},
        {"--pid 1 --by thread", "--by takes goroutine"},
        {"--duration 5", "give --path BIN, --pid PID or --container NAME"},
        {"--pid 1 extra", "unexpected argument"},
    };
    for (const auto &c : cases) {
        auto r = gmon("pprof cpu " + c.args);
        EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
        EXPECT_NE(r.err.find(c.says), std::string::npos) << c.args << "\n" << r.err;
    }
}

// The PID of a process that has ended (and was reaped): one no process has now.
pid_t ended_pid() {
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, nullptr, 0);
    return pid;
}

// An output that cannot be written is said before the run, not after the whole of it; a run that fails
// leaves no empty file behind.
TEST(CpuProfileBadInput, AnUnwritableOutputIsSaidBeforeTheRun) {
    running_fixture f(fixture("lifecycle-plain"));
    ASSERT_GT(f.pid, 0);
    std::string pid = std::to_string(f.pid);
    for (const std::string cmd : {"pprof cpu", "pprof creation", "pprof live"}) {
        for (const std::string &out : {std::string("/proc/gmon-none.pb.gz"), scratch_dir()}) {
            auto r = gmon(cmd + " --pid " + pid + " --duration 30 -o " + out);
            EXPECT_EQ(r.status, 2) << cmd << " -o " << out << ": " << r.err;
            EXPECT_NE(r.err.find("cannot write " + out), std::string::npos) << r.err;
            EXPECT_EQ(r.err.find("attached"), std::string::npos) << "said before attaching: " << r.err;
        }
        // a run that fails: the file gmon created is removed, one that was there keeps its contents
        std::string fresh = scratch_dir() + "/never-written.pb.gz", kept = scratch_dir() + "/kept.pb.gz";
        write_file(kept, "an earlier profile");
        for (const std::string &out : {fresh, kept}) {
            auto gone = gmon(cmd + " --pid " + std::to_string(ended_pid()) + " --duration 1 -o " + out);
            EXPECT_EQ(gone.status, 2) << gone.err;
        }
        EXPECT_NE(access(fresh.c_str(), F_OK), 0) << cmd << ": the file gmon created is removed";
        EXPECT_EQ(read_file(kept), "an earlier profile") << cmd;
    }
}

// Without the privilege to open perf events for every process, gmon says which setting or capability it
// lacks, before anything else (it would otherwise fail later, at loading BPF).
TEST(CpuProfileBadInput, NoPerfEventsPermittedNamesTheSettingAndTheCapability) {
    burner b;
    start_burner(b, "plain");
    if (HasFatalFailure())
        return;
    // At 0 or below, any user may sample every process: the refusal needs 1 or more (restored after).
    std::string paranoid = lines(read_file("/proc/sys/kernel/perf_event_paranoid"))[0];
    if (std::stoi(paranoid) < 1)
        write_file("/proc/sys/kernel/perf_event_paranoid", "2");
    auto r = run("setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all " +
                 std::string(GMON_BINARY) + " pprof cpu --pid " + b.pid() + " --duration 2 -o /dev/null");
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("kernel.perf_event_paranoid"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("CAP_PERFMON"), std::string::npos) << r.err;
    write_file("/proc/sys/kernel/perf_event_paranoid", paranoid);
}

class CpuCorpus : public ::testing::TestWithParam<corpus_entry> {};

// The samples of a corpus profile: every frame named, none lost; how many there are and how many of them
// have a frame of module in their stack.
void expect_named_samples(const std::string &file, const std::string &module, long long *total,
                          long long *in_module) {
    *total = *in_module = 0;
    for (const auto &s : raw_samples(file, nullptr)) {
        long long n = sample_count(s);
        *total += n;
        *in_module += s.stack.find(module + "/") != std::string::npos ? n : 0;
        EXPECT_EQ(s.stack.find("?"), std::string::npos) << s.text();
        EXPECT_FALSE(has_unnamed_frame(s.stack)) << s.text();
    }
}

// esbuild (go1.17 to go1.26, stripped) bundling a project of 300 modules three times, profiled with --path
// from its first instruction: most samples in esbuild's own code, every frame named by gmon's pclntab
// reader, esbuild's output unchanged. lefthook (go1.21, go1.24, go1.27, stripped) parsing a 3,000-command
// config: its samples named too, and its goroutines read (the g and m layouts of those releases).
TEST_P(CpuCorpus, ProfiledFromTheStartAndSymbolized) {
    const corpus_entry &e = GetParam();
    std::string bin = private_copy(corpus(e.name), "cpu");
    ASSERT_FALSE(bin.empty());
    std::string file = scratch_dir() + "/cpu-" + e.name + ".pb.gz", out = scratch_dir() + "/cpu-" + e.name;
    background g(gmon_command("pprof cpu --path " + bin + " --hz 997 -o " + file));
    bool esbuild = e.name.rfind("esbuild-", 0) == 0;
    std::string workload;
    if (esbuild) {
        workload = "sh -c 'for i in 1 2 3; do " + bin + " " + generated_project() +
                   "/entry.js --bundle --log-level=warning --outfile=" + out + "-$i.js || exit 1; done'";
    } else {
        lefthook_dump dump(bin, "cpu");
        workload = "sh -c 'for i in 1 2 3 4 5; do " + dump.command.substr(7, dump.command.size() - 8) +
                   " || exit 1; done'";
    }
    trace_workload(g, workload);
    if (HasFatalFailure() || HasFailure())
        return;
    if (esbuild) {
        EXPECT_EQ(read_file(out + "-1.js"), read_file(out + "-3.js")) << "esbuild's output is its own";
    }
    for (const char *loss : {"labels could not be read", "not counted", "not told", "not stored"})
        EXPECT_EQ(g.err().find(loss), std::string::npos) << loss << ": " << g.err();
    long long total, in_module;
    expect_named_samples(file, e.module, &total, &in_module);
    // A few samples fall in execve, after the kernel switched the process to the binary and before its
    // runtime set up thread-local storage (the shell's is still there): their goroutine cannot be read. That
    // window is a few ms per process started (one sample per ms at 997 Hz, more on a loaded machine), so the
    // bound is 1 % of the samples or 3 per process, whichever is larger: a broken goroutine reader leaves
    // most samples unread, far above either.
    std::smatch m;
    std::string err = g.err();
    if (std::regex_search(err, m, std::regex(R"((\d+) samples whose goroutine could not be read)"))) {
        std::smatch p;
        ASSERT_TRUE(std::regex_search(err, p, std::regex(R"(of (\d+) process)"))) << err;
        long long unread = std::stoll(m[1]), processes = std::stoll(p[1]);
        EXPECT_LE(unread, std::max(total / 100, 3 * processes)) << err;
    }
    EXPECT_GT(total, esbuild ? 50 : 10) << g.err();
    if (esbuild) {
        EXPECT_GT(in_module * 2, total) << "most samples are in esbuild's own code";
    } else {
        EXPECT_GT(in_module, 0) << "samples in lefthook's own code";
    }
}

INSTANTIATE_TEST_SUITE_P(Npm, CpuCorpus, ::testing::ValuesIn(corpus_manifest()), corpus_test_name);

} // namespace
