/* The options every live-tracing command takes: the target (--path/--pid/--container), --go-version,
 * --duration and
 * --perf-buffer. Each command lists TRACE_LONG_OPTIONS in its getopt table and hands the codes it does not
 * know to trace_options_parse, so the shared options are spelled, checked and refused the same everywhere. */
#ifndef GMON_TRACE_OPTIONS_H
#define GMON_TRACE_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "log_writer.h"

struct trace_options {
    const char *path, *go_version;
    const char *container; /* --container, already resolved into pid */
    int pid;
    uint64_t duration_s; /* 0: until Ctrl-C */
    bool perf_buffer;
    bool ring_buffer; /* the goroutine lifecycle commands only: TRACE_RING_BUFFER_OPTION */
};

enum {
    TRACE_OPT_PATH = 900,
    TRACE_OPT_PID,
    TRACE_OPT_CONTAINER,
    TRACE_OPT_GOVER,
    TRACE_OPT_DURATION,
    TRACE_OPT_PERF,
    TRACE_OPT_RING
};

#define TRACE_LONG_OPTIONS                                                                                   \
    {"path", required_argument, NULL, TRACE_OPT_PATH}, {"pid", required_argument, NULL, TRACE_OPT_PID},      \
        {"container", required_argument, NULL, TRACE_OPT_CONTAINER},                                         \
        {"go-version", required_argument, NULL, TRACE_OPT_GOVER},                                            \
        {"duration", required_argument, NULL, TRACE_OPT_DURATION}, {                                         \
        "perf-buffer", no_argument, NULL, TRACE_OPT_PERF                                                     \
    }

/* --ring-buffer: for the commands whose events come through gmon's per-CPU rings (the lifecycle probes). */
#define TRACE_RING_BUFFER_OPTION                                                                             \
    { "ring-buffer", no_argument, NULL, TRACE_OPT_RING }

void trace_options_init(struct trace_options *t);
/* Applies getopt's result c when it is a shared option. Returns 1 when it was, 0 when c is not a shared
 * option, -1 after printing why its value is bad. */
int trace_options_parse(const char *cmd, int c, const char *arg, struct trace_options *t);
/* --format for the commands that print a human table by default: "table" sets *table, "logfmt" and "json"
 * clear it and set *format. Returns 1, or -1 after printing why the value is bad. */
int trace_options_parse_format(const char *cmd, const char *arg, bool *table, enum log_format *format);
/* A command's own options: 1 handled, 0 not one of its own, -1 bad value (already printed). */
typedef int (*own_option_fn)(int c, const char *arg, void *ctx);
/* The getopt loop of a tracing command: resets t, applies the shared options, hands the others to own, then
 * refuses unknown options, leftover arguments and a missing target. Returns 0, -1 (printed), or 1 when
 * --list-options printed the long options of opts (the command then exits 0: cli_exit_after_parse). */
int trace_options_getopt(const char *cmd, int argc, char *argv[], const struct option *opts,
                         const char *shortopts, struct trace_options *t, own_option_fn own, void *ctx);
/* Call after the getopt loop: refuses leftover arguments and a missing target. Returns 0 or -1 (printed). */
int trace_options_finish(const char *cmd, int argc, char *const argv[], const struct trace_options *t);

#endif
