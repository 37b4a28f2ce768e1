/* Goroutine exits found without the goexit1 probe (gmon --exits poll): every few milliseconds, the host reads
 * the goroutines the live slots and map track from the target's memory — their g's goid and status — and
 * counts as exited those whose g is dead or already reused by another goroutine. One trap per goroutine (the
 * creation) instead of two, at the price of precision: an exit is placed in the middle of the window in which
 * it happened, so a lifetime is off by at most half the interval (plus the scan's own time).
 *
 * What BPF counts at goexit1 in the other mode (the exits of each creation site, their lifetimes, the log2
 * lifetime histogram of gr seq) is counted here in gmon's memory; lifecycle_probes.c adds it to what it reads
 * from the maps, so its readers see one set of figures whichever way exits were found. */
#ifndef GMON_LIFECYCLE_EXIT_SCAN_H
#define GMON_LIFECYCLE_EXIT_SCAN_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "count_table.h"
#include "lifecycle_event.h"
#include "live_slots.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*exit_found_fn)(void *ctx, const struct lifecycle_event *ev);

struct lifecycle_exit_scan {
    int interval_ms;                /* 0: exits come from the goexit1 probe, nothing here runs */
    int goid_offset, status_offset; /* runtime.g fields, from the target's layout */
    int lifetime_log2;              /* as lifecycle_options.lifetime_log2 */
    bool emit_exited;               /* hand each exit to the event callback (log lines) */
    int live_fd, sites_fd;
    /* In front of the live map: read in gmon's memory and freed without a system call. */
    struct live_slots *slots;
    int map_filled_fd; /* the creation program's flag: a goroutine went to the live map */
    bool map_holds;    /* the live map held goroutines after the last scan, or that scan found the flag set */
    bool flag_seen;    /* during a scan: it found the flag set (and cleared it) */
    size_t map_left;   /* during a scan: the goroutines read from the map that it has not deleted */
    int read_base;     /* the lower of the two offsets: where the read of each g starts */
    size_t read_span;  /* bytes read of each g */
    int64_t next_ns;   /* CLOCK_MONOTONIC: when the next scan is due */
    int64_t last_read_ns; /* when the previous scan started: the goroutines it checked were alive then, */
    int64_t last_checked_before; /* those created before this (younger ones were left for the next scan) */
    int64_t telling_ns;          /* during a scan: the time spent handing its exits to the callback */
    pthread_mutex_t lock;        /* the tables and totals below: metrics threads read them while scans add */
    struct count_table by_site;  /* struct site_key -> SITE_EXIT_COUNTS (exited, lifetime sum, buckets) */
    struct count_table by_slot;  /* struct lifetime_slot_key -> count */
    uint64_t found, site_map_full, events, scans, scan_ns, checked, unreadable;
    /* Scratch reused from scan to scan. */
    struct goroutine_key *keys;
    struct goroutine_info *infos;
    uint32_t *slot_of;                /* the live slot goroutine i was read from, or NO_SLOT (the live map) */
    uint64_t *tags;                   /* that slot's tag when read */
    uint64_t *addrs;                  /* of the distinct gs of one process's goroutines */
    uint8_t *gs;                      /* the read_span bytes read of each: goid and status */
    bool *ok;                         /* whether each was read */
    uint32_t *block_of;               /* of one process's goroutine: which of those it reads */
    uint32_t *order;                  /* indexes of the goroutines to check, by process */
    uint32_t *ended;                  /* of one process: indexes of the goroutines that ended, */
    struct goroutine_key *ended_keys; /* the keys of those read from the live map, */
    uint32_t *ended_in_map;           /* and their indexes in ended */
    bool *deleted;                    /* whether their slot or live-map entry was there to free */
    size_t cap;
    bool no_delete_batch; /* the kernel refused a batch delete (before 5.6): one entry at a time */
};

/* The counts a site gets from the scan: exited, lifetime_sum_ns, then the LIFECYCLE_BUCKETS buckets. */
enum { SITE_EXIT_COUNTS = 2 + LIFECYCLE_BUCKETS };

void lifecycle_exit_scan_init(struct lifecycle_exit_scan *s, int interval_ms, int goid_offset,
                              int status_offset, int lifetime_log2, bool emit_exited, int live_fd,
                              int sites_fd, struct live_slots *slots, int map_filled_fd);
/* How long an event poll may wait (at most timeout_ms) before the next scan is due. */
int lifecycle_exit_scan_wait_ms(const struct lifecycle_exit_scan *s, int timeout_ms);
bool lifecycle_exit_scan_due(const struct lifecycle_exit_scan *s);
/* Sorts s->order[0..n) (indexes into s->keys and s->infos) by process, then by creation: the order a scan
 * tells the exits it finds in. Exposed for the tests. */
void lifecycle_exit_scan_sort(struct lifecycle_exit_scan *s, size_t n);
/* A creation is sent to the event buffer a few microseconds after its entry in the live map is made: a scan
 * leaves entries younger than this for the next one, so that no exit is told before its creation. */
#define LIFECYCLE_EXIT_SCAN_YOUNGEST_NS 1000000LL
/* Checks every goroutine in the live map created before created_before_ns (the caller has delivered every
 * event of those creations), deletes the exited ones from the map, counts them and, with emit_exited, hands
 * each to fn as a LIFECYCLE_EXITED event. */
void lifecycle_exit_scan_run(struct lifecycle_exit_scan *s, int64_t created_before_ns, exit_found_fn fn,
                             void *ctx);
/* Adds the scan's exits of site to stats (what lifecycle_for_each_site reports). */
void lifecycle_exit_scan_add_to_site(struct lifecycle_exit_scan *s, const struct site_key *site,
                                     struct site_stats *stats);
typedef void (*exit_slot_fn)(void *ctx, const struct lifetime_slot_key *key, uint64_t count);
void lifecycle_exit_scan_for_each_slot(struct lifecycle_exit_scan *s, exit_slot_fn fn, void *ctx);
/* Adds the scan's figures to the probes' counters: exits found (as the goexit1 hits they replace), exits
 * of sites the site map had no room for, events handed over, scans and their time. */
void lifecycle_exit_scan_counters(struct lifecycle_exit_scan *s, uint64_t out[LIFECYCLE_COUNTERS]);
typedef bool (*exit_doomed_fn)(const void *key, const void *value, const void *ctx);
/* Forgets the site counts site_doomed picks and the histogram slots slot_doomed picks (either NULL: none). */
void lifecycle_exit_scan_forget(struct lifecycle_exit_scan *s, exit_doomed_fn site_doomed,
                                exit_doomed_fn slot_doomed, const void *ctx);
void lifecycle_exit_scan_free(struct lifecycle_exit_scan *s);

#ifdef __cplusplus
}
#endif
#endif
