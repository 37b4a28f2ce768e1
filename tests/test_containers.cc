// The Dockerized end-to-end tests (issue 6): the Go 1.19 HTTP fixture in a container built from the local
// Debian base, traced from the host by its host PID and by --container; gmon's own image tracing a host
// process and a container, scraped from the host; and a container stopped under gmon's probes.
// They need a Docker engine and the images of docker/build_images.sh: ctest's setup.docker_images builds
// them, and `./gmon.sh docker-test` runs them (`./gmon.sh test` too, when an engine can be started).
#include <signal.h>

#include <chrono>
#include <thread>

#include "lifecycle_support.h"
#include "test_support.h"

using namespace gmon_test;

namespace {

const char *const FIXTURE_IMAGE = "gmon-test-httpserver:latest";
// On every container a test makes: cleanup.docker_containers removes whatever a crashed or timed-out test
// left (a gmon container with uprobes on host processes, among others).
const char *const TEST_LABEL = "--label gmon-test=1";
const char *const GMON_IMAGE = "gmon:latest";
// What gmon's container needs on an engine that may not grant every capability (--privileged asks for all of
// them, CAP_SYS_RESOURCE too, which the engines of these machines cannot give): BPF and perf events come with
// CAP_SYS_ADMIN, reading another process's memory with CAP_SYS_PTRACE; the host's PIDs with --pid=host.
const char *const GMON_RUN_FLAGS = "--cap-add SYS_ADMIN --cap-add SYS_PTRACE --pid=host";

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::string docker(const std::string &args, int timeout_seconds = 120) {
    auto r = run("docker " + args + " 2>&1", timeout_seconds);
    EXPECT_EQ(r.status, 0) << "docker " << args << ":\n" << r.out;
    return trim(r.out);
}

std::string unique_name(const std::string &tag) {
    return "gmon-test-" + tag + "-" + std::to_string(getpid());
}

// A container started with `docker run -d`, removed (with its logs) when the test ends.
struct container {
    std::string name, id;
    int pid = 0; // the host PID of its main process
    std::string ip;

    container(const std::string &tag, const std::string &run_args) : name(unique_name(tag)) {
        run("docker rm -f " + name + " >/dev/null 2>&1");
        id = docker("run -d " + std::string(TEST_LABEL) + " --name " + name + " " + run_args);
        refresh();
    }
    ~container() {
        run("docker rm -f " + name + " >/dev/null 2>&1");
    }
    void refresh() {
        std::string state = docker("inspect -f '{{.State.Pid}} {{.NetworkSettings.IPAddress}}' " + name);
        pid = std::atoi(state.c_str());
        ip = trim(state.substr(state.find(' ') + 1));
    }
    std::string logs() const {
        return run("docker logs " + name + " 2>&1").out;
    }
    // Polls the container's logs until they hold needle.
    bool wait_for_log(const std::string &needle, int timeout_ms) const {
        for (int waited = 0; waited < timeout_ms; waited += 100) {
            if (logs().find(needle) != std::string::npos)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }
};

// GETs url until it answers (a fixture that has just started may not listen yet).
bool http_ok(const std::string &url, int timeout_ms = 10000) {
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if (run("curl -sf -o /dev/null " + url).status == 0)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

// The fixture's traffic: n plain requests (each starts backgroundJob) and one /leak (a goroutine that never
// exits).
void drive(const std::string &base, int n) {
    for (int i = 0; i < n; i++)
        ASSERT_EQ(run("curl -sf -o /dev/null " + base + "/get/200").status, 0) << base;
    ASSERT_EQ(run("curl -sf -o /dev/null " + base + "/leak").status, 0) << base;
}

// The creation sites of the fixture's two handlers, as gmon labels them in /metrics.
std::string handler_site(const std::string &handler) {
    return "{stack_0=\"" + handler +
           "\",stack_1=\"net/http.HandlerFunc.ServeHTTP\",stack_2=\"net/http.(*ServeMux).ServeHTTP\","
           "stack_3=\"net/http.serverHandler.ServeHTTP\",stack_4=\"net/http.(*conn).serve\"}";
}
const std::string GET_SITE = handler_site("main.main.func1"), LEAK_SITE = handler_site("main.main.func2");

// The /metrics page at port once it counts `gets` creations at the GET handler's site and one at the leak's
// (events reach gmon a moment after the requests return; up to 10 s under load), or the last page read.
std::string scrape_fixture_metrics(int port, int gets) {
    std::string page;
    for (int waited = 0; waited < 10000; waited += 100) {
        page = scrape(port);
        if (sample_value(page, "gmon_goroutines_created_total" + GET_SITE) == gets &&
            sample_value(page, "gmon_goroutines_created_total" + LEAK_SITE) == 1)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return page;
}

// Checks a /metrics page of a trace that saw `gets` plain requests and one /leak, and lints it with promtool.
void expect_fixture_metrics(const std::string &metrics, int gets) {
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + GET_SITE), gets) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + LEAK_SITE), 1) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_live" + LEAK_SITE), 1) << metrics;
    std::string path = scratch_dir() + "/metrics-" + std::to_string(gets) + ".txt";
    write_file(path, metrics);
    auto lint = run("promtool check metrics < " + path);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err;
}

