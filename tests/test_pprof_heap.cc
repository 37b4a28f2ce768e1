// gmon pprof heap|allocs against the target's own heap profile: the profiles fixture allocates a known
// pattern, keeps half, collects garbage twice and serves net/http/pprof; `go tool pprof -raw` of gmon's
// profile and of the fixture's own /debug/pprof/heap, taken in the same quiet moment, must list the same
// samples (values, "bytes" labels, every location's address and lines). With MemProfileRate = 1 the values
// are the pattern itself. Programs whose linker turned memory profiling off are refused with the reason; the
// corpus's stripped releases give profiles that go tool pprof reads; the bucket reader is bounded on crafted
// memory.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <regex>
#include <sstream>

#include "lifecycle_support.h"
#include "mem_buckets.h"
#include "pprof_raw.h"
#include "test_support.h"

using namespace gmon_test;

namespace {

struct profiles_fixture {
    background proc;
    std::string addr;
    explicit profiles_fixture(const std::string &command) : proc(command) {
        EXPECT_TRUE(proc.wait_for("ready", 30000)) << proc.err();
        std::smatch m;
        std::string out = proc.out();
        if (std::regex_search(out, m, std::regex(R"(ready (\S+))")))
            addr = m[1];
    }
    std::string pid() const {
        return std::to_string(proc.pid()); // background runs it through sh -c 'exec ...'
    }
};

std::vector<std::string> texts(const std::vector<raw_sample> &samples, bool nonzero_only) {
    std::vector<std::string> out;
    for (const auto &s : samples)
        if (!nonzero_only || !s.zero)
            out.push_back(s.text());
    std::sort(out.begin(), out.end());
    return out;
}

// gmon's profile and the fixture's own, read one after the other: equal samples except the zero-valued ones
// the fixture's serving of its own request adds (a bucket is created at once, filled only by the next GC).
// Up to three rounds, for a GC that would fall between the two reads.
void expect_same_as_own(profiles_fixture &f, const std::string &kind, const std::string &extra,
                        std::string *gmon_file) {
    std::string dir = scratch_dir() + "/heap-" + f.pid();
    run("mkdir -p " + dir);
    std::vector<std::string> mine, own, mine_zero, own_zero;
    std::string mine_header, own_header;
    for (int round = 0; round < 3; round++) {
        auto r = gmon("pprof " + kind + " --pid " + f.pid() + extra + " -o " + dir + "/gmon.pb.gz");
        ASSERT_EQ(r.status, 0) << r.err;
        ASSERT_EQ(
            run("curl -s -o " + dir + "/own.pb.gz 'http://" + f.addr + "/debug/pprof/" + kind + "'").status,
            0);
        mine_header.clear();
        own_header.clear();
        auto m = raw_samples(dir + "/gmon.pb.gz", &mine_header),
             o = raw_samples(dir + "/own.pb.gz", &own_header);
        forget_files_of_functions_in_several_files(m, o);
        mine = texts(m, true);
        own = texts(o, true);
        mine_zero = texts(m, false);
        own_zero = texts(o, false);
        if (mine == own)
            break;
    }
    EXPECT_EQ(mine_header, own_header);
    ASSERT_EQ(mine.size(), own.size());
    for (size_t i = 0; i < mine.size(); i++)
        EXPECT_EQ(mine[i], own[i]);
    EXPECT_GE(mine.size(), 2u);
    // every zero-valued sample of gmon's is one of the program's own (which may have more since)
    EXPECT_TRUE(std::includes(own_zero.begin(), own_zero.end(), mine_zero.begin(), mine_zero.end()));
    *gmon_file = dir + "/gmon.pb.gz";
}

// The sample whose leaf is function leaf and which allocated the most bytes (a function can allocate more
// than its pattern: what the runtime itself records there counts too).
const raw_sample *sample_from(const std::vector<raw_sample> &samples, const std::string &leaf) {
    const raw_sample *best = nullptr;
    long long best_space = -1;
    for (const auto &s : samples) {
        size_t at = s.stack.find(" " + leaf + " ");
        if (at == std::string::npos || at > s.stack.find('\n'))
            continue;
        long long objects = 0, space = 0;
        std::istringstream(s.values) >> objects >> space;
        if (space > best_space) {
            best = &s;
            best_space = space;
        }
    }
    return best;
}

} // namespace

class HeapProfileVariant : public ::testing::TestWithParam<std::string> {};

