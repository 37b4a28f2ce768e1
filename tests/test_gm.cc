// gmon gm: allocations by size class and by allocating stack, on the Go 1.19 fixture (every variant) and on
// real stripped binaries from go1.17 to go1.27 (esbuild bundling, lefthook parsing a large config).
#include <csignal>
#include <regex>
#include <set>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

// The final ("since gmon attached") "allocations" record and the "allocation site" records.
struct gm_output {
    std::string classes;
    std::vector<std::string> sites;
};

gm_output parse(const std::string &out) {
    gm_output got;
    for (const auto &l : lines(out)) {
        if (json_field(l, "msg") == "allocation site")
            got.sites.push_back(l);
        else if (json_field(l, "span") == "since_attach")
            got.classes = l;
    }
    return got;
}

// count_by_class (or bytes_by_class) as a map from class name ("3072B", "large") to its value.
std::map<std::string, long long> by_class(const std::string &record,
                                          const std::string &field = "count_by_class") {
    std::map<std::string, long long> got;
    size_t at = record.find("\"" + field + "\":{");
    if (at == std::string::npos)
        return got;
    std::string group = record.substr(at, record.find('}', at) - at);
    std::regex entry(R"re("([0-9]+B|large)":([0-9]+))re");
    for (std::sregex_iterator i(group.begin(), group.end(), entry), end; i != end; ++i)
        got[(*i)[1]] = std::stoll((*i)[2]);
    return got;
}

const std::vector<int> SIZES = {3000, 5000, 9000, 20000, 50000, 100};
const std::vector<std::string> CLASSES = {"3072B", "5376B", "9472B", "20480B", "large", "112B"};

std::string alloc_workload(const std::string &bin, int k) {
    std::string cmd = bin + " alloc " + std::to_string(k);
    for (int s : SIZES)
        cmd += " " + std::to_string(s);
    return cmd;
}

class GmFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(GmFixture, EverySizeLandsInItsClassAndTheSiteIsExact) {
    const int k = 2000;
    std::string bin = private_copy(fixture("lifecycle-" + GetParam()), "gm");
    background g(gmon_command("gm --format json --interval 0 --by site --top 3 --path " + bin));
    trace_workload(g, alloc_workload(bin, k));
    gm_output out = parse(g.out());
    auto counts = by_class(out.classes);
    for (const auto &cls : CLASSES) {
        EXPECT_GE(counts[cls], k) << cls << "\n" << out.classes;
        if (cls != "large" && cls != "112B") { // classes the runtime itself hardly uses
            EXPECT_LE(counts[cls], k + 10) << cls << "\n" << out.classes;
        }
    }
    ASSERT_FALSE(out.sites.empty()) << g.out();
    const std::string &top = out.sites[0];
    EXPECT_EQ(json_field(top, "function"), "main.allocate") << top;
    EXPECT_NE(json_field(top, "location").find("alloc.go:"), std::string::npos) << top;
    long long bytes = 0;
    for (int s : SIZES)
        bytes += (long long)k * s;
    EXPECT_EQ(std::stoll(json_field(top, "count")), (long long)k * (long long)SIZES.size()) << top;
    EXPECT_EQ(std::stoll(json_field(top, "bytes")), bytes) << top;
    EXPECT_EQ(json_strings(top, "stack").at(1), "main.allocateEach") << top;
    EXPECT_EQ(json_field(top, "via"), "runtime.makeslice") << top;
    EXPECT_NE(g.err().find("losses: 0 stacks not stored"), std::string::npos) << g.err();
}

INSTANTIATE_TEST_SUITE_P(Go119, GmFixture, ::testing::Values("plain", "stripped", "pie", "cgo"));

// 1 in 10 at random: 5,000 allocations per class give ~500 samples (sd ~21), scaled by 10. 25% is over 5 sd.
TEST(Gm, SampledCountsAreScaledWithinStatisticalError) {
    const int k = 5000;
    std::string bin = private_copy(fixture("lifecycle-plain"), "gm-sample");
    background g(gmon_command("gm --sample 10 --format json --interval 0 --path " + bin));
    trace_workload(g, alloc_workload(bin, k));
    auto counts = by_class(parse(g.out()).classes);
    for (const auto &cls : CLASSES) {
        EXPECT_GT(counts[cls], k * 0.75) << cls << "\n" << g.out();
        EXPECT_LT(counts[cls], k * 1.25) << cls << "\n" << g.out();
        EXPECT_EQ(counts[cls] % 10, 0) << "scaled counts are multiples of the rate";
    }
}

