// gmon pprof block|mutex against the target's own contention profiles: the profiles fixture sets the rates,
// blocks on a channel from main.blockOnChannel (reached through an inlined call) and on a mutex in
// main.contendMutex, then goes quiet; on SIGUSR1 it writes its own block and mutex profiles as
// /debug/pprof/block and /mutex would serve them (a signal, not an HTTP request, so that serving adds no
// blocking event of its own). `go tool pprof -raw` of gmon's profile and of the program's own, read in the
// same quiet moment, must list the same samples (values, every location's address and lines). Programs that
// never set a rate are told so; the corpus's stripped releases 1.17-1.27, with the rates turned on in their
// memory, give profiles of their own work; the expansion of frame-pointer stacks (Go 1.23+) is checked on
// the real stacks of a Go program.
#include <sys/uio.h>
#include <x86intrin.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <ctime>
#include <regex>
#include <sstream>

#include "block_buckets.h"
#include "go_binary.h"
#include "go_profile_globals.h"
#include "lifecycle_support.h"
#include "mem_buckets.h"
#include "pprof_raw.h"
#include "stack_locations.h"
#include "test_support.h"

using namespace gmon_test;

namespace {

// The profiles fixture with contention on, writing its own profiles to dir on SIGUSR1.
struct contention_fixture {
    std::string dir;
    std::unique_ptr<background> proc;
    int wrote = 0;
    contention_fixture(const std::string &variant, const std::string &flags)
        : dir(scratch_dir() + "/contention-" + variant + "-" + std::to_string(getpid()) + "-" +
              std::to_string(counter()++)) {
        run("rm -rf " + dir + " && mkdir -p " + dir);
        proc = std::make_unique<background>(fixture("profiles-" + variant) + " " + flags + " -own " + dir);
        EXPECT_TRUE(proc->wait_for("ready", 30000)) << proc->err();
    }
    static int &counter() {
        static int n = 0;
        return n;
    }
    std::string pid() const {
        return std::to_string(proc->pid());
    }
    // The program's own profiles, written now.
    bool write_own() {
        kill(proc->pid(), SIGUSR1);
        wrote++;
        for (int i = 0; i < 200; i++) {
            std::string out = proc->out();
            int seen = 0;
            for (size_t at = out.find("wrote"); at != std::string::npos; at = out.find("wrote", at + 1))
                seen++;
            if (seen >= wrote)
                return true;
            usleep(50 * 1000);
        }
        return false;
    }
};

std::vector<std::string> texts(const std::vector<raw_sample> &samples) {
    std::vector<std::string> out;
    for (const auto &s : samples)
        out.push_back(s.text());
    std::sort(out.begin(), out.end());
    return out;
}

// The program's own profile of kind, then gmon's: the same samples. Up to three rounds, for an event that
// would fall between the two reads. Returns gmon's file; *err gets gmon's stderr.
std::string expect_same_as_own(contention_fixture &f, const std::string &kind, const std::string &extra,
                               std::string *err = nullptr) {
    std::string mine_file = f.dir + "/gmon-" + kind + ".pb.gz";
    std::vector<std::string> mine, own;
    std::string mine_header, own_header;
    for (int round = 0; round < 3; round++) {
        EXPECT_TRUE(f.write_own()) << f.proc->out() << f.proc->err();
        auto r = gmon("pprof " + kind + " --pid " + f.pid() + extra + " -o " + mine_file);
        EXPECT_EQ(r.status, 0) << r.err;
        if (err)
            *err = r.err;
        mine_header.clear();
        own_header.clear();
        auto m = raw_samples(mine_file, &mine_header),
             o = raw_samples(f.dir + "/" + kind + ".pb.gz", &own_header);
        forget_files_of_functions_in_several_files(m, o);
        mine = texts(m);
        own = texts(o);
        if (mine == own)
            break;
    }
    EXPECT_EQ(mine_header, own_header);
    EXPECT_EQ(mine.size(), own.size());
    for (size_t i = 0; i < mine.size() && i < own.size(); i++)
        EXPECT_EQ(mine[i], own[i]);
    return mine_file;
}

// The sample whose stack holds function (as a line of any location).
const raw_sample *sample_with(const std::vector<raw_sample> &samples, const std::string &function) {
    for (const auto &s : samples)
        if (s.stack.find(" " + function + " ") != std::string::npos)
            return &s;
    return nullptr;
}

long long first_value(const std::string &values) {
    long long v = -1;
    std::istringstream(values) >> v;
    return v;
}

} // namespace

class ContentionVariant : public ::testing::TestWithParam<std::string> {};

