#include "runtime_collectors.h"

#include <stdlib.h>
#include <string.h>

#include "exporter_targets.h"
#include "size_class_counts.h"
#include "messages.h"
#include "prom_text.h"

int runtime_collectors_parse(const char *list, unsigned *which) {
    static const struct {
        const char *name;
        unsigned bit;
    } NAMES[] = {{"goroutines", 0},          {"gc", COLLECT_GC},           {"sched", COLLECT_SCHED},
                 {"malloc", COLLECT_MALLOC}, {"blocked", COLLECT_BLOCKED}, {"runtime", COLLECT_RUNTIME}};
    *which = 0;
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return -1;
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < sizeof(NAMES) / sizeof(NAMES[0]) && strcmp(name, NAMES[i].name) != 0)
            i++;
        if (i == sizeof(NAMES) / sizeof(NAMES[0])) {
            cli_error("lifecycle",
                      "--collect takes goroutines, gc, sched, malloc, blocked and runtime, not \"%s\"", name);
            free(copy);
            return -1;
        }
        *which |= NAMES[i].bit;
    }
    free(copy);
    return 0;
}

static const double PAUSE_BOUNDS_S[PAUSE_BUCKETS - 1] = {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
                                                         1e-3, 5e-3,   1e-2, 1e-1, 1};

/* The series of a pause reason; past 32 reasons, one "other" series. Caller holds the lock. */
static struct pause_series *pause_series_for(struct runtime_collectors *c, const char *reason) {
    size_t max = sizeof(c->pauses) / sizeof(c->pauses[0]);
    for (size_t i = 0; i < c->npauses; i++)
        if (strcmp(c->pauses[i].reason, reason) == 0)
            return &c->pauses[i];
    if (c->npauses == max - 1 && strcmp(c->pauses[max - 1].reason, "other") != 0)
        snprintf(c->pauses[max - 1].reason, sizeof(c->pauses[max - 1].reason), "other");
    if (c->npauses >= max - 1)
        return &c->pauses[max - 1];
    struct pause_series *p = &c->pauses[c->npauses++];
    snprintf(p->reason, sizeof(p->reason), "%s", reason);
    return p;
}

static void on_pause(void *ctx, const struct stw_pause *p) {
    struct runtime_collectors *c = ctx;
    double s = (double)(p->end_ns - p->begin_ns) / 1e9;
    pthread_mutex_lock(&c->lock);
    struct pause_series *series = pause_series_for(c, p->reason);
    int b = 0;
    while (b < PAUSE_BUCKETS - 1 && s > PAUSE_BOUNDS_S[b])
        b++;
    series->buckets[b]++;
    series->sum_s += s;
    pthread_mutex_unlock(&c->lock);
}

static void on_cycle(void *ctx, const struct gc_cycle *cycle) {
    struct runtime_collectors *c = ctx;
    pthread_mutex_lock(&c->lock);
    c->cycles_by_trigger[cycle->trigger]++;
    c->mark_s += cycle->mark_ns > 0 ? (double)cycle->mark_ns / 1e9 : 0;
    pthread_mutex_unlock(&c->lock);
}

static void on_gc_event(void *ctx, const struct gc_event *ev) {
    struct runtime_collectors *c = ctx;
    gc_cycles_event(&c->cycles, ev);
}

static bool load_bias_of(void *ctx, uint32_t tgid, uint64_t *bias) {
    struct runtime_collectors *c = ctx;
    return process_watch_load_bias(c->procs, tgid, bias);
}

