// Helpers shared by the test files: where fixtures live, running gmon as a subprocess, reading files.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// Lines of a string, without the newlines.
std::vector<std::string> lines(const std::string &text);

struct corpus_entry {
    std::string name, package, go_version, module, sha256;
};
std::vector<corpus_entry> corpus_manifest();

} // namespace gmon_test
