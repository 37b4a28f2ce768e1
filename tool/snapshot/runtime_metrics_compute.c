/* The runtime's own formulas, applied to the counters runtime_metrics.c reads. Each follows the Go source it
 * names; uint64 arithmetic wraps as Go's does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_metrics.h"

/* runtime/metrics.go heapStatsAggregate.compute (1.17-1.27): bytes and objects allocated and freed. */
struct heap_totals {
    uint64_t allocs, frees, allocated, freed;
};

static struct heap_totals heap_totals(const struct go_heap_stats *h, const struct go_size_classes *classes) {
    struct heap_totals t = {h->large_allocs, h->large_frees, h->large_alloc, h->large_free};
    for (int i = 0; i < h->nclasses; i++) {
        uint64_t size = (size_t)i < classes->n ? classes->size[i] : 0;
        t.allocs += h->small_allocs[i];
        t.frees += h->small_frees[i];
        t.allocated += h->small_allocs[i] * size;
        t.freed += h->small_frees[i] * size;
    }
    return t;
}

/* client_golang 1.14 go_collector_latest.go memStatsFromRM, over runtime/metrics.go's /memory/classes/...
 * and /gc/heap/... metrics (the same in 1.17-1.27 but for inPtrScalarBits, gone in 1.25, read as 0). */
void go_memstats_compute(const struct go_heap_stats *h, const struct go_sys_stats *sys,
                         const struct go_size_classes *classes, struct go_memstats *out) {
    struct heap_totals t = heap_totals(h, classes);
    uint64_t in_objects = t.allocated - t.freed;
    uint64_t heap_unused = (uint64_t)h->in_heap - in_objects;
    /* Go's int64 arithmetic wraps; C's would overflow: the same in uint64. */
    uint64_t heap_free = (uint64_t)h->committed - (uint64_t)h->in_heap - (uint64_t)h->in_stacks -
                         (uint64_t)h->in_work_bufs - (uint64_t)h->in_ptr_scalar_bits;
    *out = (struct go_memstats){0};
    out->mallocs = t.allocs + h->tiny_allocs;
    out->frees = t.frees + h->tiny_allocs;
    out->total_alloc = t.allocated;
    out->sys = (uint64_t)h->committed + (uint64_t)h->released + sys->stacks_sys + sys->mspan_sys +
               sys->mcache_sys + sys->buckhash_sys + sys->gcmisc_sys + sys->other_sys;
    out->heap_alloc = out->alloc = in_objects;
    out->heap_inuse = out->heap_alloc + heap_unused;
    out->heap_released = (uint64_t)h->released;
    out->heap_idle = out->heap_released + heap_free;
    out->heap_sys = out->heap_inuse + out->heap_idle;
    out->heap_objects = t.allocs - t.frees;
    out->stack_inuse = (uint64_t)h->in_stacks;
    out->stack_sys = out->stack_inuse + sys->stacks_sys;
    out->mspan_inuse = sys->mspan_inuse;
    out->mspan_sys = out->mspan_inuse + (sys->mspan_sys - sys->mspan_inuse);
    out->mcache_inuse = sys->mcache_inuse;
    out->mcache_sys = out->mcache_inuse + (sys->mcache_sys - sys->mcache_inuse);
    out->buckhash_sys = sys->buckhash_sys;
    out->gc_sys = (uint64_t)h->in_work_bufs + (uint64_t)h->in_ptr_scalar_bits + sys->gcmisc_sys;
    out->other_sys = sys->other_sys;
}

/* mgcpacer.go memoryLimitHeapGoal (1.19-1.27): the heap the memory limit leaves room for, less a headroom of
 * 1 MiB (1.19-1.20), or 3 % and at least 1 MiB (1.21+); never below the last marked heap. */
static uint64_t memory_limit_heap_goal(const struct go_goal_inputs *in) {
    const uint64_t min_headroom = 1 << 20;
    uint64_t limit = (uint64_t)in->memory_limit;
    uint64_t heap_alloc = in->total_alloc - in->total_free;
    uint64_t non_heap = in->mapped_ready - in->heap_free - heap_alloc;
    uint64_t overage = in->mapped_ready > limit ? in->mapped_ready - limit : 0;
    if (non_heap + overage >= limit)
        return in->heap_marked;
    uint64_t goal = limit - (non_heap + overage);
    uint64_t headroom = min_headroom;
    if (in->minor >= 21 && goal / 100 * 3 > min_headroom)
        headroom = goal / 100 * 3;
    if (goal < headroom || goal - headroom < headroom)
        goal = headroom;
    else
        goal -= headroom;
    return goal < in->heap_marked ? in->heap_marked : goal;
}

/* mgcpacer.go heapGoal / heapGoalInternal: a field up to 1.18; from 1.19 the GOGC goal, lowered to the
 * memory limit's, else raised to the sweeper's minimum trigger and 64 KiB above the current trigger. */
