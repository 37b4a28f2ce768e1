// `gmon info` end to end: real binaries, real processes, every kind of bad input.
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

using namespace gmon_test;

namespace {

// Bad input: exit 2 and exactly one line on stderr that names the file and the problem.
void expect_one_line_error(const run_result &r, const std::string &names, const std::string &problem) {
    EXPECT_EQ(r.status, 2) << r.out << r.err;
    auto err = lines(r.err);
    ASSERT_EQ(err.size(), 1u) << r.err;
    EXPECT_NE(err[0].find(names), std::string::npos) << err[0];
    EXPECT_NE(err[0].find(problem), std::string::npos) << err[0];
    EXPECT_EQ(r.out, "");
}

TEST(CliInfo, PrintsEverythingForAFixture) {
    auto r = gmon("info --path " + fixture("lifecycle-pie"));
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char *want : {"go1.19.8 (from build info", "gmon.test/fixtures/lifecycle", "CGO_ENABLED=0",
                             "go1.18-1.19 (magic 0xfffffff0)", "PIE yes", "confirmed by DWARF",
                             "runtime.newproc1", "rets: 0x", "callergp=rbx"})
        EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
}

TEST(CliInfo, JsonIsValidAndComplete) {
    auto r = gmon("info --json --path " + fixture("lifecycle-cgo"));
    ASSERT_EQ(r.status, 0) << r.err;
    std::string json_path = scratch_dir() + "/info.json";
    write_file(json_path, r.out);
    auto check =
        run("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
            "assert d[\"go_version\"]==\"go1.19.8\"; assert d[\"cgo\"] and d[\"linking\"]==\"external\"; "
            "assert d[\"layout\"][\"dwarf_confirmed\"]; assert d[\"layout\"][\"offsets\"][\"g.goid\"]==152; "
            "p=[s for s in d[\"probe_plan\"] if s[\"function\"]==\"runtime.newproc1\"][0]; "
            "assert p[\"found\"] and len(p[\"ret_offsets\"])>=1 and p[\"args\"][\"callergp\"]==\"rbx\"' " +
            json_path);
    EXPECT_EQ(check.status, 0) << check.err << r.out;
}

TEST(CliInfo, OneDashOptionsLikeTheSeed) {
    auto r = gmon("info -path " + fixture("lifecycle-stripped") + " -json");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\"stripped\":true"), std::string::npos);
}

TEST(CliInfo, HelpAndVersion) {
    for (const char *args : {"--help", "help", "info --help", "info -help"}) {
        auto r = gmon(args);
        EXPECT_EQ(r.status, 0) << args;
        EXPECT_NE(r.out.find("Usage: gmon"), std::string::npos) << args;
    }
    for (const char *args : {"--version", "info --version"}) {
        auto r = gmon(args);
        EXPECT_EQ(r.status, 0);
        EXPECT_EQ(r.out.rfind("gmon 0.", 0), 0u) << r.out;
    }
    auto r = gmon("");
    EXPECT_EQ(r.status, 2);
}

TEST(CliInfo, BadArguments) {
    expect_one_line_error(gmon("frobnicate"), "frobnicate", "unknown command");
    expect_one_line_error(gmon("info"), "info", "--path");
    expect_one_line_error(gmon("info --pid abc"), "abc", "not a process ID");
    expect_one_line_error(gmon("info --bogus"), "--bogus", "is not an option of gmon info");
    expect_one_line_error(gmon("info --path"), "--path", "needs a value");
    expect_one_line_error(gmon("info --path " + fixture("lifecycle-plain") + " --go-version banana"),
                          "banana", "invalid Go version");
    expect_one_line_error(gmon("info --path " + fixture("lifecycle-plain") + " --go-version 1.22"), "1.22",
                          "does not match");
}

