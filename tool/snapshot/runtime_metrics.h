/* The figures a Go program's runtime/metrics.Read and debug.ReadGCStats read, read from its memory instead:
 * the three shards of memstats.heapStats, the *_sys counters, the size of the span and mcache allocators, the
 * GC pause ring, the heap goal's inputs, the goroutine and thread counts (gcount, mcount), GOGC and the
 * memory limit, goroutines created. No probe and no stop: each group is read in one or two
 * process_vm_readv calls, and a group whose reads raced with the runtime's writers is read again (see
 * runtime_metrics.c for how each race is detected). What the layout or the globals do not give is absent,
 * with the reason, never zero. The formulas that turn these into MemStats' figures are pure functions
 * (runtime_metrics_compute.c), so that they are tested on their own. */
#ifndef GMON_RUNTIME_METRICS_H
#define GMON_RUNTIME_METRICS_H
#include <stdbool.h>
#include <stdint.h>

#include "go_size_classes.h"
#include "runtime_state.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { GC_PAUSE_RING = 256, TIME_HISTOGRAM_MAX = 45 * 16 + 1 };

/* A runtime/metrics Float64Histogram: n buckets, bucket i from bounds[i] (inclusive) to bounds[i+1];
 * bounds[0] is -Inf (the underflow bucket), bounds[n] +Inf. */
struct go_time_histogram {
    int n;
    uint64_t counts[TIME_HISTOGRAM_MAX];
    double bounds[TIME_HISTOGRAM_MAX + 1];
};

/* The sum of memstats.heapStats' three shards (consistentHeapStats.unsafeRead). */
struct go_heap_stats {
    int64_t committed, released, in_heap, in_stacks, in_work_bufs, in_ptr_scalar_bits;
    uint64_t tiny_allocs, large_alloc, large_allocs, large_free, large_frees;
    uint64_t small_allocs[GO_SIZE_CLASSES_MAX], small_frees[GO_SIZE_CLASSES_MAX];
    int nclasses; /* entries of small_allocs and small_frees, class 0 included */
};

/* mstats' *_sys counters and the fixalloc in-use bytes of mheap_.spanalloc and mheap_.cachealloc. */
struct go_sys_stats {
    uint64_t stacks_sys, mspan_sys, mspan_inuse, mcache_sys, mcache_inuse, buckhash_sys, gcmisc_sys,
        other_sys;
};

struct go_gc_ring {
    uint32_t numgc, numforcedgc;
    uint64_t pause_total_ns, last_gc_unix;
    uint64_t pause_ns[GC_PAUSE_RING]; /* memstats.pause_ns: cycle k's pauses at [k % 256] (k from 0) */
};

/* What gcControllerState.heapGoal() reads: the field itself up to go1.17-1.18, its inputs from 1.19. */
struct go_goal_inputs {
    int minor;
    uint64_t heap_goal; /* go1.17-1.18 */
    uint64_t percent_goal, sweep_dist_min_trigger, triggered, heap_marked;
    int64_t memory_limit;
    uint64_t heap_free, total_alloc, total_free, mapped_ready;
};

struct runtime_metrics {
    bool have_heap, have_sys, have_gc, have_goal, have_gogc, have_memory_limit, have_sched_latency;
    bool have_goroutines, have_threads, have_created;
    struct go_heap_stats heap;
    struct go_sys_stats sys;
    struct go_gc_ring gc;
    uint64_t heap_goal;
    int32_t gogc;                   /* gcController.gcPercent; negative: off */
    int64_t memory_limit;           /* gcController.memoryLimit (go1.19+) */
    int64_t goroutines;             /* gcount(): NumGoroutine */
    int64_t goroutines_with_system; /* gcount(true) (go1.26): the runtime's own goroutines included */
    int64_t threads;                /* mcount(): Ms created and not freed */
    uint64_t goroutines_created;
    /* sched.timeToRun as /sched/latencies:seconds reads it: 1 transition in 8 sampled, not scaled up. */
    struct go_time_histogram sched_latency;
    struct go_size_classes classes; /* the target's size classes, for the bytes of small objects */
    int retries;                    /* reads taken again because they raced with the runtime */
    char why_not[192];              /* why some group is absent, "" when none is */
};

/* Reads every figure it can of the target. s is the runtime state the snapshot initialised (layout, globals);
 * ps the np Ps of allp; allgs the link-time address of runtime.allgs' slice header (0: unknown); classes the
 * target's size classes (n 0: unknown). Reads count into *bytes. */
void runtime_metrics_read(struct runtime_metrics *m, const struct runtime_state *s, const struct target *t,
                          const uint64_t *ps, int np, uint64_t allgs, const struct go_size_classes *classes,
                          uint64_t *bytes);

/* What the spans the n mcaches hold put between the heap's per-class counts and the allocations made, by size
 * class (adjust_by_class[0..nclasses)): the count plus the adjustment is the allocations. Up to go1.18 the
 * runtime counts a span's free slots when it caches it (a negative adjustment); from go1.19 it counts a
 * span's allocations when it uncaches it (a positive one) (mcache.go refill, releaseAll). *signature stands
 * for which span each mcache slot holds (and its allocCountBeforeCache): two reads with the same signature
 * saw no span cached or released between them. False when an mcache or one of its spans could not be read,
 * or changed under the read. */
