#include "go_exporter.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "prom_text.h"

void exporter_target_compute(struct exporter_target *t) {
    memset(&t->memstats, 0, sizeof(t->memstats));
    memset(&t->rm, 0, sizeof(t->rm));
    if (t->have_runtime && t->m.have_heap && t->m.have_sys && t->m.classes.n >= (size_t)t->m.heap.nclasses) {
        go_memstats_compute(&t->m.heap, &t->m.sys, &t->m.classes, &t->memstats);
        go_rm_figures_compute(&t->m.heap, &t->m.sys, &t->m.classes, &t->rm);
    }
}

/* Whether the target has the family's figure, and for gauges and counters its value. */
typedef bool (*family_reader)(const struct exporter_target *t, double *value);

struct family {
    struct exporter_family_info info;
    family_reader read;
    /* the samples of the families that are not one value (summary, histogram, info); NULL: one sample of
     * read's value. Called only when read says the target has the figure. */
    void (*write)(FILE *out, const char *name, const struct exporter_target *t, const char *pid);
};

/* The bytes of small objects need the size classes (runtime/metrics.go heapStatsAggregate: class_to_size). */
static bool memstats_ok(const struct exporter_target *t) {
    return t->have_runtime && t->m.have_heap && t->m.have_sys && t->m.classes.n >= (size_t)t->m.heap.nclasses;
}

#define MEMSTAT(field)                                                                                       \
    static bool memstat_##field(const struct exporter_target *t, double *v) {                                \
        *v = (double)t->memstats.field;                                                                      \
        return memstats_ok(t);                                                                               \
    }
MEMSTAT(alloc)
MEMSTAT(total_alloc)
MEMSTAT(buckhash_sys)
MEMSTAT(frees)
MEMSTAT(gc_sys)
MEMSTAT(heap_alloc)
MEMSTAT(heap_idle)
MEMSTAT(heap_inuse)
MEMSTAT(heap_objects)
MEMSTAT(heap_released)
MEMSTAT(heap_sys)
MEMSTAT(lookups)
MEMSTAT(mallocs)
MEMSTAT(mcache_inuse)
MEMSTAT(mcache_sys)
MEMSTAT(mspan_inuse)
MEMSTAT(mspan_sys)
MEMSTAT(other_sys)
MEMSTAT(stack_inuse)
MEMSTAT(stack_sys)
MEMSTAT(sys)
#undef MEMSTAT

/* runtime/metrics' own figures, over the same counters as memstats. */
#define RM(field)                                                                                            \
    static bool rm_##field(const struct exporter_target *t, double *v) {                                     \
        *v = (double)t->rm.field;                                                                            \
        return memstats_ok(t);                                                                               \
    }
RM(allocs_bytes)
RM(allocs_objects)
RM(frees_bytes)
RM(frees_objects)
RM(objects)
RM(tiny_allocs)
RM(heap_free)
RM(heap_objects_bytes)
RM(heap_released)
RM(heap_stacks)
RM(heap_unused)
RM(mcache_free)
RM(mcache_inuse)
RM(mspan_free)
RM(mspan_inuse)
RM(metadata_other)
RM(os_stacks)
RM(other)
RM(profiling_buckets)
RM(total)
#undef RM

#define PROCESS(name, have, field)                                                                           \
    static bool process_##name(const struct exporter_target *t, double *v) {                                 \
        *v = t->process.field;                                                                               \
        return t->process.have;                                                                              \
    }
PROCESS(cpu, have_stat, cpu_seconds)
PROCESS(max_fds, have_limits, max_fds)
PROCESS(open_fds, have_fds, open_fds)
PROCESS(resident, have_stat, resident_bytes)
PROCESS(start, have_stat, start_time_seconds)
PROCESS(virtual, have_stat, virtual_bytes)
PROCESS(virtual_max, have_limits, virtual_max_bytes)
#undef PROCESS

/* metrics.go /gc/cycles/...: memstats.numgc (gcCyclesDone) and numforcedgc. */
static bool cycles_total(const struct exporter_target *t, double *v) {
    *v = (double)t->m.gc.numgc;
    return t->have_runtime && t->m.have_gc;
}

