// Helpers shared by the test files: where fixtures live, running gmon as a subprocess, reading files.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <sys/types.h>

#include <gtest/gtest.h>

namespace gmon_test {

inline std::string fixture(const std::string &name) {
    return std::string(GMON_FIXTURES_DIR) + "/" + name;
}

inline std::string corpus(const std::string &name) {
    return std::string(GMON_CORPUS_DIR) + "/" + name;
}

inline std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void write_file(const std::string &path, const std::string &data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

struct run_result {
    int status = -1; // exit status, or 128+signal
    std::string out, err;
};

// Runs a shell command line with a time limit (so a hang fails the test instead of stalling it).
run_result run(const std::string &command, int timeout_seconds = 60);

// Runs gmon with the given arguments (already shell-quoted where needed).
inline run_result gmon(const std::string &args, int timeout_seconds = 60) {
    return run(std::string(GMON_BINARY) + " " + args, timeout_seconds);
}

// A scratch directory unique to this test process.
std::string scratch_dir();

// Waits up to timeout_ms for process pid to run the program named comm (/proc/PID/comm): a child started
// through a shell is the shell, then the program, once its exec is done. False if it never does.
inline bool wait_for_comm(long pid, const std::string &comm, int timeout_ms = 5000) {
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (read_file("/proc/" + std::to_string(pid) + "/comm") == comm + "\n")
            return true;
        usleep(10 * 1000);
    }
    return false;
}

// Lines of a string, without the newlines.
std::vector<std::string> lines(const std::string &text);

// A command running in the background (through `sh -c 'exec ...'`, so pid is the command itself) with its
// stdout and stderr captured in files. The destructor kills it if it still runs.
class background {
  public:
    explicit background(const std::string &command);
    ~background();
    background(const background &) = delete;
    background &operator=(const background &) = delete;
    pid_t pid() const {
        return pid_;
    }
    // Waits until stdout (or stderr) contains needle; false on timeout or when the command exited first.
    bool wait_for(const std::string &needle, int timeout_ms, bool in_stderr = false);
    // Waits until stdout contains needle at least times times; false on timeout or when the command exited
    // first.
    bool wait_for_times(const std::string &needle, size_t times, int timeout_ms);
    void signal(int sig);
    // Waits for the exit (killing the command after timeout_seconds): exit status, or 128+signal.
    int wait(int timeout_seconds);
    bool running();
    std::string out() const {
        return read_file(out_path_);
    }
    std::string err() const {
        return read_file(err_path_);
    }