static int open_gc(struct runtime_collectors *c, bool perf_buffer, struct gmon_error *err) {
    const struct go_binary *b = &c->prog->target.bin;
    bool reasons = b->version.minor >= 21 && go_stw_reasons_find(&b->elf, &c->stw_reasons) == 0;
    gc_cycles_init(&c->cycles, b, &c->stw_reasons, load_bias_of, c, on_pause, on_cycle, c);
    struct gc_probe_options o = {.layout = c->prog->layout.layout,
                                 .attach_path = traced_program_attach_path(c->prog),
                                 .pid = traced_program_attach_pid(c->prog),
                                 .stw_reason_in_al = reasons,
                                 .force_perf_buffer = perf_buffer};
    return gc_probes_open(&c->gc, &o, &c->prog->plan, on_gc_event, c, err);
}

/* The traced process (--pid), or every process running the binary (--path): gmon exporter's reader. */
static struct exporter_targets *open_reader(const struct runtime_collectors *c, struct gmon_error *err) {
    struct exporter_targets *e = calloc(1, sizeof(*e));
    if (!e) {
        gmon_fail(err, "out of memory");
        return NULL;
    }
    const struct target *t = &c->prog->target;
    if (exporter_targets_open(e, "gmon", t->path ? 0 : t->pid, t->path, NULL, err) != 0) {
        exporter_targets_close(e);
        free(e);
        return NULL;
    }
    return e;
}

/* go_sched_latencies_seconds, unless runtime serves it already. */
static int open_sched_reader(struct runtime_collectors *c, struct gmon_error *err) {
    if (c->which & COLLECT_RUNTIME)
        return 0;
    return (c->sched_reader = open_reader(c, err)) ? 0 : -1;
}

static int open_blocked(struct runtime_collectors *c, struct gmon_error *err) {
    c->have_wait_reasons = go_wait_reasons_find(&c->prog->target.bin.elf, &c->wait_reasons) == 0;
    struct sched_probe_options o = {.layout = c->prog->layout.layout,
                                    .attach_path = traced_program_attach_path(c->prog),
                                    .pid = traced_program_attach_pid(c->prog),
                                    .max_goroutines = 131072};
    return sched_probes_open(&c->sched, &o, &c->prog->plan, err);
}

/* One process, every allocation counted: read from the runtime's own counters (size_class_counts.h). */
static int open_malloc_counters(struct runtime_collectors *c, struct gmon_error *err) {
    if (!(c->malloc_counters = calloc(1, sizeof(*c->malloc_counters))) ||
        !(c->malloc_start = calloc(1, sizeof(*c->malloc_start))))
        return gmon_fail(err, "out of memory");
    if (size_class_reader_open(c->malloc_counters, c->prog->target.pid, NULL, err) != 0)
        return -1;
    if (!size_class_reader_read(c->malloc_counters, c->malloc_start))
        return gmon_fail(err, "--collect malloc: %s", c->malloc_counters->why_not);
    c->classes = c->malloc_counters->classes;
    return 0;
}

static int open_malloc(struct runtime_collectors *c, struct gmon_error *err) {
    if (!c->prog->target.path && c->prog->target.pid && c->malloc_sample == 1)
        return open_malloc_counters(c, err);
    const struct go_binary *b = &c->prog->target.bin;
    bool disagree = false;
    if (go_size_classes_choose(&b->elf, &b->version, &c->classes, &disagree) != 0 ||
        c->classes.n > MALLOC_CLASSES)
        return gmon_fail(err, "no usable size class table for %s", b->version_string);
    if (malloc_functions_find(b, &c->functions, err) != 0)
        return -1;
    struct malloc_probe_options o = {.layout = c->prog->layout.layout,
                                     .attach_path = traced_program_attach_path(c->prog),
                                     .pid = traced_program_attach_pid(c->prog),
                                     .classes = &c->classes,
                                     .sample = c->malloc_sample};
    return malloc_probes_open(&c->malloc, &o, &c->functions, err);
}

static int open_runtime(struct runtime_collectors *c, struct gmon_error *err) {
    return (c->runtime = open_reader(c, err)) ? 0 : -1;
}