static bool cycles_forced(const struct exporter_target *t, double *v) {
    *v = (double)t->m.gc.numforcedgc;
    return t->have_runtime && t->m.have_gc;
}

static bool cycles_automatic(const struct exporter_target *t, double *v) {
    *v = (double)(uint64_t)(t->m.gc.numgc - t->m.gc.numforcedgc);
    return t->have_runtime && t->m.have_gc;
}

/* /sched/goroutines:goroutines: gcount() up to 1.25; from 1.26 gcount(true), the runtime's own goroutines
 * included (metrics.go schedStatsAggregate.compute). */
static bool sched_goroutines(const struct exporter_target *t, double *v) {
    *v = (double)(t->minor >= 26 ? t->m.goroutines_with_system : t->m.goroutines);
    return t->have_runtime && t->m.have_goroutines;
}

static bool goroutines(const struct exporter_target *t, double *v) {
    *v = (double)t->m.goroutines;
    return t->have_runtime && t->m.have_goroutines;
}

static bool threads(const struct exporter_target *t, double *v) {
    *v = (double)t->m.threads;
    return t->have_runtime && t->m.have_threads;
}

/* client_golang go_collector.go: float64(stats.LastGC.UnixNano()) / 1e9. */
static bool last_gc(const struct exporter_target *t, double *v) {
    *v = (double)(int64_t)t->m.gc.last_gc_unix / 1e9;
    return t->have_runtime && t->m.have_gc;
}

static bool next_gc(const struct exporter_target *t, double *v) {
    *v = (double)t->m.heap_goal;
    return t->have_runtime && t->m.have_goal;
}

/* runtime/metrics.go /gc/gogc:percent: uint64(gcController.gcPercent.Load()), so GOGC=off (-1) reads
 * 2^64-1, as client_golang exposes it. */
static bool gogc(const struct exporter_target *t, double *v) {
    *v = (double)(uint64_t)(int64_t)t->m.gogc;
    return t->have_runtime && t->m.have_gogc;
}

static bool memory_limit(const struct exporter_target *t, double *v) {
    *v = (double)(uint64_t)t->m.memory_limit;
    return t->have_runtime && t->m.have_memory_limit;
}

static bool gomaxprocs(const struct exporter_target *t, double *v) {
    *v = t->gomaxprocs;
    return t->gomaxprocs > 0;
}

static bool created(const struct exporter_target *t, double *v) {
    *v = (double)t->m.goroutines_created;
    return t->have_runtime && t->m.have_created;
}

static void begin(struct prom_sample *s, FILE *out, const char *name, const char *pid) {
    prom_sample_begin(s, out, name);
    if (pid)
        prom_label(s, "pid", pid);
}

static bool has_gc(const struct exporter_target *t, double *unused) {
    (void)unused;
    return t->have_runtime && t->m.have_gc;
}

/* go_gc_duration_seconds as client_golang writes its const summary: the quantiles, _sum, _count. */
static void write_gc_summary(FILE *out, const char *name, const struct exporter_target *t, const char *pid) {
    static const char *const QUANTILES[] = {"0", "0.25", "0.5", "0.75", "1"};
    uint64_t q[5];
    char series[96];
    struct prom_sample s;
    go_gc_pause_quantiles(&t->m.gc, q);
    for (int i = 0; i < 5; i++) {
        begin(&s, out, name, pid);
        prom_label(&s, "quantile", QUANTILES[i]);
        prom_sample_end_go(&s, go_duration_seconds(q[i]));
    }
    snprintf(series, sizeof(series), "%s_sum", name);
    begin(&s, out, series, pid);
    prom_sample_end_go(&s, go_duration_seconds(t->m.gc.pause_total_ns));
    snprintf(series, sizeof(series), "%s_count", name);
    begin(&s, out, series, pid);
    prom_sample_end_go(&s, (double)t->m.gc.numgc);
}

