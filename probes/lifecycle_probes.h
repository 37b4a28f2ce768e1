/* Host side of the goroutine lifecycle probes (lifecycle.bpf.c): compiles the program for one Go runtime
 * layout, attaches it to a binary's newproc1 RETs and goexit1, and reads what it collects: events,
 * creation-site statistics, live goroutines, user stacks and gmon's own counters. */
#ifndef GMON_LIFECYCLE_PROBES_H
#define GMON_LIFECYCLE_PROBES_H
#include <stdbool.h>
#include <stdint.h>
#include "bpf_program.h"
#include "event_reader.h"
#include "held_exits.h"
#include "lifecycle_event.h"
#include "lifecycle_exit_scan.h"
#include "live_slots.h"
#include "probe_plan.h"
#include "runtime_layout.h"

struct lifecycle_options {
    const struct runtime_layout *layout;
    const char *attach_path; /* the binary uprobes attach to (for a process: /proc/PID/exe) */
    int pid;                 /* one process, or -1 for every process running attach_path */
    bool emit_created, emit_exited, emit_untracked;
    bool force_perf_buffer; /* use the perf buffer even when ring buffers exist (tests the fallback) */
    bool force_ring_buffer; /* the kernel's ring buffer rather than gmon's per-CPU rings (tests, benches) */
    bool empty_probes;      /* programs that return at once: the benchmark's floor */
    int lifetime_log2;      /* 0: none; 1: log2 histogram of lifetimes per process; 2: per creation site */
    bool emit_runq;         /* scheduler events: global run queue put/get, steals (gr -v) */
    unsigned max_live, max_sites, max_stacks;
    int exit_scan_ms; /* 0: exits from the goroutine's goexit1 probe; else read from memory this often */
};

typedef void (*lifecycle_event_fn)(void *ctx, const struct lifecycle_event *ev);

struct lifecycle_probes {
    struct bpf_program prog;
    struct event_reader reader;
    int live_fd, sites_fd, stacks_fd, counters_fd, log2_fd, images_fd, image_cache_fd;
    int ncpus;
    lifecycle_event_fn on_event;
    void *ctx;
    uint64_t malformed_events;
    struct lifecycle_exit_scan exits; /* --exits poll */
    struct live_slots slots;          /* in front of the live map (not with --exits poll) */
    uint64_t last_created_ns;         /* the time of the last creation event handed over */
    /* --exits poll: exits found before their creation was handed over, and the time before which every
     * creation has been. */
    struct held_exits held;
    int64_t creations_told_before;
    char runq_missing[160]; /* run-queue functions this binary lacks (inlined): their events are not seen */
};

/* Compiles, loads and attaches. On failure everything already attached is detached again. */
int lifecycle_open(struct lifecycle_probes *lp, const struct lifecycle_options *o,
                   const struct probe_plan *plan, lifecycle_event_fn on_event, void *ctx,
                   struct gmon_error *err);
/* Delivers pending events to on_event, waiting up to timeout_ms; with exit_scan_ms, also the exits the scan
 * of the live goroutines finds when one is due (it may then return before timeout_ms). */
int lifecycle_poll(struct lifecycle_probes *lp, int timeout_ms);
/* Sums the per-CPU counters (enum lifecycle_counter); perf-buffer losses are added to COUNTER_EVENTS_LOST. */
int lifecycle_counters(struct lifecycle_probes *lp, uint64_t out[LIFECYCLE_COUNTERS]);
/* The creation stack stored under a site_key's stack hash (return addresses, the `go` statement's first).
 * Returns the depth, 0 when unknown. */
int lifecycle_stack(struct lifecycle_probes *lp, uint64_t stack, uint64_t *pcs, int max);

typedef void (*lifecycle_site_fn)(void *ctx, const struct site_key *key, const struct site_stats *stats);
typedef void (*lifecycle_live_fn)(void *ctx, const struct goroutine_key *key,
                                  const struct goroutine_info *info);
void lifecycle_for_each_site(struct lifecycle_probes *lp, lifecycle_site_fn fn, void *ctx);
void lifecycle_for_each_live(struct lifecycle_probes *lp, lifecycle_live_fn fn, void *ctx);
typedef void (*lifecycle_slot_fn)(void *ctx, const struct lifetime_slot_key *key, uint64_t count);
/* Every non-empty slot of the lifetime histograms (lifetime_log2 != 0); counts only grow. */
void lifecycle_for_each_lifetime_slot(struct lifecycle_probes *lp, lifecycle_slot_fn fn, void *ctx);
/* Forgets a process that exited: its live goroutines and creation sites. */
void lifecycle_forget_process(struct lifecycle_probes *lp, uint32_t tgid);
/* Forgets the goroutines of a process that exited that were still running then (it ended them all), and
 * keeps its creation sites and their counts for a report at the end. */
void lifecycle_forget_live(struct lifecycle_probes *lp, uint32_t tgid);
/* A Go runtime started in process tgid at started_ns: forgets the live goroutines created before, which
 * ended with the program the process replaced (an exec of the same binary), and keeps the sites. */
void lifecycle_forget_live_before(struct lifecycle_probes *lp, uint32_t tgid, uint64_t started_ns);
/* A new Go runtime (image) started in process tgid at started_ns: forgets the live goroutines created before
 * it and the sites of its older images (their counts must have been retired first). */
void lifecycle_forget_image(struct lifecycle_probes *lp, uint32_t tgid, uint32_t image, uint64_t started_ns);
/* Detaches the probes and delivers the events still buffered: from then on the maps, the counters and what
 * on_event was given are final and agree with each other. */
void lifecycle_detach(struct lifecycle_probes *lp);
void lifecycle_close(struct lifecycle_probes *lp);

#endif
