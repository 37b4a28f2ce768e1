/* gmon exporter: a Prometheus /metrics endpoint with client_golang's Go and process series of a Go program
 * that exports nothing, read from its memory at each scrape (no eBPF, no probe, no stop): go_exporter.h
 * names the series, runtime_metrics.h reads them. One process (--pid, --container), or every process that
 * runs a binary (--path), each series then with a pid label. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "go_exporter.h"
#include "goroutine_snapshot.h"
#include "metrics_server.h"
#include "option_help.h"
#include "prom_text.h"
#include "snapshot_options.h"
#include "trace_loop.h"

static const char USAGE[] =
    "Usage: gmon exporter (--pid PID | --container NAME | --path BIN) [--metrics PORT] [--metrics-addr "
    "ADDR]\n"
    "                     [--bin BIN]\n"
    "\n"
    "Serves Prometheus /metrics for a Go program (Go 1.17-1.27, stripped or not) that exports nothing: the\n"
    "series client_golang's Go and process collectors export (go_goroutines, go_threads, go_info,\n"
    "go_gc_duration_seconds, every go_memstats_*, process_*), under the same names, types, help texts and\n"
    "meanings, so that dashboards built for client_golang work unchanged; then go_gc_heap_goal_bytes,\n"
    "go_gc_gogc_percent, go_gc_gomemlimit_bytes (Go 1.19+), go_sched_gomaxprocs_threads,\n"
    "go_sched_goroutines_created_goroutines_total and go_sched_latencies_seconds. Each scrape reads the "
    "runtime's own counters from the\n"
    "process's memory: no eBPF, no probe, the process is never stopped. A figure that cannot be read is "
    "left\n"
    "out, never shown as 0, and stderr says why once. Needs CAP_SYS_PTRACE only.\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER "  --path BIN          every process that runs BIN, now "
    "and later (each series gets a pid label)\n" HELP_BIN
    "  --metrics PORT      the port to serve on (default 5501; 0: one the kernel picks, printed)\n"
    "  --metrics-addr A    the address to listen on (default 127.0.0.1; 0.0.0.0 exposes it)\n" HELP_HELP "\n"
    "With --pid or --container, gmon exits 0 when the process does; with --path it serves whatever runs.\n"
    "\n" HELP_EXIT_STATUS "Reference: docs/exporter.md.\n"
    "\n"
    "Examples:\n"
    "  gmon exporter --pid 4242                    /metrics on 127.0.0.1:5501\n"
    "  gmon exporter --container web --metrics 9101 --metrics-addr 0.0.0.0\n"
    "  gmon exporter --path /usr/bin/app           every running /usr/bin/app, a pid label on each series\n";

enum { DEFAULT_PORT = 5501, MAX_TARGETS = 64, WHY_LEN = 256 };

/* One process being exported. */
struct source {
    int pid;
    struct goroutine_snapshot *snap;
    struct go_size_classes classes;
    char reported[WHY_LEN]; /* the last reason for missing figures printed, so that it is printed once */
};

struct exporter {
    struct snapshot_options o;
    struct target binary; /* --path: the file whose processes are exported */
    struct source sources[MAX_TARGETS];
    int n;
    struct exporter_target figures[MAX_TARGETS];
    int refused_reported; /* the pid whose refusal was printed last (--path) */
};

static int open_source(struct source *src, int pid, const char *bin, struct gmon_error *err) {
    memset(src, 0, sizeof(*src));
    src->pid = pid;
    if (!(src->snap = calloc(1, sizeof(*src->snap))))
        return gmon_fail(err, "out of memory");
    if (snapshot_open(src->snap, pid, bin, err) != 0) {
        snapshot_close(src->snap);
        free(src->snap);
        src->snap = NULL;
        return -1;
    }
    src->snap->no_goroutines = true;
    bool disagree;
    if (go_size_classes_choose(&src->snap->symbols->elf, &src->snap->t.bin.version, &src->classes,
                               &disagree) != 0)
        src->classes.n = 0;
    return 0;
}

static void close_source(struct source *src) {
    if (src->snap) {
        snapshot_close(src->snap);
        free(src->snap);
    }
    memset(src, 0, sizeof(*src));
}

/* Reads one process now into t; false when it is gone. */
static bool read_source(struct source *src, struct exporter_target *t, uint64_t *bytes) {
    struct gmon_error err;
    memset(t, 0, sizeof(*t));
    t->pid = src->pid;
    if (!process_stats_read("/proc", src->pid, &t->process))
        return false;
    struct goroutine_snapshot *s = src->snap;
    snprintf(t->go_version, sizeof(t->go_version), "%s", s->t.bin.version_string);
    t->minor = s->t.bin.version.major == 1 ? s->t.bin.version.minor : 0;
    if (snapshot_take(s, false, &err) != 0) {
        if (proc_memory_gone(src->pid))
            return false;
        snprintf(t->m.why_not, sizeof(t->m.why_not), "%s", err.msg);
    } else {
        t->gomaxprocs = s->gomaxprocs;
        t->have_runtime = true;
        runtime_metrics_read(&t->m, &s->state, &s->t, s->ps, s->gomaxprocs > 0 ? s->gomaxprocs : 0,
                             s->globals.allgs, &src->classes, bytes);
        *bytes += s->bytes_read;
        exporter_target_compute(t);
    }
    if (t->m.why_not[0] && strcmp(t->m.why_not, src->reported) != 0) {
        fprintf(stderr, "gmon exporter: PID %d: some series left out: %s\n", src->pid, t->m.why_not);
        snprintf(src->reported, sizeof(src->reported), "%s", t->m.why_not);
    }
    return true;
}

