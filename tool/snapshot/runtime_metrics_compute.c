/* The runtime's own formulas, applied to the counters runtime_metrics.c reads. Each follows the Go source it
 * names; uint64 arithmetic wraps as Go's does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_metrics.h"

/* runtime/metrics.go (1.17-1.27): heapStatsAggregate.compute's totals, then the /gc/heap/... and
 * /memory/classes/... metrics over them and sysStatsAggregate (the same in every release but for
 * inPtrScalarBits, gone in 1.25, read as 0). Go's int64 arithmetic wraps; C's would overflow: the same in
 * uint64. */
void go_rm_figures_compute(const struct go_heap_stats *h, const struct go_sys_stats *sys,
                           const struct go_size_classes *classes, struct go_rm_figures *out) {
    struct go_rm_figures f = {.allocs_objects = h->large_allocs,
                              .frees_objects = h->large_frees,
                              .allocs_bytes = h->large_alloc,
                              .frees_bytes = h->large_free};
    for (int i = 0; i < h->nclasses; i++) {
        uint64_t size = (size_t)i < classes->n ? classes->size[i] : 0;
        f.allocs_objects += h->small_allocs[i];
        f.frees_objects += h->small_frees[i];
        f.allocs_bytes += h->small_allocs[i] * size;
        f.frees_bytes += h->small_frees[i] * size;
    }
    f.objects = f.allocs_objects - f.frees_objects;
    f.tiny_allocs = h->tiny_allocs;
    f.heap_objects_bytes = f.allocs_bytes - f.frees_bytes;
    f.heap_free = (uint64_t)h->committed - (uint64_t)h->in_heap - (uint64_t)h->in_stacks -
                  (uint64_t)h->in_work_bufs - (uint64_t)h->in_ptr_scalar_bits;
    f.heap_released = (uint64_t)h->released;
    f.heap_stacks = (uint64_t)h->in_stacks;
    f.heap_unused = (uint64_t)h->in_heap - f.heap_objects_bytes;
    f.mcache_free = sys->mcache_sys - sys->mcache_inuse;
    f.mcache_inuse = sys->mcache_inuse;
    f.mspan_free = sys->mspan_sys - sys->mspan_inuse;
    f.mspan_inuse = sys->mspan_inuse;
    f.metadata_other = (uint64_t)h->in_work_bufs + (uint64_t)h->in_ptr_scalar_bits + sys->gcmisc_sys;
    f.os_stacks = sys->stacks_sys;
    f.other = sys->other_sys;
    f.profiling_buckets = sys->buckhash_sys;
    f.total = (uint64_t)h->committed + (uint64_t)h->released + sys->stacks_sys + sys->mspan_sys +
              sys->mcache_sys + sys->buckhash_sys + sys->gcmisc_sys + sys->other_sys;
    *out = f;
}

/* client_golang 1.14 go_collector_latest.go memStatsFromRM, over those runtime/metrics figures. */
void go_memstats_compute(const struct go_heap_stats *h, const struct go_sys_stats *sys,
                         const struct go_size_classes *classes, struct go_memstats *out) {
    struct go_rm_figures f;
    go_rm_figures_compute(h, sys, classes, &f);
    *out = (struct go_memstats){0};
    out->mallocs = f.allocs_objects + f.tiny_allocs;
    out->frees = f.frees_objects + f.tiny_allocs;
    out->total_alloc = f.allocs_bytes;
    out->sys = f.total;
    out->heap_alloc = out->alloc = f.heap_objects_bytes;
    out->heap_inuse = out->heap_alloc + f.heap_unused;
    out->heap_released = f.heap_released;
    out->heap_idle = out->heap_released + f.heap_free;
    out->heap_sys = out->heap_inuse + out->heap_idle;
    out->heap_objects = f.objects;
    out->stack_inuse = f.heap_stacks;
    out->stack_sys = out->stack_inuse + f.os_stacks;
    out->mspan_inuse = f.mspan_inuse;
    out->mspan_sys = out->mspan_inuse + f.mspan_free;
    out->mcache_inuse = f.mcache_inuse;
    out->mcache_sys = out->mcache_inuse + f.mcache_free;
    out->buckhash_sys = f.profiling_buckets;
    out->gc_sys = f.metadata_other;
    out->other_sys = f.other;
}

bool go_size_histogram(const struct go_heap_stats *h, const struct go_size_classes *classes, bool frees,
                       struct go_size_histogram *out) {
    int n = h->nclasses;
    if (n < 2 || (size_t)n > classes->n || n > GO_SIZE_CLASSES_MAX)
        return false;
    const uint64_t *small = frees ? h->small_frees : h->small_allocs;
    out->n = n;
    out->bounds[0] = 1;
    for (int i = 1; i < n; i++) {
        out->bounds[i] = (double)classes->size[i] + 1;
        out->counts[i - 1] = small[i];
    }
    out->bounds[n] = INFINITY;
    out->counts[n - 1] = frees ? h->large_frees : h->large_allocs;
    return true;
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

void go_time_histogram_add_difference(struct go_time_histogram *into, const struct go_time_histogram *after,
                                      const struct go_time_histogram *before) {
    if (into->n == 0) {
        *into = *after;
        memset(into->counts, 0, sizeof(into->counts));
    }
    for (int i = 0; i < after->n && i < into->n; i++)
        into->counts[i] += after->counts[i] >= before->counts[i] ? after->counts[i] - before->counts[i] : 0;
}