// At the default rate (one sample per 512 KiB): the same samples as the program's own profile, scaled alike.
TEST_P(HeapProfileVariant, EqualsTheProgramsOwnProfile) {
    profiles_fixture f(fixture("profiles-" + GetParam()));
    ASSERT_FALSE(f.addr.empty());
    std::string file;
    expect_same_as_own(f, "heap", "", &file);
    std::string header;
    auto samples = raw_samples(file, &header);
    EXPECT_NE(header.find("Period: 524288\n"), std::string::npos) << header;
    EXPECT_NE(header.find("alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes"),
              std::string::npos)
        << header;
    EXPECT_NE(sample_from(samples, "main.allocSmall"), nullptr);
    EXPECT_NE(sample_from(samples, "main.allocLarge"), nullptr);
}

// With MemProfileRate = 1 every allocation is recorded: the values are the pattern (16384 objects of 1 KiB
// and 256 of 64 KiB, half of each alive), and the allocs profile is the same data with alloc_space by
// default.
TEST_P(HeapProfileVariant, EveryAllocationRecordedGivesThePattern) {
    profiles_fixture f(fixture("profiles-" + GetParam()) + " -memrate 1");
    ASSERT_FALSE(f.addr.empty());
    std::string file;
    expect_same_as_own(f, "heap", "", &file);
    auto samples = raw_samples(file, nullptr);
    const raw_sample *small = sample_from(samples, "main.allocSmall"),
                     *large = sample_from(samples, "main.allocLarge");
    ASSERT_NE(small, nullptr);
    ASSERT_NE(large, nullptr);
    EXPECT_EQ(small->values, "16384 16777216 8192 8388608");
    EXPECT_EQ(small->labels, "bytes:[1024] ");
    EXPECT_EQ(large->values, "256 16777216 128 8388608");
    EXPECT_EQ(large->labels, "bytes:[65536] ");
    // allocSmall's caller, main.viaInline, is inlined into main.main: one location, two lines
    EXPECT_TRUE(std::regex_search(small->stack, std::regex(R"(main\.viaInline [^\n]+\n  main\.main )")))
        << small->stack;
    expect_same_as_own(f, "allocs", "", &file);
    auto top = run(std::string(GO_EXECUTABLE) + " tool pprof -top -unit=B " + file);
    EXPECT_NE(top.out.find("Type: alloc_space"), std::string::npos) << top.out;
    std::smatch flat;
    ASSERT_TRUE(std::regex_search(top.out, flat,
                                  std::regex(R"(\n +(\d+)B +\S+ +\S+ +\d+B +\S+ +main\.allocSmall\n)")))
        << top.out;
    EXPECT_GE(std::stoll(flat[1]), 16777216) << top.out;
    EXPECT_LT(std::stoll(flat[1]), 16777216 + 4096) << top.out;
}

INSTANTIATE_TEST_SUITE_P(Fixture, HeapProfileVariant, ::testing::Values("plain", "stripped", "pie", "cgo"));

// The stripped build read through --bin (the plain build's symbols): the same profile.
TEST(HeapProfile, StrippedWithBinEqualsTheProgramsOwn) {
    profiles_fixture f(fixture("profiles-stripped"));
    ASSERT_FALSE(f.addr.empty());
    std::string file;
    expect_same_as_own(f, "heap", " --bin " + fixture("profiles-plain"), &file);
}

// A program that never reads its memory profile (the lifecycle fixture, lefthook): the linker set
// runtime.disableMemoryProfiling and the runtime records nothing. gmon says so and writes no file; so does a
// program that set MemProfileRate to 0.
TEST(HeapProfile, ProfilingTurnedOffIsSaidNotWritten) {
    std::string out = scratch_dir() + "/off.pb.gz";
    for (const char *v : {"plain", "stripped"}) {
        running_fixture f(fixture(std::string("lifecycle-") + v));
        auto r = gmon("pprof heap --pid " + std::to_string(f.pid) + " -o " + out);
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_NE(r.err.find("the linker turned memory profiling off"), std::string::npos) << r.err;
        EXPECT_NE(access(out.c_str(), F_OK), 0) << "no file is written";
    }
    profiles_fixture zero(fixture("profiles-stripped") + " -memrate 0");
    auto r = gmon("pprof allocs --pid " + zero.pid() + " -o " + out);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("runtime.MemProfileRate is 0"), std::string::npos) << r.err;
    EXPECT_NE(access(out.c_str(), F_OK), 0) << "no file is written";
}

