#include "test_support.h"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gmon_test {

namespace {

char scratch_path[] = "/tmp/gmon-test-XXXXXX";

int remove_entry(const char *path, const struct stat *, int, struct FTW *) {
    return remove(path);
}

// At the test process's exit: a storm test's log lines alone take half a gigabyte, and a suite run leaves a
// directory per test (ctest runs each in a process of its own). GMON_TEST_KEEP_SCRATCH=1 keeps them.
void remove_scratch() {
    const char *keep = getenv("GMON_TEST_KEEP_SCRATCH");
    if (!keep || strcmp(keep, "1") != 0)
        nftw(scratch_path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

} // namespace

std::string scratch_dir() {
    static std::string dir;
    if (dir.empty() && mkdtemp(scratch_path)) {
        dir = scratch_path;
        atexit(remove_scratch);
    }
    return dir;
}

run_result run(const std::string &command, int timeout_seconds) {
    static int counter = 0;
    std::string base = scratch_dir() + "/run" + std::to_string(++counter);
    // stdin is /dev/null unless the command redirects it itself (the later redirection wins).
    std::string line = "</dev/null >" + base + ".out 2>" + base + ".err timeout -s KILL " +
                       std::to_string(timeout_seconds) + " " + command;
    int rc = std::system(line.c_str());
    run_result r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
    r.out = read_file(base + ".out");
    r.err = read_file(base + ".err");
    return r;
}

background::background(const std::string &command) {
    static int counter = 0;
    std::string base = scratch_dir() + "/bg" + std::to_string(getpid()) + "-" + std::to_string(++counter);
    out_path_ = base + ".out";
    err_path_ = base + ".err";
    pid_ = fork();
    if (pid_ == 0) {
        // A process group of its own: a command such as "sh -c 'sleep 60 | fixture'" leaves its pipeline
        // running when only the shell is killed, and a fixture left behind burns CPU for the rest of the run.
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), (char *)nullptr);
        _exit(127);
    }
    if (pid_ > 0)
        setpgid(pid_, pid_); // also here: the destructor may run before the child got to it
}

background::~background() {
    if (pid_ <= 0)
        return;
    // The whole group, even when its leader has ended (a pipeline's shell). The leader is not reaped until
    // now (running() leaves it a zombie), so the group's ID cannot have been given to another process.
    kill(-pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
}

bool background::running() {
    if (pid_ <= 0 || status_ >= 0)
        return false;
    siginfo_t info = {};
    // WNOWAIT: the leader stays a zombie, holding its process group's ID, until the destructor reaps it.
    if (waitid(P_PID, (id_t)pid_, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        status_ = 255; // not our child any more: nothing to wait for
        return false;
    }
    if (info.si_pid != pid_)
        return true;
    status_ = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    return false;
}

// How many times needle occurs in text, without overlaps.
static size_t occurrences(const std::string &text, const std::string &needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size()))
        n++;
    return n;
}

