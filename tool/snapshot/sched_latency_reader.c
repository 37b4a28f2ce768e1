#include "sched_latency_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process_stats.h"
#include "proc_target.h"

/* The histogram of one process now; false (why) when it cannot be read. */
static bool read_source(struct sched_latency_reader *r, struct sched_latency_source *s,
                        struct go_time_histogram *out, char *why, size_t size) {
    runtime_metrics_read_sched_latency(&r->scratch, &s->snap->state, &s->snap->t, &r->bytes);
    r->reads++;
    if (!r->scratch.have_sched_latency) {
        snprintf(why, size, "%s",
                 r->scratch.why_not[0] ? r->scratch.why_not : "sched.timeToRun could not be read");
        return false;
    }
    *out = r->scratch.sched_latency;
    return true;
}

/* Opens process pid and reads it once: its base is that read (counted_from_start: zero, the process started
 * running the binary after the reader opened). */
static int open_source(struct sched_latency_reader *r, struct sched_latency_source *s, int pid,
                       bool counted_from_start, struct gmon_error *err) {
    struct go_size_classes unused;
    char why[192];
    memset(s, 0, sizeof(*s));
    s->pid = pid;
    s->start_time = process_start_time(pid);
    if (!(s->snap = snapshot_open_runtime(pid, NULL, &unused, err)))
        return -1;
    if (!read_source(r, s, &s->base, why, sizeof(why))) {
        snapshot_free(s->snap);
        s->snap = NULL;
        return gmon_fail(err, "PID %d: %s", pid, why);
    }
    s->last = s->base;
    if (counted_from_start)
        memset(s->base.counts, 0, sizeof(s->base.counts));
    return 0;
}

/* into += after - before, bucket by bucket (the first histogram added gives the bounds). */
static void add_difference(struct go_time_histogram *into, const struct go_time_histogram *after,
                           const struct go_time_histogram *before) {
    if (into->n == 0) {
        *into = *after;
        memset(into->counts, 0, sizeof(into->counts));
    }
    for (int i = 0; i < after->n && i < into->n; i++)
        into->counts[i] += after->counts[i] >= before->counts[i] ? after->counts[i] - before->counts[i] : 0;
}

static void drop_source(struct sched_latency_reader *r, int i, const char *how) {
    struct sched_latency_source *s = &r->sources[i];
    fprintf(stderr, "%s: PID %d %s: what gmon read of it stays in the totals\n", r->cmd, s->pid, how);
    add_difference(&r->exited, &s->last, &s->base);
    snapshot_free(s->snap);
    r->sources[i] = r->sources[--r->n];
}

static bool refused(const struct sched_latency_reader *r, int pid, double start) {
    for (int i = 0; i < r->nrefused; i++)
        if (r->refused[i].pid == pid && r->refused[i].start_time == start)
            return true;
    return false;
}

struct scan {
    struct sched_latency_reader *r;
    bool first;
};

/* A process running the binary: read from now on, unless known or refused already. */
static void consider(void *ctx, int pid) {
    struct scan *sc = ctx;
    struct sched_latency_reader *r = sc->r;
    for (int i = 0; i < r->n; i++)
        if (r->sources[i].pid == pid)
            return;
    double start = process_start_time(pid);
    if (refused(r, pid, start))
        return;
    struct gmon_error err;
    if (r->n < SCHED_LATENCY_MAX_PROCESSES && open_source(r, &r->sources[r->n], pid, !sc->first, &err) == 0) {
        fprintf(stderr, "%s: PID %d runs %s: reading its histogram\n", r->cmd, pid, r->path);
        r->n++;
        return;
    }
    if (r->n == SCHED_LATENCY_MAX_PROCESSES)
        fprintf(stderr, "%s: more than %d processes run %s: PID %d left out\n", r->cmd,
                SCHED_LATENCY_MAX_PROCESSES, r->path, pid);
    else
        fprintf(stderr, "%s: %s\n", r->cmd, err.msg);
    int at = r->nrefused < SCHED_LATENCY_MAX_PROCESSES ? r->nrefused++ : SCHED_LATENCY_MAX_PROCESSES - 1;
    r->refused[at].pid = pid;
    r->refused[at].start_time = start;
}

/* --path: the processes that exited (or whose PID another process took) leave, new ones join. */
static void follow_path(struct sched_latency_reader *r, bool first) {
    for (int i = 0; i < r->n;) {
        int pid = r->sources[i].pid;
        if (proc_exists(pid) && target_process_runs_binary(&r->binary, pid) &&
            process_start_time(pid) == r->sources[i].start_time)
            i++;
        else
            drop_source(r, i, "is gone");
    }
    struct scan sc = {r, first};
    target_for_each_process(&r->binary, consider, &sc);
}

int sched_latency_reader_open(struct sched_latency_reader *r, const char *cmd, int pid, const char *path,
                              struct gmon_error *err) {
    memset(r, 0, sizeof(*r));
    r->cmd = cmd;
    r->path = path;
    if (!path) {
        if (open_source(r, &r->sources[0], pid, false, err) != 0)
            return -1;
        r->n = 1;
        return 0;
    }
    if (target_open(&r->binary, path, 0, "auto", err) != 0)
        return -1;
    r->binary_open = true;
    follow_path(r, true);
    return 0;
}

bool sched_latency_reader_read(struct sched_latency_reader *r, struct go_time_histogram *out, char *why,
                               size_t size) {
    if (r->path)
        follow_path(r, false);
    *out = r->exited;
    for (int i = 0; i < r->n; i++) {
        struct sched_latency_source *s = &r->sources[i];
        struct go_time_histogram now;
        if (read_source(r, s, &now, why, size))
            s->last = now;
        else if (!r->path)
            return false;
        add_difference(out, &s->last, &s->base);
    }
    return true;
}

void sched_latency_reader_close(struct sched_latency_reader *r) {
    for (int i = 0; i < r->n; i++)
        snapshot_free(r->sources[i].snap);
    r->n = 0;
    if (r->binary_open)
        target_close(&r->binary);
    r->binary_open = false;
}