// Where the profile goes: -o - is stdout (gzip data); without -o on a terminal (script(1) gives gmon one), a
// file named after the kind, the process and the time, in the current directory, which gmon names.
TEST(HeapProfile, StdoutOrANamedFile) {
    profiles_fixture f(fixture("profiles-plain"));
    ASSERT_FALSE(f.addr.empty());
    auto piped = gmon("pprof allocs --pid " + f.pid() + " -o -");
    ASSERT_EQ(piped.status, 0) << piped.err;
    ASSERT_GE(piped.out.size(), 2u);
    EXPECT_EQ(piped.out.substr(0, 2), "\x1f\x8b") << "gzip";
    std::string dir = scratch_dir() + "/named-" + f.pid();
    run("mkdir -p " + dir);
    auto tty = run("sh -c 'cd " + dir + " && script -qec \"" + std::string(GMON_BINARY) +
                   " pprof heap --pid " + f.pid() + "\" /dev/null'");
    ASSERT_EQ(tty.status, 0) << tty.out << tty.err;
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(tty.out, m, std::regex("wrote (heap-" + f.pid() + R"(-\d{8}T\d{6}\.pb\.gz))")))
        << tty.out;
    auto top = run(std::string(GO_EXECUTABLE) + " tool pprof -top " + dir + "/" + m[1].str());
    EXPECT_EQ(top.status, 0) << top.err;
    EXPECT_NE(top.out.find("main.allocSmall"), std::string::npos) << top.out;
}

TEST(HeapProfile, BadInputIsRefusedWithOneLine) {
    auto none = gmon("pprof heap");
    EXPECT_EQ(none.status, 2);
    EXPECT_NE(none.err.find("--pid"), std::string::npos) << none.err;
    auto self = gmon("pprof heap --pid " + std::to_string(getpid()) + " -o " + scratch_dir() + "/self.pb.gz");
    EXPECT_EQ(self.status, 2) << self.err; // not a Go program
    EXPECT_EQ(std::count(self.err.begin(), self.err.end(), '\n'), 1) << self.err;
    auto other = gmon("pprof threadcreate --pid 1");
    EXPECT_EQ(other.status, 2);
    EXPECT_NE(other.err.find("goroutine, heap, allocs"), std::string::npos) << other.err;
}

class HeapProfileCorpus : public ::testing::TestWithParam<corpus_entry> {};

// Real stripped releases (go1.17 to go1.26) after bundling: go tool pprof reads the heap profile, whose
// samples have esbuild's own frames, and the rate, globals and record layout of each release are right (the
// in-use objects of a sample are never more than it allocated; the in-use total agrees with gmon heap).
TEST_P(HeapProfileCorpus, RealStrippedReleasesGiveProfilesPprofReads) {
    const corpus_entry &e = GetParam();
    // 300 modules: megabytes allocated, so that the 512 KiB sampling leaves several buckets (one module left
    // one to three). A sample joins the profile two GC cycles after its malloc (mProf_Malloc records into
    // the cycle C+2 slot; mProf_Flush publishes it; runtime/mprof.go, go1.17 on). At GOGC=100 the build
    // ran two cycles: 4 to 12 samples were published, and 2 (none of esbuild's own) in one loaded CI run.
    // GOGC=25 runs nine or ten: 9 to 19 samples, in 20 runs with and without two busy cores beside.
    idle_esbuild watch(e, "heap", generated_project() + "/entry.js", "25");
    ASSERT_FALSE(watch.pid.empty()) << "esbuild --watch is not running";
    std::string file = scratch_dir() + "/heap-" + e.name + ".pb.gz";
    auto r = gmon("pprof heap --pid " + watch.pid + " -o " + file);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("one allocation sampled per 524288 bytes"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("did not read as one"), std::string::npos) << r.err;
    std::string header;
    auto samples = raw_samples(file, &header);
    EXPECT_GE(samples.size(), 3u) << header;
    int own = 0;
    for (const auto &s : samples) {
        own += s.stack.find("github.com/evanw/esbuild/") != std::string::npos;
        std::istringstream in(s.values);
        long long alloc_objects, alloc_space, inuse_objects, inuse_space;
        ASSERT_TRUE(in >> alloc_objects >> alloc_space >> inuse_objects >> inuse_space) << s.values;
        EXPECT_LE(inuse_objects, alloc_objects) << s.text();
        EXPECT_LE(inuse_space, alloc_space) << s.text();
        EXPECT_EQ(s.stack.find("?"), std::string::npos) << s.text();
    }
    EXPECT_GE(own, 1) << "no sample in esbuild's own code";
    // In-use totals consistent with gmon heap: the profile's estimate (from a few dozen samples at one per
    // 512 KiB) is some heap, and at most twice the heap in use now. Not bounded below by the heap the last
    // GC marked: a malloc reaches the profile only two GC cycles after it happened, and an idle esbuild may
    // have collected once since its last allocations (1 run in 7 had a quarter of the marked heap or less).
    auto heap = gmon("heap --pid " + watch.pid + " --json");
    ASSERT_EQ(heap.status, 0) << heap.err;
    uint64_t inuse = object_u(heap.out, "heap", "inuse_bytes");
    ASSERT_NE(inuse, ~0ull) << heap.out;
    long long profiled = 0;
    for (const auto &s : samples) {
        long long v[4] = {0, 0, 0, 0};
        std::istringstream(s.values) >> v[0] >> v[1] >> v[2] >> v[3];
        profiled += v[3];
    }
    EXPECT_GT(profiled, 0) << heap.out;
    EXPECT_LE(profiled, (long long)(inuse * 2)) << heap.out;
}