TEST(Gm, TableShowsClassesFromFirstToLastAndTheTopStacks) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "gm-table");
    background g(gmon_command("gm --interval 0 --by site --top 2 --path " + bin));
    trace_workload(g, alloc_workload(bin, 100));
    std::string out = g.out();
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(\n +size class : count +bytes +distribution\n)")))
        << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(\n +3072B : \d+ +[0-9.]+KiB +\|\**)"))) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(\n +large : \d+ +[0-9.]+MiB +\|)"))) << out;
    EXPECT_TRUE(std::regex_search(
        out,
        std::regex(
            R"(\n  [0-9.]+MiB +600 +main\.allocate \(.*alloc\.go:\d+\) <- main\.allocateEach <- main\.main)")))
        << out;
}

// One process, no --by site: the runtime's own per-class counters, no probe; exact. The fixture allocates K
// objects of each size once SIGUSR1 comes, with gmon reading it before and after (the counts between are
// those allocations, and the few the runtime and the program make meanwhile, in other classes).
class GmCounters : public ::testing::TestWithParam<std::string> {};

TEST_P(GmCounters, ExactCountsFromTheRuntimesOwnCounters) {
    const int k = 2000;
    std::string cmd =
        "sleep 60 | " + fixture("lifecycle-" + GetParam()) + " alloc-on-signal " + std::to_string(k);
    for (int s : SIZES)
        cmd += " " + std::to_string(s);
    background f("sh -c '" + cmd + "'");
    ASSERT_TRUE(f.wait_for("ready", 20000)) << f.err();
    pid_t pid = (pid_t)std::stol(f.out().substr(6));
    background g(gmon_command("gm --format json --interval 0 --pid " + std::to_string(pid)));
    ASSERT_TRUE(g.wait_for("no probe", 20000, true)) << g.err();
    kill(pid, SIGUSR1);
    ASSERT_TRUE(f.wait_for("allocated", 20000)) << f.out();
    usleep(600 * 1000); // two of gmon's reads
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(20), 0) << g.err();
    auto got = by_class(parse(g.out()).classes);
    for (const auto &c : CLASSES)
        EXPECT_EQ(got[c], k) << c << "\n" << g.out();
    auto bytes = by_class(parse(g.out()).classes, "bytes_by_class");
    EXPECT_EQ(bytes["3072B"], 3072LL * k) << "the class's size: the memory handed out";
    EXPECT_EQ(bytes["large"], 57344LL * k)
        << "large objects: their spans' bytes, 50000 rounded up to 7 pages";
    EXPECT_EQ(g.err().find("probes attached"), std::string::npos) << g.err();
    kill(pid, SIGKILL);
}

INSTANTIATE_TEST_SUITE_P(Go119, GmCounters, ::testing::Values("plain", "stripped", "pie", "cgo"));

// --by site of one process that profiles its memory (the lifecycle fixture, whose linker turned profiling
// off, setting runtime.MemProfileRate = 524288 itself): the probe is the memory profiler's sampling point,
// one trap per 512 KiB allocated on average rather than one per allocation. main.allocate's 2K allocations (K
// of 3,000 and K of 50,000 bytes: 3,072 and 57,344 bytes handed out) are estimated as pprof estimates them,
// within 20 %. The count's error comes from the small allocations: one in 171 is sampled (1 -
// e^(-3072/524288)), so K = 5,000 gave 29 samples and a standard error of 9 % of the count (a run 21 % off
// failed); K = 20,000 gives 117 samples and 4.6 %, the bound over four standard errors. The bytes' error is
// half that.
TEST(Gm, BySiteOfAProfilingProgramProbesTheSamplingPoint) {
    const long k = 20000;
    background f("sh -c 'sleep 60 | env LIFECYCLE_MEMPROFILERATE=524288 " + fixture("lifecycle-plain") +
                 " alloc-on-signal " + std::to_string(k) + " 3000 50000'");
    ASSERT_TRUE(f.wait_for("ready", 20000)) << f.err();
    pid_t pid = (pid_t)std::stol(f.out().substr(6));
    background g(
        gmon_command("gm --by site --top 3 --format json --interval 0 --pid " + std::to_string(pid)));
    ASSERT_TRUE(g.wait_for("probes attached", 30000, true)) << g.err();
    EXPECT_NE(
        g.err().find("probing the memory profiler's sampling point (runtime.profilealloc): 1 allocation "
                     "per 524288 bytes"),
        std::string::npos)
        << g.err();
    kill(pid, SIGUSR1);
    ASSERT_TRUE(f.wait_for("allocated", 20000)) << f.out();
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(20), 0) << g.err();
    gm_output out = parse(g.out());
    ASSERT_FALSE(out.sites.empty()) << g.out() << g.err();
    const std::string &top = out.sites[0];
    EXPECT_EQ(json_field(top, "function"), "main.allocate") << top;
    EXPECT_EQ(json_field(top, "via"), "runtime.makeslice")
        << "the allocator's own frames are not what via names";
    double count = std::stod(json_field(top, "count")), bytes = std::stod(json_field(top, "bytes"));
    EXPECT_NEAR(count, 2.0 * k, 0.2 * 2 * k) << top;
    EXPECT_NEAR(bytes, k * (3072.0 + 57344.0), 0.2 * k * (3072.0 + 57344.0)) << top;
    EXPECT_EQ(json_field(out.classes, "memprofilerate"), "524288") << out.classes;
    std::smatch m;
    std::string err = g.err();
    ASSERT_TRUE(
        std::regex_search(err, m, std::regex(R"(memory profiler samples \(sampling-point hits\): (\d+))")))
        << err;
    EXPECT_LT(std::stol(m[1]), k / 2) << "a trap per sample, not per allocation";
    EXPECT_GT(std::stol(m[1]), 100);
    kill(pid, SIGKILL);
}

