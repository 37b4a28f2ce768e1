/* gmon exporter: a Prometheus /metrics endpoint with client_golang's Go and process series of a Go program
 * that exports nothing, read from its memory at each scrape (no eBPF, no probe, no stop): go_exporter.h
 * names the series, runtime_metrics.h reads them. One process (--pid, --container), or every process that
 * runs a binary (--path), each series then with a pid label. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "exporter_targets.h"
#include "metrics_server.h"
#include "option_help.h"
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
    "meanings, so that dashboards built for client_golang work unchanged; then, as client_golang names\n"
    "runtime/metrics: GC cycles (go_gc_cycles_*), allocations and frees with their by-size histograms\n"
    "(go_gc_heap_*), the memory classes (go_memory_classes_*), the heap goal, GOGC, the memory limit (Go\n"
    "1.19+), GOMAXPROCS, goroutines created and the scheduling-latency histogram (go_sched_*). Each scrape\n"
    "reads the runtime's own counters from the process's memory: no eBPF, no probe, the process is never\n"
    "stopped. A figure that cannot be read is left out, never shown as 0, and stderr says why once. Needs\n"
    "CAP_SYS_PTRACE only.\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER "  --path BIN          every process that runs BIN, now "
    "and later (each series gets a pid label)\n" HELP_BIN
    "  --metrics PORT      the port to serve on (default 5501; 0: one the kernel picks, printed)\n"
    "  --metrics-addr A    the address to listen on (default 127.0.0.1; 0.0.0.0 exposes it)\n" HELP_HELP "\n"
    "With --pid or --container, gmon exits 0 when the process does; with --path it serves whatever runs.\n"
    "\n" HELP_EXIT_STATUS "Reference: man gmon-exporter (docs/exporter.md).\n"
    "\n"
    "Examples:\n"
    "  gmon exporter --pid 4242                    /metrics on 127.0.0.1:5501\n"
    "  gmon exporter --container web --metrics 9101 --metrics-addr 0.0.0.0\n"
    "  gmon exporter --path /usr/bin/app           every running /usr/bin/app, a pid label on each series\n";

enum { DEFAULT_PORT = 5501 };

struct exporter {
    struct snapshot_options o;
    struct exporter_targets targets;
};

/* Runs on the metrics server's thread, one scrape at a time: the targets are this thread's alone. */
static void render(void *ctx, FILE *out) {
    struct exporter *e = ctx;
    exporter_targets_render(&e->targets, out, true, NULL);
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
    struct gmon_error err;
    if (exporter_targets_open(&e.targets, "gmon exporter", e.o.pid, e.o.path, e.o.bin, &err) != 0) {
        cli_error("exporter", "%s", err.msg);
        exporter_targets_close(&e.targets);
        return GMON_EXIT_BAD_INPUT;
    }
    trace_loop_install_signals();
    struct metrics_server server;
    if (metrics_server_start(&server, e.o.metrics_addr, (int)e.o.metrics_port, "", render, &e, &err) != 0) {
        cli_error("exporter", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    char url[128];
    metrics_server_url(e.o.metrics_addr, server.port, url, sizeof(url));
    if (e.o.path)
        printf("serving %s for every process running %s\n", url, e.o.path);
    else
        printf("serving %s for PID %d (%s)\n", url, e.o.pid, e.targets.sources[0].snap->t.bin.version_string);
    fflush(stdout);
    wait_until_done(&e);
    metrics_server_stop(&server);
    exporter_targets_close(&e.targets);
    return GMON_EXIT_OK;
}
