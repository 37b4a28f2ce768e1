/* libFuzzer target: the runtime's formulas (tool/snapshot/runtime_metrics_compute.c) and the exporter's
 * rendering (tool/metrics/go_exporter.c) on figures as crafted as target memory can make them: every counter,
 * byte delta, pause-ring slot, heap-goal input and scheduling-latency count comes from the input. The input:
 * one byte choosing the Go release (1.17 + b % 11), then the words, read in order (zeros past the end). The
 * rendering is written to /dev/null; a bucket count or a size class out of bounds aborts under ASan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "go_exporter.h"

struct words {
    const uint8_t *data;
    size_t size, at;
};

static uint64_t next(struct words *w) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++, w->at++)
        v |= (uint64_t)(w->at < w->size ? w->data[w->at] : 0) << (8 * i);
    return v;
}

static void fill_heap(struct words *w, struct go_heap_stats *h) {
    h->committed = (int64_t)next(w);
    h->released = (int64_t)next(w);
    h->in_heap = (int64_t)next(w);
    h->in_stacks = (int64_t)next(w);
    h->in_work_bufs = (int64_t)next(w);
    h->in_ptr_scalar_bits = (int64_t)next(w);
    h->tiny_allocs = next(w);
    h->large_alloc = next(w);
    h->large_allocs = next(w);
    h->large_free = next(w);
    h->large_frees = next(w);
    h->nclasses = 68;
    for (int i = 0; i < h->nclasses; i++) {
        h->small_allocs[i] = next(w);
        h->small_frees[i] = next(w);
    }
}

static void fill_target(struct words *w, int minor, struct exporter_target *t) {
    struct runtime_metrics *m = &t->m;
    t->pid = 1;
    t->minor = minor;
    snprintf(t->go_version, sizeof(t->go_version), "go1.%d", minor);
    t->gomaxprocs = (int)(next(w) % 4096);
    t->have_runtime = true;
    uint64_t flags = next(w);
    m->have_heap = flags & 1, m->have_sys = flags & 2, m->have_gc = flags & 4, m->have_goal = flags & 8;
    m->have_gogc = flags & 16, m->have_memory_limit = flags & 32, m->have_goroutines = flags & 64;
    m->have_threads = flags & 128, m->have_created = flags & 256;
    fill_heap(w, &m->heap);
    uint64_t *sys = &m->sys.stacks_sys;
    for (size_t i = 0; i < sizeof(m->sys) / 8; i++)
        sys[i] = next(w);
    m->gc.numgc = (uint32_t)next(w);
    m->gc.numforcedgc = (uint32_t)next(w);
    m->gc.pause_total_ns = next(w);
    m->gc.last_gc_unix = next(w);
    for (int i = 0; i < GC_PAUSE_RING; i++)
        m->gc.pause_ns[i] = next(w);
    struct go_goal_inputs in = {minor,   next(w), next(w), next(w), next(w), next(w), (int64_t)next(w),
                                next(w), next(w), next(w), next(w)};
    m->heap_goal = go_heap_goal(&in);
    m->gogc = (int32_t)next(w);
    m->memory_limit = (int64_t)next(w);
    m->goroutines = (int64_t)next(w);
    m->threads = (int64_t)next(w);
    m->goroutines_created = next(w);
    uint64_t raw[TIME_HISTOGRAM_MAX + 1];
    size_t words = minor <= 19 ? 45 * 16 + 1 : 162;
    for (size_t i = 0; i < words; i++)
        raw[i] = next(w);
    m->have_sched_latency = go_time_histogram_from(minor, raw, words, &m->sched_latency);
    if (!m->have_sched_latency)
        abort(); /* every release 1.17-1.27 has one of the two layouts */
    m->classes.n = 68;
    for (int i = 1; i < 68; i++)
        m->classes.size[i] = (uint32_t)(8 * i);
    exporter_target_compute(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct exporter_target t;
    if (size < 1)
        return 0;
    struct words w = {data + 1, size - 1, 0};
    memset(&t, 0, sizeof(t));
    fill_target(&w, 17 + data[0] % 11, &t);
    FILE *null = fopen("/dev/null", "w");
    if (!null)
        abort();
    go_exporter_render(null, &t, 1, (data[0] / 11) & 1, NULL);
    fclose(null);
    return 0;
}