/* client_golang 1.14 internal/go_runtime_metrics.go reBucketExp and RuntimeMetricsBucketsForUnit: the
 * runtime's bounds thinned to base apart (10 for seconds, 2 for bytes); for seconds (fold_above_1) those
 * above 1 s folded into +Inf. Returns the count. */
static int rebucket(const double *b, int nb, double base, bool fold_above_1, double *out) {
    int n = 0, i = 1;
    double bucket = b[0];
    if (isinf(bucket) && bucket < 0) {
        out[n++] = bucket;
        bucket = b[1];
        i = 2;
    }
    for (; i < nb; i++) {
        if ((bucket >= 0 && b[i] < bucket * base) || (bucket < 0 && b[i] < bucket / base))
            continue;
        out[n++] = bucket;
        bucket = b[i];
    }
    out[n++] = bucket;
    for (int k = 0; fold_above_1 && k < n; k++) {
        if (out[k] <= 1)
            continue;
        out[k] = INFINITY;
        return k + 1;
    }
    return n;
}

/* A runtime/metrics histogram (n buckets between n + 1 bounds) as client_golang 1.14's batchHistogram writes
 * it (go_collector_latest.go newBatchHistogram, update, Write): rebucketed, -Inf dropped, counts merged into
 * the thinned buckets, inclusive upper bounds (the next float below each exclusive one), no +Inf bucket in
 * the list, and the sum exact_sum, or without one (NAN) each bucket's lower bound times its count. */
static void write_batch_histogram(FILE *out, const char *name, const double *rb, const uint64_t *rc, int n,
                                  double base, double exact_sum, const char *pid) {
    static double bounds[TIME_HISTOGRAM_MAX + 1];
    static uint64_t counts[TIME_HISTOGRAM_MAX];
    int nb = rebucket(rb, n + 1, base, base == 10, bounds);
    const double *hb = bounds;
    if (isinf(hb[0]) && hb[0] < 0) {
        hb++;
        nb--;
    }
    int nc = nb - 1, j = 0;
    memset(counts, 0, sizeof(counts));
    for (int i = 0; i < n && j < nc; i++) {
        counts[j] += rc[i];
        if (rb[i + 1] == hb[j + 1])
            j++;
    }
    char series[128], le[PROM_GO_FLOAT_MAX];
    struct prom_sample s;
    uint64_t total = 0;
    double sum = 0;
    snprintf(series, sizeof(series), "%s_bucket", name);
    for (int i = 0; i < nc; i++) {
        total += counts[i];
        if (counts[i])
            sum += hb[i] * (double)counts[i];
        if (isinf(hb[i + 1]) && hb[i + 1] > 0)
            break;
        prom_format_go_float(nextafter(hb[i + 1], hb[i]), le);
        begin(&s, out, series, pid);
        prom_label(&s, "le", le);
        prom_sample_end_go(&s, (double)total);
    }
    begin(&s, out, series, pid);
    prom_label(&s, "le", "+Inf");
    prom_sample_end_go(&s, (double)total);
    snprintf(series, sizeof(series), "%s_sum", name);
    begin(&s, out, series, pid);
    prom_sample_end_go(&s, isnan(exact_sum) ? sum : exact_sum);
    snprintf(series, sizeof(series), "%s_count", name);
    begin(&s, out, series, pid);
    prom_sample_end_go(&s, (double)total);
}

static bool has_size_histogram(const struct exporter_target *t, double *unused) {
    (void)unused;
    return memstats_ok(t) && t->m.heap.nclasses >= 2;
}

/* /gc/heap/allocs-by-size:bytes and frees-by-size, with client_golang's exact sums (its default
 * RuntimeMetricSumForHist: /gc/heap/allocs:bytes and /gc/heap/frees:bytes). */
static void write_size_histogram(FILE *out, const char *name, const struct exporter_target *t,
                                 const char *pid, bool frees) {
    static struct go_size_histogram h;
    if (go_size_histogram(&t->m.heap, &t->m.classes, frees, &h))
        write_batch_histogram(out, name, h.bounds, h.counts, h.n, 2,
                              (double)(frees ? t->rm.frees_bytes : t->rm.allocs_bytes), pid);
}

