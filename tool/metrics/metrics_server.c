#include "metrics_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "microhttpd_library.h"
#include "privileges.h"

static const char CONTENT_TYPE[] = "text/plain; version=0.0.4; charset=utf-8";
/* A scraper sends its request at once; a client silent this long is dropped (slowloris). */
enum { CONNECTION_TIMEOUT_S = 10, CONNECTION_LIMIT = 256 };
static const char INDEX[] = "gmon: Prometheus metrics are at /metrics\n";
/* Loaded by metrics_server_start before the server's threads exist; read-only after. */
static const struct microhttpd_library *mhd;

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
                             enum MHD_ResponseMemoryMode mode) {
    struct MHD_Response *resp = mhd->create_response_from_buffer(len, body, mode);
    if (!resp)
        return MHD_NO;
    mhd->add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    enum MHD_Result rc = mhd->queue_response(conn, status, resp);
    mhd->destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version, (void)upload_data, (void)upload_data_size, (void)con_cls;
    struct metrics_server *s = cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n", 9, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/") == 0)
        return reply(conn, MHD_HTTP_OK, (char *)INDEX, sizeof(INDEX) - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/metrics") != 0)
        return reply(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", 24, MHD_RESPMEM_PERSISTENT);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return MHD_NO;
    s->render(s->ctx, out);
    fclose(out);
    return reply(conn, MHD_HTTP_OK, buf, len, MHD_RESPMEM_MUST_FREE);
}

static int bind_listener(const char *addr, int port, const char *in_use_hint, struct gmon_error *err) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        len = sizeof(*v6);
    } else {
        return gmon_fail(
            err, "--metrics-addr %s is not an IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, ::1)", addr);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return gmon_fail(err, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
        int saved = errno;
        close(fd);
        if (saved == EADDRINUSE)
            return gmon_fail(err, "port %d on %s is in use: choose another with --metrics PORT%s", port, addr,
                             in_use_hint);
        return gmon_fail(err, "cannot listen on %s:%d: %s", addr, port, strerror(saved));
    }
    return fd;
}

/* Runs on a thread of its own, which first gives up what tracing no longer needs: the server's thread,
 * created by libmicrohttpd from this one, inherits that much (it reads /proc/PID/maps and BPF maps while
 * rendering), though the rest of gmon still holds everything while it attaches. */
static void *start_daemon_without_privileges(void *arg) {
    struct metrics_server *s = arg;
    if (privileges_keep_only_what_tracing_needs(&s->drop_error) != 0) {
        s->drop_failed = true;
        close(s->listen_fd);
        return NULL;
    }
    /* One epoll thread serves every client, so a slow or idle one holds a connection slot but never the
     * thread; connections idle for CONNECTION_TIMEOUT_S are closed, at most CONNECTION_LIMIT are open. */
    s->daemon = mhd->start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD, 0, NULL, NULL, on_request, s,
                                  MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_CONNECTION_TIMEOUT,
                                  (unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
                                  (unsigned int)CONNECTION_LIMIT, MHD_OPTION_END);
    return NULL;
}

int metrics_server_start(struct metrics_server *s, const char *addr, int port, const char *in_use_hint,
                         metrics_render_fn render, void *ctx, struct gmon_error *err) {
    memset(s, 0, sizeof(*s));
    if (!(mhd = microhttpd_library_load(err)))
        return -1;
    s->render = render;
    s->ctx = ctx;
    s->listen_fd = bind_listener(addr, port, in_use_hint, err);
    if (s->listen_fd < 0)
        return -1;
    struct sockaddr_storage bound;
    socklen_t len = sizeof(bound);
    s->port = port;
    if (getsockname(s->listen_fd, (struct sockaddr *)&bound, &len) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    pthread_t launcher;
    if (pthread_create(&launcher, NULL, start_daemon_without_privileges, s) != 0) {
        close(s->listen_fd);
        return gmon_fail(err, "cannot start the metrics server's thread");
    }
    pthread_join(launcher, NULL);
    if (s->drop_failed) {
        if (s->daemon)
            mhd->stop_daemon(s->daemon);
        s->daemon = NULL;
        return gmon_fail(err, "%s", s->drop_error.msg);
    }
    if (!s->daemon) {
        close(s->listen_fd);
        return gmon_fail(err, "libmicrohttpd could not start the metrics server on %s:%d", addr, port);
    }
    return 0;
}

void metrics_server_stop(struct metrics_server *s) {
    if (s->daemon)
        mhd->stop_daemon(s->daemon); /* closes the listen socket too */
    s->daemon = NULL;
}

void metrics_server_url(const char *addr, int port, char *out, size_t size) {
    bool ipv6 = strchr(addr, ':') != NULL;
    snprintf(out, size, "http://%s%s%s:%d/metrics", ipv6 ? "[" : "", addr, ipv6 ? "]" : "", port);
}