int runtime_collectors_open(struct runtime_collectors *c, unsigned which, unsigned malloc_sample,
                            const struct traced_program *prog, struct process_watch *procs, bool perf_buffer,
                            struct gmon_error *err) {
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->which = which;
    c->malloc_sample = malloc_sample ? malloc_sample : 1;
    c->prog = prog;
    c->procs = procs;
    c->opened = true;
    if (((which & COLLECT_GC) && open_gc(c, perf_buffer, err) != 0) ||
        ((which & COLLECT_SCHED) && open_sched_reader(c, err) != 0) ||
        ((which & COLLECT_BLOCKED) && open_blocked(c, err) != 0) ||
        ((which & COLLECT_MALLOC) && open_malloc(c, err) != 0) ||
        ((which & COLLECT_RUNTIME) && open_runtime(c, err) != 0)) {
        runtime_collectors_close(c);
        return -1;
    }
    return 0;
}

int runtime_collectors_poll(struct runtime_collectors *c) {
    return (c->which & COLLECT_GC) ? gc_probes_poll(&c->gc, 0) : 0;
}

size_t runtime_collectors_probes(const struct runtime_collectors *c) {
    return c->gc.prog.nprobes + c->sched.prog.nprobes + c->malloc.prog.nprobes;
}

static void render_gc(struct runtime_collectors *c, FILE *out) {
    struct prom_sample p;
    pthread_mutex_lock(&c->lock);
    prom_family(out, "gmon_gc_cycles_total", "counter",
                "GC cycles completed since gmon attached, by trigger.");
    for (int t = GC_TRIGGER_HEAP; t <= GC_TRIGGER_UNKNOWN; t++) {
        prom_sample_begin(&p, out, "gmon_gc_cycles_total");
        prom_label(&p, "trigger", t == GC_TRIGGER_UNKNOWN ? "unknown" : gc_trigger_name(t));
        prom_sample_end(&p, (double)c->cycles_by_trigger[t]);
    }
    prom_family(out, "gmon_gc_mark_seconds_total", "counter", "Time GC cycles spent in concurrent mark.");
    prom_sample_begin(&p, out, "gmon_gc_mark_seconds_total");
    prom_sample_end(&p, c->mark_s);
    prom_family(out, "gmon_gc_stw_pause_seconds", "histogram",
                "Stop-the-world pauses (GC sweep and mark termination, ReadMemStats, ...), by reason.");
    for (size_t i = 0; i < c->npauses; i++) {
        const struct pause_series *s = &c->pauses[i];
        uint64_t cumulative = 0;
        for (int b = 0; b < PAUSE_BUCKETS; b++) {
            cumulative += s->buckets[b];
            char le[32];
            snprintf(le, sizeof(le), b < PAUSE_BUCKETS - 1 ? "%g" : "+Inf",
                     PAUSE_BOUNDS_S[b < PAUSE_BUCKETS - 1 ? b : 0]);
            prom_sample_begin(&p, out, "gmon_gc_stw_pause_seconds_bucket");
            prom_label(&p, "reason", s->reason);
            prom_label(&p, "le", le);
            prom_sample_end(&p, (double)cumulative);
        }
        prom_sample_begin(&p, out, "gmon_gc_stw_pause_seconds_sum");
        prom_label(&p, "reason", s->reason);
        prom_sample_end(&p, s->sum_s);
        prom_sample_begin(&p, out, "gmon_gc_stw_pause_seconds_count");
        prom_label(&p, "reason", s->reason);
        prom_sample_end(&p, (double)cumulative);
    }
    pthread_mutex_unlock(&c->lock);
}

/* What the sched maps hold, merged over processes: latency slots and totals, totals per wait reason. */
struct sched_view {
    uint64_t latency_slots[SCHED_LOG2_SLOTS];
    struct sched_total latency;
    struct sched_total reasons[256];
};