static void write_allocs_by_size(FILE *out, const char *name, const struct exporter_target *t,
                                 const char *pid) {
    write_size_histogram(out, name, t, pid, false);
}

static void write_frees_by_size(FILE *out, const char *name, const struct exporter_target *t,
                                const char *pid) {
    write_size_histogram(out, name, t, pid, true);
}

static bool has_sched_latency(const struct exporter_target *t, double *unused) {
    (void)unused;
    return t->have_runtime && t->m.have_sched_latency;
}

static void write_sched_latencies(FILE *out, const char *name, const struct exporter_target *t,
                                  const char *pid) {
    const struct go_time_histogram *h = &t->m.sched_latency;
    write_batch_histogram(out, name, h->bounds, h->counts, h->n, 10, NAN, pid);
}

static bool has_info(const struct exporter_target *t, double *unused) {
    (void)unused;
    return t->go_version[0] != 0;
}

static void write_info(FILE *out, const char *name, const struct exporter_target *t, const char *pid) {
    struct prom_sample s;
    begin(&s, out, name, pid);
    prom_label(&s, "version", t->go_version);
    prom_sample_end_go(&s, 1);
}

/* Sorted by name, as client_golang's registry (Gather) writes them. The help texts are client_golang 1.14's
 * (go_collector.go, process_collector.go), and the runtime/metrics descriptions (runtime/metrics
 * description.go) for the names it derives from them. */