/* --path: drops the processes that exited and opens the ones that started running the binary. */
static void follow_path(struct exporter *e) {
    for (int i = 0; i < e->n;) {
        if (proc_exists(e->sources[i].pid) && target_process_runs_binary(&e->binary, e->sources[i].pid)) {
            i++;
            continue;
        }
        fprintf(stderr, "gmon exporter: PID %d is gone: its series are too\n", e->sources[i].pid);
        close_source(&e->sources[i]);
        e->sources[i] = e->sources[--e->n];
    }
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || !target_process_runs_binary(&e->binary, (int)pid))
            continue;
        bool known = false;
        for (int i = 0; i < e->n && !known; i++)
            known = e->sources[i].pid == pid;
        if (known || pid == e->refused_reported)
            continue;
        struct gmon_error err;
        if (e->n == MAX_TARGETS) {
            fprintf(stderr, "gmon exporter: more than %d processes run %s: PID %ld left out\n", MAX_TARGETS,
                    e->o.path, pid);
            e->refused_reported = (int)pid;
        } else if (open_source(&e->sources[e->n], (int)pid, e->o.bin, &err) != 0) {
            fprintf(stderr, "gmon exporter: PID %ld: %s\n", pid, err.msg);
            e->refused_reported = (int)pid;
        } else {
            fprintf(stderr, "gmon exporter: PID %ld runs %s: exporting it\n", pid, e->o.path);
            e->n++;
        }
    }
    if (d)
        closedir(d);
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* gmon's own series about the scrape, after the target's. */
static void render_own(FILE *out, int targets, uint64_t bytes, double seconds) {
    struct prom_sample s;
    prom_family(out, "gmon_exporter_read_bytes", "gauge",
                "Bytes gmon read from the targets' memory for this scrape.");
    prom_sample_begin(&s, out, "gmon_exporter_read_bytes");
    prom_sample_end_go(&s, (double)bytes);
    prom_family(out, "gmon_exporter_read_seconds", "gauge",
                "Time gmon took to read the targets for this scrape.");
    prom_sample_begin(&s, out, "gmon_exporter_read_seconds");
    prom_sample_end_go(&s, seconds);
    prom_family(out, "gmon_exporter_targets", "gauge", "Processes exported.");
    prom_sample_begin(&s, out, "gmon_exporter_targets");
    prom_sample_end_go(&s, targets);
}

/* Runs on the metrics server's thread, one scrape at a time: the sources are this thread's alone. */
static void render(void *ctx, FILE *out) {
    struct exporter *e = ctx;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (e->o.path)
        follow_path(e);
    uint64_t bytes = 0;
    int n = 0;
    for (int i = 0; i < e->n; i++)
        if (read_source(&e->sources[i], &e->figures[n], &bytes))
            n++;
    go_exporter_render(out, e->figures, n, e->o.path != NULL);
    render_own(out, n, bytes, seconds_since(&t0));
}

static int open_targets(struct exporter *e) {
    struct gmon_error err;
    if (e->o.path) {
        if (target_open(&e->binary, e->o.path, 0, "auto", &err) != 0) {
            cli_error("exporter", "%s", err.msg);
            return -1;
        }
        return 0;
    }
    if (open_source(&e->sources[0], e->o.pid, e->o.bin, &err) != 0) {
        cli_error("exporter", "%s", err.msg);
        return -1;
    }
    e->n = 1;
    return 0;
}

/* Until a signal, or until the process exits (--pid, --container). */
static void wait_until_done(const struct exporter *e) {
    while (!trace_loop_stop_requested()) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (!e->o.path && proc_memory_gone(e->o.pid)) {
            printf("process %d exited\n", e->o.pid);
            return;
        }
    }
}

int cmd_exporter(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static struct exporter e;
    int parsed = snapshot_parse_options("exporter", SNAP_BIN | SNAP_PATH | SNAP_METRICS | SNAP_METRICS_ADDR,
                                        argc, argv, &e.o);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    if (e.o.metrics_port == SNAPSHOT_PORT_UNSET)
        e.o.metrics_port = DEFAULT_PORT;
    if (open_targets(&e) != 0)
        return GMON_EXIT_BAD_INPUT;
    trace_loop_install_signals();
    struct metrics_server server;
    struct gmon_error err;
    if (metrics_server_start(&server, e.o.metrics_addr, (int)e.o.metrics_port, "", render, &e, &err) != 0) {
        cli_error("exporter", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    if (e.o.path)
        printf("serving http://%s:%d/metrics for every process running %s\n", e.o.metrics_addr, server.port,
               e.o.path);
    else
        printf("serving http://%s:%d/metrics for PID %d (%s)\n", e.o.metrics_addr, server.port, e.o.pid,
               e.sources[0].snap->t.bin.version_string);
    fflush(stdout);
    wait_until_done(&e);
    metrics_server_stop(&server);
    for (int i = 0; i < e.n; i++)
        close_source(&e.sources[i]);
    if (e.o.path)
        target_close(&e.binary);
    return GMON_EXIT_OK;
}