// The JSON event line of gmon's log whose "function" is function and msg is msg ("" when none).
std::string event_line(const std::string &log, const std::string &msg, const std::string &function) {
    for (const auto &l : lines(log))
        if (json_field(l, "msg") == msg && json_field(l, "function") == function)
            return l;
    return "";
}

// /proc/PID/exe's uprobes of gmon, as bpftool lists them.
bool uprobes_on(int pid) {
    return run("bpftool perf list").out.find("filename /proc/" + std::to_string(pid) + "/exe") !=
           std::string::npos;
}

class Containers : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        engine_ok = run("docker info >/dev/null 2>&1").status == 0;
        images_ok = engine_ok && run(std::string("docker image inspect ") + GMON_IMAGE + " " + FIXTURE_IMAGE +
                                     " >/dev/null 2>&1")
                                         .status == 0;
    }
    void SetUp() override {
        // Not a skip: these tests are only run where the engine and images were set up, so their absence is
        // a failure of that set-up.
        ASSERT_TRUE(engine_ok) << "no Docker engine answers: start dockerd (./gmon.sh docker-test does)";
        ASSERT_TRUE(images_ok) << "the images are missing: run docker/build_images.sh FIXTURES";
    }
    static bool engine_ok, images_ok;
};
bool Containers::engine_ok = false, Containers::images_ok = false;

