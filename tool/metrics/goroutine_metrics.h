/* Goroutine lifecycle statistics by creation-site label set: gathered from the BPF maps (sites, live
 * goroutines, counters), rendered as Prometheus text for /metrics and ranked for the exit summary. */
#ifndef GMON_GOROUTINE_METRICS_H
#define GMON_GOROUTINE_METRICS_H
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include "creation_sites.h"
#include "lifecycle_probes.h"

struct label_totals {
    struct site_stats sum;      /* created, exited, lifetimes: every site of the set, live and retired */
    uint64_t live;              /* created - exited, processes still running */
    uint64_t oldest_created_ns; /* CLOCK_MONOTONIC creation time of the oldest live goroutine, 0: none */
};

struct goroutine_stats {
    struct label_totals *by_set; /* indexed like creation_sites.sets */
    size_t nsets;
    uint64_t counters[LIFECYCLE_COUNTERS];
    uint64_t folded_sites;
    bool exits_polled; /* --exits poll: no goexit1 probe, exits found by reading memory */
};

/* Everything the metrics thread and the main loop share, guarded by lock. */
struct goroutine_monitor {
    pthread_mutex_t lock;
    struct lifecycle_probes *probes;
    struct creation_sites *sites;
    const char *go_version;
    size_t attached_probes;
    int processes; /* processes seen so far */
};

/* Reads the BPF maps (caller holds the lock). */
int goroutine_stats_collect(struct goroutine_monitor *m, struct goroutine_stats *out);
void goroutine_stats_free(struct goroutine_stats *s);
/* Moves the totals of an exited process into its label sets' retired totals and drops its BPF entries
 * (caller holds the lock). */
void goroutine_stats_retire_process(struct goroutine_monitor *m, uint32_t tgid);
/* Process tgid started a new Go runtime (image) at started_ns, by an exec of the same binary: the counts of
 * its older images are retired, their live goroutines forgotten (they ended with the exec), and its sites are
 * symbolized again. Returns how many sites were retired (0 for a process gmon had not seen before). Called
 * with the lock held. */
size_t goroutine_stats_retire_image(struct goroutine_monitor *m, uint32_t tgid, uint32_t image,
                                    uint64_t started_ns);
/* metrics_render_fn: takes the lock itself. */
void goroutine_metrics_render(void *monitor, FILE *out);

#endif