// Every event recorded (rates 1): the same samples as the program's own profiles, with the fixture's
// pattern in them.
TEST_P(ContentionVariant, EqualsTheProgramsOwnProfiles) {
    contention_fixture f(GetParam(), "-block 1 -mutex 1");
    std::string err;
    auto block = raw_samples(expect_same_as_own(f, "block", "", &err), nullptr);
    EXPECT_NE(err.find("the program's own figure (runtime.ticks)"), std::string::npos) << err;
    const raw_sample *chan = sample_with(block, "main.blockOnChannel");
    ASSERT_NE(chan, nullptr);
    EXPECT_GE(first_value(chan->values), 1);
    EXPECT_LE(first_value(chan->values), 40);
    // blockOnChannel's caller, main.viaInlineBlock, is inlined into main.main: one location, two lines
    EXPECT_TRUE(std::regex_search(chan->stack, std::regex(R"(main\.viaInlineBlock [^\n]+\n  main\.main )")))
        << chan->stack;
    EXPECT_NE(sample_with(block, "main.contendMutex.func1"), nullptr) << "the waiter's sync.(*Mutex).Lock";
    auto mutex = raw_samples(expect_same_as_own(f, "mutex", ""), nullptr);
    const raw_sample *unlock = sample_with(mutex, "main.contendMutex");
    ASSERT_NE(unlock, nullptr);
    EXPECT_NE(unlock->stack.find("sync.(*Mutex).Unlock"), std::string::npos) << unlock->stack;
    EXPECT_GE(first_value(unlock->values), 1);
    EXPECT_LE(first_value(unlock->values), 40);
}

INSTANTIATE_TEST_SUITE_P(Fixture, ContentionVariant, ::testing::Values("plain", "stripped", "pie", "cgo"));

// The stripped build read through --bin (the plain build's symbols): the same profiles.
TEST(ContentionProfile, StrippedWithBinEqualsTheProgramsOwn) {
    contention_fixture f("stripped", "-block 1 -mutex 1");
    expect_same_as_own(f, "block", " --bin " + fixture("profiles-plain"));
    expect_same_as_own(f, "mutex", " --bin " + fixture("profiles-plain"));
}

// Sampled: a block rate of 100 µs (short events counted rate/cycles times, which the runtime computes when
// the rate is set, so its ticks per second are known at once), and one mutex contention in 2, which Go 1.19's
// runtime/pprof multiplies back when it writes the profile: still the program's own values exactly.
TEST(ContentionProfile, SampledRatesGiveTheProgramsOwnValues) {
    contention_fixture f("plain", "-block 100000 -mutex 2 -events 80");
    expect_same_as_own(f, "block", "");
    auto mutex = raw_samples(expect_same_as_own(f, "mutex", ""), nullptr);
    const raw_sample *unlock = sample_with(mutex, "main.contendMutex");
    ASSERT_NE(unlock, nullptr);
    EXPECT_EQ(first_value(unlock->values) % 2, 0) << "scaled by the fraction: " << unlock->values;
}

// Before the program ever computed its CPU ticks per second (a block rate of 1 and a mutex fraction do not
// make it), gmon measures them as Go 1.19 does and says so: counts and stacks exact, delays within 1 % of
// those the program writes when asked afterwards (both are measurements over 100 ms; a thread preempted
// between its two clock readings errs by the preemption's share of that).
TEST(ContentionProfile, BeforeTheProgramComputedItsTicksDelaysAreClose) {
    contention_fixture f("stripped", "-block 1 -mutex 1");
    std::string file = f.dir + "/early.pb.gz";
    auto r = gmon("pprof block --pid " + f.pid() + " -o " + file);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("measured by gmon over 100 ms (the program has not computed it yet)"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("may differ slightly"), std::string::npos) << r.err;
    auto mine = raw_samples(file, nullptr);
    ASSERT_TRUE(f.write_own());
    auto own = raw_samples(f.dir + "/block.pb.gz", nullptr);
    forget_files_of_functions_in_several_files(mine, own);
    ASSERT_FALSE(mine.empty());
    // the program's own has one sample more: its wait for the signal that asked for it
    EXPECT_EQ(own.size(), mine.size() + 1);
    for (const auto &m : mine) {
        auto same = std::find_if(own.begin(), own.end(), [&](const raw_sample &o) {
            return o.stack == m.stack && first_value(o.values) == first_value(m.values);
        });
        ASSERT_NE(same, own.end()) << m.text();
        long long a = 0, b = 0, count = 0;
        std::istringstream(m.values) >> count >> a;
        std::istringstream(same->values) >> count >> b;
        EXPECT_NEAR(double(a), double(b), double(b) * 0.01 + 2) << m.text() << same->text();
    }
}

