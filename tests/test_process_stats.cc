// The process figures of client_golang's process collector, read by gmon from outside (/proc), against what
// the program reports of itself: the promclient fixture serves client_golang's default registry. Start time
// and limits equal to the byte as client_golang writes them; CPU time between gmon's reads before and after
// the scrape; memory within the scrape's own allocations; open descriptors short of the program's by what the
// scrape itself opens (its connection, procfs's directory).
#include <unistd.h>

#include <map>
#include <regex>

#include "process_stats.h"
#include "prom_text.h"
#include "test_support.h"

using namespace gmon_test;

namespace {

// The samples of a /metrics text without labels: name -> value text.
std::map<std::string, std::string> plain_samples(const std::string &text) {
    std::map<std::string, std::string> out;
    std::regex sample(R"(^([a-z_]+) (\S+)$)");
    for (const auto &l : lines(text)) {
        std::smatch m;
        if (std::regex_match(l, m, sample))
            out[m[1]] = m[2];
    }
    return out;
}

std::string go_text(double v) {
    char buf[PROM_GO_FLOAT_MAX];
    prom_format_go_float(v, buf);
    return buf;
}

} // namespace

TEST(ProcessStats, EqualToClientGolangsProcessCollector) {
    background f(fixture("promclient-plain"));
    ASSERT_TRUE(f.wait_for("ready", 30000)) << f.err();
    std::smatch m;
    std::string out = f.out();
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(ready (\S+))")));
    std::string addr = m[1];
    process_stats before, after;
    ASSERT_TRUE(process_stats_read("/proc", f.pid(), &before));
    auto scrape = run("curl -s http://" + addr + "/metrics");
    ASSERT_TRUE(process_stats_read("/proc", f.pid(), &after));
    ASSERT_EQ(scrape.status, 0);
    auto own = plain_samples(scrape.out);
    ASSERT_TRUE(before.have_stat && before.have_fds && before.have_limits);
    EXPECT_EQ(own["process_start_time_seconds"], go_text(before.start_time_seconds));
    EXPECT_EQ(own["process_max_fds"], go_text(before.max_fds));
    EXPECT_EQ(own["process_virtual_memory_max_bytes"], go_text(before.virtual_max_bytes));
    double cpu = std::stod(own["process_cpu_seconds_total"]);
    EXPECT_GE(cpu, before.cpu_seconds);
    EXPECT_LE(cpu, after.cpu_seconds);
    double rss = std::stod(own["process_resident_memory_bytes"]);
    EXPECT_NEAR(rss, after.resident_bytes, after.resident_bytes * 0.1);
    double vsize = std::stod(own["process_virtual_memory_bytes"]);
    EXPECT_NEAR(vsize, after.virtual_bytes, after.virtual_bytes * 0.1);
    double fds = std::stod(own["process_open_fds"]);
    EXPECT_GE(fds - before.open_fds, 1) << "the scrape's connection";
    EXPECT_LE(fds - before.open_fds, 3);
}

// A command may hold ") " and spaces: the fields are read after its last ')'. A gone process reads as gone.
TEST(ProcessStats, ACommandWithParenthesesAndAGoneProcess) {
    std::string dir = scratch_dir() + "/stats-comm";
    run("mkdir -p " + dir);
    std::string odd = dir + "/a) (b c";
    run("cp /bin/sleep '" + odd + "'");
    background p("'" + odd + "' 30");
    usleep(200 * 1000);
    process_stats s;
    ASSERT_TRUE(process_stats_read("/proc", p.pid(), &s));
    EXPECT_GT(s.start_time_seconds, 1.6e9);
    EXPECT_GT(s.virtual_bytes, 0);
    EXPECT_GT(s.resident_bytes, 0);
    EXPECT_GE(s.open_fds, 1);
    EXPECT_FALSE(process_stats_read("/proc", 999999999, &s));
    EXPECT_FALSE(s.have_fds || s.have_limits);
}