// 1. The fixture in a container; gmon on the host, by host PID: creations with their stacks, metrics, the
// container's PID and ID next to the host PID, and summary by --pid and by --container.
TEST_F(Containers, HostTracesTheFixtureInAContainerByHostPid) {
    container web("web", FIXTURE_IMAGE);
    ASSERT_GT(web.pid, 0);
    std::string base = "http://" + web.ip + ":8080";
    ASSERT_TRUE(http_ok(base + "/get/200")) << web.logs();
    std::string pid = std::to_string(web.pid), short_id = web.id.substr(0, 12);

    int port = free_port();
    background g(gmon_command("--pid " + pid + " --format json --metrics " + std::to_string(port)));
    ASSERT_TRUE(attached(g));
    EXPECT_NE(g.err().find("PID " + pid + " (PID 1 in container " + short_id + ")"), std::string::npos)
        << g.err();
    ASSERT_NO_FATAL_FAILURE(drive(base, 3));
    expect_fixture_metrics(scrape_fixture_metrics(port, 3), 3);
    g.signal(SIGINT);
    ASSERT_EQ(g.wait(10), 0) << g.err();

    std::string log = g.out();
    std::string attached_line = lines(log).empty() ? "" : lines(log)[0];
    EXPECT_EQ(json_field(attached_line, "msg"), "probes attached") << log;
    EXPECT_EQ(json_field(attached_line, "pid"), pid);
    EXPECT_EQ(json_field(attached_line, "nspid"), "1");
    EXPECT_EQ(json_field(attached_line, "container_id"), web.id);
    // The leaking goroutine: its function and source line, the handler that spawned it, and the stack below.
    // Go 1.19 wraps `go leakForever(block)` in a closure, main.main.func2.1, the goroutine's function.
    std::string leak = event_line(log, "goroutine is created", "main.main.func2.1");
    ASSERT_FALSE(leak.empty()) << log;
    EXPECT_EQ(json_field(leak, "pid"), pid) << "events carry the host PID";
    EXPECT_NE(json_field(leak, "location").find("tests/fixtures/httpserver/main.go:"), std::string::npos)
        << leak;
    std::vector<std::string> stack = json_strings(leak, "stack");
    ASSERT_GE(stack.size(), 5u) << leak;
    EXPECT_EQ(stack[0], "main.main.func2");
    EXPECT_EQ(stack[1], "net/http.HandlerFunc.ServeHTTP");
    EXPECT_EQ(stack[4], "net/http.(*conn).serve");
    EXPECT_FALSE(event_line(log, "goroutine exited", "main.main.func1.1").empty()) << "backgroundJob exits";
    EXPECT_NE(g.err().find("PID " + pid + " (PID 1 in container " + short_id + "), for"), std::string::npos)
        << "the summary names the container: " << g.err();

    // Snapshots of the container's process: by host PID and through the engine, the same process.
    for (const std::string &target : {"--pid " + pid, "--container " + web.name, "--container " + short_id}) {
        auto s = gmon("summary " + target + " --json");
        ASSERT_EQ(s.status, 0) << target << ": " << s.err;
        EXPECT_EQ(json_field(s.out, "pid"), pid) << target;
        EXPECT_EQ(json_field(s.out, "nspid"), "1") << target;
        EXPECT_EQ(json_field(s.out, "container_id"), web.id) << target;
        EXPECT_EQ(json_field(s.out, "binary"), "/app/httpserver-plain") << target;
        EXPECT_NE(s.out.find("\"start\":\"main.main.func2.1\",\"go_statement\":\"main.main.func2 ("),
                  std::string::npos)
            << s.out;
    }
    auto text = gmon("summary --container " + web.name);
    EXPECT_NE(text.out.find("process:    PID " + pid + " (PID 1 in container " + short_id + ")"),
              std::string::npos)
        << text.out;
    auto info = gmon("info --container " + web.name);
    EXPECT_NE(info.out.find("/proc/" + pid + "/root/app/httpserver-plain"), std::string::npos) << info.out;
}

// Every command on the container's process by --container: the tracing ones attach (their banner names the
// container) and end after --duration with status 0; the snapshot ones read it.
TEST_F(Containers, EveryCommandWorksOnAContainer) {
    container web("every", FIXTURE_IMAGE);
    std::string base = "http://" + web.ip + ":8080";
    ASSERT_TRUE(http_ok(base + "/get/200")) << web.logs();
    std::string target = " --container " + web.name,
                in_container = "(PID 1 in container " + web.id.substr(0, 12);
    for (const char *cmd : {"gc", "gr", "gr seq", "gm --probes", "sched --blocked", "lifecycle --metrics 0",
                            "pprof cpu -o /dev/null"}) {
        background g(gmon_command(std::string(cmd) + target + " --duration 3"));
        ASSERT_TRUE(attached(g)) << cmd;
        ASSERT_NO_FATAL_FAILURE(drive(base, 2));
        EXPECT_EQ(g.wait(20), 0) << cmd << ": " << g.err();
        EXPECT_NE(g.err().find(in_container), std::string::npos) << cmd << ": " << g.err();
    }
    // gm on one process reads the runtime's counters: no probe, and it names the container too
    background gm(gmon_command("gm" + target + " --duration 2"));
    EXPECT_EQ(gm.wait(20), 0) << gm.err();
    EXPECT_NE(gm.err().find("no probe"), std::string::npos) << gm.err();
    EXPECT_NE(gm.err().find(in_container), std::string::npos) << gm.err();
    // so does sched, from the runtime's own latency histogram
    background sched(gmon_command("sched --format json --interval 0" + target + " --duration 3"));
    ASSERT_TRUE(sched.wait_for("no probe", 20000, true)) << sched.err();
    ASSERT_NO_FATAL_FAILURE(drive(base, 1));
    EXPECT_EQ(sched.wait(20), 0) << sched.err();
    EXPECT_NE(sched.err().find(in_container), std::string::npos) << sched.err();
    EXPECT_GT(std::stol(json_field(sched.out(), "samples")), 0) << sched.out();
    auto top = gmon("top" + target + " --count 1");
    EXPECT_EQ(top.status, 0) << top.err;
    EXPECT_NE(top.out.find("main.main.func2.1"), std::string::npos) << "the leaked goroutines: " << top.out;
    auto heap = gmon("heap" + target + " --json");
    EXPECT_EQ(heap.status, 0) << heap.err;
    EXPECT_EQ(json_field(heap.out, "container_id"), web.id);
    EXPECT_NE(heap.out.find("\"size_classes\":["), std::string::npos) << heap.out;
    auto var = gmon("var" + target + " --name runtime.ncpu --json");
    EXPECT_EQ(var.status, 0) << var.err;
    EXPECT_EQ(json_field(var.out, "value"), std::to_string(sysconf(_SC_NPROCESSORS_ONLN))) << var.out;
}