static void view_slot(void *ctx, const struct sched_slot_key *key, uint64_t count) {
    struct sched_view *v = ctx;
    if (key->reason == SCHED_RUN_LATENCY && key->slot < SCHED_LOG2_SLOTS)
        v->latency_slots[key->slot] += count;
}

static void view_total(void *ctx, const struct sched_slot_key *key, const struct sched_total *t) {
    struct sched_view *v = ctx;
    struct sched_total *into = key->reason == SCHED_RUN_LATENCY ? &v->latency
                               : key->reason < 256              ? &v->reasons[key->reason]
                                                                : NULL;
    if (into) {
        into->count += t->count;
        into->sum_ns += t->sum_ns;
    }
}

static void render_latency(struct sched_view *v, FILE *out) {
    struct prom_sample p;
    prom_family(out, "gmon_sched_latency_seconds", "histogram",
                "Time goroutines spent runnable before running (scheduling latency).");
    uint64_t cumulative = 0;
    /* Slot s holds [2^(s-1), 2^s - 1] us: its bound is 2^s us (exclusive), written as le. */
    for (int s = 1; s < SCHED_LOG2_SLOTS; s++) {
        cumulative += v->latency_slots[s];
        if (s % 2 == 0 || s > 30) /* a bucket per factor of 4 from 4 us to ~18 min keeps the series few */
            continue;
        char le[32];
        snprintf(le, sizeof(le), "%g", (double)(1ULL << s) / 1e6);
        prom_sample_begin(&p, out, "gmon_sched_latency_seconds_bucket");
        prom_label(&p, "le", le);
        prom_sample_end(&p, (double)cumulative);
    }
    prom_sample_begin(&p, out, "gmon_sched_latency_seconds_bucket");
    prom_label(&p, "le", "+Inf");
    prom_sample_end(&p, (double)cumulative);
    prom_sample_begin(&p, out, "gmon_sched_latency_seconds_sum");
    prom_sample_end(&p, (double)v->latency.sum_ns / 1e9);
    prom_sample_begin(&p, out, "gmon_sched_latency_seconds_count");
    prom_sample_end(&p, (double)cumulative);
}

static void reason_label(const struct runtime_collectors *c, int reason, char *out, size_t size) {
    const char *name = c->have_wait_reasons ? go_string_table_get(&c->wait_reasons, (size_t)reason) : NULL;
    if (name && name[0])
        snprintf(out, size, "%s", name);
    else
        snprintf(out, size, "%d", reason);
}

static void render_blocked(struct runtime_collectors *c, struct sched_view *v, FILE *out) {
    struct prom_sample p;
    prom_family(out, "gmon_goroutine_blocked_seconds_total", "counter",
                "Time goroutines spent parked, by wait reason (waits that ended).");
    for (int r = 0; r < 256; r++) {
        if (!v->reasons[r].count)
            continue;
        char label[96];
        reason_label(c, r, label, sizeof(label));
        prom_sample_begin(&p, out, "gmon_goroutine_blocked_seconds_total");
        prom_label(&p, "reason", label);
        prom_sample_end(&p, (double)v->reasons[r].sum_ns / 1e9);
    }
    prom_family(out, "gmon_goroutine_blocks_total", "counter", "Goroutine waits that ended, by wait reason.");
    for (int r = 0; r < 256; r++) {
        if (!v->reasons[r].count)
            continue;
        char label[96];
        reason_label(c, r, label, sizeof(label));
        prom_sample_begin(&p, out, "gmon_goroutine_blocks_total");
        prom_label(&p, "reason", label);
        prom_sample_end(&p, (double)v->reasons[r].count);
    }
}

static void render_sched(struct runtime_collectors *c, FILE *out) {
    struct sched_view *v = calloc(1, sizeof(*v));
    if (!v)
        return;
    sched_probes_for_each(&c->sched, view_slot, view_total, v);
    render_latency(v, out);
    render_blocked(c, v, out);
    free(v);
}