static const struct family FAMILIES[] = {
    {{"go_gc_cycles_automatic_gc_cycles_total", "counter",
      "Count of completed GC cycles generated by the Go runtime."},
     cycles_automatic,
     NULL},
    {{"go_gc_cycles_forced_gc_cycles_total", "counter",
      "Count of completed GC cycles forced by the application."},
     cycles_forced,
     NULL},
    {{"go_gc_cycles_total_gc_cycles_total", "counter", "Count of all completed GC cycles."},
     cycles_total,
     NULL},
    {{"go_gc_duration_seconds", "summary", "A summary of the pause duration of garbage collection cycles."},
     has_gc,
     write_gc_summary},
    {{"go_gc_gogc_percent", "gauge",
      "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC "
      "environment variable, and the runtime/debug.SetGCPercent function."},
     gogc,
     NULL},
    {{"go_gc_gomemlimit_bytes", "gauge",
      "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the "
      "GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function."},
     memory_limit,
     NULL},
    {{"go_gc_heap_allocs_by_size_bytes", "histogram",
      "Distribution of heap allocations by approximate size. Bucket counts increase monotonically. "
      "Note that this does not include tiny objects as defined by /gc/heap/tiny/allocs:objects, only "
      "tiny blocks."},
     has_size_histogram,
     write_allocs_by_size},
    {{"go_gc_heap_allocs_bytes_total", "counter",
      "Cumulative sum of memory allocated to the heap by the application."},
     rm_allocs_bytes,
     NULL},
    {{"go_gc_heap_allocs_objects_total", "counter",
      "Cumulative count of heap allocations triggered by the application. Note that this does not "
      "include tiny objects as defined by /gc/heap/tiny/allocs:objects, only tiny blocks."},
     rm_allocs_objects,
     NULL},
    {{"go_gc_heap_frees_by_size_bytes", "histogram",
      "Distribution of freed heap allocations by approximate size. Bucket counts increase "
      "monotonically. Note that this does not include tiny objects as defined by "
      "/gc/heap/tiny/allocs:objects, only tiny blocks."},
     has_size_histogram,
     write_frees_by_size},
    {{"go_gc_heap_frees_bytes_total", "counter",
      "Cumulative sum of heap memory freed by the garbage collector."},
     rm_frees_bytes,
     NULL},
    {{"go_gc_heap_frees_objects_total", "counter",
      "Cumulative count of heap allocations whose storage was freed by the garbage collector. Note "
      "that this does not include tiny objects as defined by /gc/heap/tiny/allocs:objects, only tiny "
      "blocks."},
     rm_frees_objects,
     NULL},
    {{"go_gc_heap_goal_bytes", "gauge", "Heap size target for the end of the GC cycle."}, next_gc, NULL},
    {{"go_gc_heap_objects_objects", "gauge", "Number of objects, live or unswept, occupying heap memory."},
     rm_objects,
     NULL},
    {{"go_gc_heap_tiny_allocs_objects_total", "counter",
      "Count of small allocations that are packed together into blocks. These allocations are counted "
      "separately from other allocations because each individual allocation is not tracked by the "
      "runtime, only their block. Each block is already accounted for in allocs-by-size and "
      "frees-by-size."},
     rm_tiny_allocs,
     NULL},
    {{"go_goroutines", "gauge", "Number of goroutines that currently exist."}, goroutines, NULL},
    {{"go_info", "gauge", "Information about the Go environment."}, has_info, write_info},
    {{"go_memory_classes_heap_free_bytes", "gauge",
      "Memory that is completely free and eligible to be returned to the underlying system, but has "
      "not been. This metric is the runtime's estimate of free address space that is backed by "
      "physical memory."},
     rm_heap_free,
     NULL},
    {{"go_memory_classes_heap_objects_bytes", "gauge",
      "Memory occupied by live objects and dead objects that have not yet been marked free by the "
      "garbage collector."},
     rm_heap_objects_bytes,
     NULL},
    {{"go_memory_classes_heap_released_bytes", "gauge",
      "Memory that is completely free and has been returned to the underlying system. This metric is "
      "the runtime's estimate of free address space that is still mapped into the process, but is not "
      "backed by physical memory."},
     rm_heap_released,
     NULL},
    {{"go_memory_classes_heap_stacks_bytes", "gauge",
      "Memory allocated from the heap that is reserved for stack space, whether or not it is "
      "currently in-use. Currently, this represents all stack memory for goroutines. It also includes "
      "all OS thread stacks in non-cgo programs. Note that stacks may be allocated differently in the "
      "future, and this may change."},
     rm_heap_stacks,
     NULL},
    {{"go_memory_classes_heap_unused_bytes", "gauge",
      "Memory that is reserved for heap objects but is not currently used to hold heap objects."},
     rm_heap_unused,
     NULL},
    {{"go_memory_classes_metadata_mcache_free_bytes", "gauge",
      "Memory that is reserved for runtime mcache structures, but not in-use."},
     rm_mcache_free,
     NULL},
    {{"go_memory_classes_metadata_mcache_inuse_bytes", "gauge",
      "Memory that is occupied by runtime mcache structures that are currently being used."},
     rm_mcache_inuse,
     NULL},
    {{"go_memory_classes_metadata_mspan_free_bytes", "gauge",
      "Memory that is reserved for runtime mspan structures, but not in-use."},
     rm_mspan_free,
     NULL},
    {{"go_memory_classes_metadata_mspan_inuse_bytes", "gauge",
      "Memory that is occupied by runtime mspan structures that are currently being used."},
     rm_mspan_inuse,
     NULL},
    {{"go_memory_classes_metadata_other_bytes", "gauge",
      "Memory that is reserved for or used to hold runtime metadata."},
     rm_metadata_other,
     NULL},
    {{"go_memory_classes_os_stacks_bytes", "gauge",
      "Stack memory allocated by the underlying operating system. In non-cgo programs this metric is "
      "currently zero. This may change in the future.In cgo programs this metric includes OS thread "
      "stacks allocated directly from the OS. Currently, this only accounts for one stack in c-shared "
      "and c-archive build modes, and other sources of stacks from the OS are not measured. This too "
      "may change in the future."},
     rm_os_stacks,
     NULL},
    {{"go_memory_classes_other_bytes", "gauge",
      "Memory used by execution trace buffers, structures for debugging the runtime, finalizer and "
      "profiler specials, and more."},
     rm_other,
     NULL},
    {{"go_memory_classes_profiling_buckets_bytes", "gauge",
      "Memory that is used by the stack trace hash map used for profiling."},
     rm_profiling_buckets,
     NULL},
    {{"go_memory_classes_total_bytes", "gauge",
      "All memory mapped by the Go runtime into the current process as read-write. Note that this "
      "does not include memory mapped by code called via cgo or via the syscall package. Sum of all "
      "metrics in /memory/classes."},
     rm_total,
     NULL},
    {{"go_memstats_alloc_bytes", "gauge", "Number of bytes allocated and still in use."},
     memstat_alloc,
     NULL},
    {{"go_memstats_alloc_bytes_total", "counter", "Total number of bytes allocated, even if freed."},
     memstat_total_alloc,
     NULL},
    {{"go_memstats_buck_hash_sys_bytes", "gauge", "Number of bytes used by the profiling bucket hash table."},
     memstat_buckhash_sys,
     NULL},
    {{"go_memstats_frees_total", "counter", "Total number of frees."}, memstat_frees, NULL},
    {{"go_memstats_gc_sys_bytes", "gauge", "Number of bytes used for garbage collection system metadata."},
     memstat_gc_sys,
     NULL},
    {{"go_memstats_heap_alloc_bytes", "gauge", "Number of heap bytes allocated and still in use."},
     memstat_heap_alloc,
     NULL},
    {{"go_memstats_heap_idle_bytes", "gauge", "Number of heap bytes waiting to be used."},
     memstat_heap_idle,
     NULL},
    {{"go_memstats_heap_inuse_bytes", "gauge", "Number of heap bytes that are in use."},
     memstat_heap_inuse,
     NULL},
    {{"go_memstats_heap_objects", "gauge", "Number of allocated objects."}, memstat_heap_objects, NULL},
    {{"go_memstats_heap_released_bytes", "gauge", "Number of heap bytes released to OS."},
     memstat_heap_released,
     NULL},
    {{"go_memstats_heap_sys_bytes", "gauge", "Number of heap bytes obtained from system."},
     memstat_heap_sys,
     NULL},
    {{"go_memstats_last_gc_time_seconds", "gauge",
      "Number of seconds since 1970 of last garbage collection."},
     last_gc,
     NULL},
    {{"go_memstats_lookups_total", "counter", "Total number of pointer lookups."}, memstat_lookups, NULL},
    {{"go_memstats_mallocs_total", "counter", "Total number of mallocs."}, memstat_mallocs, NULL},
    {{"go_memstats_mcache_inuse_bytes", "gauge", "Number of bytes in use by mcache structures."},
     memstat_mcache_inuse,
     NULL},
    {{"go_memstats_mcache_sys_bytes", "gauge",
      "Number of bytes used for mcache structures obtained from system."},
     memstat_mcache_sys,
     NULL},
    {{"go_memstats_mspan_inuse_bytes", "gauge", "Number of bytes in use by mspan structures."},
     memstat_mspan_inuse,
     NULL},
    {{"go_memstats_mspan_sys_bytes", "gauge",
      "Number of bytes used for mspan structures obtained from system."},
     memstat_mspan_sys,
     NULL},
    {{"go_memstats_next_gc_bytes", "gauge",
      "Number of heap bytes when next garbage collection will take place."},
     next_gc,
     NULL},
    {{"go_memstats_other_sys_bytes", "gauge", "Number of bytes used for other system allocations."},
     memstat_other_sys,
     NULL},
    {{"go_memstats_stack_inuse_bytes", "gauge", "Number of bytes in use by the stack allocator."},
     memstat_stack_inuse,
     NULL},
    {{"go_memstats_stack_sys_bytes", "gauge", "Number of bytes obtained from system for stack allocator."},
     memstat_stack_sys,
     NULL},
    {{"go_memstats_sys_bytes", "gauge", "Number of bytes obtained from system."}, memstat_sys, NULL},
    {{"go_sched_gomaxprocs_threads", "gauge",
      "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute "
      "user-level Go code simultaneously."},
     gomaxprocs,
     NULL},
    {{"go_sched_goroutines_created_goroutines_total", "counter",
      "Count of goroutines created since program start."},
     created,
     NULL},
    {{"go_sched_goroutines_goroutines", "gauge", "Count of live goroutines."}, sched_goroutines, NULL},
    {{"go_sched_latencies_seconds", "histogram",
      "Distribution of the time goroutines have spent in the scheduler in a runnable state before actually "
      "running. Bucket counts increase monotonically."},
     has_sched_latency,
     write_sched_latencies},
    {{"go_threads", "gauge", "Number of OS threads created."}, threads, NULL},
    {{"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds."},
     process_cpu,
     NULL},
    {{"process_max_fds", "gauge", "Maximum number of open file descriptors."}, process_max_fds, NULL},
    {{"process_open_fds", "gauge", "Number of open file descriptors."}, process_open_fds, NULL},
    {{"process_resident_memory_bytes", "gauge", "Resident memory size in bytes."}, process_resident, NULL},
    {{"process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds."},
     process_start,
     NULL},
    {{"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes."}, process_virtual, NULL},
    {{"process_virtual_memory_max_bytes", "gauge", "Maximum amount of virtual memory available in bytes."},
     process_virtual_max,
     NULL},
};
enum { FAMILIES_N = sizeof(FAMILIES) / sizeof(FAMILIES[0]) };