// A program that never set a rate: gmon says the profile is off and writes no file.
TEST(ContentionProfile, ProfilingOffIsSaidNotWritten) {
    std::string out = scratch_dir() + "/contention-off.pb.gz";
    contention_fixture f("stripped", "");
    for (const char *kind : {"block", "mutex"}) {
        auto r = gmon(std::string("pprof ") + kind + " --pid " + f.pid() + " -o " + out);
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_NE(
            r.err.find(std::string("the ") + (kind[0] == 'b' ? "blocking" : "mutex") + " profile is off"),
            std::string::npos)
            << r.err;
        EXPECT_NE(access(out.c_str(), F_OK), 0) << "no file is written";
    }
}

// The inline expansion of Go 1.23+'s frame-pointer stacks (runtime.CallersFrames as pprof's
// expandInlinedFrames uses it), on real stacks: the memory-profile buckets of the 1.19 fixture hold logical
// stacks from runtime.callers (each inlined frame its own PC). Reduced to the return addresses a
// frame-pointer walk sees, the expansion must give them back.
TEST(ContentionProfile, FramePointerStacksExpandToTheLogicalStacks) {
    contention_fixture f("plain", "-memrate 1");
    go_binary bin;
    gmon_error err;
    ASSERT_EQ(go_binary_open(&bin, fixture("profiles-plain").c_str(), &err), 0) << err.msg;
    go_profile_globals g;
    go_profile_globals_find(&bin, 19, &g);
    ASSERT_EQ(g.nmbuckets, 1);
    pid_t pid = f.proc->pid();
    auto read = [](void *ctx, uint64_t addr, void *buf, size_t len) {
        iovec local = {buf, len}, remote = {reinterpret_cast<void *>(addr), len};
        return process_vm_readv(*static_cast<pid_t *>(ctx), &local, 1, &remote, 1, 0) == ssize_t(len);
    };
    mem_buckets m;
    ASSERT_EQ(mem_buckets_read(read, &pid, g.mbuckets[0], 19, 0, &m, &err), 0) << err.msg;
    stack_symbols syms;
    stack_symbols_init(&syms, &bin.pcln, 0, 23);
    size_t shortened = 0;
    for (size_t i = 0; i < m.n; i++) {
        const uint64_t *logical = m.pcs + m.b[i].stk_at;
        size_t n = m.b[i].nstk;
        std::vector<uint64_t> physical;
        for (size_t k = 0; k < n;) {
            physical.push_back(logical[k]);
            go_frame frames[STACK_MAX_INLINE];
            int nf = pclntab_frames_at_return(&bin.pcln, logical[k], frames, STACK_MAX_INLINE);
            k++;
            for (int level = 1; level < nf && k < n && logical[k] == frames[level].pc + 1; level++)
                k++; // the outer inlined frames' PCs, which a frame-pointer walk does not see
        }
        if (physical.size() == n)
            continue;
        shortened++;
        std::vector<uint64_t> expanded(n + STACK_MAX_INLINE);
        size_t got =
            stack_expand_inlined(&syms, physical.data(), physical.size(), expanded.data(), expanded.size());
        expanded.resize(got);
        EXPECT_EQ(expanded, std::vector<uint64_t>(logical, logical + n)) << "bucket " << i;
    }
    EXPECT_GE(shortened, 1u) << "main.viaInline is inlined into main.main: its stack has a frame to expand";
    stack_symbols_free(&syms);
    mem_buckets_free(&m);
    go_binary_close(&bin);
}

