// A real Prometheus server (Debian's package) scrapes gmon's /metrics; the series are read back from its
// HTTP API, so the exposition format is proven by the consumer that matters.
#include <csignal>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

std::string prometheus_config(int metrics_port) {
    return "global:\n"
           "  scrape_interval: 1s\n"
           "scrape_configs:\n"
           "  - job_name: gmon\n"
           "    static_configs:\n"
           "      - targets: ['127.0.0.1:" +
           std::to_string(metrics_port) + "']\n";
}

// Queries the Prometheus HTTP API until the answer contains want (or 40 s pass); returns the last answer.
std::string query_until(int port, const std::string &promql, const std::string &want) {
    std::string answer;
    for (int i = 0; i < 200; i++) {
        answer = run("curl -sfG http://127.0.0.1:" + std::to_string(port) +
                     "/api/v1/query --data-urlencode '" + "query=" + promql + "'")
                     .out;
        if (answer.find(want) != std::string::npos)
            break;
        usleep(200 * 1000);
    }
    return answer;
}

TEST(Prometheus, ServerScrapesGmonAndStoresTheSeries) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "prom");
    int metrics_port = free_port(), prom_port = free_port();
    std::string dir = scratch_dir() + "/prometheus";
    run("rm -rf " + dir + " && mkdir -p " + dir);
    write_file(dir + "/prometheus.yml", prometheus_config(metrics_port));
    background g(gmon_command("--path " + bin + " --level WARN --metrics " + std::to_string(metrics_port)));
    if (!attached(g))
        return;
    background prometheus("prometheus --config.file=" + dir + "/prometheus.yml --storage.tsdb.path=" + dir +
                          "/data --web.listen-address=127.0.0.1:" + std::to_string(prom_port));
    background target(bin + " spawn 25 20");
    ASSERT_EQ(target.wait(30), 0);

    std::string answer =
        query_until(prom_port, "gmon_goroutines_exited_total{stack_0=\"main.spawnWorkers\"}", "\"25\"]");
    EXPECT_NE(answer.find("\"stack_1\":\"main.main\""), std::string::npos) << answer << prometheus.err();
    EXPECT_NE(answer.find("\"25\"]"), std::string::npos) << answer;
    answer = query_until(prom_port, "gmon_goroutine_lifetime_seconds_count{stack_0=\"main.spawnWorkers\"}",
                         "\"25\"]");
    EXPECT_NE(answer.find("\"25\"]"), std::string::npos) << answer;
    answer = query_until(prom_port, "up{job=\"gmon\"}", "\"1\"]");
    EXPECT_NE(answer.find("\"1\"]"), std::string::npos) << "Prometheus marks the target up: " << answer;
    prometheus.signal(SIGTERM);
    prometheus.wait(20);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0);
}

} // namespace
