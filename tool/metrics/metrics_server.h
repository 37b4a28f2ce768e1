/* The Prometheus /metrics endpoint, served by libmicrohttpd on its own thread. The port is bound before the
 * daemon starts so that "port in use" is reported precisely and at once. */
#ifndef GMON_METRICS_SERVER_H
#define GMON_METRICS_SERVER_H
#include <stdbool.h>
#include <stdio.h>
#include "gmon_error.h"

typedef void (*metrics_render_fn)(void *ctx, FILE *out);

struct metrics_server {
    void *daemon; /* struct MHD_Daemon * */
    int listen_fd;
    int port; /* the port listened on: the one the kernel chose when asked for port 0 */
    metrics_render_fn render;
    void *ctx;
    bool drop_failed; /* the thread that starts the daemon could not give up its capabilities */
    struct gmon_error drop_error;
};

/* Starts serving GET /metrics on addr:port (IPv4 or IPv6 literal; port 0: one the kernel chooses, in
 * s->port). render is called on the server's thread, once per scrape. That thread holds only the capabilities
 * tracing needs after attaching (privileges.h). in_use_hint ends the message when the port is taken (", or
 * ..." for the command's other choices; "" when none). */
int metrics_server_start(struct metrics_server *s, const char *addr, int port, const char *in_use_hint,
                         metrics_render_fn render, void *ctx, struct gmon_error *err);
void metrics_server_stop(struct metrics_server *s);
/* The address of /metrics on addr:port as a client writes it: an IPv6 literal in brackets (RFC 3986). */
void metrics_server_url(const char *addr, int port, char *out, size_t size);

#endif