// Each problem with an option is said for what it is, by every option parser (the snapshot commands', the
// tracing commands', info's): not an option of this command, ambiguous, a value missing, a value given to a
// flag, an empty value.
TEST(CliOptions, EachProblemIsSaidForWhatItIs) {
    std::string bin = fixture("lifecycle-plain");
    struct refusal {
        std::string args, said;
    };
    for (const refusal &r : std::vector<refusal>{
             {"summary --pid 1 --duration 1", "gmon summary: --duration is not an option of gmon summary"},
             {"summary --pid", "gmon summary: --pid needs a value"},
             {"summary --pid 1 --json=yes", "gmon summary: --json takes no value"},
             {"summary --pid ''", "gmon summary: --pid: the value is empty"},
             {"summary --pid 1 --match x", "gmon summary: --match is not an option of gmon summary"},
             {"pprof goroutine --pid 1 -o ''", "-o: the value is empty"},
             {"stacks --pid 1 --match ''", "gmon stacks: --match: the value is empty"},
             {"lifecycle --path " + bin + " --me 1", "--me is ambiguous: --metrics"},
             {"lifecycle --path " + bin + " --bogus",
              "gmon lifecycle: --bogus is not an option of gmon lifecycle"},
             {"gc --path " + bin + " --duration", "gmon gc: --duration needs a value"},
             {"gc --path ''", "gmon gc: --path: the value is empty"},
             {"info --path ''", "gmon info: --path: the value is empty"},
             {"info --json=1 --path " + bin, "gmon info: --json takes no value"},
             {"cache clear extra", "unexpected argument \"extra\""},
             // an option given twice: whichever would win, one of them is a mistake
             {"summary --pid 1 --pid 2", "gmon summary: --pid is given twice: give it once"},
             {"pprof goroutine --pid 1 -o a --output b", "--output is given twice"},
             {"gr -v -v --path " + bin, "gmon gr: -v is given twice"},
             {"lifecycle --path " + bin + " --duration 1 --duration 2", "--duration is given twice"},
             {"info --json --json --path " + bin, "gmon info: --json is given twice"},
             // options that would do nothing without another are refused, not ignored
             {"lifecycle --path " + bin + " --metrics 0 --collect gc", "--collect is served on /metrics"},
             {"lifecycle --path " + bin + " --metrics 0 --metrics-addr ::1",
              "--metrics-addr is where /metrics"},
             {"lifecycle --path " + bin + " --malloc-sample 10", "--malloc-sample samples --collect malloc"},
             {"gm --path " + bin + " --top 5", "--top is the number of stacks --by site shows"},
             {"info --path " + bin + " --state-layout --json",
              "--state-layout prints rows of gmon's C table"}}) {
        auto got = gmon(r.args);
        EXPECT_EQ(got.status, 2) << r.args << ": " << got.err;
        EXPECT_EQ(lines(got.err).size(), 1u) << r.args << ": " << got.err;
        EXPECT_NE(got.err.find(r.said), std::string::npos) << r.args << ": " << got.err;
        EXPECT_EQ(got.out, "") << r.args;
    }
}

// A --bin that cannot stand in for the target's symbols is named, with the option, in the error.
TEST(CliOptions, BinErrorsNameTheOption) {
    running_fixture f(fixture("lifecycle-stripped"));
    ASSERT_GT(f.pid, 0);
    std::string pid = std::to_string(f.pid);
    expect_one_line_error(gmon("summary --pid " + pid + " --bin /nonexistent"), "--bin /nonexistent",
                          "no such file");
    expect_one_line_error(gmon("stacks --pid " + pid + " --bin /bin/ls"), "--bin /bin/ls", "not a Go binary");
    expect_one_line_error(gmon("summary --pid " + pid + " --bin " + fixture("httpserver-plain")),
                          "--bin " + fixture("httpserver-plain"), "not a build of the same program");
}

