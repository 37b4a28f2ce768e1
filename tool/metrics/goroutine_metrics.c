#include "goroutine_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "grow_array.h"
#include "messages.h"
#include "prom_text.h"

static const uint64_t BUCKET_BOUNDS_NS[LIFECYCLE_BUCKETS - 1] = LIFECYCLE_BUCKET_BOUNDS_NS;
static const char *const LABEL_NAMES[SITE_LABELS] = {"stack_0", "stack_1", "stack_2", "stack_3", "stack_4"};

struct pending_site {
    size_t set;
    struct site_stats stats;
};

struct site_walk {
    struct goroutine_monitor *m;
    struct pending_site *items;
    size_t n, cap;
    uint32_t only_tgid; /* 0: every process */
    bool older_only;    /* with only_tgid: only the sites of images older than image */
    uint32_t image;
};

static void remember_site(void *ctx, const struct site_key *key, const struct site_stats *stats) {
    struct site_walk *w = ctx;
    if (w->only_tgid && key->tgid != w->only_tgid)
        return;
    if (w->older_only && key->image >= w->image)
        return;
    const struct site *s = creation_sites_get(w->m->sites, key);
    if (!s)
        return;
    struct pending_site *items = grow_array(w->items, &w->cap, w->n, sizeof(*items), 64);
    if (!items)
        return;
    w->items = items;
    w->items[w->n].set = s->label_set;
    w->items[w->n++].stats = *stats;
}

static void add_stats(struct site_stats *into, const struct site_stats *s) {
    into->created += s->created;
    into->untracked += s->untracked;
    into->exited += s->exited;
    into->lifetime_sum_ns += s->lifetime_sum_ns;
    for (int b = 0; b < LIFECYCLE_BUCKETS; b++)
        into->buckets[b] += s->buckets[b];
}

struct live_walk {
    struct goroutine_monitor *m;
    struct goroutine_stats *out;
};

static void note_live(void *ctx, const struct goroutine_key *key, const struct goroutine_info *info) {
    (void)key;
    struct live_walk *w = ctx;
    const struct site *s = creation_sites_get(w->m->sites, &info->site);
    if (!s || s->label_set >= w->out->nsets)
        return;
    struct label_totals *t = &w->out->by_set[s->label_set];
    if (t->oldest_created_ns == 0 || info->created_ns < t->oldest_created_ns)
        t->oldest_created_ns = info->created_ns;
}

int goroutine_stats_collect(struct goroutine_monitor *m, struct goroutine_stats *out) {
    memset(out, 0, sizeof(*out));
    out->exits_polled = m->probes->exits.interval_ms != 0;
    struct site_walk walk = {.m = m};
    lifecycle_for_each_site(m->probes, remember_site, &walk);
    /* Resolving sites may have created label sets: size the totals afterwards, with room for the live walk.
     */
    out->nsets = m->sites->nsets;
    out->by_set = calloc(out->nsets + 1, sizeof(*out->by_set));
    if (!out->by_set) {
        free(walk.items);
        return -1;
    }
    for (size_t i = 0; i < walk.n; i++) {
        struct label_totals *t = &out->by_set[walk.items[i].set];
        add_stats(&t->sum, &walk.items[i].stats);
        /* Goroutines the live map had no room for are left out: their exits are never counted. */
        const struct site_stats *st = &walk.items[i].stats;
        uint64_t ended = st->untracked + st->exited; /* more only if an exec's start event was lost */
        t->live += st->created > ended ? st->created - ended : 0;
    }
    free(walk.items);
    for (size_t i = 0; i < out->nsets; i++)
        add_stats(&out->by_set[i].sum, &m->sites->sets[i].retired);
    struct live_walk lw = {m, out};
    lifecycle_for_each_live(m->probes, note_live, &lw);
    lifecycle_counters(m->probes, out->counters);
    out->folded_sites = m->sites->folded_sites;
    return 0;
}

void goroutine_stats_free(struct goroutine_stats *s) {
    free(s->by_set);
    memset(s, 0, sizeof(*s));
}

/* Moves the counts of the sites walk picked into their label sets' retired totals; returns how many. */
static size_t retire_sites(struct goroutine_monitor *m, struct site_walk *walk) {
    lifecycle_for_each_site(m->probes, remember_site, walk);
    for (size_t i = 0; i < walk->n; i++)
        add_stats(&m->sites->sets[walk->items[i].set].retired, &walk->items[i].stats);
    free(walk->items);
    return walk->n;
}

void goroutine_stats_retire_process(struct goroutine_monitor *m, uint32_t tgid) {
    struct site_walk walk = {.m = m, .only_tgid = tgid};
    retire_sites(m, &walk);
    lifecycle_forget_process(m->probes, tgid);
    creation_sites_forget_process(m->sites, tgid);
}