// The binary in the container is stripped: the same trace, symbolized from its .gopclntab alone.
TEST_F(Containers, HostTracesAStrippedBinaryInAContainer) {
    container web("stripped", std::string("--entrypoint /app/httpserver-stripped ") + FIXTURE_IMAGE +
                                  " -addr 0.0.0.0:8080");
    std::string base = "http://" + web.ip + ":8080";
    ASSERT_TRUE(http_ok(base + "/get/200")) << web.logs();
    int port = free_port();
    background g(gmon_command("--container " + web.name + " --metrics " + std::to_string(port)));
    ASSERT_TRUE(attached(g));
    ASSERT_NO_FATAL_FAILURE(drive(base, 2));
    expect_fixture_metrics(scrape_fixture_metrics(port, 2), 2);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
}

// 2. gmon in its own image (host PID namespace) traces a fixture on the host and one in another container;
// the host scrapes both containerised gmons' /metrics through published ports.
TEST_F(Containers, GmonImageTracesAHostProcessAndAContainer) {
    container web("peer", FIXTURE_IMAGE);
    std::string web_base = "http://" + web.ip + ":8080";
    ASSERT_TRUE(http_ok(web_base + "/get/200")) << web.logs();
    int host_http = free_port();
    std::string host_bin = private_copy(fixture("httpserver-plain"), "gmon-image");
    background host_service(host_bin + " -addr 127.0.0.1:" + std::to_string(host_http));
    std::string host_base = "http://127.0.0.1:" + std::to_string(host_http);
    ASSERT_TRUE(http_ok(host_base + "/get/200")) << host_service.err();

    int host_port = free_port(), web_port = free_port();
    container gmon_host("gmon-host", std::string(GMON_RUN_FLAGS) + " -p 127.0.0.1:" +
                                         std::to_string(host_port) + ":5500 " + GMON_IMAGE + " --pid " +
                                         std::to_string(host_service.pid()) + " --metrics-addr 0.0.0.0");
    container gmon_web("gmon-web", std::string(GMON_RUN_FLAGS) +
                                       " -v /var/run/docker.sock:/var/run/docker.sock -p 127.0.0.1:" +
                                       std::to_string(web_port) + ":5500 " + GMON_IMAGE + " --container " +
                                       web.name + " --metrics-addr 0.0.0.0");
    ASSERT_TRUE(gmon_host.wait_for_log("gmon: probes attached", 60000)) << gmon_host.logs();
    ASSERT_TRUE(gmon_web.wait_for_log("gmon: probes attached", 60000)) << gmon_web.logs();
    EXPECT_NE(gmon_web.logs().find("(PID 1 in container " + web.id.substr(0, 12) + ")"), std::string::npos)
        << gmon_web.logs();

    EXPECT_TRUE(uprobes_on(host_service.pid())) << "bpftool sees the image's uprobes on the host process";
    EXPECT_TRUE(uprobes_on(web.pid)) << "and on the container's process";
    ASSERT_NO_FATAL_FAILURE(drive(host_base, 2));
    ASSERT_NO_FATAL_FAILURE(drive(web_base, 4));
    expect_fixture_metrics(scrape_fixture_metrics(host_port, 2), 2);
    expect_fixture_metrics(scrape_fixture_metrics(web_port, 4), 4);

    // SIGTERM from `docker stop`: each gmon detaches, prints its summary and exits 0.
    docker("stop -t 10 " + gmon_host.name + " " + gmon_web.name);
    EXPECT_EQ(docker("inspect -f '{{.State.ExitCode}}' " + gmon_host.name), "0") << gmon_host.logs();
    EXPECT_EQ(docker("inspect -f '{{.State.ExitCode}}' " + gmon_web.name), "0") << gmon_web.logs();
    EXPECT_NE(gmon_web.logs().find("gmon: traced /app/httpserver-plain, PID " + std::to_string(web.pid)),
              std::string::npos)
        << gmon_web.logs();
    EXPECT_FALSE(uprobes_on(host_service.pid())) << "no uprobe left on the host process";
    EXPECT_FALSE(uprobes_on(web.pid)) << "no uprobe left on the container's process";

    // A snapshot from the image, through the engine's socket.
    auto s = run(std::string("docker run --rm ") + TEST_LABEL + " " + GMON_RUN_FLAGS +
                 " -v /var/run/docker.sock:/var/run/docker.sock " + GMON_IMAGE + " summary --container " +
                 web.name + " --json");
    ASSERT_EQ(s.status, 0) << s.err;
    EXPECT_EQ(json_field(s.out, "pid"), std::to_string(web.pid));
    EXPECT_EQ(json_field(s.out, "container_id"), web.id);
}