// A FIFO given as the binary is refused at once: opening it for reading would wait for a writer.
TEST(CliOptions, AFifoIsNotABinary) {
    std::string fifo = scratch_dir() + "/fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    expect_one_line_error(gmon("info --path " + fifo, 10), fifo, "not a regular file");
}

// What a command printed to stdout and the kernel refused is said, and the command fails: a full disk
// (/dev/full), a closed descriptor.
TEST(CliOptions, LostStdoutIsAFailure) {
    running_fixture f(fixture("lifecycle-plain"));
    ASSERT_GT(f.pid, 0);
    for (const char *redirect : {" >/dev/full", " >&-"}) {
        for (const char *cmd : {"summary", "stacks", "pprof goroutine -o -"}) {
            auto r = run("sh -c '" + std::string(GMON_BINARY) + " " + cmd + " --pid " +
                         std::to_string(f.pid) + redirect + "'");
            EXPECT_EQ(r.status, 1) << cmd << redirect << ": " << r.err;
            EXPECT_NE(r.err.find("cannot write"), std::string::npos) << cmd << redirect << r.err;
            EXPECT_EQ(r.err.find("cannot write", r.err.find("cannot write") + 1), std::string::npos)
                << "said once: " << r.err;
        }
    }
    // Log lines, written by the log writer: the same.
    std::string copy = private_copy(fixture("lifecycle-plain"), "lost-stdout");
    auto traced = run("sh -c '" + std::string(GMON_BINARY) + " lifecycle --metrics 0 --duration 1 --path " +
                      copy + " >/dev/full'");
    EXPECT_EQ(traced.status, 1) << traced.err;
    EXPECT_NE(traced.err.find("gmon: stdout failed: no more log lines are written: No space left on device"),
              std::string::npos)
        << traced.err;
    // A reader that closed the pipe took what it wanted: not a failure, nothing said.
    auto head = run("bash -c 'set -o pipefail; " + std::string(GMON_BINARY) +
                    " top --count 3 --refresh 1 --pid " + std::to_string(f.pid) + " | head -1'");
    EXPECT_EQ(head.status, 0) << head.err;
    EXPECT_EQ(head.err, "");
    auto info = run("sh -c '" + std::string(GMON_BINARY) + " info --path " + fixture("lifecycle-plain") +
                    " >/dev/full'");
    EXPECT_EQ(info.status, 1) << info.err;
}

// A copy of the stripped fixture whose build info and runtime.buildVersion string are destroyed: only the
// pclntab's format tells its release family (go1.18-1.19), the case --go-version is for.
std::string damaged_build_info(const std::string &tag) {
    std::string data = read_file(fixture("lifecycle-stripped"));
    const std::string magic = "\xff Go buildinf:";
    for (size_t at = data.find(magic); at != std::string::npos; at = data.find(magic, at + 1))
        data.replace(at, magic.size(), std::string(magic.size(), '\0'));
    for (size_t at = data.find("go1.19"); at != std::string::npos; at = data.find("go1.19", at + 1))
        data.replace(at, 2, "xx");
    std::string path = scratch_dir() + "/" + tag;
    write_file(path, data);
    chmod(path.c_str(), 0755);
    return path;
}

