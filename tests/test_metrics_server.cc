// The /metrics server next to a production service: it answers GET and HEAD on its two paths and refuses the
// rest, and slow or idle clients (slowloris) hold a connection each but never the server or event processing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>

#include "lifecycle_support.h"

using namespace gmon_test;

namespace {

std::string status_of(const std::string &args) {
    return run("curl -s -o /dev/null -w '%{http_code}' " + args).out;
}

// A client that connects, sends half a request and then nothing.
int slow_client(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    const char half[] = "GET /metrics HTTP/1.1\r\nHost: gmon\r\n";
    EXPECT_EQ(write(fd, half, sizeof(half) - 1), (ssize_t)(sizeof(half) - 1));
    return fd;
}

TEST(MetricsServer, GetAndHeadOnItsPathsOnly) {
    std::string bin = private_copy(fixture("lifecycle-plain"), "methods");
    int port = free_port();
    background g(gmon_command("--path " + bin + " --level WARN --metrics " + std::to_string(port)));
    if (!attached(g))
        return;
    std::string url = "http://127.0.0.1:" + std::to_string(port);
    EXPECT_EQ(status_of(url + "/metrics"), "200");
    EXPECT_EQ(status_of("-I " + url + "/metrics"), "200") << "HEAD";
    EXPECT_EQ(status_of(url + "/"), "200");
    for (const char *method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
        EXPECT_EQ(status_of("-X " + std::string(method) + " " + url + "/metrics"), "405") << method;
    EXPECT_EQ(status_of("-X POST --data-binary @/etc/hostname " + url + "/metrics"), "405");
    for (const char *path : {"/metrics/", "/debug/pprof", "/../etc/passwd", "/metricsx"})
        EXPECT_NE(status_of("--path-as-is '" + url + path + "'"), "200") << path;
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
}

TEST(MetricsServer, SlowClientsBlockNeitherScrapesNorEvents) {
    const int slow = 200, n = 40;
    std::string bin = private_copy(fixture("lifecycle-plain"), "slowloris");
    int port = free_port();
    background g(gmon_command("--path " + bin + " --level WARN --metrics " + std::to_string(port)));
    if (!attached(g))
        return;
    std::vector<int> fds;
    for (int i = 0; i < slow; i++) {
        int fd = slow_client(port);
        if (fd >= 0)
            fds.push_back(fd);
    }
    EXPECT_EQ(fds.size(), (size_t)slow) << "every slow client got a connection";

    // While they hang: the fixture's goroutines are all counted, and a scrape answers at once.
    background target(bin + " spawn " + std::to_string(n) + " 50");
    ASSERT_EQ(target.wait(60), 0) << target.err();
    const std::string site = "{stack_0=\"main.spawnWorkers\",stack_1=\"main.main\",stack_2=\"runtime.main\","
                             "stack_3=\"runtime.goexit\",stack_4=\"none\"}";
    std::string metrics;
    auto start = std::chrono::steady_clock::now();
    for (int tries = 0; tries < 50; tries++) {
        metrics = scrape(port);
        if (sample_value(metrics, "gmon_goroutines_exited_total" + site) == n)
            break;
        usleep(100 * 1000);
    }
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_created_total" + site), n) << metrics;
    EXPECT_EQ(sample_value(metrics, "gmon_goroutines_exited_total" + site), n) << metrics;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(took).count(), 5);

    // The server drops a client silent for 10 s: each slow socket reads end-of-file by then.
    usleep(12 * 1000 * 1000);
    int dropped = 0;
    for (int fd : fds) {
        char c;
        struct timeval tv = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        dropped += read(fd, &c, 1) == 0;
        close(fd);
    }
    EXPECT_EQ(dropped, slow) << "idle connections are closed after the server's timeout";
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
}

} // namespace
