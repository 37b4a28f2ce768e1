// gmon stacks against the target's own view: the stacks fixture serves net/http/pprof, and for every
// goroutine that stays parked across gmon's read, gmon's block must equal the fixture's own debug=2 block
// byte for byte (frames, file:line, +0x offsets, argument words, created-by, wait reason). Then panicparse, a
// real parser of Go dumps, must find every goroutine in gmon's output; and the corpus's stripped releases
// walk cleanly.
#include <map>
#include <regex>
#include <set>

#include "test_support.h"

using namespace gmon_test;

namespace {

// The stacks fixture running until destroyed (it spins a core: it must not outlive its test); addr is where
// its net/http/pprof listens.
struct stacks_fixture {
    background proc;
    std::string addr;
    explicit stacks_fixture(const std::string &bin) : proc(bin) {
        EXPECT_TRUE(proc.wait_for("ready", 20000)) << proc.err();
        std::smatch m;
        std::string out = proc.out();
        if (std::regex_search(out, m, std::regex(R"(ready (\S+))")))
            addr = m[1];
    }
    pid_t pid() const {
        return proc.pid(); // background runs it through sh -c 'exec ...'
    }
    std::string own_dump() {
        return run("curl -s 'http://" + addr + "/debug/pprof/goroutine?debug=2'").out;
    }
};

// The blocks of a dump by goroutine ID ("goroutine 7 [...]:\n...", without the blank line between them).
std::map<std::string, std::string> blocks(const std::string &dump) {
    std::map<std::string, std::string> out;
    size_t at = 0;
    while (at < dump.size()) {
        size_t end = dump.find("\n\n", at);
        std::string b = dump.substr(at, end == std::string::npos ? std::string::npos : end - at);
        while (!b.empty() && b.back() == '\n')
            b.pop_back();
        std::smatch m;
        if (std::regex_search(b, m, std::regex(R"(^goroutine (\d+) \[)")))
            out[m[1]] = b;
        if (end == std::string::npos)
            break;
        at = end + 2;
    }
    return out;
}

// The sum of panicparse's per-group counts ("5: chan receive ...") for a dump.
int panicparse_count(const std::string &dump) {
    std::string path = scratch_dir() + "/dump.txt";
    write_file(path, dump);
    auto r = run("panicparse -aggressive=false -no-color < " + path);
    int n = 0;
    for (const auto &l : lines(r.out)) {
        std::smatch m;
        if (std::regex_search(l, m, std::regex(R"(^(\d+): )")))
            n += std::stoi(m[1]);
    }
    return n;
}

int count_of(const std::string &text, const std::string &needle) {
    int n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        n++;
    return n;
}

} // namespace

class StacksVariant : public ::testing::TestWithParam<std::string> {};