INSTANTIATE_TEST_SUITE_P(Npm, HeapProfileCorpus, ::testing::ValuesIn(esbuild_corpus()), corpus_test_name);

class HeapProfileLefthook : public ::testing::TestWithParam<corpus_entry> {};

// lefthook (go1.21, go1.24, go1.27, stripped) never reads its memory profile: gmon finds the linker's flag in
// the code of each release (runtime.schedinit) and says profiling is off.
TEST_P(HeapProfileLefthook, TheLinkersFlagIsFoundAndSaid) {
    waiting_lefthook hook(GetParam(), "heap");
    ASSERT_FALSE(hook.pid.empty()) << hook.proc->out() << hook.proc->err();
    auto r = gmon("pprof heap --pid " + hook.pid + " -o " + scratch_dir() + "/lefthook.pb.gz");
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("the linker turned memory profiling off"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Npm, HeapProfileLefthook, ::testing::ValuesIn(lefthook_corpus()), corpus_test_name);

// The bucket reader on crafted memory: a list that loops back, a bucket with more PCs than any release
// records, and a head that leads nowhere each stop the walk with a reason, never read beyond the bounds.
namespace {

struct crafted {
    std::vector<uint64_t> words; // at base
    static constexpr uint64_t base = 0x10000;
    static bool read(void *ctx, uint64_t addr, void *buf, size_t len) {
        auto *c = static_cast<crafted *>(ctx);
        size_t size = c->words.size() * 8;
        if (addr < base || addr - base > size || len > size - (addr - base))
            return false;
        memcpy(buf, reinterpret_cast<const uint8_t *>(c->words.data()) + (addr - base), len);
        return true;
    }
    // A bucket at word index at: header, nstk PCs, a record of 16 words (1.17-1.26 layout).
    void bucket(size_t at, uint64_t allnext, uint64_t nstk) {
        words.resize(std::max(words.size(), at + 6 + nstk + 16));
        uint64_t header[6] = {0, allnext, 1, 0, 64, nstk};
        std::copy(header, header + 6, words.begin() + at);
        for (uint64_t i = 0; i < nstk && nstk < 64; i++)
            words[at + 6 + i] = 0x401000 + i;
        words[at + 6 + nstk] = 3; // active.allocs
        words[at + 6 + nstk + 2] = 192;
    }
};

} // namespace

TEST(MemBuckets, CraftedListsStopWithAReason) {
    gmon_error err;
    mem_buckets m;
    crafted loop;
    loop.words = {crafted::base + 8};
    loop.bucket(1, crafted::base + 8 * 30, 2);
    loop.bucket(30, crafted::base + 8, 2); // back to the first
    ASSERT_EQ(mem_buckets_read(crafted::read, &loop, crafted::base, 19, 0, &m, &err), 0);
    EXPECT_NE(std::string(m.stopped).find("comes back"), std::string::npos) << m.stopped;
    EXPECT_LE(m.n, 4u);
    EXPECT_EQ(m.b[0].r.allocs, 3);
    EXPECT_EQ(m.b[0].r.alloc_bytes, 192);
    mem_buckets_free(&m);

    crafted deep;
    deep.words = {crafted::base + 8};
    deep.bucket(1, 0, MEM_BUCKET_MAX_DEPTH + 1);
    ASSERT_EQ(mem_buckets_read(crafted::read, &deep, crafted::base, 23, 0, &m, &err), 0);
    EXPECT_EQ(m.n, 0u);
    EXPECT_NE(std::string(m.stopped).find("not a memory-profile bucket"), std::string::npos) << m.stopped;
    mem_buckets_free(&m);

    crafted nowhere;
    nowhere.words = {0xdead0000};
    uint64_t head = crafted::base;
    EXPECT_EQ(mem_buckets_pick_head(crafted::read, &nowhere, &head, 1), -1);
    ASSERT_EQ(mem_buckets_read(crafted::read, &nowhere, crafted::base, 19, 0, &m, &err), 0);
    EXPECT_NE(std::string(m.stopped).find("unreadable"), std::string::npos) << m.stopped;
    mem_buckets_free(&m);
    EXPECT_NE(mem_buckets_read(crafted::read, &nowhere, 0x100, 19, 0, &m, &err), 0) << "an unreadable head";
}
