#include "trace_options.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "container_lookup.h"

void trace_options_init(struct trace_options *t) {
    memset(t, 0, sizeof(*t));
    t->go_version = "auto";
}

int trace_options_parse(const char *cmd, int c, const char *arg, struct trace_options *t) {
    switch (c) {
    case TRACE_OPT_PATH:
        t->path = arg;
        return 1;
    case TRACE_OPT_PID:
    case TRACE_OPT_CONTAINER:
        return process_option(cmd, c == TRACE_OPT_CONTAINER, arg, &t->pid, &t->container) ? 1 : -1;
    case TRACE_OPT_GOVER:
        t->go_version = arg;
        return 1;
    case TRACE_OPT_DURATION:
        return cli_parse_uint(cmd, "--duration", arg, 1, 365ULL * 24 * 3600, &t->duration_s) ? 1 : -1;
    case TRACE_OPT_PERF:
        t->perf_buffer = true;
        return 1;
    case TRACE_OPT_RING:
        t->ring_buffer = true;
        return 1;
    default:
        return 0;
    }
}

int trace_options_parse_format(const char *cmd, const char *arg, bool *table, enum log_format *format) {
    *table = strcmp(arg, "table") == 0;
    if (*table || log_format_parse(arg, format))
        return 1;
    cli_error(cmd, "--format must be table, logfmt or json, not \"%s\"", arg);
    return -1;
}

int trace_options_finish(const char *cmd, int argc, char *const argv[], const struct trace_options *t) {
    if (optind < argc) {
        cli_error(cmd, "unexpected argument \"%s\" (see 'gmon %s --help')", argv[optind], cmd);
        return -1;
    }
    if (t->perf_buffer && t->ring_buffer) {
        cli_error(cmd, "--perf-buffer and --ring-buffer each choose how events come: give one");
        return -1;
    }
    if (!t->path && !t->pid) {
        cli_error(cmd, "give --path BIN, --pid PID or --container NAME (see 'gmon %s --help')", cmd);
        return -1;
    }
    return 0;
}

int trace_options_getopt(const char *cmd, int argc, char *argv[], const struct option *opts,
                         const char *shortopts, struct trace_options *t, own_option_fn own, void *ctx) {
    trace_options_init(t);
    if (cli_wants_option_list(argc, argv)) {
        for (const struct option *o = opts; o->name; o++)
            puts(o->name);
        return 1;
    }
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then also forgets where it was inside the last argument */
    int c;
    while ((c = cli_next_option(cmd, argc, argv, shortopts, opts, 0)) != -1) {
        if (c == '?')
            return -1;
        int handled = trace_options_parse(cmd, c, optarg, t);
        if (handled == 0)
            handled = own(c, optarg, ctx);
        if (handled < 0)
            return -1;
        if (handled == 0) {
            cli_bad_option(cmd, argv, optind);
            return -1;
        }
    }
    return trace_options_finish(cmd, argc, argv, t);
}
