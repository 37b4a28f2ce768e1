// Live tracing of real stripped Go binaries built by other Go releases (esbuild from npm, go1.17 to go1.26):
// esbuild bundles a generated project of 300 modules with and without gmon attached.
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

INSTANTIATE_TEST_SUITE_P(Npm, LifecycleCorpus, ::testing::ValuesIn(esbuild_corpus()), corpus_test_name);

} // namespace
