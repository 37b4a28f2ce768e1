// gmon pprof creation|live against what the lifecycle fixture did: after gmon attached, on SIGUSR1 it spawns
// 40 workers from main.spawnWorkers that each live 300 ms, then leaves 7 goroutines of main.leak blocked for
// good. The creation profile must hold exactly those two creation stacks with those counts (40 created and
// exited, lifetimes summing to at least 40 x 300 ms; 7 created, none exited, 7 live), the full stack of each
// go statement (the function, main.main, runtime.main); the live (leak) profile exactly the 7, with their
// ages. Real BPF, real process, go tool pprof reading the files.
#include <csignal>
#include <regex>
#include <set>
#include <sstream>

#include "lifecycle_support.h"
#include "pprof_raw.h"

using namespace gmon_test;

namespace {

struct traced_leak {
    std::unique_ptr<background> fixture, creation, live;
    std::string pid, dir;
};

// The fixture waiting for its signal, and gmon tracing it for both profiles (--pid, or --path when by_path);
// returns once the fixture has leaked and both gmon runs, stopped by Ctrl-C a second later, have ended. (Not
// --duration: each run's window starts at its own attach, seconds apart when the two compile side by side.)
void run_leak(traced_leak &t, const std::string &bin, bool by_path, const std::string &extra_args = "") {
    pid_t pid;
    t.fixture = start_leaking_fixture(bin, 40, 7, 300, &pid);
    ASSERT_NE(pid, 0);
    t.pid = std::to_string(pid);
    t.dir = scratch_dir() + "/creation-" + t.pid;
    run("mkdir -p " + t.dir);
    std::string target = by_path ? "--path " + bin : "--pid " + t.pid;
    t.creation = std::make_unique<background>(std::string(GMON_BINARY) + " pprof creation " + target +
                                              " --duration 60 -o " + t.dir + "/creation.pb.gz" + extra_args);
    t.live = std::make_unique<background>(std::string(GMON_BINARY) + " pprof live " + target +
                                          " --duration 60 -o " + t.dir + "/live.pb.gz" + extra_args);
    ASSERT_TRUE(t.creation->wait_for("probes attached", 30000, true)) << t.creation->err();
    ASSERT_TRUE(t.live->wait_for("probes attached", 30000, true)) << t.live->err();
    kill(std::stoi(t.pid), SIGUSR1);
    ASSERT_TRUE(t.fixture->wait_for("leaked", 20000)) << t.fixture->out();
    sleep(1);
    t.creation->signal(SIGINT);
    t.live->signal(SIGINT);
    EXPECT_EQ(t.creation->wait(40), 0) << t.creation->err();
    EXPECT_EQ(t.live->wait(40), 0) << t.live->err();
}

// The sample whose innermost frame is function leaf.
const raw_sample *leaf(const std::vector<raw_sample> &samples, const std::string &function) {
    for (const auto &s : samples)
        if (s.stack.find(" " + function + " ") < s.stack.find('\n'))
            return &s;
    return nullptr;
}

std::vector<long long> numbers(const std::string &values) {
    std::vector<long long> out;
    std::istringstream in(values);
    for (long long v; in >> v;)
        out.push_back(v);
    return out;
}

void expect_full_stack(const raw_sample &s, const std::string &function) {
    EXPECT_TRUE(
        std::regex_search(s.stack, std::regex("^0x[0-9a-f]+ " + function +
                                              R"( \S+/lifecycle/main\.go:\d+ s=\d+\n)"
                                              R"(0x[0-9a-f]+ main\.main \S+/lifecycle/main\.go:\d+ s=\d+\n)"
                                              R"(0x[0-9a-f]+ runtime\.main \S+/proc\.go:\d+ s=\d+\n$)")))
        << s.stack;
}

// min_worker_lifetime_ns: what each worker's lifetime is at least as gmon measures it.
void expect_profiles(const traced_leak &t, const std::string &label,
                     long long min_worker_lifetime_ns = 300000000ll) {
    std::string header;
    auto created = raw_samples(t.dir + "/creation.pb.gz", &header);
    EXPECT_NE(header.find("created/count[dflt] exited/count live/count lifetime/nanoseconds"),
              std::string::npos)
        << header;
    ASSERT_EQ(created.size(), 2u) << header;
    const raw_sample *workers = leaf(created, "main.spawnWorkers"), *leaks = leaf(created, "main.leak");
    ASSERT_NE(workers, nullptr);
    ASSERT_NE(leaks, nullptr);
    auto w = numbers(workers->values), l = numbers(leaks->values);
    ASSERT_EQ(w.size(), 4u);
    EXPECT_EQ(w[0], 40);
    EXPECT_EQ(w[1], 40);
    EXPECT_EQ(w[2], 0);
    EXPECT_GE(w[3], 40 * min_worker_lifetime_ns) << "each worker lives 300 ms";
    EXPECT_LT(w[3], 40 * 3000000000ll);
    EXPECT_EQ(l, (std::vector<long long>{7, 0, 7, 0}));
    expect_full_stack(*workers, "main.spawnWorkers");
    expect_full_stack(*leaks, "main.leak");
    EXPECT_EQ(workers->labels, label);
    auto live = raw_samples(t.dir + "/live.pb.gz", nullptr);
    ASSERT_EQ(live.size(), 1u);
    auto a = numbers(live[0].values);
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0], 7);
    EXPECT_GT(a[1], 7 * 100000000ll) << "leaked over a second before the end";
    expect_full_stack(live[0], "main.leak");
    EXPECT_EQ(live[0].labels, label);
    auto top = run(std::string(GO_EXECUTABLE) + " tool pprof -top " + t.dir + "/live.pb.gz");
    EXPECT_NE(top.out.find("Type: live"), std::string::npos) << top.out;
}

} // namespace

