#include "snapshot_options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "container_lookup.h"

enum { OPT_PID = 1000, OPT_CONTAINER }; /* the others are their enum snapshot_option bit */

static const struct option OPTIONS[] = {{"pid", required_argument, NULL, OPT_PID},
                                        {"container", required_argument, NULL, OPT_CONTAINER},
                                        {"bin", required_argument, NULL, SNAP_BIN},
                                        {"json", no_argument, NULL, SNAP_JSON},
                                        {"freeze", no_argument, NULL, SNAP_FREEZE},
                                        {"no-color", no_argument, NULL, SNAP_NO_COLOR},
                                        {"pc", required_argument, NULL, SNAP_PC},
                                        {"refresh", required_argument, NULL, SNAP_REFRESH},
                                        {"count", required_argument, NULL, SNAP_COUNT},
                                        {"name", required_argument, NULL, SNAP_NAME},
                                        {"goid", required_argument, NULL, SNAP_GOID},
                                        {"match", required_argument, NULL, SNAP_MATCH},
                                        {"group", no_argument, NULL, SNAP_GROUP},
                                        {"system", no_argument, NULL, SNAP_SYSTEM},
                                        {"output", required_argument, NULL, SNAP_OUTPUT},
                                        {"o", required_argument, NULL, SNAP_OUTPUT},
                                        {"path", required_argument, NULL, SNAP_PATH},
                                        {"metrics", required_argument, NULL, SNAP_METRICS},
                                        {"metrics-addr", required_argument, NULL, SNAP_METRICS_ADDR},
                                        {NULL, 0, NULL, 0}};

/* One accepted option's value into o; false after printing why it is bad. */
static bool take(const char *cmd, int c, const char *arg, struct snapshot_options *o) {
    switch (c) {
    case OPT_PID:
    case OPT_CONTAINER:
        return process_option(cmd, c == OPT_CONTAINER, arg, &o->pid, &o->container);
    case SNAP_BIN:
        o->bin = arg;
        return true;
    case SNAP_NAME:
        o->name = arg;
        return true;
    case SNAP_JSON:
        o->json = true;
        return true;
    case SNAP_FREEZE:
        o->freeze = true;
        return true;
    case SNAP_NO_COLOR:
        o->no_color = true;
        return true;
    case SNAP_PC:
        return snapshot_parse_pc(cmd, arg, &o->pc);
    case SNAP_GOID:
        if (o->ngoids == SNAPSHOT_MAX_GOIDS) {
            cli_error(cmd, "at most %d --goid options", SNAPSHOT_MAX_GOIDS);
            return false;
        }
        return cli_parse_uint(cmd, "--goid", arg, 1, UINT64_MAX, &o->goids[o->ngoids++]);
    case SNAP_MATCH:
        o->match = arg;
        return true;
    case SNAP_GROUP:
        o->group = true;
        return true;
    case SNAP_SYSTEM:
        o->system = true;
        return true;
    case SNAP_OUTPUT:
        o->output = arg;
        return true;
    case SNAP_REFRESH:
        return cli_parse_uint(cmd, "--refresh", arg, 1, 3600, &o->refresh_s);
    case SNAP_PATH:
        o->path = arg;
        return true;
    case SNAP_METRICS:
        return cli_parse_uint(cmd, "--metrics", arg, 0, 65535, &o->metrics_port);
    case SNAP_METRICS_ADDR:
        o->metrics_addr = arg;
        return true;
    default: /* SNAP_COUNT */
        return cli_parse_uint(cmd, "--count", arg, 1, 1000000, &o->count);
    }
}

/* The options the command takes, from OPTIONS, into out (NULL-terminated): getopt then knows no other, so
 * that its abbreviations and its messages are the command's own. */
static void accepted_options(unsigned accepted, struct option *out) {
    size_t n = 0;
    for (const struct option *opt = OPTIONS; opt->name; opt++)
        if (opt->val == OPT_PID || opt->val == OPT_CONTAINER || (accepted & (unsigned)opt->val))
            out[n++] = *opt;
    out[n] = (struct option){0};
}

int snapshot_parse_options(const char *cmd, unsigned accepted, int argc, char *argv[],
                           struct snapshot_options *o) {
    *o = (struct snapshot_options){
        .refresh_s = 2, .metrics_addr = "127.0.0.1", .metrics_port = SNAPSHOT_PORT_UNSET};
    struct option opts[sizeof(OPTIONS) / sizeof(OPTIONS[0])];
    accepted_options(accepted, opts);
    if (cli_wants_option_list(argc, argv)) {
        for (const struct option *opt = opts; opt->name; opt++)
            puts(opt->name);
        return 1;
    }
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then also forgets where it was inside the last argument */
    int c;
    while ((c = cli_next_option(cmd, argc, argv, "", opts, SNAP_GOID)) != -1) {
        if (c == '?' || !take(cmd, c, optarg, o))
            return -1;
    }
    if (optind < argc) {
        cli_error(cmd, "unexpected argument \"%s\" (see 'gmon %s --help')", argv[optind], cmd);
        return -1;
    }
    if (o->path && o->pid) {
        cli_error(cmd, "give --path BIN or a process (--pid, --container), not both (see 'gmon %s --help')",
                  cmd);
        return -1;
    }
    if ((!o->pid && !o->path) || ((accepted & SNAP_NAME) && !o->name)) {
        cli_error(cmd, "give --pid PID%s or --container NAME%s (see 'gmon %s --help')",
                  accepted & SNAP_PATH ? ", --path BIN" : "", accepted & SNAP_NAME ? " and --name NAME" : "",
                  cmd);
        return -1;
    }
    return 0;
}

bool snapshot_parse_pc(const char *cmd, const char *arg, enum snapshot_pc *pc) {
    static const char *const NAMES[] = {"start", "caller", "current"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(arg, NAMES[i]) == 0) {
            *pc = (enum snapshot_pc)i;
            return true;
        }
    }
    cli_error(cmd, "--pc takes start, caller or current, not \"%s\"", arg);
    return false;
}