// Without the host's PID namespace or CAP_SYS_PTRACE, gmon's container says what to add.
TEST_F(Containers, GmonImageExplainsMissingPidNamespaceAndCapability) {
    container web("explain", FIXTURE_IMAGE);
    std::string pid = std::to_string(web.pid);
    auto no_pidns = run(std::string("docker run --rm --label gmon-test=1 --cap-add SYS_PTRACE ") +
                        GMON_IMAGE + " summary --pid " + pid);
    EXPECT_EQ(no_pidns.status, 2);
    EXPECT_NE(no_pidns.err.find("--pid=host"), std::string::npos) << no_pidns.err;
    auto by_name =
        run(std::string("docker run --rm --label gmon-test=1 -v /var/run/docker.sock:/var/run/docker.sock ") +
            GMON_IMAGE + " summary --container " + web.name);
    EXPECT_EQ(by_name.status, 2);
    EXPECT_NE(by_name.err.find("run gmon's container with --pid=host"), std::string::npos) << by_name.err;
    auto no_ptrace = run(std::string("docker run --rm --label gmon-test=1 --pid=host ") + GMON_IMAGE +
                         " summary --pid " + pid);
    EXPECT_EQ(no_ptrace.status, 2);
    EXPECT_NE(no_ptrace.err.find("--cap-add SYS_PTRACE"), std::string::npos) << no_ptrace.err;
    auto no_socket = run(std::string("docker run --rm --label gmon-test=1 --pid=host ") + GMON_IMAGE +
                         " summary --container " + web.name);
    EXPECT_EQ(no_socket.status, 2);
    EXPECT_NE(no_socket.err.find("-v /var/run/docker.sock:/var/run/docker.sock"), std::string::npos)
        << no_socket.err;
}

// 3. The container stops while two tracing commands have probes in it: each reports the exit, ends cleanly
// and leaves no probe behind.
TEST_F(Containers, ContainerStoppedWhileTraced) {
    container web("stop", FIXTURE_IMAGE);
    std::string base = "http://" + web.ip + ":8080";
    ASSERT_TRUE(http_ok(base + "/get/200")) << web.logs();
    std::string pid = std::to_string(web.pid);
    background lifecycle(gmon_command("--container " + web.name + " --metrics 0"));
    background gc(gmon_command("gc --pid " + pid));
    ASSERT_TRUE(attached(lifecycle));
    ASSERT_TRUE(attached(gc));
    EXPECT_TRUE(uprobes_on(web.pid)) << "bpftool sees the uprobes while tracing";
    ASSERT_NO_FATAL_FAILURE(drive(base, 1));

    docker("stop -t 10 " + web.name);
    auto stopped_at = std::chrono::steady_clock::now(); // the process is gone once docker stop returns
    EXPECT_EQ(lifecycle.wait(10), 0) << lifecycle.err();
    EXPECT_EQ(gc.wait(10), 0) << gc.err();
    auto took = std::chrono::steady_clock::now() - stopped_at;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(took).count(), 3)
        << "both notice the exit within their 500 ms housekeeping tick";

    std::string exited;
    for (const auto &l : lines(lifecycle.out()))
        if (l.find("msg=\"target process exited\"") != std::string::npos)
            exited = l;
    EXPECT_NE(exited.find("pid=" + pid + " nspid=1 container_id=" + web.id), std::string::npos)
        << lifecycle.out();
    EXPECT_NE(lifecycle.err().find("gmon: traced /app/httpserver-plain, PID " + pid), std::string::npos)
        << lifecycle.err();
    EXPECT_NE(gc.err().find("gmon gc: process " + pid + " exited"), std::string::npos) << gc.err();
    EXPECT_FALSE(uprobes_on(web.pid)) << "no uprobe left";
    std::string events = uprobe_events();
    EXPECT_EQ(events.find("gmon_" + std::to_string(lifecycle.pid()) + "_"), std::string::npos) << events;
    EXPECT_EQ(events.find("gmon_" + std::to_string(gc.pid()) + "_"), std::string::npos) << events;
}