// One process (--pid), PIE: the stacks symbolized at the process's load address.
TEST(CreationProfile, CountsAndStacksOfWhatTheProgramDid) {
    traced_leak t;
    run_leak(t, fixture("lifecycle-pie"), false);
    if (HasFatalFailure())
        return;
    expect_profiles(t, "");
}

// Every process running a stripped binary (--path): the same profiles, each sample labelled with its pid.
TEST(CreationProfile, PathTracesLabelEachSampleWithItsPid) {
    traced_leak t;
    run_leak(t, fixture("lifecycle-stripped"), true);
    if (HasFatalFailure())
        return;
    expect_profiles(t, "pid:[" + t.pid + "] ");
}

// --exits poll on both profiles: the same counts and stacks from one probe, the exits read from the fixture's
// memory (a lifetime may come out short by half the time between two scans: 10 ms apart, up to 100 ms when
// gmon is held up, and the 40 workers exit together, so one delay shortens them all), and the live profile
// exact from the last scan.
TEST(CreationProfile, PolledExitsGiveTheSameProfiles) {
    traced_leak t;
    run_leak(t, fixture("lifecycle-pie"), false, " --exits poll");
    if (HasFatalFailure())
        return;
    expect_profiles(t, "", 250000000ll); // each lifetime within half the time between scans
    for (const auto *g : {t.creation.get(), t.live.get()}) {
        EXPECT_NE(g->err().find(", 1 uprobe,"), std::string::npos) << g->err();
        EXPECT_TRUE(
            std::regex_search(g->err(), std::regex(R"(\b40 exited while traced \(found by \d+ scans)")))
            << g->err();
    }
}

// --path over 30 runs of a PIE program that ends with 3,000 goroutines of main.park blocked (90,000 in all;
// the live map holds 65,536): each process's goroutines are forgotten once it has ended, so every one is
// tracked; the creation profile counts them all, named with each process's own load bias, none live; the live
// profile is empty, since they ended with their processes.
TEST(CreationProfile, PathForgetsTheGoroutinesOfEndedProcesses) {
    std::string bin = private_copy(fixture("lifecycle-pie"), "creation-forget");
    std::string dir = scratch_dir() + "/creation-forget";
    run("mkdir -p " + dir);
    background live(gmon_command("pprof live --path " + bin + " -o " + dir + "/live.pb.gz"));
    ASSERT_TRUE(live.wait_for("probes attached", 30000, true)) << live.err();
    background creation(gmon_command("pprof creation --path " + bin + " -o " + dir + "/creation.pb.gz"));
    trace_programs_that_end_with_goroutines_blocked(creation, bin);
    live.signal(SIGINT);
    EXPECT_EQ(live.wait(10), 0) << live.err();
    for (const auto *g : {&creation, &live})
        EXPECT_EQ(g->err().find("not tracked"), std::string::npos) << g->err();
    EXPECT_NE(live.err().find("gmon pprof live: 0 creation stacks in the profile"), std::string::npos)
        << live.err();
    long long parked = 0;
    std::set<std::string> pids;
    for (const auto &s : raw_samples(dir + "/creation.pb.gz", nullptr)) {
        auto v = numbers(s.values);
        ASSERT_EQ(v.size(), 4u) << s.text();
        EXPECT_EQ(v[2], 0) << "no goroutine outlives its process\n" << s.text();
        if (s.stack.find(" main.park ") < s.stack.find('\n')) {
            parked += v[0];
            pids.insert(s.labels);
        }
    }
    EXPECT_EQ(parked, 90000) << "main.park named in each process (its own load bias)";
    EXPECT_EQ(pids.size(), 30u);
}