  private:
    pid_t pid_ = -1;
    int status_ = -1;
    std::string out_path_, err_path_;
};

// A copy of a binary under a name unique to the calling test: uprobes attach to an inode, so a test tracing
// its own copy never sees the processes of tests running in parallel.
std::string private_copy(const std::string &binary, const std::string &tag);

// The directory of the gmon binary under test: its build tree.
std::string gmon_build_dir();
// The Debian package of this build (tool/install/make_deb.sh, what ./gmon.sh package runs), made once per
// test process in scratch_dir()/package: its path, or "" when it could not be made (a failure is reported).
std::string built_package();

// A socket listening on a free TCP port of 127.0.0.1 (its number in *port), or -1.
int listen_on_free_port(int *port);
// A TCP port that was free a moment ago on 127.0.0.1.
int free_port();

// The value of "key" in one JSON object line written by gmon (strings unescaped, numbers as text).
std::string json_field(const std::string &line, const std::string &key);
// The strings of an array field ("stack":["a","b"]).
std::vector<std::string> json_strings(const std::string &line, const std::string &key);

// A member of a named object (without nested objects) in gmon's JSON, as text; "" when absent.
inline std::string object_field(const std::string &json, const std::string &object, const std::string &key) {
    size_t at = json.find("\"" + object + "\":{");
    if (at == std::string::npos)
        return "";
    std::string obj = json.substr(at, json.find('}', at) - at + 1);
    return json_field(obj.substr(obj.find('{')), key);
}

// A number member of a named object in gmon's JSON ("heap":{..."inuse_bytes":N...}); ~0 when absent.
inline uint64_t object_u(const std::string &json, const std::string &object, const std::string &key) {
    std::string v = object_field(json, object, key);
    return v.empty() ? ~0ull : std::stoull(v);
}

struct corpus_entry {
    std::string name, package, go_version, module, sha256, main_package;
};
std::vector<corpus_entry> corpus_manifest();
// The esbuild binaries of the corpus: the ones the live tests run a bundling workload on.
std::vector<corpus_entry> esbuild_corpus();
// The lefthook binaries of the corpus (go1.21, go1.24, go1.27).
std::vector<corpus_entry> lefthook_corpus();
// How googletest prints a corpus entry in test names and failures.
inline void PrintTo(const corpus_entry &e, std::ostream *os) {
    *os << e.name << " (" << e.go_version << ")";
}
// A test name for a corpus entry: esbuild-0.13.15 -> esbuild_0_13_15.
inline std::string corpus_test_name(const ::testing::TestParamInfo<corpus_entry> &info) {
    std::string name = info.param.name;
    for (char &c : name)
        if (!isalnum((unsigned char)c))
            c = '_';
    return name;
}

// esbuild of the corpus in watch mode (a real stripped Go program that stays alive, idle, until destroyed),
// on a one-line project in the scratch directory. pid is the esbuild process ("" when it did not start).
struct idle_esbuild {
    std::string dir, pid;
    std::unique_ptr<background> proc;
    // entry: the module to bundle (default: a one-line module of its own); gogc: GOGC for esbuild ("":
    // unset).
    explicit idle_esbuild(const corpus_entry &e, const std::string &tag, const std::string &entry = "",
                          const std::string &gogc = "");
};

// lefthook running a hook command (sleep 20) in a fresh git repository under the scratch directory: pid is
// lefthook's own process once the command runs and lefthook waits for it ("" when it did not get there).
struct waiting_lefthook {
    std::string dir, pid;
    std::unique_ptr<background> proc;
    explicit waiting_lefthook(const corpus_entry &e, const std::string &tag);
};

// A fixture process in `wait` mode (it runs until its stdin closes, at destruction).
struct running_fixture {
    pid_t pid = -1;
    FILE *stdin_pipe = nullptr;
    explicit running_fixture(const std::string &bin) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) // the write end stays out of processes started later (gmon)
            return;
        pid = fork();
        if (pid == 0) {
            dup2(fds[0], 0);
            close(fds[1]);
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            execl(bin.c_str(), bin.c_str(), "wait", (char *)nullptr);
            _exit(127);
        }
        close(fds[0]);
        stdin_pipe = fdopen(fds[1], "w");
        usleep(200 * 1000); // let the runtime map itself
    }
    ~running_fixture() {
        if (stdin_pipe)
            fclose(stdin_pipe); // EOF: the fixture exits
        if (pid > 0)
            waitpid(pid, nullptr, 0);
    }
};

// The lifecycle fixture in `population` mode (a known set of blocked goroutines), until destroyed; it prints
// "ready PID" once every goroutine is blocked.
struct population {
    background proc;
    // mode: the fixture's population (the default), or another mode that prints "ready PID" ("park 20000").
    explicit population(const std::string &bin, const std::string &mode = "population")
        : proc("sh -c 'sleep 600 | " + bin + " " + mode + "'") {
        EXPECT_TRUE(proc.wait_for("ready", 20000)) << proc.err();
    }
    // The fixture reads the pipe from sleep, not from this process: killing the shell leaves it waiting for
    // sleep's end (10 minutes). It goes with the test.
    ~population() {
        std::string out = proc.out();
        if (out.rfind("ready ", 0) == 0)
            kill((pid_t)std::stol(out.substr(6)), SIGKILL);
    }
    population(const population &) = delete;
    population &operator=(const population &) = delete;
    pid_t pid_number() const {
        return (pid_t)std::stol(proc.out().substr(6));
    }
    std::string pid() const {
        return std::to_string(pid_number());
    }
};

} // namespace gmon_test