size_t goroutine_stats_retire_image(struct goroutine_monitor *m, uint32_t tgid, uint32_t image,
                                    uint64_t started_ns) {
    struct site_walk walk = {.m = m, .only_tgid = tgid, .older_only = true, .image = image};
    size_t retired = retire_sites(m, &walk);
    if (!retired)
        return 0; /* a new process (the common case): no older image has a site, so none has a live goroutine
                   */
    lifecycle_forget_image(m->probes, tgid, image, started_ns);
    creation_sites_forget_process(m->sites, tgid); /* symbolized again with the new load bias */
    return retired;
}

static void site_sample(struct prom_sample *p, FILE *out, const char *name, const struct label_set *set) {
    prom_sample_begin(p, out, name);
    for (int l = 0; l < SITE_LABELS; l++)
        prom_label(p, LABEL_NAMES[l], set->labels[l]);
}

static void render_counter_family(FILE *out, const struct goroutine_monitor *m,
                                  const struct goroutine_stats *s, const char *name, const char *help,
                                  int which) {
    prom_family(out, name, "counter", help);
    for (size_t i = 0; i < s->nsets; i++) {
        struct prom_sample p;
        site_sample(&p, out, name, &m->sites->sets[i]);
        prom_sample_end(&p, (double)(which == 0 ? s->by_set[i].sum.created : s->by_set[i].sum.exited));
    }
}

static void render_lifetime_histogram(FILE *out, const struct goroutine_monitor *m,
                                      const struct goroutine_stats *s) {
    const char *name = "gmon_goroutine_lifetime_seconds";
    prom_family(out, name, "histogram",
                "Lifetime of goroutines that exited, observed once at exit, by creation site.");
    for (size_t i = 0; i < s->nsets; i++) {
        const struct label_totals *t = &s->by_set[i];
        const struct label_set *set = &m->sites->sets[i];
        uint64_t cumulative = 0;
        struct prom_sample p;
        for (int b = 0; b < LIFECYCLE_BUCKETS; b++) {
            cumulative += t->sum.buckets[b];
            char le[32];
            if (b < LIFECYCLE_BUCKETS - 1)
                snprintf(le, sizeof(le), "%g", (double)BUCKET_BOUNDS_NS[b] / 1e9);
            else
                snprintf(le, sizeof(le), "+Inf");
            site_sample(&p, out, "gmon_goroutine_lifetime_seconds_bucket", set);
            prom_label(&p, "le", le);
            prom_sample_end(&p, (double)cumulative);
        }
        site_sample(&p, out, "gmon_goroutine_lifetime_seconds_sum", set);
        prom_sample_end(&p, (double)t->sum.lifetime_sum_ns / 1e9);
        site_sample(&p, out, "gmon_goroutine_lifetime_seconds_count", set);
        prom_sample_end(&p, (double)cumulative);
    }
}

static void render_live(FILE *out, const struct goroutine_monitor *m, const struct goroutine_stats *s) {
    uint64_t now_ns = (uint64_t)monotonic_ns();
    prom_family(out, "gmon_goroutines_live", "gauge",
                "Goroutines created since gmon attached that have not exited, by creation site (those in "
                "gmon_goroutines_untracked_total are left out).");
    struct prom_sample p;
    for (size_t i = 0; i < s->nsets; i++) {
        site_sample(&p, out, "gmon_goroutines_live", &m->sites->sets[i]);
        prom_sample_end(&p, (double)s->by_set[i].live);
    }
    prom_family(out, "gmon_goroutines_untracked_total", "counter",
                "Goroutines created while the live-goroutine map was full, by creation site: their exits and "
                "lifetimes are unknown (raise --max-goroutines). Only sites with some are listed.");
    for (size_t i = 0; i < s->nsets; i++) {
        if (!s->by_set[i].sum.untracked)
            continue;
        site_sample(&p, out, "gmon_goroutines_untracked_total", &m->sites->sets[i]);
        prom_sample_end(&p, (double)s->by_set[i].sum.untracked);
    }
    prom_family(
        out, "gmon_goroutine_oldest_live_age_seconds", "gauge",
        "Age of the oldest live goroutine by creation site: a site whose oldest age keeps growing leaks.");
    for (size_t i = 0; i < s->nsets; i++) {
        uint64_t oldest = s->by_set[i].oldest_created_ns;
        if (!oldest)
            continue;
        site_sample(&p, out, "gmon_goroutine_oldest_live_age_seconds", &m->sites->sets[i]);
        prom_sample_end(&p, now_ns > oldest ? (double)(now_ns - oldest) / 1e9 : 0);
    }
}