// The corpus: stripped releases of esbuild (go1.17-go1.26) that never turn these profiles on. The test turns
// them on in the running program's memory (blockprofilerate and mutexprofilerate to 1, where gmon found
// them), makes esbuild rebuild a 300-module project, and reads both profiles: go tool pprof reads them, and
// the blocking profile has esbuild's own frames, with inlined frames in its locations (expanded by gmon from
// 1.23's frame-pointer stacks).
namespace {

// The TSC's ticks per second, measured over 50 ms.
double tsc_per_second() {
    static double rate = 0;
    if (rate == 0) {
        timespec t0, t1, nap = {0, 50 * 1000 * 1000};
        clock_gettime(CLOCK_MONOTONIC, &t0);
        uint64_t c0 = __rdtsc();
        nanosleep(&nap, nullptr);
        uint64_t c1 = __rdtsc();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        rate =
            double(c1 - c0) * 1e9 / double((t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec);
    }
    return rate;
}

bool poke_u64(const std::string &pid, uint64_t addr, uint64_t value) {
    iovec local = {&value, 8}, remote = {reinterpret_cast<void *>(addr), 8};
    return process_vm_writev(std::stoi(pid), &local, 1, &remote, 1, 0) == 8;
}

} // namespace

class ContentionCorpus : public ::testing::TestWithParam<corpus_entry> {};

TEST_P(ContentionCorpus, RatesTurnedOnGiveProfilesOfItsWork) {
    const corpus_entry &e = GetParam();
    std::string project = scratch_dir() + "/contention-project-" + e.name;
    run("rm -rf " + project + " && cp -r " + generated_project() + " " + project);
    idle_esbuild esb(e, "contention", project + "/entry.js");
    ASSERT_FALSE(esb.pid.empty()) << esb.proc->err();
    go_binary bin;
    gmon_error err;
    ASSERT_EQ(go_binary_open(&bin, corpus(e.name).c_str(), &err), 0) << err.msg;
    go_profile_globals g;
    go_profile_globals_find(&bin, bin.version.minor, &g);
    go_binary_close(&bin);
    ASSERT_NE(g.block_rate, 0u);
    ASSERT_NE(g.mutex_rate, 0u);
    for (const char *kind : {"block", "mutex"}) {
        auto off = gmon(std::string("pprof ") + kind + " --pid " + esb.pid + " -o " + esb.dir + "/off.pb.gz");
        EXPECT_EQ(off.status, 2) << off.err;
        EXPECT_NE(off.err.find("profile is off"), std::string::npos) << off.err;
    }
    ASSERT_TRUE(poke_u64(esb.pid, g.block_rate, 1));
    ASSERT_TRUE(poke_u64(esb.pid, g.mutex_rate, 1));
    // Rebuilds until a blocking event was recorded in a location with inlined frames (most rebuilds have
    // one; each adds its events to the same profile).
    run_result block;
    std::vector<raw_sample> samples;
    bool own_frames = false, inlined = false;
    for (int rebuild = 1; rebuild <= 3 && !(own_frames && inlined && samples.size() >= 2); rebuild++) {
        std::string sum = "v0 + " + std::to_string(rebuild);
        write_file(project + "/entry.js", "import { v0 } from './m0.js';\nconsole.log(" + sum + ");\n");
        for (int i = 0; i < 100 && read_file(esb.dir + "/out.js").find(sum) == std::string::npos; i++)
            usleep(100 * 1000);
        ASSERT_NE(read_file(esb.dir + "/out.js").find(sum), std::string::npos) << "esbuild rebuilt";
        usleep(300 * 1000);
        block = gmon("pprof block --pid " + esb.pid + " -o " + esb.dir + "/block.pb.gz");
        ASSERT_EQ(block.status, 0) << block.err;
        samples = raw_samples(esb.dir + "/block.pb.gz", nullptr);
        for (const auto &s : samples) {
            own_frames |= s.stack.find("github.com/evanw/esbuild/") != std::string::npos;
            inlined |= std::regex_search(s.stack, std::regex("\n  \\S"));
        }
    }
    EXPECT_GE(samples.size(), 2u) << block.err;
    EXPECT_TRUE(own_frames) << block.err;
    EXPECT_TRUE(inlined) << "a location with inlined frames";
    // The CPU ticks per second: measured by gmon, or (1.26: runtime.(*ticksType).init shows runtime.ticks)
    // computed from the program's start-up readings as it would compute them; either way the TSC's rate.
    std::smatch rate;
    ASSERT_TRUE(std::regex_search(block.err, rate, std::regex(R"(converted at (\d+) CPU ticks per second)")))
        << block.err;
    EXPECT_NEAR(std::stod(rate[1]), tsc_per_second(), tsc_per_second() * 0.01) << block.err;
    if (e.go_version >= "go1.26") {
        EXPECT_NE(block.err.find("from its start-up readings"), std::string::npos) << block.err;
    }
    auto mutex = gmon("pprof mutex --pid " + esb.pid + " -o " + esb.dir + "/mutex.pb.gz");
    ASSERT_EQ(mutex.status, 0) << mutex.err;
    EXPECT_NE(mutex.err.find("one mutex contention in 1 recorded"), std::string::npos) << mutex.err;
    raw_samples(esb.dir + "/mutex.pb.gz", nullptr); // go tool pprof reads it
}

INSTANTIATE_TEST_SUITE_P(Npm, ContentionCorpus, ::testing::ValuesIn(esbuild_corpus()), corpus_test_name);

// lefthook (go1.21, go1.24, go1.27, stripped) never sets a rate: gmon finds both rates and both lists in the
// code of each release (runtime.mutexevent, no longer sync.event, in 1.27) and says the profiles are off.
class ContentionLefthook : public ::testing::TestWithParam<corpus_entry> {};

TEST_P(ContentionLefthook, BothProfilesAreSaidOff) {
    waiting_lefthook hook(GetParam(), "contention");
    ASSERT_FALSE(hook.pid.empty()) << hook.proc->out() << hook.proc->err();
    for (const char *kind : {"block", "mutex"}) {
        auto r = gmon(std::string("pprof ") + kind + " --pid " + hook.pid + " -o " + hook.dir + "/p.pb.gz");
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_NE(r.err.find("profile is off: the program never set a rate"), std::string::npos) << r.err;
    }
}

INSTANTIATE_TEST_SUITE_P(Npm, ContentionLefthook, ::testing::ValuesIn(lefthook_corpus()), corpus_test_name);
