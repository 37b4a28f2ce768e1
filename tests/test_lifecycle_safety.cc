// The lifecycle monitor must never hurt its target, must leave nothing behind, and must refuse bad input
// with one clear line and exit status 2.
#include <chrono>
#include <csignal>
#include <fcntl.h>

#include "lifecycle_support.h"

extern "C" {
#include "go_binary.h"
#include "probe_plan.h"
#include "proc_target.h"
}

using namespace gmon_test;

namespace {

// Runtime address of a file offset of binary in process pid, from /proc/PID/maps; 0 when unmapped.
uint64_t runtime_address(pid_t pid, const std::string &binary, uint64_t file_offset) {
    for (auto l : lines(read_file("/proc/" + std::to_string(pid) + "/maps"))) {
        struct maps_entry e;
        if (proc_maps_parse_line(l.data(), &e) && binary == e.path && file_offset >= e.offset &&
            file_offset < e.offset + (e.end - e.start))
            return e.start + (file_offset - e.offset);
    }
    return 0;
}

int byte_at(pid_t pid, uint64_t address) {
    int fd = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY);
    unsigned char b = 0;
    ssize_t n = pread(fd, &b, 1, (off_t)address);
    close(fd);
    return n == 1 ? b : -1;
}

// The file offset of the creation probe, from the probe plan gmon attaches by: newproc.func1's call of
// runqput (or the NOP before it), else newproc1's first RET.
uint64_t creation_probe_offset(const std::string &binary) {
    struct go_binary bin;
    struct gmon_error err;
    static struct probe_plan plan;
    if (go_binary_open(&bin, binary.c_str(), &err) != 0)
        return 0;
    uint64_t offset = 0;
    if (probe_plan_build(&bin, &plan, &err) == 0) {
        const struct probe_site *call = probe_plan_site(&plan, "runtime.newproc.func1");
        const struct probe_site *ret = probe_plan_site(&plan, "runtime.newproc1");
        if (call && call->found && call->ncalls == 1)
            offset = call->call_offsets[0];
        else if (ret && ret->found && ret->nrets)
            offset = ret->ret_offsets[0];
    }
    go_binary_close(&bin);
    return offset;
}

TEST(LifecycleSafety, DeepRecursionInThousandsOfGoroutinesRuns30sUnharmed) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "recurse");
    int port = free_port();
    background g(gmon_command("--path " + bin + " --level WARN --metrics " + std::to_string(port)));
    if (!attached(g))
        return;
    background target(bin + " recurse 1000 300 30");
    ASSERT_EQ(target.wait(120), 0) << target.out() << target.err();
    long rounds = 0, goroutines = 0;
    ASSERT_EQ(sscanf(target.out().c_str(), "ok rounds=%ld goroutines=%ld", &rounds, &goroutines), 2)
        << target.out();
    EXPECT_GT(goroutines, 1000);
    std::string metrics = scrape(port);
    std::string site = "{stack_0=\"main.recurseRounds\",stack_1=\"main.main\",stack_2=\"runtime.main\","
                       "stack_3=\"runtime.goexit\",stack_4=\"none\"}";
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + site), goroutines) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_exited_total" + site), goroutines);
    EXPECT_EQ(sample_value(metrics, "gmon_map_full_total{map=\"live\"}"), 0);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0);
}

// The on-signal fixture (20 goroutines, released by SIGUSR1) with where the creation probe is in its memory
// and the byte there before gmon, to watch gmon's breakpoint come and go, and the line bpftool lists for its
// uprobes.
struct probe_watched_fixture {
    std::string bin, attach_path;
    std::unique_ptr<background> target;
    uint64_t probe_address = 0; // 0 when the fixture or the probe plan failed
    int original = -1;

    explicit probe_watched_fixture(const std::string &tag)
        : bin(private_copy(fixture("lifecycle-plain"), tag)) {
        uint64_t offset = creation_probe_offset(bin);
        target = std::make_unique<background>(bin + " on-signal 20 10");
        if (offset && target->wait_for("ready", 10000))
            probe_address = runtime_address(target->pid(), bin, offset);
        if (probe_address)
            original = probe_byte();
        // With --pid, gmon attaches through /proc/PID/exe (the very file the process runs, containers too).
        attach_path = "uprobe  filename /proc/" + std::to_string(target->pid()) + "/exe";
    }
    std::string pid() const {
        return std::to_string(target->pid());
    }
    int probe_byte() const {
        return byte_at(target->pid(), probe_address);
    }
    bool uprobes_listed() const {
        return run("bpftool perf list").out.find(attach_path) != std::string::npos;
    }
    // Releases the goroutines: the fixture must end as if nothing had happened.
    void expect_carries_on() {
        target->signal(SIGUSR1);
        EXPECT_EQ(target->wait(30), 0) << "the target carries on";
        EXPECT_EQ(fixture_goroutines(target->out()).size(), 20u);
    }
};

