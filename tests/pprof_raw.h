// `go tool pprof -raw` of a profile file, as samples whose stacks are the locations' text: what the pprof
// tests compare (gmon's profiles with the programs' own, or with what a fixture did).
#pragma once
#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace gmon_test {

// One sample of `go tool pprof -raw`, its location IDs replaced by the locations' text (address, lines).
struct raw_sample {
    std::string values, labels, stack;
    bool zero = true; // every value 0
    std::string text() const {
        return values + " " + labels + "\n" + stack;
    }
};

// The samples of `go tool pprof -raw FILE`, in file order; the header lines (PeriodType, Period, sample
// types) in *header.
inline std::vector<raw_sample> raw_samples(const std::string &file, std::string *header) {
    auto r = run(std::string(GO_EXECUTABLE) + " tool pprof -raw " + file);
    EXPECT_EQ(r.status, 0) << r.err;
    std::map<std::string, std::string> locations; // ID -> "0xADDR func file:line\n" per line
    std::vector<std::pair<std::string, std::vector<std::string>>> pending;
    std::vector<raw_sample> out;
    enum { HEAD, SAMPLES, LOCATIONS, MAPPINGS } part = HEAD;
    std::string current_loc;
    std::regex sample_re(R"(^\s*([\d ]+):((?: \d+)*)\s*$)"),
        loc_re(R"(^\s*(\d+): (0x[0-9a-f]+)(?: M=\d+)? (.*)$)"); // no M=: a frame in no mapping
    for (const auto &l : lines(r.out)) {
        std::smatch m;
        if (l == "Samples:") {
            part = SAMPLES;
        } else if (l == "Locations") {
            part = LOCATIONS;
        } else if (l == "Mappings") {
            part = MAPPINGS;
        } else if (part == HEAD && header && l.rfind("Time:", 0) != 0) {
            *header += l + "\n";
        } else if (part == SAMPLES && std::regex_match(l, m, sample_re)) {
            raw_sample s;
            std::istringstream numbers(m[1].str());
            for (std::string v; numbers >> v;)
                s.values += (s.values.empty() ? "" : " ") + v;
            s.zero = std::regex_match(s.values, std::regex(R"([0 ]*)"));
            out.push_back(s);
            std::vector<std::string> ids;
            std::istringstream in(m[2].str());
            for (std::string id; in >> id;)
                ids.push_back(id);
            pending.emplace_back("", ids);
        } else if (part == SAMPLES && !out.empty()) {
            out.back().labels += l.substr(l.find_first_not_of(' ')) + " ";
        } else if (part == SAMPLES && header) {
            *header += l + "\n"; // the sample types
        } else if (part == LOCATIONS && std::regex_match(l, m, loc_re)) {
            current_loc = m[1];
            locations[current_loc] = m[2].str() + " " + m[3].str() + "\n";
        } else if (part == LOCATIONS && !current_loc.empty()) {
            locations[current_loc] += "  " + l.substr(l.find_first_not_of(' ')) + "\n";
        }
    }
    for (size_t i = 0; i < out.size(); i++)
        for (const auto &id : pending[i].second)
            out[i].stack += locations.count(id) ? locations[id] : "?" + id + "\n";
    return out;
}

// Calls f(function, file) for each frame line of a raw_sample's stack ("0xADDR func file:line s=N" or, for an
// inlined frame, "  func file:line s=N") and replaces the line with what f returns.
template <typename F> std::string map_frames(const std::string &stack, F f) {
    static const std::regex frame_re(R"(^(0x[0-9a-f]+ |  )(\S+) (.+)(:\d+ s=\d+)$)");
    std::string out;
    for (const auto &l : lines(stack)) {
        std::smatch m;
        out += (std::regex_match(l, m, frame_re)
                    ? m[1].str() + m[2].str() + " " + f(m[2].str(), m[3].str()) + m[4].str()
                    : l) +
               "\n";
    }
    return out;
}

// runtime/pprof keys a profile's Functions by name alone (profileBuilder.funcs, runtime/pprof/proto.go, every
// release since 1.9): a function whose code comes from several files, such as a package's init gathering the
// variable initialisers of all its files, is written with the file of the first frame the writer met, for
// every frame of it; which one depends on the order of the buckets. gmon's Functions are per name and file.
// The frames of such a function are compared without their file, in both profiles: one that `mine` shows in
// several files, and `own` only in files `mine` shows it in (a frame gmon named with a file of its own is
// still a difference).
inline void forget_files_of_functions_in_several_files(std::vector<raw_sample> &mine,
                                                       std::vector<raw_sample> &own) {
    std::map<std::string, std::set<std::string>> mine_files, own_files;
    auto collect = [](const std::vector<raw_sample> &samples,
                      std::map<std::string, std::set<std::string>> &files) {
        for (const auto &s : samples)
            map_frames(s.stack, [&](const std::string &function, const std::string &file) {
                files[function].insert(file);
                return file;
            });
    };
    collect(mine, mine_files);
    collect(own, own_files);
    std::set<std::string> several;
    for (const auto &[function, files] : mine_files)
        if (files.size() > 1 &&
            std::includes(files.begin(), files.end(), own_files[function].begin(), own_files[function].end()))
            several.insert(function);
    for (auto *samples : {&mine, &own})
        for (auto &s : *samples)
            s.stack = map_frames(s.stack, [&](const std::string &function, const std::string &file) {
                return several.count(function) ? std::string("(one of several files)") : file;
            });
}

} // namespace gmon_test
