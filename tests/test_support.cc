#include "test_support.h"

#include <cstdlib>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gmon_test {

std::string scratch_dir() {
    static std::string dir;
    if (dir.empty()) {
        char tmpl[] = "/tmp/gmon-test-XXXXXX";
        dir = mkdtemp(tmpl);
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
        out.push_back(e);
    }
    return out;
}

} // namespace gmon_test
