#include "exporter_targets.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prom_text.h"

static int open_source(struct exporter_source *src, int pid, const char *bin, struct gmon_error *err) {
    memset(src, 0, sizeof(*src));
    src->pid = pid;
    src->snap = snapshot_open_runtime(pid, bin, &src->classes, err);
    return src->snap ? 0 : -1;
}

static void close_source(struct exporter_source *src) {
    snapshot_free(src->snap);
    memset(src, 0, sizeof(*src));
}

/* Reads one process now into t; false when it is gone. */
static bool read_source(const char *who, struct exporter_source *src, struct exporter_target *t,
                        uint64_t *bytes) {
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
        if (t->m.have_heap && src->classes.n < (size_t)t->m.heap.nclasses && !t->m.why_not[0])
            snprintf(t->m.why_not, sizeof(t->m.why_not),
                     "no size class table for %s, and none found in the binary: the go_memstats_* series",
                     s->t.bin.version_string);
    }
    if (t->m.why_not[0] && strcmp(t->m.why_not, src->reported) != 0) {
        fprintf(stderr, "%s: PID %d: some series left out: %s\n", who, src->pid, t->m.why_not);
        snprintf(src->reported, sizeof(src->reported), "%s", t->m.why_not);
    }
    return true;
}

/* --path: a process that started running the binary is exported from now on. */
static int join(void *ctx, int slot, int pid, bool first, struct gmon_error *err) {
    struct exporter_targets *e = ctx;
    (void)first;
    if (open_source(&e->sources[slot], pid, e->bin, err) != 0)
        return -1;
    fprintf(stderr, "%s: PID %d runs %s: exporting it\n", e->who, pid, e->path);
    e->n++;
    return 0;
}

/* --path: a process that exited (or whose PID another process now has) takes its series with it. */
static void leave(void *ctx, int slot, int last) {
    struct exporter_targets *e = ctx;
    fprintf(stderr, "%s: PID %d is gone: its series are too\n", e->who, e->sources[slot].pid);
    close_source(&e->sources[slot]);
    e->sources[slot] = e->sources[last];
    e->n = last;
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

void exporter_targets_render(struct exporter_targets *e, FILE *out, bool own_series, const char *only) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (e->path) {
        struct follow_callbacks cb = {join, leave, e};
        process_follower_update(&e->follower, &cb);
    }
    uint64_t bytes = 0;
    int n = 0;
    for (int i = 0; i < e->n; i++)
        if (read_source(e->who, &e->sources[i], &e->figures[n], &bytes))
            n++;
    go_exporter_render(out, e->figures, n, e->path != NULL, only);
    if (own_series)
        render_own(out, n, bytes, seconds_since(&t0));
}

int exporter_targets_open(struct exporter_targets *e, const char *who, int pid, const char *path,
                          const char *bin, struct gmon_error *err) {
    memset(e, 0, sizeof(*e));
    e->who = who;
    e->path = path;
    e->bin = bin;
    if (path) {
        if (target_open(&e->binary, path, 0, "auto", err) != 0)
            return -1;
        e->binary_open = true;
        process_follower_init(&e->follower, who, &e->binary);
        return 0;
    }
    if (open_source(&e->sources[0], pid, bin, err) != 0)
        return -1;
    e->n = 1;
    return 0;
}

void exporter_targets_close(struct exporter_targets *e) {
    for (int i = 0; i < e->n; i++)
        close_source(&e->sources[i]);
    e->n = 0;
    if (e->binary_open)
        target_close(&e->binary);
    e->binary_open = false;
}