/* The allocations since gmon attached, from the runtime's counters; false when they cannot be read now. */
static bool malloc_from_counters(struct runtime_collectors *c, struct malloc_class_stat *stats) {
    static struct size_class_counts now;
    memset(stats, 0, sizeof(*stats) * MALLOC_CLASSES);
    if (!size_class_reader_read(c->malloc_counters, &now))
        return false;
    for (size_t cls = 0; cls < c->classes.n && cls < MALLOC_CLASSES; cls++) {
        stats[cls].count = now.count[cls] - c->malloc_start->count[cls];
        stats[cls].bytes = now.bytes[cls] - c->malloc_start->bytes[cls];
    }
    return true;
}

static void render_malloc(struct runtime_collectors *c, FILE *out) {
    struct malloc_class_stat stats[MALLOC_CLASSES];
    bool counters = c->malloc_counters != NULL;
    if (counters && !malloc_from_counters(c, stats))
        return; /* the process is gone or unreadable now: no series rather than wrong ones */
    if (!counters)
        malloc_probes_classes(&c->malloc, stats);
    struct prom_sample p;
    const char *names[2] = {"gmon_allocations_total", "gmon_allocated_bytes_total"};
    const char *help[2] = {
        "Heap allocations by Go size class (\"large\": over 32 KiB), scaled when sampled.",
        counters ? "Bytes of heap allocations, by Go size class: the count times the class's "
                   "size (large: their spans' bytes), from the runtime's own counters."
                 : "Bytes asked for by heap allocations, by Go size class, scaled when sampled."};
    for (int f = 0; f < 2; f++) {
        prom_family(out, names[f], "counter", help[f]);
        for (size_t cls = 0; cls < c->classes.n; cls++) {
            char label[24];
            if (cls == 0)
                snprintf(label, sizeof(label), "large");
            else
                snprintf(label, sizeof(label), "%u", (unsigned)c->classes.size[cls]);
            prom_sample_begin(&p, out, names[f]);
            prom_label(&p, "size_class", label);
            uint64_t v = f == 0 ? stats[cls].count : stats[cls].bytes;
            prom_sample_end(&p, (double)(v * c->malloc_sample));
        }
    }
}

void runtime_collectors_render(struct runtime_collectors *c, FILE *out) {
    if (!c->opened)
        return;
    if (c->which & COLLECT_GC)
        render_gc(c, out);
    if (c->sched_reader)
        exporter_targets_render(c->sched_reader, out, false, "go_sched_latencies_seconds");
    if (c->which & COLLECT_BLOCKED)
        render_sched(c, out);
    if (c->which & COLLECT_MALLOC)
        render_malloc(c, out);
    if (c->runtime)
        exporter_targets_render(c->runtime, out, false, NULL);
}

void runtime_collectors_detach(struct runtime_collectors *c) {
    if (!c->opened)
        return;
    gc_probes_detach(&c->gc);
    sched_probes_detach(&c->sched);
    malloc_probes_detach(&c->malloc);
}

static void close_reader(struct exporter_targets **e) {
    if (*e)
        exporter_targets_close(*e);
    free(*e);
    *e = NULL;
}

void runtime_collectors_close(struct runtime_collectors *c) {
    if (!c->opened)
        return;
    gc_probes_close(&c->gc);
    gc_cycles_free(&c->cycles);
    go_string_table_free(&c->stw_reasons);
    sched_probes_close(&c->sched);
    go_string_table_free(&c->wait_reasons);
    malloc_probes_close(&c->malloc);
    malloc_functions_free(&c->functions);
    if (c->malloc_counters)
        size_class_reader_close(c->malloc_counters);
    free(c->malloc_counters);
    free(c->malloc_start);
    c->malloc_counters = NULL;
    c->malloc_start = NULL;
    close_reader(&c->runtime);
    close_reader(&c->sched_reader);
    pthread_mutex_destroy(&c->lock);
    c->opened = false;
}
