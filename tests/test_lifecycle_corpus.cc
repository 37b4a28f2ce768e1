// Live tracing of real stripped Go binaries built by other Go releases (esbuild from npm, go1.17 to go1.26):
// esbuild bundles a generated project of 300 modules with and without gmon attached.
#include <cmath>
#include <csignal>
#include <set>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

class LifecycleCorpus : public ::testing::TestWithParam<corpus_entry> {};

TEST_P(LifecycleCorpus, TracesRealStrippedBinaryWithoutChangingItsOutput) {
    const corpus_entry &e = GetParam();
    std::string bin = private_copy(corpus(e.name), "live");
    ASSERT_FALSE(bin.empty());
    std::string project = generated_project();
    std::string bundle = bin + " " + project + "/entry.js --bundle --log-level=warning --outfile=";
    auto reference = run(bundle + scratch_dir() + "/" + e.name + "-ref.js");
    ASSERT_EQ(reference.status, 0) << reference.err;

    background g(gmon_command("--path " + bin + " --format json --metrics 0"));
    if (!attached(g))
        return;
    background traced(bundle + scratch_dir() + "/" + e.name + "-traced.js");
    ASSERT_EQ(traced.wait(60), 0) << traced.err();
    usleep(300 * 1000);
    g.signal(SIGINT);
    ASSERT_EQ(g.wait(10), 0) << g.err();

    std::string want = read_file(scratch_dir() + "/" + e.name + "-ref.js");
    EXPECT_FALSE(want.empty());
    EXPECT_EQ(read_file(scratch_dir() + "/" + e.name + "-traced.js"), want) << "esbuild's output changed";

    auto goroutines = traced_goroutines(g.out(), traced.pid());
    size_t created = 0, exited = 0, esbuild_stacks = 0, whole_stacks = 0;
    for (const auto &[goid, t] : goroutines) {
        EXPECT_GT(goid, 0);
        EXPECT_TRUE(t.created || !t.exited) << "goroutine " << goid << " exited without being created";
        created += t.created;
        exited += t.exited;
        for (const auto &frame : t.stack)
            if (frame.rfind("github.com/evanw/esbuild/", 0) == 0) {
                esbuild_stacks++;
                break;
            }
        whole_stacks +=
            !t.stack.empty() && t.stack.back() == "runtime.goexit"; // walked to the outermost frame
        if (t.exited) {
            EXPECT_GE(t.lifetime_ms, 0);
        }
    }
    EXPECT_GT(created, 600u) << e.name << ": esbuild starts goroutines per file and per phase";
    EXPECT_GT(esbuild_stacks, 600u) << "stacks must name esbuild's own functions";
    EXPECT_GT(whole_stacks, 600u) << "the frame-pointer walk must reach the goroutine's outermost frame";
    EXPECT_GT(exited, created - 20) << "worker goroutines exit before the process does";
    EXPECT_NE(g.err().find("losses: 0 events lost"), std::string::npos) << g.err();
    EXPECT_NE(g.err().find(" 0 stack walks failed"), std::string::npos) << g.err();
}

// --exits poll reads goid and status at each release's offsets: a second gmon, with the goexit1 probe, traces
// the same run of esbuild, and what the scan reports must be what the probe saw. esbuild runs in watch mode,
// which keeps it on half a second after its build has written the output: every exit the probe saw at least
// 300 ms before the process ended must be found, with a close lifetime. Exits in its last moments may not be
// (its memory is gone by the next scan: a documented limit of the mode).
TEST_P(LifecycleCorpus, ExitScanAgreesWithTheExitProbe) {
    const corpus_entry &e = GetParam();
    std::string bin = private_copy(corpus(e.name), "exitscan");
    ASSERT_FALSE(bin.empty());
    std::string project = generated_project(), output = scratch_dir() + "/" + e.name + "-scan.js",
                stamp = scratch_dir() + "/" + e.name + "-scan.end";
    run("rm -f " + output + " " + stamp);
    background probe(gmon_command("--path " + bin + " --format json --metrics 0"));
    background scan(
        gmon_command("--path " + bin + " --format json --metrics 0 --exits poll --exit-scan-ms 5"));
    if (!attached(probe) || !attached(scan))
        return;
    background traced(esbuild_watch_command(
        bin + " " + project + "/entry.js --bundle --log-level=warning --outfile=", output, stamp));
    ASSERT_EQ(traced.wait(60), 0) << traced.err();
    double ended = std::atof(read_file(stamp).c_str()); // esbuild's stdin closed: it ends after this
    ASSERT_GT(ended, 0) << stamp;
    usleep(300 * 1000);
    probe.signal(SIGINT);
    scan.signal(SIGINT);
    ASSERT_EQ(probe.wait(10), 0) << probe.err();
    ASSERT_EQ(scan.wait(10), 0) << scan.err();

    pid_t esbuild = only_traced_pid(probe.out());
    auto truth = traced_goroutines(probe.out(), esbuild);
    auto seen = traced_goroutines(scan.out(), esbuild);
    size_t exited = 0, early = 0, found = 0, found_early = 0, close = 0;
    auto is_early = [&](const traced_goroutine &t) { return t.exited && t.exited_at_s < ended - 0.3; };
    for (const auto &[goid, t] : truth) {
        exited += t.exited;
        early += is_early(t);
    }
    for (const auto &[goid, s] : seen) {
        SCOPED_TRACE(e.name + " goroutine " + std::to_string(goid));
        auto it = truth.find(goid);
        ASSERT_NE(it, truth.end()) << "the scan reported a goroutine the probes never saw";
        EXPECT_EQ(s.created, it->second.created);
        if (!s.exited)
            continue;
        found++;
        found_early += is_early(it->second);
        ASSERT_TRUE(it->second.exited) << "the scan found an exit the goexit1 probe never saw";
        double off = s.lifetime_ms - it->second.lifetime_ms;
        EXPECT_LT(std::abs(off), 100) << "scan " << s.lifetime_ms << " ms, probe " << it->second.lifetime_ms;
        close += std::abs(off) <= 25;
    }
    EXPECT_GT(exited, 600u) << e.name;
    EXPECT_GT(early, exited / 2) << e.name << ": the build's workers end well before the process";
    EXPECT_EQ(found_early, early) << e.name << ": " << found << " of " << exited << " exits found";
    // Scans 5 ms apart put a lifetime within a few ms of the probe's; 25 ms leaves room for the stalls of two
    // gmons and esbuild on two cores under the sanitizers (exits come in bursts: one stall moves many).
    EXPECT_GT(close, found * 9 / 10) << e.name << ": lifetimes within 25 ms of the probe's";
    EXPECT_NE(scan.err().find("losses: 0 events lost"), std::string::npos) << scan.err();
    EXPECT_EQ(scan.err().find("please report"), std::string::npos) << scan.err();
}

INSTANTIATE_TEST_SUITE_P(Npm, LifecycleCorpus, ::testing::ValuesIn(esbuild_corpus()), corpus_test_name);

} // namespace