bool runtime_metrics_cached_adjust(const struct runtime_state *s, const struct target *t,
                                   const uint64_t *mcaches, int n, int64_t *adjust_by_class, int nclasses,
                                   uint64_t *signature, uint64_t *bytes);

/* gcControllerState.heapGoal() of process pid (load bias bias, Go 1.minor) alone, for gmon gc: false when
 * it cannot be read. */
bool runtime_metrics_heap_goal(const struct runtime_state *s, int pid, uint64_t bias, int minor,
                               uint64_t *goal, uint64_t *bytes);

/* Only the heap's counts (m->heap, have_heap): what gmon gm needs, without the rest's reads. */
void runtime_metrics_read_heap(struct runtime_metrics *m, const struct runtime_state *s,
                               const struct target *t, const struct go_size_classes *classes,
                               uint64_t *bytes);

/* Only sched.timeToRun (m->sched_latency, have_sched_latency; why_not says why not): what gmon sched reads.
 */
void runtime_metrics_read_sched_latency(struct runtime_metrics *m, const struct runtime_state *s,
                                        const struct target *t, uint64_t *bytes);

/* runtime/metrics' figures over the heap's and the *_sys counters (metrics.go: /gc/heap/allocs:bytes and
 * :objects, frees, objects, tiny/allocs, every /memory/classes/...). */
struct go_rm_figures {
    uint64_t allocs_bytes, allocs_objects, frees_bytes, frees_objects, objects, tiny_allocs;
    uint64_t heap_free, heap_objects_bytes, heap_released, heap_stacks, heap_unused;
    uint64_t mcache_free, mcache_inuse, mspan_free, mspan_inuse, metadata_other, os_stacks, other,
        profiling_buckets, total;
};
void go_rm_figures_compute(const struct go_heap_stats *h, const struct go_sys_stats *sys,
                           const struct go_size_classes *classes, struct go_rm_figures *out);

/* /gc/heap/allocs-by-size:bytes or (frees) /gc/heap/frees-by-size:bytes (metrics.go, sizeClassBuckets):
 * bucket i-1 from class i's size + 1 (inclusive) counts class i's objects, the last, to +Inf, the large
 * ones; n buckets, bounds[0] = 1. False without the size of every class counted. */
struct go_size_histogram {
    int n;
    uint64_t counts[GO_SIZE_CLASSES_MAX];
    double bounds[GO_SIZE_CLASSES_MAX + 1];
};
bool go_size_histogram(const struct go_heap_stats *h, const struct go_size_classes *classes, bool frees,
                       struct go_size_histogram *out);

/* MemStats' figures as client_golang 1.14 computes them from runtime/metrics (memStatsFromRM), from the same
 * counters runtime/metrics reads. */
struct go_memstats {
    uint64_t alloc, total_alloc, sys, lookups, mallocs, frees;
    uint64_t heap_alloc, heap_sys, heap_idle, heap_inuse, heap_released, heap_objects;
    uint64_t stack_inuse, stack_sys, mspan_inuse, mspan_sys, mcache_inuse, mcache_sys;
    uint64_t buckhash_sys, gc_sys, other_sys;
};
void go_memstats_compute(const struct go_heap_stats *h, const struct go_sys_stats *sys,
                         const struct go_size_classes *classes, struct go_memstats *out);

/* gcControllerState.heapGoal() of the release (mgcpacer.go heapGoalInternal and memoryLimitHeapGoal, with
 * their uint64 wrap-around). */
uint64_t go_heap_goal(const struct go_goal_inputs *in);

/* debug.ReadGCStats' PauseQuantiles with 5 entries (min, 25 %, 50 %, 75 %, max) in nanoseconds, over the last
 * min(numgc, 256) pauses; all 0 before the first GC. */
void go_gc_pause_quantiles(const struct go_gc_ring *r, uint64_t q[5]);
/* A timeHistogram's counts (counts, then underflow, then from go1.20 overflow, as the runtime lays them out)
 * as runtime/metrics' Float64Histogram of that release (histogram.go timeHistogramMetricsBuckets, and
 * metrics.go / timeHistogram.write): false when raw does not have a known release layout's size. */
bool go_time_histogram_from(int minor, const uint64_t *raw, size_t words, struct go_time_histogram *out);

/* into += after - before, bucket by bucket (the runtime's counts only grow; a count that went back adds 0);
 * an empty into (n 0) takes after's bounds first. */
void go_time_histogram_add_difference(struct go_time_histogram *into, const struct go_time_histogram *after,
                                      const struct go_time_histogram *before);

/* time.Duration.Seconds(): whole seconds and the remainder, converted apart, as Go does. */
double go_duration_seconds(uint64_t ns);

#ifdef __cplusplus
}
#endif

#endif
