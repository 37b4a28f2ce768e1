// `go tool pprof -raw` of a profile file, as samples whose stacks are the locations' text: what the pprof
// tests compare (gmon's profiles with the programs' own, or with what a fixture did).
#pragma once
#include <map>
#include <regex>
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

} // namespace gmon_test