#define TINY_BLOCKS                                                                                          \
    " Note that this does not include tiny objects as defined by /gc/heap/tiny/allocs:objects, only tiny "   \
    "blocks."

/* runtime/metrics descriptions that changed in go1.21 (runtime/metrics/description.go): the older text, for
 * the older releases. */
static const struct {
    const char *name, *help;
} HELP_BEFORE_1_21[] = {
    {"go_sched_latencies_seconds",
     "Distribution of the time goroutines have spent in the scheduler in a runnable "
     "state before actually running."},
    {"go_gc_heap_allocs_by_size_bytes", "Distribution of heap allocations by approximate size." TINY_BLOCKS},
    {"go_gc_heap_frees_by_size_bytes",
     "Distribution of freed heap allocations by approximate size." TINY_BLOCKS},
    {"go_memory_classes_heap_stacks_bytes", "Memory allocated from the heap that is reserved for stack "
                                            "space, whether or not it is currently in-use."},
    {"go_memory_classes_os_stacks_bytes", "Stack memory allocated by the underlying operating system."},
};

static const char *help_for(const struct family *f, int minor) {
    for (size_t i = 0; minor > 0 && minor <= 20 && i < sizeof(HELP_BEFORE_1_21) / sizeof(HELP_BEFORE_1_21[0]);
         i++)
        if (strcmp(HELP_BEFORE_1_21[i].name, f->info.name) == 0)
            return HELP_BEFORE_1_21[i].help;
    return f->info.help;
}

