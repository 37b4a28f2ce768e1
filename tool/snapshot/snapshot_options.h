/* The options of the snapshot commands (summary, top, heap, var), parsed in one place so that they mean the
 * same everywhere; each command names the ones it takes, and any other is refused as unknown. */
#ifndef GMON_SNAPSHOT_OPTIONS_H
#define GMON_SNAPSHOT_OPTIONS_H
#include <stdbool.h>
#include <stdint.h>

#include "goroutine_snapshot.h"

enum snapshot_option {
    SNAP_BIN = 1 << 0,      /* --bin BIN: symbols and DWARF from an unstripped build of the same program */
    SNAP_JSON = 1 << 1,     /* --json */
    SNAP_FREEZE = 1 << 2,   /* --freeze */
    SNAP_NO_COLOR = 1 << 3, /* --no-color */
    SNAP_PC = 1 << 4,       /* --pc start|caller|current */
    SNAP_REFRESH = 1 << 5,  /* --refresh SECS (default 2) */
    SNAP_COUNT = 1 << 6,    /* --count N */
    SNAP_NAME = 1 << 7,     /* --name NAME (required when taken) */
    SNAP_GOID = 1 << 8,     /* --goid N, repeatable */
    SNAP_MATCH = 1 << 9,    /* --match REGEX */
    SNAP_GROUP = 1 << 10,   /* --group */
    SNAP_SYSTEM = 1 << 11,  /* --system */
    SNAP_OUTPUT = 1 << 12,  /* -o / --output FILE */
    SNAP_PATH = 1 << 13,    /* --path BIN: every process running BIN, instead of --pid */
    SNAP_METRICS = 1 << 14, /* --metrics PORT (0: one the kernel picks) */
    SNAP_METRICS_ADDR = 1 << 15, /* --metrics-addr ADDR (default 127.0.0.1) */
};
enum { SNAPSHOT_MAX_GOIDS = 64 };
#define SNAPSHOT_PORT_UNSET UINT64_MAX /* metrics_port when --metrics was not given */

struct snapshot_options {
    int pid;               /* --pid, or the main process of --container: every snapshot command needs one */
    const char *container; /* --container as given */
    const char *bin, *name, *match, *output, *path, *metrics_addr;
    bool json, freeze, no_color, group, system;
    uint64_t goids[SNAPSHOT_MAX_GOIDS];
    size_t ngoids;
    enum snapshot_pc pc;
    uint64_t refresh_s, count, metrics_port;
};

/* Parses argv for command cmd, which takes --pid (or --container, or --path when accepted) and the options
 * in accepted (enum snapshot_option bits). Returns 0, -1 after printing one line saying what is wrong, or 1
 * when --list-options printed the options cmd takes (the command then exits 0: cli_exit_after_parse). */
int snapshot_parse_options(const char *cmd, unsigned accepted, int argc, char *argv[],
                           struct snapshot_options *o);

#endif