bool background::wait_for(const std::string &needle, int timeout_ms, bool in_stderr) {
    auto seen = [&] { return (in_stderr ? err() : out()).find(needle) != std::string::npos; };
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (seen())
            return true;
        if (!running())
            return seen();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

bool background::wait_for_times(const std::string &needle, size_t times, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (occurrences(out(), needle) >= times)
            return true;
        if (!running())
            return occurrences(out(), needle) >= times;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

void background::signal(int sig) {
    if (running())
        kill(pid_, sig);
}

int background::wait(int timeout_seconds) {
    for (int waited = 0; waited < timeout_seconds * 50 && running(); waited++)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (running()) {
        kill(pid_, SIGKILL);
        siginfo_t info = {};
        waitid(P_PID, (id_t)pid_, &info, WEXITED | WNOWAIT); // a zombie until the destructor, as above
        status_ = 128 + SIGKILL;
    }
    return status_;
}

std::string gmon_build_dir() {
    std::string binary = GMON_BINARY;
    return binary.substr(0, binary.rfind('/'));
}

std::string built_package() {
    static std::string deb;
    if (deb.empty()) {
        auto r = run(std::string(GMON_SOURCE_DIR) + "/tool/install/make_deb.sh '" + gmon_build_dir() + "' '" +
                         scratch_dir() + "/package'",
                     180);
        EXPECT_EQ(r.status, 0) << r.err;
        if (r.status == 0)
            deb = r.out.substr(0, r.out.find('\n'));
    }
    return deb;
}

std::string private_copy(const std::string &binary, const std::string &tag) {
    std::string copy = scratch_dir() + "/" + tag + "-" + binary.substr(binary.rfind('/') + 1);
    std::string cmd = "cp -f '" + binary + "' '" + copy + "'";
    if (std::system(cmd.c_str()) != 0)
        return "";
    return copy;
}

int listen_on_free_port(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int free_port() {
    int port = -1;
    int fd = listen_on_free_port(&port);
    if (fd >= 0)
        close(fd);
    return port;
}

static size_t value_start(const std::string &line, const std::string &key) {
    std::string needle = "\"" + key + "\":";
    size_t at = line.find(needle);
    return at == std::string::npos ? at : at + needle.size();
}

// Reads a JSON string literal starting at line[i] == '"'; i ends after the closing quote.
static std::string read_json_string(const std::string &line, size_t &i) {
    std::string out;
    for (i++; i < line.size() && line[i] != '"'; i++) {
        if (line[i] == '\\' && i + 1 < line.size()) {
            char c = line[++i];
            out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
        } else {
            out += line[i];
        }
    }
    i++;
    return out;
}

std::string json_field(const std::string &line, const std::string &key) {
    size_t i = value_start(line, key);
    if (i == std::string::npos || i >= line.size())
        return "";
    if (line[i] == '"')
        return read_json_string(line, i);
    size_t end = line.find_first_of(",}", i);
    return line.substr(i, end - i);
}

std::vector<std::string> json_strings(const std::string &line, const std::string &key) {
    std::vector<std::string> out;
    size_t i = value_start(line, key);
    if (i == std::string::npos || i >= line.size() || line[i] != '[')
        return out;
    for (i++; i < line.size() && line[i] != ']';) {
        if (line[i] == '"')
            out.push_back(read_json_string(line, i));
        else
            i++;
    }
    return out;
}

std::vector<std::string> lines(const std::string &text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l))
        out.push_back(l);
    return out;
}

std::vector<corpus_entry> corpus_manifest() {
    std::vector<corpus_entry> out;
    for (const auto &l : lines(read_file(GMON_CORPUS_MANIFEST))) {
        if (l.empty() || l[0] == '#')
            continue;
        std::istringstream in(l);
        corpus_entry e;
        std::getline(in, e.name, '\t');
        std::getline(in, e.package, '\t');
        std::getline(in, e.go_version, '\t');
        std::getline(in, e.module, '\t');
        std::getline(in, e.sha256, '\t');
        std::getline(in, e.main_package, '\t');
        if (e.main_package.empty())
            e.main_package = e.module + "/cmd/esbuild";
        out.push_back(e);
    }
    return out;
}

std::vector<corpus_entry> esbuild_corpus() {
    std::vector<corpus_entry> out;
    for (const auto &e : corpus_manifest())
        if (e.name.rfind("esbuild-", 0) == 0)
            out.push_back(e);
    return out;
}

idle_esbuild::idle_esbuild(const corpus_entry &e, const std::string &tag, const std::string &entry,
                           const std::string &gogc)
    : dir(scratch_dir() + "/" + tag + "-" + e.name) {
    run("mkdir -p " + dir);
    std::string module = entry.empty() ? dir + "/entry.js" : entry;
    if (entry.empty())
        write_file(module, "console.log(1);\n");
    proc = std::make_unique<background>("sh -c 'sleep 30 | " + (gogc.empty() ? "" : "GOGC=" + gogc + " ") +
                                        corpus(e.name) + " " + module + " --bundle --outfile=" + dir +
                                        "/out.js --watch'");
    for (int i = 0; i < 100 && read_file(dir + "/out.js").empty(); i++)
        usleep(50 * 1000);
    // Among the processes whose command line names this output file, the one running esbuild.
    for (const auto &p : lines(run("pgrep -f " + dir + "/out.js").out)) {
        char exe[4096] = {0};
        if (readlink(("/proc/" + p + "/exe").c_str(), exe, sizeof(exe) - 1) > 0 && corpus(e.name) == exe)
            pid = p;
    }
}

std::vector<corpus_entry> lefthook_corpus() {
    std::vector<corpus_entry> out;
    for (const auto &e : corpus_manifest())
        if (e.name.rfind("lefthook-", 0) == 0)
            out.push_back(e);
    return out;
}

waiting_lefthook::waiting_lefthook(const corpus_entry &e, const std::string &tag)
    : dir(scratch_dir() + "/" + tag + "-" + e.name) {
    run("mkdir -p " + dir + " && cd " + dir +
        " && git init -q . && printf 'manual:\\n  commands:\\n    wait:\\n"
        "      run: sleep 20\\n' > lefthook.yml");
    proc = std::make_unique<background>("sh -c 'cd " + dir + " && exec " + corpus(e.name) + " run manual'");
    for (int i = 0; i < 100 && pid.empty(); i++) {
        usleep(50 * 1000);
        // the hook's command (sleep, perhaps under a shell) runs: lefthook waits for it (it runs git before)
        std::string parent = std::to_string(proc->pid());
        std::string kids =
            run("pgrep -P " + parent).out + run("pgrep -P \"$(pgrep -d, -P " + parent + ")\"").out;
        for (const auto &k : lines(kids))
            if (!k.empty() && read_file("/proc/" + k + "/comm") == "sleep\n")
                pid = parent;
    }
    usleep(300 * 1000); // into os/exec's Wait
}

} // namespace gmon_test
