/* The processes gmon exporter (and the monitor's --collect runtime) reads at each scrape: one process, or
 * every process that runs a binary (found in /proc at each scrape; one that exits takes its series with it).
 * Each is opened once (its layout, globals, size classes), then read with runtime_metrics and process_stats
 * and rendered by go_exporter. Used from one thread at a time (the metrics server's). */
#ifndef GMON_EXPORTER_TARGETS_H
#define GMON_EXPORTER_TARGETS_H
#include <stdbool.h>
#include <stdio.h>

#include "go_exporter.h"
#include "goroutine_snapshot.h"
#include "process_follower.h"
#include "target.h"

enum { EXPORTER_MAX_TARGETS = FOLLOW_MAX_PROCESSES, EXPORTER_WHY_LEN = 256 };

/* One process being exported. */
struct exporter_source {
    int pid;
    struct goroutine_snapshot *snap;
    struct go_size_classes classes;
    char reported[EXPORTER_WHY_LEN]; /* the last reason for missing figures printed, so it is printed once */
};

struct exporter_targets {
    const char *who;  /* "gmon exporter", "gmon": how stderr lines begin */
    const char *path; /* every process running this binary, or NULL: one process */
    const char *bin;  /* --bin, or NULL */
    struct target binary;
    bool binary_open;
    struct exporter_source sources[EXPORTER_MAX_TARGETS];
    int n;
    struct exporter_target figures[EXPORTER_MAX_TARGETS];
    struct process_follower follower; /* --path: sources[i] is the follower's slot i */
};

/* One process (pid), or every process running path: refused with err when the process cannot be read or the
 * binary opened. */
int exporter_targets_open(struct exporter_targets *e, const char *who, int pid, const char *path,
                          const char *bin, struct gmon_error *err);
/* Reads every process now and writes the families (a pid label on each series with a path), or only the one
 * named only (not NULL), then gmon's own series about the read when own_series. */
void exporter_targets_render(struct exporter_targets *e, FILE *out, bool own_series, const char *only);
void exporter_targets_close(struct exporter_targets *e);

#endif