TEST(CliInfo, GoVersionOverrideForDamagedBuildInfo) {
    std::string bin = damaged_build_info("no-buildinfo");
    auto detected = gmon("info --path " + bin);
    ASSERT_EQ(detected.status, 0) << detected.err;
    EXPECT_NE(detected.out.find("(from pclntab magic"), std::string::npos) << detected.out;
    auto r = gmon("info --path " + bin + " --go-version 1.19");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("go1.19.0 (from --go-version)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("table row go1.19"), std::string::npos) << r.out;
    // 1.18 is in the pclntab's family, but the code has Go 1.19's GC CPU limiter.
    expect_one_line_error(gmon("info --path " + bin + " --go-version 1.18"), "1.18",
                          "contradicts the binary: it has runtime.(*gcCPULimiterState).update, which Go 1.19 "
                          "introduced");
}

// --go-version is not a way to override what the build info says: a wrong release prints wrong values.
TEST(CliInfo, GoVersionContradictingTheBuildInfoIsRefused) {
    expect_one_line_error(gmon("info --path " + fixture("lifecycle-plain") + " --go-version 1.18"), "1.18",
                          "contradicts the binary's build info (.go.buildinfo), which says go1.19.8");
    for (const char *cmd : {"gr", "gm", "lifecycle"}) {
        auto r = gmon(std::string(cmd) + " --path " + fixture("lifecycle-plain") + " --go-version 1.18");
        EXPECT_EQ(r.status, 2) << cmd << r.err;
        EXPECT_NE(r.err.find("contradicts"), std::string::npos) << cmd << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << cmd << ": " << r.err;
    }
    auto same = gmon("info --path " + fixture("lifecycle-plain") + " --go-version 1.19.2");
    EXPECT_EQ(same.status, 0) << "the same release, another patch: " << same.err;
}

TEST(CliInfo, BadFiles) {
    std::string dir = scratch_dir();
    expect_one_line_error(gmon("info --path /nonexistent/gmon-nothing"), "/nonexistent/gmon-nothing",
                          "no such file");
    expect_one_line_error(gmon("info --path " + dir), dir, "directory");
    write_file(dir + "/text.txt", "hello, this is not an executable\n");
    expect_one_line_error(gmon("info --path " + dir + "/text.txt"), "text.txt", "not an ELF file");
    expect_one_line_error(gmon("info --path /bin/ls"), "/bin/ls", "not a Go binary");
    write_file(dir + "/empty", "");
    expect_one_line_error(gmon("info --path " + dir + "/empty"), "empty", "not an ELF file");
}

TEST(CliInfo, TruncatedAndCorruptedGoBinaries) {
    std::string dir = scratch_dir();
    std::string orig = read_file(fixture("lifecycle-plain"));
    write_file(dir + "/half", orig.substr(0, orig.size() / 2));
    auto r = gmon("info --path " + dir + "/half");
    expect_one_line_error(r, dir + "/half", "");
    std::string corrupt = orig;
    size_t at = corrupt.find(std::string("\xf0\xff\xff\xff\x00\x00\x01\x08", 8));
    ASSERT_NE(at, std::string::npos);
    corrupt[at + 8] = '\xff'; // nfunc becomes absurd
    corrupt[at + 14] = '\x7f';
    write_file(dir + "/corrupt", corrupt);
    expect_one_line_error(gmon("info --path " + dir + "/corrupt"), dir + "/corrupt", ".gopclntab");
}

TEST(CliInfo, UnsupportedGoVersion) {
    std::string data = read_file(fixture("lifecycle-stripped"));
    int replaced = 0;
    for (size_t at; (at = data.find("go1.19.8")) != std::string::npos; replaced++)
        data.replace(at, 8, "go1.99.8");
    ASSERT_GT(replaced, 0);
    std::string path = scratch_dir() + "/go199";
    write_file(path, data);
    expect_one_line_error(gmon("info --path " + path), path,
                          "Go 1.99 is not supported (gmon supports Go 1.17 to 1.27)");
}

TEST(CliInfo, ByPidForPieAndNonPie) {
    for (const char *variant : {"pie", "plain"}) {
        running_fixture f(fixture(std::string("lifecycle-") + variant));
        ASSERT_GT(f.pid, 0);
        auto r = gmon("info --json --pid " + std::to_string(f.pid));
        ASSERT_EQ(r.status, 0) << r.err;
        std::string json_path = scratch_dir() + "/pid.json";
        write_file(json_path, r.out);
        std::string want_bias = std::string(variant) == "pie" ? "b != 0 and b % 4096 == 0" : "b == 0";
        auto check = run("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                         "b=int(d[\"process\"][\"load_bias\"],16); assert " +
                         want_bias +
                         ", b; "
                         "assert d[\"process\"][\"pid\"]==" +
                         std::to_string(f.pid) +
                         "; "
                         "assert d[\"process\"][\"host_path\"].startswith(\"/proc/\"); "
                         "assert d[\"go_version\"]==\"go1.19.8\"' " +
                         json_path);
        EXPECT_EQ(check.status, 0) << variant << " " << check.err << r.out;
        // --path and --pid together must name the same file.
        EXPECT_EQ(gmon("info --pid " + std::to_string(f.pid) + " --path " +
                       fixture(std::string("lifecycle-") + variant))
                      .status,
                  0);
        expect_one_line_error(gmon("info --pid " + std::to_string(f.pid) + " --path /bin/ls"), "/bin/ls",
                              "runs");
    }
}

TEST(CliInfo, DeadPidAndNonGoProcess) {
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, nullptr, 0);
    expect_one_line_error(gmon("info --pid " + std::to_string(child)), std::to_string(child), "no process");
    // A live process that is not Go: sleep(1).
    auto sleeper = run("sh -c 'sleep 30 & echo $!'");
    std::string pid = lines(sleeper.out).at(0);
    ASSERT_TRUE(wait_for_comm(std::stol(pid), "sleep"));
    expect_one_line_error(gmon("info --pid " + pid), "sleep", "not a Go binary");
    kill(std::stoi(pid), SIGKILL);
}

TEST(CliInfo, NoPermission) {
    ASSERT_EQ(geteuid(), 0u) << "the suite runs as root (BPF needs it); this test drops to nobody";
    std::string path = scratch_dir() + "/private-go";
    write_file(path, read_file(fixture("lifecycle-plain")));
    chmod(path.c_str(), 0700);
    chmod(scratch_dir().c_str(), 0755);
    auto r = run("setpriv --reuid=nobody --regid=nogroup --clear-groups " + std::string(GMON_BINARY) +
                 " info --path " + path);
    expect_one_line_error(r, path, "Permission denied");
    r = run("setpriv --reuid=nobody --regid=nogroup --clear-groups " + std::string(GMON_BINARY) +
            " info --pid 1");
    expect_one_line_error(r, "/proc/1/exe", "permission denied");
}

// Root with CAP_SYS_PTRACE, and still refused: the kernel (here Landlock, as a sandbox or a security module
// would) will not let gmon inspect the process. The hint must say so, not ask for the capability gmon has.
TEST(CliInfo, RefusalDespiteCapSysPtraceIsExplained) {
    running_fixture target(fixture("lifecycle-plain"));
    ASSERT_GT(target.pid, 0);
    std::string pid = std::to_string(target.pid);
    std::string landlocked = std::string(GMON_TEST_TOOLS) + "/landlocked.py " + GMON_BINARY;
    for (const char *cmd : {"info --pid ", "summary --pid "}) {
        auto r = run(landlocked + " " + cmd + pid);
        expect_one_line_error(r, "/proc/" + pid + "/exe", "although gmon has CAP_SYS_PTRACE");
        EXPECT_NE(r.err.find("the kernel will not let this process inspect process " + pid),
                  std::string::npos)
            << r.err;
        EXPECT_EQ(r.err.find("gmon needs root"), std::string::npos) << r.err;
    }
    // Without the capability the hint is the capability.
    auto r = run("setpriv --reuid=nobody --regid=nogroup --clear-groups " + std::string(GMON_BINARY) +
                 " summary --pid " + pid);
    expect_one_line_error(r, pid, "gmon needs root with CAP_SYS_PTRACE");
}

// A process in its own PID namespace (as in a container, without one): gmon names both of its PIDs.
TEST(CliInfo, ProcessInAnotherPidNamespace) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "pidns");
    // background kills its process group at the end: the sleep feeding the fixture's stdin, unshare, fixture.
    background ns("sh -c 'sleep 600 | unshare --pid --fork --kill-child " + bin + " population'");
    ASSERT_TRUE(ns.wait_for("ready 1 ", 20000))
        << "the fixture sees itself as PID 1: " << ns.out() << ns.err();
    auto found = run("sh -c 'for p in $(pgrep -f " + bin + "); do [ \"$(readlink /proc/$p/exe)\" = " + bin +
                     " ] && echo $p; done; true'");
    ASSERT_EQ(lines(found.out).size(), 1u) << found.out;
    std::string pid = lines(found.out)[0];
    auto info = gmon("info --pid " + pid);
    EXPECT_NE(info.out.find("process:        PID " + pid + " (PID 1 in "), std::string::npos) << info.out;
    auto summary = gmon("summary --json --pid " + pid);
    ASSERT_EQ(summary.status, 0) << summary.err;
    EXPECT_EQ(json_field(summary.out, "pid"), pid);
    EXPECT_EQ(json_field(summary.out, "nspid"), "1");
    auto text = gmon("summary --pid " + pid);
    EXPECT_NE(text.out.find("\nprocess:    PID " + pid + " (PID 1 in "), std::string::npos) << text.out;
    // Outside any namespace there is no process line, and nspid is the PID.
    running_fixture plain(fixture("lifecycle-plain"));
    auto host = gmon("summary --json --pid " + std::to_string(plain.pid));
    EXPECT_EQ(json_field(host.out, "nspid"), std::to_string(plain.pid)) << host.out;
    EXPECT_EQ(gmon("summary --pid " + std::to_string(plain.pid)).out.find("\nprocess:"), std::string::npos);
}