// 40,000 goroutines of main.park alive at the end: more than the 16,384 live slots, so most go to the hash
// map behind them; the live profile counts each exactly once, from both.
TEST(CreationProfile, LiveGoroutinesInTheSlotsAndTheMapAreCountedOnce) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "creation-slots");
    std::string file = scratch_dir() + "/creation-slots.pb.gz";
    background g(gmon_command("pprof live --path " + bin + " -o " + file));
    ASSERT_TRUE(g.wait_for("probes attached", 30000, true)) << g.err();
    background target("sleep 60 | " + bin + " park 40000");
    ASSERT_TRUE(target.wait_for("ready", 30000)) << target.out();
    g.signal(SIGINT);
    ASSERT_EQ(g.wait(20), 0) << g.err();
    long long parked = 0;
    for (const auto &s : raw_samples(file, nullptr))
        if (s.stack.find(" main.park ") < s.stack.find('\n'))
            parked += numbers(s.values).at(0);
    EXPECT_EQ(parked, 40000);
    EXPECT_EQ(g.err().find("not tracked"), std::string::npos) << g.err();
}

// A PIE target execs its own binary with 30 goroutines of main.startHolders alive that gmon saw created: the
// exec ended them, so the live profile made after it has none; the creation profile counts them, named with
// the load address of the program that created them (the new one is elsewhere).
TEST(CreationProfile, ExecOfTheSameBinaryEndsTheLiveGoroutines) {
    std::string bin = private_copy(fixture("lifecycle-pie"), "creation-execself");
    std::string dir = scratch_dir() + "/creation-execself";
    run("mkdir -p " + dir);
    background target(bin + " exec-self 30");
    ASSERT_TRUE(target.wait_for("ready", 10000));
    std::string pid = std::to_string(target.pid());
    background g(gmon_command("pprof live --pid " + pid + " -o " + dir + "/live.pb.gz"));
    background c(gmon_command("pprof creation --pid " + pid + " -o " + dir + "/creation.pb.gz"));
    ASSERT_TRUE(g.wait_for("probes attached", 30000, true)) << g.err();
    ASSERT_TRUE(c.wait_for("probes attached", 30000, true)) << c.err();
    target.signal(SIGUSR1);
    ASSERT_TRUE(target.wait_for("holding", 10000));
    usleep(300 * 1000);     // a tick (250 ms) learns the process from its sites
    target.signal(SIGUSR2); // exec: the same binary, waiting for SIGUSR1 in on-signal mode
    ASSERT_TRUE(target.wait_for_times("ready", 2, 10000)) << target.out();
    usleep(300 * 1000); // the runtime-start event read
    g.signal(SIGINT);
    c.signal(SIGINT);
    ASSERT_EQ(g.wait(20), 0) << g.err();
    ASSERT_EQ(c.wait(20), 0) << c.err();
    auto live = raw_samples(dir + "/live.pb.gz", nullptr);
    EXPECT_FALSE(live.empty()) << "the new program's runtime goroutines are live";
    for (const auto &s : live)
        EXPECT_EQ(s.stack.find(" main.startHolders "), std::string::npos) << "ended with the exec\n"
                                                                          << s.text();
    long long holders = 0;
    for (const auto &s : raw_samples(dir + "/creation.pb.gz", nullptr))
        if (s.stack.find(" main.startHolders ") < s.stack.find('\n')) {
            auto v = numbers(s.values);
            holders += v.at(0);
            EXPECT_EQ(v.at(2), 0) << "none live\n" << s.text();
        }
    EXPECT_EQ(holders, 30) << "named with the first program's load address";
}

class CreationCorpus : public ::testing::TestWithParam<corpus_entry> {};

// esbuild (go1.17 to go1.26, stripped) bundling a project of 300 modules under `pprof creation --path`: the
// profile has its goroutines by creation stack, in esbuild's own code, and counts at least as many as the
// lifecycle test sees there.
TEST_P(CreationCorpus, EsbuildBundlingByCreationStack) {
    const corpus_entry &e = GetParam();
    std::string bin = private_copy(corpus(e.name), "creation");
    ASSERT_FALSE(bin.empty());
    std::string file = scratch_dir() + "/creation-" + e.name + ".pb.gz";
    background g(gmon_command("pprof creation --path " + bin + " -o " + file));
    trace_workload(g, bin + " " + generated_project() + "/entry.js --bundle --log-level=warning --outfile=" +
                          scratch_dir() + "/creation-" + e.name + ".js");
    if (HasFatalFailure() || HasFailure())
        return;
    long long created = 0, exited = 0;
    int esbuild = 0;
    for (const auto &s : raw_samples(file, nullptr)) {
        auto v = numbers(s.values);
        ASSERT_EQ(v.size(), 4u) << s.text();
        created += v[0];
        exited += v[1];
        EXPECT_LE(v[1] + v[2], v[0]) << s.text();
        esbuild += s.stack.find(" github.com/evanw/esbuild/") != std::string::npos;
    }
    EXPECT_GT(created, 600) << "esbuild starts goroutines per file and per phase";
    EXPECT_GT(exited, created - 20) << "worker goroutines exit before the process does";
    EXPECT_GE(esbuild, 3) << "creation stacks in esbuild's own code";
}

INSTANTIATE_TEST_SUITE_P(Npm, CreationCorpus, ::testing::ValuesIn(esbuild_corpus()), corpus_test_name);
