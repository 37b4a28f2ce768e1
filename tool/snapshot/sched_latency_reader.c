#include "sched_latency_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (!(s->snap = snapshot_open_runtime(pid, NULL, &unused, err)))
        return -1;
    if (!read_source(r, s, &s->base, why, sizeof(why))) {
        snapshot_free(s->snap);
        s->snap = NULL;
        /* with --path the follower names the PID */
        return r->path ? gmon_fail(err, "%s", why) : gmon_fail(err, "PID %d: %s", pid, why);
    }
    s->last = s->base;
    if (counted_from_start)
        memset(s->base.counts, 0, sizeof(s->base.counts));
    return 0;
}

/* --path: a process that started running the binary is read from now on (counted from its start when the
 * first scan did not find it). */
static int join(void *ctx, int slot, int pid, bool first, struct gmon_error *err) {
    struct sched_latency_reader *r = ctx;
    if (open_source(r, &r->sources[slot], pid, !first, err) != 0)
        return -1;
    fprintf(stderr, "%s: PID %d runs %s: reading its histogram\n", r->cmd, pid, r->path);
    r->n++;
    return 0;
}

/* --path: a process that exited (or whose PID another process took) keeps what gmon last read of it. */
static void leave(void *ctx, int slot, int last) {
    struct sched_latency_reader *r = ctx;
    struct sched_latency_source *s = &r->sources[slot];
    fprintf(stderr, "%s: PID %d is gone: what gmon read of it stays in the totals\n", r->cmd, s->pid);
    go_time_histogram_add_difference(&r->exited, &s->last, &s->base);
    snapshot_free(s->snap);
    r->sources[slot] = r->sources[last];
    r->n = last;
}

static void follow_path(struct sched_latency_reader *r) {
    struct follow_callbacks cb = {join, leave, r};
    process_follower_update(&r->follower, &cb);
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
    process_follower_init(&r->follower, cmd, &r->binary);
    follow_path(r);
    return 0;
}

bool sched_latency_reader_read(struct sched_latency_reader *r, struct go_time_histogram *out, char *why,
                               size_t size) {
    if (r->path)
        follow_path(r);
    *out = r->exited;
    for (int i = 0; i < r->n; i++) {
        struct sched_latency_source *s = &r->sources[i];
        struct go_time_histogram now;
        if (read_source(r, s, &now, why, size))
            s->last = now;
        else if (!r->path)
            return false;
        go_time_histogram_add_difference(out, &s->last, &s->base);
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