// --container's errors come from the engine's own answers: unknown names, containers that do not run.
TEST_F(Containers, ContainerOptionNamesTheProblem) {
    auto unknown = gmon("summary --container gmon-test-no-such-container");
    EXPECT_EQ(unknown.status, 2);
    EXPECT_NE(unknown.err.find("No such container: gmon-test-no-such-container"), std::string::npos)
        << unknown.err;
    std::string name = unique_name("created");
    docker(std::string("create ") + TEST_LABEL + " --name " + name + " " + FIXTURE_IMAGE);
    auto created = gmon("--container " + name);
    run("docker rm -f " + name + " >/dev/null 2>&1");
    EXPECT_EQ(created.status, 2);
    EXPECT_NE(created.err.find("is not running (status created)"), std::string::npos) << created.err;
}

} // namespace

namespace {

// gmon's Debian package (tool/install/make_deb.sh of this build) installed with apt into a fresh container of
// the local Debian base, which has nothing of gmon's: apt brings the run-time libraries from its Depends, and
// there gmon --version, man, the completion, gmon info on a Go binary and gmon summary on a Go process
// running in the same container all work. (Live tracing from a container of the package is what the gmon
// image, which installs it the same way, is tested for above.)
TEST(Package, InstallsWithAptInAFreshContainerAndWorksThere) {
    std::string deb = built_package();
    ASSERT_FALSE(deb.empty());
    std::string dir = deb.substr(0, deb.rfind('/')); /* mounted as /pkg, with the script run there */
    std::string fixture_dir = scratch_dir() + "/fixture";
    run("mkdir -p " + fixture_dir + " && cp " + fixture("lifecycle-plain") + " " + fixture_dir + "/app");
    write_file(dir + "/inside.sh", R"SH(set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends man-db /pkg/gmon_*.deb >/dev/null
gmon --version
man -w gmon-summary
man gmon-summary | grep -m1 'gmon-summary - '
. /usr/share/bash-completion/completions/gmon
COMP_WORDS=(gmon summary --p); COMP_CWORD=2; _gmon; echo "completes: ${COMPREPLY[*]}"
gmon info --path /fx/app | grep -m1 'go1.19'
sleep 600 | /fx/app park 10 >/tmp/ready &
for i in $(seq 100); do grep -q ready /tmp/ready && break; sleep 0.1; done
gmon summary --pid $! | grep -m1 '^goroutines:'
)SH");
    std::string proxy; // apt in the container reaches Debian's mirror as the host's does (docker/base.sh)
    for (const char *name : {"http_proxy", "https_proxy"})
        if (const char *value = getenv(name))
            proxy += std::string(" -e ") + name + "='" + value + "'";
    auto r = run(std::string("docker run --rm ") + TEST_LABEL + proxy + " --cap-add SYS_PTRACE -v " + dir +
                     ":/pkg:ro -v " + fixture_dir + ":/fx:ro gmon-debian:bookworm bash /pkg/inside.sh 2>&1",
                 600);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("gmon 0."), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("/usr/share/man/man1/gmon-summary.1.gz"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("gmon-summary - the goroutines of a running program"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("completes: --pid --pc"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("go1.19"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("goroutines: 1"), std::string::npos) << r.out;
}

} // namespace
