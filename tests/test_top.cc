// gmon top: in a real terminal (tmux: keys sent, the screen captured) and with stdout on a pipe, on the
// Go 1.19 fixture holding a known population.
#include <csignal>
#include <regex>

#include "test_support.h"

using namespace gmon_test;

namespace {

// A tmux session running one command in a 160x50 terminal.
struct terminal {
    static inline int sessions = 0;
    std::string name;
    explicit terminal(const std::string &command)
        : name("gmon-top-" + std::to_string(getpid()) + "-" + std::to_string(++sessions)) {
        EXPECT_EQ(run("tmux new-session -d -s " + name + " -x 160 -y 50 '" + command + "'").status, 0);
    }
    ~terminal() {
        run("tmux kill-session -t " + name);
    }
    std::string screen() {
        return run("tmux capture-pane -p -t " + name).out;
    }
    // The screen with its colour escapes.
    std::string screen_escaped() {
        return run("tmux capture-pane -e -p -t " + name).out;
    }
    // Waits (up to 5 s) until the screen shows needle, and also `also` when given; returns the screen.
    std::string wait_for(const std::string &needle, const std::string &also = "") {
        std::string s;
        for (int i = 0; i < 50; i++) {
            s = screen();
            if (s.find(needle) != std::string::npos && s.find(also) != std::string::npos)
                break;
            usleep(100 * 1000);
        }
        return s;
    }
    // The same in a whole frame of top: its footer is drawn last.
    std::string wait_for_frame(const std::string &needle) {
        return wait_for(needle, "q quit");
    }
    void key(const char *k) {
        run("tmux send-keys -t " + name + " " + k);
    }
    bool alive() {
        return run("tmux has-session -t " + name).status == 0;
    }
};

// The first row of the table under the COUNT header.
std::string first_row(const std::string &screen) {
    auto rows = lines(screen);
    for (size_t i = 0; i + 1 < rows.size(); i++)
        if (rows[i].find("  COUNT  RUNNING") != std::string::npos)
            return rows[i + 1];
    return "";
}

TEST(Top, KeysInARealTerminal) {
    population p(fixture("lifecycle-stripped"));
    terminal t(std::string(GMON_BINARY) + " top --refresh 1 --pid " + p.pid());
    std::string s = t.wait_for_frame("main.popRecv");
    EXPECT_NE(s.find("sorted by count"), std::string::npos) << s;
    EXPECT_TRUE(std::regex_search(first_row(s), std::regex(R"(^ +100 +0 +0 +100 +0  main\.popRecv$)"))) << s;
    EXPECT_TRUE(std::regex_search(s, std::regex(R"(\n +5 +0 +0 +0 +5  main\.popSyscall\n)"))) << s;
    EXPECT_NE(s.find("q quit"), std::string::npos) << s;
    t.key("s");
    s = t.wait_for_frame("sorted by function");
    EXPECT_TRUE(std::regex_search(first_row(s), std::regex(R"(^ +10 +0 +0 +10 +0  main\.popLock$)"))) << s;
    t.key("p");
    s = t.wait_for_frame("PAUSED");
    EXPECT_NE(s.find("PAUSED"), std::string::npos) << s;
    t.key("q");
    for (int i = 0; i < 30 && t.alive(); i++)
        usleep(100 * 1000);
    EXPECT_FALSE(t.alive()) << "q must quit: " << t.screen();
}

// summary colours statuses on a terminal (yellow for syscall), never with --no-color; on a pipe never either
// (checked by the Summary tests, which read stdout from a pipe).
TEST(Summary, ColoursOnATerminalUnlessNoColor) {
    population p(fixture("lifecycle-plain"));
    terminal colored(std::string(GMON_BINARY) + " summary --pid " + p.pid() + "; sleep 30");
    std::string s = colored.wait_for("main.popSyscall");
    std::string escaped = colored.screen_escaped();
    EXPECT_NE(escaped.find("\033[33msyscall"), std::string::npos) << escaped;
    terminal plain(std::string(GMON_BINARY) + " summary --no-color --pid " + p.pid() + "; sleep 30");
    plain.wait_for("main.popSyscall");
    escaped = plain.screen_escaped();
    EXPECT_NE(escaped.find("main.popSyscall"), std::string::npos) << escaped;
    EXPECT_EQ(escaped.find("\033[33m"), std::string::npos) << escaped;
}

TEST(Top, PlainTablesWhenStdoutIsNotATerminal) {
    population p(fixture("lifecycle-plain"));
    auto r = run(
        std::string(GMON_BINARY) + " top --count 2 --refresh 1 --pc caller --pid " + p.pid() + " | cat", 30);
    EXPECT_EQ(r.status, 0) << r.err;
    size_t tables = 0;
    for (const auto &l : lines(r.out))
        tables += l.find("  COUNT  RUNNING") != std::string::npos;
    EXPECT_EQ(tables, 2u) << r.out;
    EXPECT_EQ(r.out.find('\033'), std::string::npos) << "no terminal escapes on a pipe";
    // --pc caller: the whole population comes from the one go statement in population's start closure.
    EXPECT_TRUE(std::regex_search(
        r.out, std::regex(R"(\n +185 +0 +0 +180 +5  main\.population\.func1 \(.*population\.go:\d+\)\n)")))
        << r.out;
}

// The process ends under top, a zombie its parent has not reaped yet, whatever moment of a refresh it
// meets: top says it exited, and exits 0.
TEST(Top, SaysTheProcessExited) {
    for (int round = 0; round < 3; round++) {
        running_fixture f(fixture("lifecycle-plain"));
        ASSERT_GT(f.pid, 0);
        background top(std::string(GMON_BINARY) + " top --refresh 1 --pid " + std::to_string(f.pid));
        ASSERT_TRUE(top.wait_for("COUNT", 10000)) << top.err();
        usleep(round * 400 * 1000);
        kill(f.pid, SIGKILL);
        EXPECT_EQ(top.wait(10), 0) << top.err();
        EXPECT_EQ(top.err(), "gmon top: process " + std::to_string(f.pid) + " exited\n");
    }
}

// The snapshot commands never load libbcc (and the LLVM it carries): it is dlopen'ed by tracing commands
// only, which is what keeps a snapshot's start-up in milliseconds. The tracing command, once attached, has
// libbcc_bpf, never LLVM.
TEST(Top, SnapshotsNeverLoadLibbccTracingDoes) {
    population p(fixture("lifecycle-plain"));
    background top(std::string(GMON_BINARY) + " top --refresh 1 --count 5 --pid " + p.pid());
    ASSERT_TRUE(top.wait_for("COUNT", 10000)) << top.err();
    std::string maps = read_file("/proc/" + std::to_string(top.pid()) + "/maps");
    EXPECT_NE(maps.find("/gmon"), std::string::npos) << "not gmon's maps";
    EXPECT_EQ(maps.find("libbcc"), std::string::npos) << maps;
    EXPECT_EQ(maps.find("libLLVM"), std::string::npos) << maps;
    background gc(std::string(GMON_BINARY) + " gc --pid " + p.pid());
    ASSERT_TRUE(gc.wait_for("gmon: probes attached", 30000, true)) << gc.err();
    // The tracer loads libbcc_bpf; the compiler (libbcc.so, LLVM) runs in a child process, if at all.
    maps = read_file("/proc/" + std::to_string(gc.pid()) + "/maps");
    EXPECT_NE(maps.find("libbcc_bpf.so"), std::string::npos) << maps;
    EXPECT_EQ(maps.find("libLLVM"), std::string::npos) << maps;
    gc.signal(SIGINT);
    EXPECT_EQ(gc.wait(10), 0) << gc.err();
}

TEST(Top, BadInputIsRefusedWithOneLine) {
    for (const char *args : {"top", "top --pid 999999999", "top --pid 1 --refresh 0", "top --pid 1 --pc x"}) {
        auto r = gmon(args);
        EXPECT_EQ(r.status, 2) << args << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << args << ": " << r.err;
    }
}

} // namespace