// SIGKILL gives gmon no chance to detach: the kernel must do it. gmon attaches through perf-event file
// descriptors (the uprobe PMU), which die with the process, and creates no tracefs event that would outlive
// it.
TEST(LifecycleSafety, SigkillOfGmonLeavesNothingAttached) {
    probe_watched_fixture f("sigkill");
    ASSERT_NE(f.probe_address, 0u);
    for (const char *cmd : {"--metrics 0", "gc", "sched --blocked", "gm --probes"}) { // gm, sched alone read
        background g(gmon_command(std::string(cmd) + " --pid " + f.pid()));
        if (!attached(g))
            return;
        EXPECT_TRUE(f.uprobes_listed()) << cmd;
        g.signal(SIGKILL);
        EXPECT_EQ(g.wait(10), 128 + SIGKILL);
        // The kernel releases the perf events and programs of a dead process's last descriptors at once,
        // but a moment later than the signal.
        bool clean = false;
        for (int i = 0; i < 50 && !clean; i++, usleep(100 * 1000))
            clean = !f.uprobes_listed();
        EXPECT_TRUE(clean) << cmd << ": a uprobe outlived gmon";
        EXPECT_EQ(f.probe_byte(), f.original) << cmd << ": the creation probe's instruction is restored";
        std::string events = uprobe_events();
        EXPECT_EQ(events.find("gmon_" + std::to_string(g.pid()) + "_"), std::string::npos) << events;
    }
    f.expect_carries_on();
}

TEST(LifecycleSafety, InterruptDetachesEverythingAndTheTargetRunsOn) {
    probe_watched_fixture f("detach");
    ASSERT_NE(f.probe_address, 0u);
    ASSERT_NE(f.original, 0xcc) << "no breakpoint before gmon attaches";

    background g(gmon_command("--pid " + f.pid() + " --metrics 0"));
    if (!attached(g))
        return;
    // A breakpoint (int3), or on Linux 6.17+ a 5-byte NOP the kernel turned into a call to its uprobe
    // trampoline: either way not the original byte.
    EXPECT_NE(f.probe_byte(), f.original) << "the uprobe is in place";
    EXPECT_TRUE(f.uprobes_listed()) << "bpftool sees the uprobes";

    auto start = std::chrono::steady_clock::now();
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
    auto took = std::chrono::steady_clock::now() - start;
#ifdef __SANITIZE_ADDRESS__
    const long limit_ms = 3000; // the sanitized build's detach, summary and leak scan at exit run 2-5x slower
#else
    const long limit_ms = 1000;
#endif
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), limit_ms)
        << "gmon must exit within a second of SIGINT (the sanitized build: three)";

    EXPECT_EQ(f.probe_byte(), f.original) << "the original instruction is restored";
    EXPECT_FALSE(f.uprobes_listed()) << "no uprobe is left";
    std::string events = uprobe_events();
    EXPECT_EQ(events.find("gmon_" + std::to_string(g.pid()) + "_"), std::string::npos) << events;
    f.expect_carries_on();
}

struct thread_privileges {
    std::string name, permitted, effective, no_new_privs;
};

