#include "trace_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "messages.h"
#include "privileges.h"
#include "process_watch.h"
#include "table_text.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t loop_ended; /* by --duration or a tick (the target exited): stopping too */
static int64_t loop_deadline_ns;         /* --duration's end, 0: none */

static void on_stop_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

void trace_loop_install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool trace_loop_stop_requested(void) {
    return stop_requested;
}

bool trace_loop_stopping(void) {
    return stop_requested || loop_ended || (loop_deadline_ns && monotonic_ns() >= loop_deadline_ns);
}

int trace_log_writer_init(struct log_writer *w, enum log_format format, enum log_level min_level) {
    if (log_writer_init(w, stdout, format, min_level) != 0)
        return -1;
    w->give_up = trace_loop_stopping;
    return 0;
}

/* For commands whose probes only fill maps: nothing to deliver, just wait (a signal ends the sleep early). */
static int wait_without_events(const struct trace_loop *l, int timeout_ms) {
    if (l->poll)
        return l->poll(l->ctx, timeout_ms);
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}

int trace_loop_run(const struct trace_loop *l) {
    int64_t deadline = l->duration_s ? monotonic_ns() + (int64_t)l->duration_s * 1000000000LL : 0;
    loop_deadline_ns = deadline;
    int64_t tick_ns = (int64_t)l->tick_ms * 1000000LL, next_tick = monotonic_ns() + tick_ns;
    while (!stop_requested) {
        /* At most 100 ms, and no later than the next tick: ticks (and the --interval reports they print) come
         * on time rather than up to a wait late. */
        int64_t until_tick_ms = (next_tick - monotonic_ns() + 999999) / 1000000;
        int timeout_ms = until_tick_ms < 0 ? 0 : until_tick_ms > 100 ? 100 : (int)until_tick_ms;
        if (wait_without_events(l, timeout_ms) != 0) {
            cli_error(NULL, "reading events failed: %s", strerror(errno));
            loop_ended = 1;
            return GMON_EXIT_FAILED;
        }
        int64_t now = monotonic_ns();
        if (deadline && now >= deadline)
            break;
        if (l->tick && now >= next_tick) {
            if (!l->tick(l->ctx))
                break;
            next_tick += tick_ns;
            if (next_tick <= now) /* a tick that took longer than tick_ms: no burst of ticks to catch up */
                next_tick = now + tick_ns;
        }
    }
    loop_ended = 1;
    wait_without_events(l, 0); /* what is still buffered */
    return GMON_EXIT_OK;
}

void interval_start(struct interval *i, uint64_t seconds) {
    i->every_ns = (int64_t)seconds * 1000000000LL;
    i->started_ns = i->last_ns = monotonic_ns();
    i->next_ns = i->started_ns + i->every_ns;
}

struct report_span interval_report(struct interval *i, bool final) {
    int64_t now = monotonic_ns(), to_wall = wall_ns() - now;
    struct report_span s = {.start_wall_ns = (final ? i->started_ns : i->last_ns) + to_wall,
                            .end_wall_ns = now + to_wall,
                            .since_attach = final};
    if (!final)
        i->last_ns = now;
    return s;
}

void report_span_text(const struct report_span *s, const char *what, char *out, size_t size) {
    char when[32];
    clock_text(s->end_wall_ns, when, sizeof(when));
    double secs = (double)(s->end_wall_ns - s->start_wall_ns) / 1e9;
    const char *sep = what[0] ? " " : "";
    if (s->since_attach)
        snprintf(out, size, "%s%s%s since gmon attached (%.1fs)", when, sep, what, secs);
    else
        snprintf(out, size, "%s%s%s in the last %.2fs", when, sep, what, secs);
}

void log_report_span(struct log_writer *w, const struct report_span *s) {
    log_time(w, "start", s->start_wall_ns);
    log_time(w, "end", s->end_wall_ns);
    log_fixed(w, "seconds", (double)(s->end_wall_ns - s->start_wall_ns) / 1e9, 3);
    log_str(w, "span", s->since_attach ? "since_attach" : "interval");
}

bool interval_due(struct interval *i) {
    if (!i->every_ns || monotonic_ns() < i->next_ns)
        return false;
    i->next_ns += i->every_ns;
    return true;
}

bool trace_target_running(const char *cmd, const struct target *t) {
    int pid = t->pid;
    if (!pid)
        return true;
    if (!process_alive(pid)) {
        fprintf(stderr, "gmon %s: process %d exited\n", cmd, pid);
        return false;
    }
    if (!target_runs_its_binary(t, pid)) {
        fprintf(stderr, "gmon %s: process %d replaced its program (exec): the Go program traced has ended\n",
                cmd, pid);
        return false;
    }
    return true;
}

int trace_drop_privileges(void) {
    struct gmon_error err;
    if (privileges_keep_only_what_tracing_needs(&err) == 0)
        return GMON_EXIT_OK;
    cli_error(NULL, "%s", err.msg);
    return GMON_EXIT_FAILED;
}

int trace_command_run(const struct trace_command *c) {
    trace_loop_install_signals();
    int rc = c->start(c->loop.ctx);
    if (rc == GMON_EXIT_OK)
        rc = trace_drop_privileges();
    if (rc != GMON_EXIT_OK) {
        c->stop(c->loop.ctx, false);
        return rc;
    }
    rc = trace_loop_run(&c->loop);
    c->stop(c->loop.ctx, true);
    return rc;
}

bool read_loop_run(const struct read_loop *l) {
    int64_t deadline = l->duration_s ? monotonic_ns() + (int64_t)l->duration_s * 1000000000LL : 0;
    while (!trace_loop_stop_requested() && (!deadline || monotonic_ns() < deadline)) {
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (!l->read(l->ctx)) {
            if (proc_memory_gone(l->pid))
                return true;
            continue;
        }
        if (interval_due(l->interval))
            l->report(l->ctx);
    }
    return false;
}