int go_exporter_families(const struct exporter_family_info **out) {
    static struct exporter_family_info infos[FAMILIES_N];
    for (int i = 0; i < FAMILIES_N; i++)
        infos[i] = FAMILIES[i].info;
    *out = infos;
    return FAMILIES_N;
}

/* Whether any target has the family's figure: a family none has is left out, header and all. */
static bool any_has(const struct family *f, const struct exporter_target *targets, int n) {
    for (int i = 0; i < n; i++) {
        double v;
        if (f->read(&targets[i], &v))
            return true;
    }
    return false;
}

void go_exporter_render(FILE *out, const struct exporter_target *targets, int n, bool pid_label,
                        const char *only) {
    for (int f = 0; f < FAMILIES_N; f++) {
        const struct family *fam = &FAMILIES[f];
        if ((only && strcmp(fam->info.name, only) != 0) || !any_has(fam, targets, n))
            continue;
        prom_family(out, fam->info.name, fam->info.type, help_for(fam, n > 0 ? targets[0].minor : 0));
        for (int i = 0; i < n; i++) {
            char pid[16];
            snprintf(pid, sizeof(pid), "%d", targets[i].pid);
            double v;
            struct prom_sample s;
            if (!fam->read(&targets[i], &v))
                continue;
            if (fam->write) {
                fam->write(out, fam->info.name, &targets[i], pid_label ? pid : NULL);
            } else {
                begin(&s, out, fam->info.name, pid_label ? pid : NULL);
                prom_sample_end_go(&s, v);
            }
        }
    }
}