// Without memory profiling (the fixture as built: its linker turned it off), --by site probes every
// allocation, and says why.
TEST(Gm, BySiteWithoutMemoryProfilingProbesEveryAllocation) {
    running_fixture f(fixture("lifecycle-stripped"));
    ASSERT_GT(f.pid, 0);
    auto r = run(gmon_command("gm --by site --interval 0 --duration 1 --pid " + std::to_string(f.pid)));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(
        r.err.find("runtime.MemProfileRate is 0: the program does not profile its memory: probing every "
                   "allocation"),
        std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("allocator probe hits: "), std::string::npos) << r.err;
}

TEST(Gm, BadInputIsRefusedWithOneLine) {
    for (const char *args : {"gm", "gm --sample 0 --path /bin/true", "gm --by pid --path /bin/true",
                             "gm --top x --path /bin/true", "gm --pid 999999999", "gm --path /bin/ls"}) {
        auto r = run(gmon_command(args));
        EXPECT_EQ(r.status, 2) << args << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << args << ": " << r.err;
    }
}

// The packages of the Go runtime (written out here, apart from gmon's own list in symbolize/).
bool runtime_code(const std::string &function) {
    for (const char *prefix : {"runtime.", "runtime/internal/", "internal/runtime/"})
        if (function.rfind(prefix, 0) == 0)
            return true;
    return false;
}

class GmCorpus : public ::testing::TestWithParam<corpus_entry> {};

TEST_P(GmCorpus, RealStrippedBinariesAllocateInTheirReleasesClasses) {
    const corpus_entry &e = GetParam();
    std::string bin = private_copy(corpus(e.name), "gm-" + e.name);
    corpus_workload w(e, bin, "gm");
    background g(gmon_command("gm --format json --interval 0 --by site --top 50 --path " + bin));
    trace_workload(g, w.command);
    EXPECT_EQ(read_file(w.traced), read_file(w.reference)) << "the program's output changed";
    gm_output out = parse(g.out());
    std::set<std::string> classes = {"large"};
    for (int s :
         {8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,  160,   176,   192,
          208,   224,   240,   256,   288,   320,   352,   384,   416,   448,   480,  512,   576,   640,
          704,   768,   896,   1024,  1152,  1280,  1408,  1536,  1792,  2048,  2304, 2688,  3072,  3200,
          3456,  4096,  4864,  5376,  6144,  6528,  6784,  6912,  8192,  9472,  9728, 10240, 10880, 12288,
          13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768})
        classes.insert(std::to_string(s) + "B");
    auto counts = by_class(out.classes);
    long long total = 0;
    for (const auto &[cls, n] : counts) {
        EXPECT_TRUE(classes.count(cls)) << cls << " is not a class of " << e.go_version;
        total += n;
    }
    EXPECT_GT(total, 10000) << out.classes << g.err();
    EXPECT_GE(out.sites.size(), 5u) << g.out();
    for (const auto &s : out.sites)
        EXPECT_NE(json_field(s, "function").find('.'), std::string::npos) << "a named function: " << s;
    // A stack that reaches the program's own code is blamed on it, never on the runtime's allocator entry
    // points or, from Go 1.24, on the map code in internal/runtime/maps.
    for (const auto &s : out.sites) {
        auto stack = json_strings(s, "stack");
        bool program_code = false;
        for (const auto &f : stack)
            program_code |= !runtime_code(f);
        if (program_code) {
            EXPECT_FALSE(runtime_code(json_field(s, "function"))) << s;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Npm, GmCorpus, ::testing::ValuesIn(corpus_manifest()), corpus_test_name);

} // namespace