std::vector<thread_privileges> privileges_of(pid_t pid) {
    std::vector<thread_privileges> threads;
    for (const auto &task : lines(run("ls /proc/" + std::to_string(pid) + "/task").out)) {
        std::string dir = "/proc/" + std::to_string(pid) + "/task/" + task;
        thread_privileges t;
        t.name = lines(read_file(dir + "/comm")).at(0);
        for (const auto &l : lines(read_file(dir + "/status"))) {
            std::string value = l.substr(l.find(':') + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            if (l.rfind("CapPrm:", 0) == 0)
                t.permitted = value;
            else if (l.rfind("CapEff:", 0) == 0)
                t.effective = value;
            else if (l.rfind("NoNewPrivs:", 0) == 0)
                t.no_new_privs = value;
        }
        threads.push_back(t);
    }
    return threads;
}

// Once attached, gmon's threads keep CAP_SYS_PTRACE alone (the metrics server's from its start: it reads
// /proc/PID/maps of processes it symbolizes), and neither can regain any (no_new_privs). Everything after
// attaching still works without them: a PIE process started later is symbolized (its load bias is read from
// /proc), /metrics answers, and SIGINT detaches.
TEST(LifecycleSafety, AfterAttachingOnlyPtraceRemains) {
    const std::string ptrace_only = "0000000000080000"; // 1 << CAP_SYS_PTRACE (19)
    std::string bin = private_copy(fixture("lifecycle-pie"), "caps");
    int port = free_port();
    background g(
        gmon_command("--path " + bin + " --format json --collect gc --metrics " + std::to_string(port)));
    if (!attached(g))
        return;
    auto threads = privileges_of(g.pid());
    ASSERT_EQ(threads.size(), 2u) << "gmon and its metrics server";
    for (const auto &t : threads) {
        SCOPED_TRACE(t.name);
        EXPECT_EQ(t.permitted, ptrace_only); // no CAP_BPF: this kernel (5.19 on) reads maps without it
        EXPECT_EQ(t.effective, ptrace_only);
        EXPECT_EQ(t.no_new_privs, "1");
    }
    auto r = run(bin + " spawn 5 10");
    ASSERT_EQ(r.status, 0);
    g.wait_for("main.spawnWorkers", 5000);
    EXPECT_NE(scrape(port).find("gmon_goroutines_created_total{stack_0=\"main.spawnWorkers\""),
              std::string::npos);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
    EXPECT_EQ(fixture_goroutines(r.out).size(), 5u);
    int symbolized = 0;
    for (const auto &l : lines(g.out())) {
        auto stack = json_strings(l, "stack");
        symbolized += json_field(l, "msg") == "goroutine is created" && !stack.empty() &&
                      stack[0] == "main.spawnWorkers";
    }
    EXPECT_EQ(symbolized, 5) << g.out();
    EXPECT_EQ(uprobe_events().find(bin), std::string::npos);
}

// Runs gmon expecting a refusal: exit status 2 and exactly one line on stderr containing `reason`.
void expect_refusal(const std::string &command, const std::string &reason) {
    auto r = run(command, 60);
    EXPECT_EQ(r.status, 2) << command << "\n" << r.err;
    EXPECT_EQ(lines(r.err).size(), 1u) << command << "\n" << r.err;
    EXPECT_NE(r.err.find(reason), std::string::npos) << command << "\n" << r.err;
    EXPECT_EQ(r.out, "") << command;
}

TEST(LifecycleBadInput, OneClearLineAndStatus2) {
    std::string gmon_bin = GMON_BINARY, plain = fixture("lifecycle-plain");
    expect_refusal(gmon_bin + " --level TRACE --path " + plain, "--level must be");
    expect_refusal(gmon_bin + " --format xml --path " + plain, "--format must be");
    expect_refusal(gmon_bin + " --metrics 70000 --path " + plain, "--metrics");
    expect_refusal(gmon_bin + " --metrics-addr localhost --metrics 1 --path " + plain, "not an IPv4 or IPv6");
    expect_refusal(gmon_bin + " --level INFO", "give --path BIN, --pid PID or --container NAME");
    expect_refusal(gmon_bin + " --path /bin/ls", "/bin/ls");
    expect_refusal(gmon_bin + " --path /nonexistent/binary", "/nonexistent/binary");
    expect_refusal(gmon_bin + " --pid 999999999", "999999999");
    expect_refusal(gmon_bin + " --go-version 1.99 --path " + plain, "1.99");
    expect_refusal(gmon_bin + " --go-version banana --path " + plain, "banana");
    expect_refusal(gmon_bin + " --perf-buffer --ring-buffer --path " + plain,
                   "--perf-buffer and --ring-buffer each choose how events come: give one");
    expect_refusal(gmon_bin + " gc --ring-buffer --path " + plain, "--ring-buffer");
}

TEST(LifecycleBadInput, PidOfAProgramThatIsNotGo) {
    background sleeper("sleep 30");
    ASSERT_TRUE(wait_for_comm(sleeper.pid(), "sleep"));
    expect_refusal(std::string(GMON_BINARY) + " --pid " + std::to_string(sleeper.pid()), "sleep");
}

TEST(LifecycleBadInput, NotRoot) {
    expect_refusal("setpriv --reuid=nobody --regid=nogroup --clear-groups " + std::string(GMON_BINARY) +
                       " --metrics 0 --path " + fixture("lifecycle-plain"),
                   "needs root");
}

TEST(LifecycleBadInput, MissingKernelHeaders) {
    // A private mount namespace where /lib/modules is empty: what a host without headers looks like.
    expect_refusal("unshare -m sh -c 'mount -t tmpfs none /lib/modules && exec " + std::string(GMON_BINARY) +
                       " --metrics 0 --path " + fixture("lifecycle-plain") + "'",
                   "kernel headers");
}

TEST(LifecycleBadInput, MetricsPortInUse) {
    int port_number = -1;
    int fd = listen_on_free_port(&port_number);
    ASSERT_GE(fd, 0);
    std::string port = std::to_string(port_number);
    expect_refusal(std::string(GMON_BINARY) + " --metrics " + port + " --path " + fixture("lifecycle-plain"),
                   "port " + port + " on 127.0.0.1 is in use");
    close(fd);
}

} // namespace