static void render_plain(FILE *out, const char *name, const char *type, const char *help, double value) {
    prom_family(out, name, type, help);
    struct prom_sample p;
    prom_sample_begin(&p, out, name);
    prom_sample_end(&p, value);
}

static void render_labelled(FILE *out, const char *name, const char *label, const char *value, double v) {
    struct prom_sample p;
    prom_sample_begin(&p, out, name);
    prom_label(&p, label, value);
    prom_sample_end(&p, v);
}

static void render_self(FILE *out, const struct goroutine_monitor *m, const struct goroutine_stats *s) {
    const uint64_t *c = s->counters;
    struct prom_sample p;
    prom_family(out, "gmon_probe_hits_total", "counter", "Times each gmon uprobe fired.");
    render_labelled(out, "gmon_probe_hits_total", "probe", "runtime.newproc1",
                    (double)c[COUNTER_CREATE_HITS]);
    if (s->exits_polled) { /* --exits poll: no goexit1 probe, the exits come from reading memory */
        render_plain(out, "gmon_exit_scans_total", "counter",
                     "Scans of the tracked goroutines' memory for exits (--exits poll).",
                     (double)c[COUNTER_EXIT_SCANS]);
        render_plain(out, "gmon_exit_scan_seconds_total", "counter",
                     "Time gmon spent in those scans, not counting the log lines of the exits they found.",
                     (double)c[COUNTER_EXIT_SCAN_US] / 1e6);
        render_plain(out, "gmon_exits_found_total", "counter", "Goroutine exits those scans found.",
                     (double)c[COUNTER_EXIT_HITS]);
    } else {
        render_labelled(out, "gmon_probe_hits_total", "probe", "runtime.goexit1",
                        (double)c[COUNTER_EXIT_HITS]);
    }
    render_plain(out, "gmon_events_total", "counter", "Events the probes sent to gmon.",
                 (double)c[COUNTER_EVENTS_SENT]);
    render_plain(out, "gmon_events_lost_total", "counter",
                 "Events lost because the ring/perf buffer was full (log lines missing; metrics unaffected).",
                 (double)c[COUNTER_EVENTS_LOST]);
    prom_family(out, "gmon_map_full_total", "counter", "Updates dropped because a BPF map was full.");
    render_labelled(out, "gmon_map_full_total", "map", "live", (double)c[COUNTER_LIVE_MAP_FULL]);
    render_labelled(out, "gmon_map_full_total", "map", "sites",
                    (double)(c[COUNTER_SITE_MAP_FULL] + c[COUNTER_EXIT_SITE_MAP_FULL]));
    render_plain(
        out, "gmon_stack_walk_failures_total", "counter",
        "Creation stacks that could not be walked or stored (the site is then named by g.gopc only).",
        (double)c[COUNTER_STACK_FAILED]);
    render_plain(out, "gmon_read_failures_total", "counter", "Reads of runtime.g fields that faulted.",
                 (double)c[COUNTER_READ_FAILED]);
    render_plain(out, "gmon_goroutine_exits_untracked_total", "counter",
                 "Exits of goroutines missing from the live map: created before gmon attached, or untracked.",
                 (double)c[COUNTER_EXIT_UNTRACKED]);
    render_plain(out, "gmon_creation_sites_folded_total", "counter",
                 "Creation sites counted under stack_0=\"other\" because the label-set cap was reached.",
                 (double)s->folded_sites);
    render_plain(out, "gmon_probes_attached", "gauge", "Uprobes gmon has attached.",
                 (double)m->attached_probes);
    prom_family(out, "gmon_build_info", "gauge", "gmon's version and the Go release of the target.");
    prom_sample_begin(&p, out, "gmon_build_info");
    prom_label(&p, "version", GMON_VERSION_STRING);
    prom_label(&p, "go_version", m->go_version);
    prom_sample_end(&p, 1);
}

void goroutine_metrics_render(void *monitor, FILE *out) {
    struct goroutine_monitor *m = monitor;
    struct goroutine_stats s;
    pthread_mutex_lock(&m->lock);
    if (!m->probes) { /* scraped while the probes are still being compiled and attached */
        render_plain(out, "gmon_probes_attached", "gauge", "Uprobes gmon has attached.", 0);
    } else if (goroutine_stats_collect(m, &s) == 0) {
        render_counter_family(out, m, &s, "gmon_goroutines_created_total",
                              "Goroutines created since gmon attached, by creation site.", 0);
        render_counter_family(out, m, &s, "gmon_goroutines_exited_total",
                              "Goroutines that exited after gmon saw them created, by creation site.", 1);
        render_lifetime_histogram(out, m, &s);
        render_live(out, m, &s);
        render_self(out, m, &s);
        goroutine_stats_free(&s);
    }
    pthread_mutex_unlock(&m->lock);
}