// --container without an engine, with a name that cannot be one, or with --pid: one line that says why. The
// Dockerized tests (test_containers.cc) cover the engine's own answers.
TEST(CliInfo, ContainerOptionWithoutAnEngine) {
    std::string no_engine = "env DOCKER_HOST=unix://" + scratch_dir() + "/no-docker.sock ";
    for (const char *cmd : {"info", "summary", "top", "heap", "var --name x", "lifecycle", "gc", "gr",
                            "gr seq", "lifetime", "gm", "sched"}) {
        auto r = run(no_engine + GMON_BINARY + " " + cmd + " --container web");
        expect_one_line_error(r, "--container web", "no container engine");
        EXPECT_NE(r.err.find("no-docker.sock does not exist. Start one (dockerd)"), std::string::npos)
            << r.err;
    }
    expect_one_line_error(
        run("env DOCKER_HOST=ssh://host " + std::string(GMON_BINARY) + " summary --container web"),
        "ssh://host", "unix://PATH or tcp://");
    expect_one_line_error(gmon("summary --container 'web;rm'"), "web;rm", "not a container name or ID");
    expect_one_line_error(gmon("summary --pid 1 --container web"), "summary",
                          "one process: --pid or --container");
    expect_one_line_error(gmon("gc --pid 1 --container web"), "gc", "one process: --pid or --container");
    expect_one_line_error(gmon("info --pid 1 --container web"), "info", "one process: --pid or --container");
    // A closed port: the engine is not there.
    int port = free_port();
    expect_one_line_error(run("env DOCKER_HOST=tcp://127.0.0.1:" + std::to_string(port) + " " + GMON_BINARY +
                              " summary --container web"),
                          "tcp://127.0.0.1", "no container engine answers");
    // A socket left by an engine that stopped: the system's error, not curl's words for the URL's host.
    std::string stale = scratch_dir() + "/stale-docker.sock";
    ASSERT_EQ(run("python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' " + stale)
                  .status,
              0);
    auto refused = run("env DOCKER_HOST=unix://" + stale + " " + GMON_BINARY + " summary --container web");
    expect_one_line_error(refused, stale, "no container engine answers (Connection refused)");
    EXPECT_EQ(refused.err.find("localhost"), std::string::npos) << refused.err;
}

} // namespace
