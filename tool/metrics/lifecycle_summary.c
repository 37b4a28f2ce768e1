#include "lifecycle_summary.h"

#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "log_writer.h"

enum { TOP_SITES = 10 };

static int by_created_desc(const void *a, const void *b, void *stats) {
    const struct goroutine_stats *s = stats;
    uint64_t ca = s->by_set[*(const size_t *)a].sum.created;
    uint64_t cb = s->by_set[*(const size_t *)b].sum.created;
    return ca < cb ? 1 : ca > cb ? -1 : 0;
}

static void format_site(const struct label_set *set, char *out, size_t size) {
    size_t used = 0;
    out[0] = 0;
    for (int l = 0; l < SITE_LABELS && used < size; l++) {
        if (strcmp(set->labels[l], "none") == 0)
            break;
        int n = snprintf(out + used, size - used, "%s%s", l ? " <- " : "", set->labels[l]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void print_top_sites(FILE *out, const struct creation_sites *sites, const struct goroutine_stats *s) {
    size_t *order = malloc(s->nsets * sizeof(*order));
    if (!order)
        return;
    for (size_t i = 0; i < s->nsets; i++)
        order[i] = i;
    qsort_r(order, s->nsets, sizeof(*order), by_created_desc, (void *)s);
    uint64_t now_ns = (uint64_t)monotonic_ns();
    fprintf(out, "%10s %10s %8s %10s  %s\n", "created", "exited", "live", "oldest",
            "creation site (stack_0 <- callers)");
    for (size_t k = 0; k < s->nsets && k < TOP_SITES; k++) {
        const struct label_totals *t = &s->by_set[order[k]];
        char site[512], oldest[32] = "-";
        format_site(&sites->sets[order[k]], site, sizeof(site));
        if (t->oldest_created_ns && now_ns > t->oldest_created_ns)
            format_go_duration((now_ns - t->oldest_created_ns) / 1000000 * 1000000, oldest, sizeof(oldest));
        fprintf(out, "%10llu %10llu %8llu %10s  %s\n", (unsigned long long)t->sum.created,
                (unsigned long long)t->sum.exited, (unsigned long long)t->live, oldest, site);
    }
    if (s->nsets > TOP_SITES)
        fprintf(out, "%10s  (%zu more sites in /metrics)\n", "...", s->nsets - TOP_SITES);
    free(order);
}

/* --exits poll: the exits came from reading the goroutines' memory, not from a probe. */
static void print_exit_scans(FILE *out, const uint64_t *c) {
    uint64_t scans = c[COUNTER_EXIT_SCANS];
    fprintf(
        out,
        "probe hits: newproc1 %llu; exits found by reading the tracked goroutines: %llu, in %llu scans "
        "(%.2f ms, log lines aside, and %.0f goroutines each on average; exits of goroutines created before "
        "attaching are not seen)\n",
        (unsigned long long)c[COUNTER_CREATE_HITS], (unsigned long long)c[COUNTER_EXIT_HITS],
        (unsigned long long)scans, scans ? (double)c[COUNTER_EXIT_SCAN_US] / 1e3 / (double)scans : 0.0,
        scans ? (double)c[COUNTER_EXIT_CHECKS] / (double)scans : 0.0);
}

/* Every probe hit is either counted by a site or one of the losses above (lifecycle_event.h); the figures
 * are read after the probes are detached, so a difference would be a gmon bug, and is never hidden. */
static void print_unaccounted(FILE *out, uint64_t created, uint64_t exited, const uint64_t *c) {
    uint64_t creations = created + c[COUNTER_SITE_MAP_FULL] + c[COUNTER_CREATE_UNREADABLE];
    uint64_t exits =
        exited + c[COUNTER_EXIT_UNTRACKED] + c[COUNTER_EXIT_SITE_MAP_FULL] + c[COUNTER_EXIT_UNREADABLE];
    if (creations == c[COUNTER_CREATE_HITS] && exits == c[COUNTER_EXIT_HITS])
        return;
    fprintf(out,
            "gmon: probe hits not accounted for: newproc1 %llu against %llu counted or lost, goexit1 %llu "
            "against %llu (please report this)\n",
            (unsigned long long)c[COUNTER_CREATE_HITS], (unsigned long long)creations,
            (unsigned long long)c[COUNTER_EXIT_HITS], (unsigned long long)exits);
}

void lifecycle_summary_print(FILE *out, const struct creation_sites *sites, const struct goroutine_stats *s,
                             const char *target, const char *process, double seconds) {
    uint64_t created = 0, exited = 0, live = 0;
    for (size_t i = 0; i < s->nsets; i++) {
        created += s->by_set[i].sum.created;
        exited += s->by_set[i].sum.exited;
        live += s->by_set[i].live;
    }
    const uint64_t *c = s->counters;
    fprintf(out, "\ngmon: traced %s", target);
    if (process[0])
        fprintf(out, ", %s,", process);
    fprintf(out, " for %.1fs: %llu goroutines created, %llu exited, %llu still live", seconds,
            (unsigned long long)created, (unsigned long long)exited, (unsigned long long)live);
    /* A process that exits takes its running goroutines with it: they never reach goexit1. */
    if (created > exited + live)
        fprintf(out, ", %llu ended with their process", (unsigned long long)(created - exited - live));
    fputc('\n', out);
    if (s->nsets)
        print_top_sites(out, sites, s);
    if (s->exits_polled)
        print_exit_scans(out, c);
    else
        fprintf(
            out,
            "probe hits: newproc1 %llu, goexit1 %llu (%llu exits of goroutines not tracked: created before "
            "attaching, or while the live map was full)\n",
            (unsigned long long)c[COUNTER_CREATE_HITS], (unsigned long long)c[COUNTER_EXIT_HITS],
            (unsigned long long)c[COUNTER_EXIT_UNTRACKED]);
    fprintf(out,
            "losses: %llu events lost, %llu untracked (live map full), %llu uncounted (site map full), "
            "%llu unreadable, %llu stack walks failed, %llu sites folded into \"other\"\n",
            (unsigned long long)c[COUNTER_EVENTS_LOST], (unsigned long long)c[COUNTER_LIVE_MAP_FULL],
            (unsigned long long)(c[COUNTER_SITE_MAP_FULL] + c[COUNTER_EXIT_SITE_MAP_FULL]),
            (unsigned long long)(c[COUNTER_CREATE_UNREADABLE] + c[COUNTER_EXIT_UNREADABLE]),
            (unsigned long long)c[COUNTER_STACK_FAILED], (unsigned long long)s->folded_sites);
    print_unaccounted(out, created, exited, c);
}