uint64_t go_heap_goal(const struct go_goal_inputs *in) {
    if (in->minor <= 18)
        return in->heap_goal;
    uint64_t goal = in->percent_goal, limit_goal = memory_limit_heap_goal(in);
    const uint64_t min_runway = 64 << 10;
    if (limit_goal < goal)
        return limit_goal;
    if (in->sweep_dist_min_trigger > goal)
        goal = in->sweep_dist_min_trigger;
    if (in->triggered != ~0ull && goal < in->triggered + min_runway)
        goal = in->triggered + min_runway;
    return goal;
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* runtime/debug garbage.go ReadGCStats and mgc.go readGCStats_m: the newest min(numgc, 256) pauses, sorted;
 * quantile i of 4 at sorted[n*i/4], the maximum last. */
void go_gc_pause_quantiles(const struct go_gc_ring *r, uint64_t q[5]) {
    uint32_t n = r->numgc < GC_PAUSE_RING ? r->numgc : GC_PAUSE_RING;
    uint64_t sorted[GC_PAUSE_RING];
    for (int i = 0; i < 5; i++)
        q[i] = 0;
    if (n == 0)
        return;
    for (uint32_t i = 0; i < n; i++)
        sorted[i] = r->pause_ns[(r->numgc - 1 - i) % GC_PAUSE_RING];
    qsort(sorted, n, sizeof(sorted[0]), compare_u64);
    for (uint32_t i = 0; i < 4; i++)
        q[i] = sorted[n * i / 4];
    q[4] = sorted[n - 1];
}

/* histogram.go (1.17): 45 super-buckets of 16 sub-buckets; super-bucket i > 0 starts at 2^(i+3) ns, its
 * sub-buckets 2^(i-2) ns apart (1 ns for the first two). counts[720], underflow. */
static void go117_time_bounds(double *b) {
    b[0] = -INFINITY;
    for (int i = 0; i < 45; i++) {
        uint64_t min = i > 0 ? 1ull << (i - 1 + 4) : 0;
        int shift = i > 1 ? i - 2 : 0;
        for (int j = 0; j < 16; j++)
            b[i * 16 + j + 1] = (double)(min + ((uint64_t)j << shift)) / 1e9;
    }
    b[45 * 16 + 1] = INFINITY;
}

/* histogram.go (1.18-1.19): the same buckets as 1.17's counts, bounded anew: the first 16 are 0..15 ns
 * exactly, then super-bucket i+1 starts at 2^(i+4) ns with sub-buckets 2^i ns wide. */
static void old_time_bounds(double *b) {
    b[0] = -INFINITY;
    for (int i = 0; i < 16; i++)
        b[i + 1] = (double)i / 1e9;
    for (int i = 0; i < 44; i++)
        for (int j = 0; j < 16; j++)
            b[(i + 1) * 16 + j + 1] = (double)((1ull << (i + 4)) | ((uint64_t)j << i)) / 1e9;
    b[45 * 16 + 1] = INFINITY;
}

/* histogram.go (1.20+): minimum bucket bit 9, maximum 48 (exclusive), 2 sub-bucket bits: 4 buckets below
 * 512 ns, then 4 per power of two up to 2^47 ns; counts[160], underflow, overflow. */
static void new_time_bounds(double *b) {
    enum { MIN_BITS = 9, MAX_BITS = 48, SUB_BITS = 2, SUB = 1 << SUB_BITS };
    b[0] = -INFINITY;
    for (int j = 0; j < SUB; j++)
        b[j + 1] = (double)((uint64_t)j << (MIN_BITS - 1 - SUB_BITS)) / 1e9;
    for (int i = MIN_BITS; i < MAX_BITS; i++)
        for (int j = 0; j < SUB; j++)
            b[(i - MIN_BITS + 1) * SUB + j + 1] =
                (double)((1ull << (i - 1)) | ((uint64_t)j << (i - 1 - SUB_BITS))) / 1e9;
    int total = (MAX_BITS - MIN_BITS + 1) * SUB + 2;
    b[total - 1] = (double)(1ull << (MAX_BITS - 1)) / 1e9;
    b[total] = INFINITY;
}

bool go_time_histogram_from(int minor, const uint64_t *raw, size_t words, struct go_time_histogram *out) {
    memset(out, 0, sizeof(*out));
    if (minor >= 17 && minor <= 19 && words == 45 * 16 + 1) {
        out->n = 45 * 16 + 1;
        if (minor == 17)
            go117_time_bounds(out->bounds);
        else
            old_time_bounds(out->bounds);
        out->counts[0] = raw[45 * 16]; /* underflow */
        for (int i = 0; i < 45 * 16; i++)
            out->counts[i + 1] = raw[i];
        return true;
    }
    if (minor >= 20 && words == 160 + 2) {
        out->n = 162;
        new_time_bounds(out->bounds);
        out->counts[0] = raw[160]; /* underflow */
        for (int i = 0; i < 160; i++)
            out->counts[i + 1] = raw[i];
        out->counts[161] = raw[161]; /* overflow */
        return true;
    }
    return false;
}

/* time.Duration.Seconds (time/time.go): int64 nanoseconds, whole seconds and the rest converted apart. */
double go_duration_seconds(uint64_t ns) {
    int64_t d = (int64_t)ns;
    return (double)(d / 1000000000) + (double)(d % 1000000000) / 1e9;
}