// Every goroutine parked before and after gmon's read prints exactly as the program's own debug=2 prints it.
TEST_P(StacksVariant, EqualsTheProgramsOwnDump) {
    std::string variant = GetParam(), extra;
    if (variant == "stripped-bin") {
        variant = "stripped";
        extra = " --bin " + fixture("stacks-plain");
    }
    stacks_fixture f(fixture("stacks-" + variant));
    ASSERT_FALSE(f.addr.empty());
    // A goroutine that moved while it was read (main accepting the dump's own connection on a loaded machine)
    // is left out of that round; up to three rounds, until the whole population has been compared.
    std::set<std::string> compared;
    run_result r;
    for (int round = 0; round < 3 && compared.size() < 19 && !HasFailure(); round++) {
        auto before = blocks(f.own_dump());
        r = gmon("stacks --pid " + std::to_string(f.pid()) + extra);
        auto after = blocks(f.own_dump());
        ASSERT_EQ(r.status, 0) << r.err;
        auto mine = blocks(r.out);
        for (const auto &[id, block] : before) {
            if (!after.count(id) || after[id] != block || block.find("[running]") != std::string::npos ||
                block.find("[runnable]") != std::string::npos)
                continue; // it moved while it was read
            compared.insert(id);
            EXPECT_EQ(mine[id], block) << "goroutine " << id;
        }
    }
    // The population: main, 5 pooled, the channel receive, select, sleep, mutex, syscall, recursion, closure,
    // two methods, an inlined call, a generic function, the labelled one, the one locked to its thread.
    EXPECT_GE(compared.size(), 19u) << r.out;
    EXPECT_NE(r.out.find("main.waitInline(...)\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("main.genericWait[...]("), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(", locked to thread]:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" [syscall]:\nsyscall.Syscall("), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("main.(*server).serve("), std::string::npos) << r.out;
    // Go 1.19 walks 100 physical frames: 97 of the 200-deep recursion show, without an elision line.
    EXPECT_EQ(count_of(r.out, "main.recurse("), 97) << r.out;
    // The runtime's goroutines are left out, as Go leaves them out.
    EXPECT_EQ(r.out.find("runtime.gopark"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("of the runtime left out"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Fixture, StacksVariant,
                         ::testing::Values("plain", "stripped", "stripped-bin", "pie", "cgo"));

// A minute after the fixture's GC stamped g.waitsince, Go prints ", 1 minutes" in the headers of the blocked
// goroutines; gmon prints it in the same headers (it reads waitsince and the same monotonic clock).
TEST(Stacks, MinutesWaitedAsGoPrintsThem) {
    stacks_fixture f(fixture("stacks-stripped"));
    ASSERT_FALSE(f.addr.empty());
    sleep(61);
    auto before = blocks(f.own_dump());
    auto r = gmon("stacks --pid " + std::to_string(f.pid()));
    auto after = blocks(f.own_dump());
    ASSERT_EQ(r.status, 0) << r.err;
    auto mine = blocks(r.out);
    int with_minutes = 0;
    for (const auto &[id, block] : before) {
        if (!after.count(id) || after[id] != block || block.find("[running]") != std::string::npos ||
            block.find("[runnable]") != std::string::npos)
            continue;
        with_minutes += block.find(", 1 minutes]:") != std::string::npos;
        EXPECT_EQ(mine[id], block) << "goroutine " << id;
    }
    EXPECT_GE(with_minutes, 15) << r.out;
}

// Under --freeze the spinning goroutine's thread is stopped: gmon reads its registers and prints its real
// stack, main.spin. A thread caught in a signal handler (the runtime preempts a spinning goroutine every
// 10 ms) is on its signal stack: then gmon says the stack is unavailable, never prints a wrong one; of five
// frozen reads, at least one must catch the goroutine in its loop.
TEST(Stacks, FreezeShowsTheRunningGoroutinesStack) {
    stacks_fixture f(fixture("stacks-pie"));
    std::string spinner;
    int own_line = 0; // where the program's own dump (which preempts it) shows the loop
    for (const auto &[id, block] : blocks(f.own_dump())) {
        std::smatch m;
        if (std::regex_search(block, m, std::regex(R"(\nmain\.spin\(\)\n\t\S+:(\d+) )"))) {
            spinner = id;
            own_line = std::stoi(m[1]);
        }
    }
    ASSERT_FALSE(spinner.empty());
    std::regex shown(
        "^goroutine " + spinner +
        R"( \[(running|runnable|preempted)\]:\nmain\.spin\(\)\n\t/\S+/main\.go:(\d+) \+0x[0-9a-f]+\n)"
        R"(created by main\.main\n)");
    std::regex unavailable("^goroutine " + spinner +
                           R"( \[running\]:\n\tgoroutine running on other thread; stack unavailable\n)");
    int caught = 0;
    for (int i = 0; i < 5; i++) {
        auto r = gmon("stacks --freeze --pid " + std::to_string(f.pid()) + " --goid " + spinner);
        ASSERT_EQ(r.status, 0) << r.err;
        std::smatch m;
        if (std::regex_search(r.out, m, shown)) {
            caught++;
            // a line of spin's loop, as the program's own dump shows it
            EXPECT_LE(std::abs(std::stoi(m[2]) - own_line), 4) << r.out;
        } else {
            EXPECT_TRUE(std::regex_search(r.out, unavailable)) << r.out;
        }
    }
    EXPECT_GE(caught, 1);
    EXPECT_FALSE(f.own_dump().empty()); // the process runs again afterwards
}

// The spinning goroutine is on a thread: gmon says its stack is unavailable (or, when it was caught between
// two time slices, shows it in main.spin), and never prints a stale stack.
TEST(Stacks, RunningGoroutineSaysItsStackIsUnavailable) {
    stacks_fixture f(fixture("stacks-plain"));
    std::string spinner;
    for (const auto &[id, block] : blocks(f.own_dump()))
        if (block.find("\nmain.spin()") != std::string::npos)
            spinner = id;
    ASSERT_FALSE(spinner.empty());
    auto r = gmon("stacks --pid " + std::to_string(f.pid()) + " --goid " + spinner);
    ASSERT_EQ(r.status, 0) << r.err;
    std::regex running(
        "^goroutine " + spinner +
        R"( \[running\]:\n\tgoroutine running on other thread; stack unavailable\ncreated by main\.main\n)");
    std::regex parked("^goroutine " + spinner + R"( \[(runnable|preempted)\]:\nmain\.spin\(\)\n)");
    EXPECT_TRUE(std::regex_search(r.out, running) || std::regex_search(r.out, parked)) << r.out;
}

// panicparse parses gmon's output and finds every goroutine in it, as it does in the program's own dump.
TEST(Stacks, PanicparseReadsEveryGoroutine) {
    stacks_fixture f(fixture("stacks-plain"));
    std::string own = f.own_dump();
    auto r = gmon("stacks --pid " + std::to_string(f.pid()));
    ASSERT_EQ(r.status, 0) << r.err;
    int headers = count_of(r.out, "\ngoroutine ") + (r.out.rfind("goroutine ", 0) == 0);
    EXPECT_GE(headers, 20);
    EXPECT_EQ(panicparse_count(r.out), headers) << r.out;
    EXPECT_EQ(panicparse_count(own), count_of(own, "\ngoroutine ") + 1) << own;
}

// --group merges the five identical goroutines; --match and --goid select; --json carries the labels.
TEST(Stacks, GroupMatchGoidAndJson) {
    stacks_fixture f(fixture("stacks-plain"));
    std::string pid = std::to_string(f.pid());
    auto g = gmon("stacks --group --pid " + pid);
    ASSERT_EQ(g.status, 0) << g.err;
    EXPECT_TRUE(std::regex_search(
        g.out, std::regex(R"(^5 goroutines \[chan receive\]:( \d+){5}\nmain\.pooled\(\.\.\.\)\n)")))
        << g.out;
    EXPECT_NE(g.out.find("\n1 goroutine [semacquire]: "), std::string::npos) << g.out;

    auto m = gmon("stacks --match semacquire --pid " + pid);
    ASSERT_EQ(m.status, 0) << m.err;
    EXPECT_EQ(count_of(m.out, "goroutine "), 1) << m.out;
    EXPECT_NE(m.out.find("main.lockHeld()"), std::string::npos) << m.out;

    auto one = gmon("stacks --goid 1 --pid " + pid);
    ASSERT_EQ(one.status, 0) << one.err;
    EXPECT_EQ(one.out.rfind("goroutine 1 [IO wait]:\n", 0), 0u) << one.out;
    EXPECT_EQ(count_of(one.out, "goroutine "), 1) << one.out;
    // A goroutine the process does not have is said, and the command fails; the others are printed.
    auto missing = gmon("stacks --goid 1 --goid 987654 --goid 1 --goid 987655 --pid " + pid);
    EXPECT_EQ(missing.status, 1) << missing.err;
    EXPECT_EQ(missing.out.rfind("goroutine 1 [IO wait]:\n", 0), 0u) << missing.out;
    EXPECT_EQ(count_of(missing.out, "goroutine "), 1) << missing.out;
    EXPECT_NE(missing.err.find("gmon stacks: process " + pid + " has no goroutines 987654, 987655"),
              std::string::npos)
        << missing.err;

    auto j = gmon("stacks --json --pid " + pid);
    ASSERT_EQ(j.status, 0) << j.err;
    EXPECT_NE(j.out.find(R"("labels":{"shard":"7","worker":"labelled"},"stack":"complete")"),
              std::string::npos)
        << j.out;
    EXPECT_NE(j.out.find(R"({"function":"main.waitInline","file":")"), std::string::npos) << j.out;
}

TEST(Stacks, RefusesBadInput) {
    auto regex = gmon("stacks --pid 1 --match '('");
    EXPECT_EQ(regex.status, 2);
    EXPECT_NE(regex.err.find("--match"), std::string::npos) << regex.err;
    auto both = gmon("stacks --pid 1 --group --json");
    EXPECT_EQ(both.status, 2);
    background sleeper("sleep 30");
    auto notgo = gmon("stacks --pid " + std::to_string(sleeper.pid()));
    EXPECT_EQ(notgo.status, 2);
    EXPECT_FALSE(notgo.err.empty());
    EXPECT_TRUE(notgo.out.empty()) << notgo.out;
}

// The goroutines of `stacks --json`, each expected to have walked to the top of its stack (or to be running:
// no stack without --freeze); returns how many there were.
int stacks_walked_to_their_top(const std::string &json) {
    std::regex stack(R"re("stack":"([^"]*)")re");
    int n = 0;
    for (auto it = std::sregex_iterator(json.begin(), json.end(), stack); it != std::sregex_iterator();
         ++it) {
        n++;
        std::string how = (*it)[1];
        EXPECT_TRUE(how == "complete" || how.rfind("running", 0) == 0) << how << "\n" << json;
    }
    return n;
}

class StacksCorpus : public ::testing::TestWithParam<corpus_entry> {};

// Real stripped releases (go1.17 to go1.26): every goroutine, the runtime's included, walks to the top of its
// stack (runtime.goexit) with every frame symbolized.
TEST_P(StacksCorpus, EveryStackWalksToItsTop) {
    const corpus_entry &e = GetParam();
    idle_esbuild watch(e, "stacks");
    ASSERT_FALSE(watch.pid.empty()) << "esbuild --watch is not running";
    auto r = gmon("stacks --system --json --pid " + watch.pid);
    ASSERT_EQ(r.status, 0) << r.err;
    std::string json = r.out;
    EXPECT_GE(stacks_walked_to_their_top(json), 6) << r.out;
    EXPECT_EQ(json.find(R"("file":"?")"), std::string::npos) << r.out;
    EXPECT_EQ(json.find(R"("function":"?")"), std::string::npos) << r.out;
    EXPECT_NE(json.find(R"("function":"runtime.forcegchelper")"), std::string::npos) << r.out;
    EXPECT_NE(json.find(R"("function":"main.main")"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Npm, StacksCorpus, ::testing::ValuesIn(esbuild_corpus()), corpus_test_name);

namespace {

// `go tool pprof -traces` of a profile: each distinct trace (its labels, then its frames) with its count.
std::map<std::string, int> pprof_traces(const std::string &profile) {
    auto r = run(std::string(GO_EXECUTABLE) + " tool pprof -traces " + profile);
    EXPECT_EQ(r.status, 0) << r.err;
    std::map<std::string, int> out;
    std::string labels, frames;
    int count = -1;
    auto flush = [&] {
        if (count >= 0)
            out[labels + frames] += count;
        labels.clear();
        frames.clear();
        count = -1;
    };
    for (const auto &l : lines(r.out)) {
        std::smatch m;
        if (l.rfind("-----------+", 0) == 0)
            flush();
        else if (count < 0 && std::regex_match(l, m, std::regex(R"(\s+([\w.]+):\s+(.*))")))
            labels += m[1].str() + "=" + m[2].str() + " ";
        else if (count < 0 && std::regex_match(l, m, std::regex(R"(\s+(\d+)\s+(\S.*))"))) {
            count = std::stoi(m[1]);
            frames = m[2].str() + "\n";
        } else if (count >= 0 && std::regex_match(l, m, std::regex(R"(\s+(\S.*))")))
            frames += m[1].str() + "\n";
    }
    flush();
    return out;
}

} // namespace

// go tool pprof reads gmon's goroutine profile and lists the same stacks, counts and labels as the program's
// own /debug/pprof/goroutine for the fixture's parked population (the spinner and the handler that serves the
// program's own profile are on a thread).
TEST(PprofGoroutine, SameTracesAsTheProgramsOwnProfile) {
    stacks_fixture f(fixture("stacks-pie"));
    std::string dir = scratch_dir();
    ASSERT_EQ(run("curl -s -o " + dir + "/own.pb.gz 'http://" + f.addr + "/debug/pprof/goroutine'").status,
              0);
    auto r = gmon("pprof goroutine --pid " + std::to_string(f.pid()) + " -o " + dir + "/gmon.pb.gz");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("1 running on a thread left out"), std::string::npos) << r.err;
    auto own = pprof_traces(dir + "/own.pb.gz"), mine = pprof_traces(dir + "/gmon.pb.gz");
    int compared = 0;
    for (const auto &[trace, count] : own) {
        if (trace.find("main.") == std::string::npos || trace.find("main.spin") != std::string::npos)
            continue;
        compared += count;
        EXPECT_EQ(mine[trace], count) << trace;
    }
    EXPECT_GE(compared, 19);
    for (const auto &[trace, count] : mine)
        EXPECT_EQ(own.count(trace), 1u) << "gmon's profile has a trace the program's has not:\n" << trace;
    EXPECT_NE(mine.count("shard=7 worker=labelled runtime.gopark\nruntime.chanrecv\nruntime.chanrecv1\n"
                         "main.labelled.func1\nruntime/pprof.Do\nmain.labelled\n"),
              0u);
    auto tags = run(std::string(GO_EXECUTABLE) + " tool pprof -tags " + dir + "/gmon.pb.gz");
    EXPECT_NE(tags.out.find("labelled"), std::string::npos) << tags.out;
    auto top = run(std::string(GO_EXECUTABLE) + " tool pprof -top " + dir + "/gmon.pb.gz");
    EXPECT_EQ(top.status, 0) << top.err;
    EXPECT_NE(top.out.find("Type: goroutine"), std::string::npos) << top.out;
}

TEST(PprofGoroutine, RefusesWhatItCannotWrite) {
    auto none = gmon("pprof");
    EXPECT_EQ(none.status, 2);
    auto other = gmon("pprof threadcreate --pid 1");
    EXPECT_EQ(other.status, 2);
    EXPECT_NE(other.err.find("\"threadcreate\" is not a profile"), std::string::npos) << other.err;
    auto dir = gmon("pprof goroutine --pid " + std::to_string(getpid()) + " -o /nonexistent/dir/p.pb.gz");
    EXPECT_EQ(dir.status, 2) << dir.err; // this test process is not a Go program: refused before writing
}

class StacksLefthook : public ::testing::TestWithParam<corpus_entry> {};

// lefthook (go1.21, go1.24, go1.27, stripped) waiting for a hook command (sleep): every stack, the runtime's
// included, walks to its top with every frame symbolized; lefthook's executor is on one of them; created-by
// lines have the form of these releases (" in goroutine N", from go1.21).
TEST_P(StacksLefthook, EveryStackWalksToItsTop) {
    const corpus_entry &e = GetParam();
    waiting_lefthook hook(e, "stacks");
    ASSERT_FALSE(hook.pid.empty()) << hook.proc->out() << hook.proc->err();
    std::string pid = hook.pid;
    auto r = gmon("stacks --system --json --pid " + pid);
    ASSERT_EQ(r.status, 0) << r.err;
    std::string json = r.out;
    EXPECT_GE(stacks_walked_to_their_top(json), 4) << r.out;
    EXPECT_EQ(json.find(R"("file":"?")"), std::string::npos) << r.out;
    // the goroutine that runs the hook's command, in lefthook's own code
    EXPECT_NE(json.find(R"(exec.CommandExecutor.execute","file":")"), std::string::npos) << r.out;
    auto text = gmon("stacks --pid " + pid);
    ASSERT_EQ(text.status, 0) << text.err;
    EXPECT_TRUE(std::regex_search(
        text.out, std::regex(R"(\ncreated by \S+ in goroutine \d+\n\t\S+:\d+ \+0x[0-9a-f]+\n)")))
        << text.out;
}

INSTANTIATE_TEST_SUITE_P(Npm, StacksLefthook, ::testing::ValuesIn(lefthook_corpus()), corpus_test_name);
