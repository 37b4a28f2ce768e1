#include "runtime_metrics.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proc_target.h"

/* A read that races with the runtime's writers is taken again this many times at most, a moment apart. */
enum { RACE_ATTEMPTS = 20, RACE_PAUSE_NS = 200 * 1000, HEAP_STATS_MAX = 3 * 4096 + 8 };

struct reader {
    const struct runtime_state *s;
    int pid;
    uint64_t bias;
    uint64_t *bytes;
    struct runtime_metrics *m;
    int minor; /* the target's Go 1.x release */
};

static void pause_briefly(void) {
    struct timespec ts = {0, RACE_PAUSE_NS};
    nanosleep(&ts, NULL);
}

static void why_not(struct runtime_metrics *m, const char *what) {
    if (!m->why_not[0])
        snprintf(m->why_not, sizeof(m->why_not), "%s", what);
}

static const struct state_offset *at(const struct reader *r, enum state_field f) {
    return &r->s->layout.f[f];
}

/* The run-time address of field f of its global structure; 0 when the layout or the global lacks it. */
static uint64_t global_addr(const struct reader *r, enum state_field f) {
    const struct state_offset *o = at(r, f);
    uint64_t base = o->offset < 0 || o->size <= 0 ? 0 : runtime_state_base_in(r->s, r->pid, r->bias, o->base);
    return base ? base + (uint64_t)o->offset : 0;
}

static bool read_bytes(const struct reader *r, uint64_t addr, void *out, size_t n) {
    *r->bytes += n;
    return addr && proc_read(r->pid, addr, out, n);
}

/* A little-endian field of 1 to 8 bytes at offset off of a buffer of n bytes. */
static uint64_t field_in(const uint8_t *buf, size_t n, int off, int size) {
    uint64_t v = 0;
    if (off < 0 || size <= 0 || size > 8 || (size_t)off + (size_t)size > n)
        return 0;
    memcpy(&v, buf + off, (size_t)size);
    return v;
}

/* One field of a global, or of the object at obj when obj is not 0 (runtime_state's readers). */
static bool read_field(const struct reader *r, uint64_t obj, enum state_field f, uint64_t *out) {
    return obj ? runtime_state_field_in(r->s, r->pid, obj, f, out, r->bytes)
               : runtime_state_global_in(r->s, r->pid, r->bias, f, out, r->bytes);
}

/* Adds a signed delta as Go's int64 addition does: wrapping (in uint64, where C's would overflow). */
static void add_delta(int64_t *sum, uint64_t delta) {
    *sum = (int64_t)((uint64_t)*sum + delta);
}

/* Adds one heapStatsDelta (at d in buf) into h. */
static void add_shard(const struct reader *r, const uint8_t *d, size_t n, struct go_heap_stats *h) {
#define F(field) field_in(d, n, at(r, field)->offset, at(r, field)->size)
    add_delta(&h->committed, F(HS_COMMITTED));
    add_delta(&h->released, F(HS_RELEASED));
    add_delta(&h->in_heap, F(HS_INHEAP));
    add_delta(&h->in_stacks, F(HS_INSTACKS));
    add_delta(&h->in_work_bufs, F(HS_INWORKBUFS));
    add_delta(&h->in_ptr_scalar_bits, F(HS_INPTRSCALARBITS)); /* 0 from go1.25, which has no such field */
    h->tiny_allocs += F(HS_TINY_ALLOCS);
    h->large_alloc += F(HS_LARGE_ALLOC);
    h->large_allocs += F(HS_LARGE_ALLOCS);
    h->large_free += F(HS_LARGE_FREE);
    h->large_frees += F(HS_LARGE_FREES);
#undef F
    for (int i = 0; i < h->nclasses; i++) {
        h->small_allocs[i] += field_in(d, n, at(r, HS_SMALL_ALLOCS)->offset + 8 * i, 8);
        h->small_frees[i] += field_in(d, n, at(r, HS_SMALL_FREES)->offset + 8 * i, 8);
    }
}

static bool all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* memstats.heapStats: stats [3]heapStatsDelta, then gen, read in one call. Writers add to stats[gen % 3];
 * runtime/metrics.Read rotates gen, merges the shard before the old current one into it, and clears that
 * shard (mstats.go consistentHeapStats.read, 1.17-1.27). Between the merge and the clear its counts are in
 * two shards: a sum taken then would count them twice. Outside that window, the shard (gen + 1) % 3 is all
 * zero, so a read where it is not is taken again. */
static void read_heap_stats(struct reader *r) {
    const struct state_offset *stats = at(r, HEAP_STATS), *stride = at(r, HEAPSTATS_SIZE),
                              *gen = at(r, HEAPSTATS_GEN), *small = at(r, HS_SMALL_ALLOCS);
    static const enum state_field NEEDED[] = {HS_COMMITTED,  HS_RELEASED,    HS_INHEAP,      HS_INSTACKS,
                                              HS_INWORKBUFS, HS_TINY_ALLOCS, HS_LARGE_ALLOC, HS_LARGE_ALLOCS,
                                              HS_LARGE_FREE, HS_LARGE_FREES, HS_SMALL_FREES};
    for (size_t i = 0; i < sizeof(NEEDED) / sizeof(NEEDED[0]); i++)
        if (at(r, NEEDED[i])->offset < 0)
            return why_not(r->m, "this release's heapStatsDelta lacks a field gmon needs");
    size_t n = (size_t)gen->offset + 4 - (size_t)stats->offset;
    uint64_t addr = global_addr(r, HEAP_STATS);
    if (!addr || small->size <= 0 || gen->offset != stats->offset + 3 * stride->size || n > HEAP_STATS_MAX)
        return why_not(r->m, "runtime.memstats or its heapStats layout is unknown");
    static _Thread_local uint8_t buf[HEAP_STATS_MAX], first[HEAP_STATS_MAX];
    size_t shard = (size_t)stride->size;
    for (int attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
        if (attempt)
            r->m->retries++, pause_briefly();
        if (!read_bytes(r, addr, first, n) || !read_bytes(r, addr, buf, n))
            return why_not(r->m, "memstats.heapStats could not be read");
        uint32_t g = (uint32_t)field_in(buf, n, (int)(n - 4), 4) % 3;
        /* Only writers change the current shard g; the merge changes shard g - 1 and clears g + 1. Both
         * reads must agree on all but g, and show g + 1 empty: one read could copy shard 0 before a merge
         * into it and shard 2 after that merge cleared it. */
        size_t prev = (g + 2) % 3, next = (g + 1) % 3;
        if (memcmp(first + n - 4, buf + n - 4, 4) != 0 || !all_zero(buf + next * shard, shard) ||
            !all_zero(first + next * shard, shard) ||
            memcmp(first + prev * shard, buf + prev * shard, shard) != 0)
            continue; /* runtime/metrics.Read is rotating or merging the shards */
        struct go_heap_stats *h = &r->m->heap;
        memset(h, 0, sizeof(*h));
        h->nclasses = small->size / 8 <= GO_SIZE_CLASSES_MAX ? small->size / 8 : GO_SIZE_CLASSES_MAX;
        for (int d = 0; d < 3; d++)
            add_shard(r, buf + (size_t)d * (size_t)stride->size, (size_t)stride->size, h);
        r->m->have_heap = true;
        return;
    }
    why_not(r->m, "memstats.heapStats kept changing under runtime/metrics.Read");
}

/* Reads the span of a global structure that holds fields f[0..n) in one call; the fields' values go to out.
 */
static bool read_span(const struct reader *r, const enum state_field *f, int n, uint64_t *out) {
    int lo = -1, hi = -1;
    enum state_base base = at(r, f[0])->base;
    for (int i = 0; i < n; i++) {
        const struct state_offset *o = at(r, f[i]);
        if (o->offset < 0 || o->base != base)
            return false;
        lo = lo < 0 || o->offset < lo ? o->offset : lo;
        hi = o->offset + o->size > hi ? o->offset + o->size : hi;
    }
    uint8_t buf[8192];
    uint64_t addr = global_addr(r, f[0]);
    if (hi - lo > (int)sizeof(buf) || !addr ||
        !read_bytes(r, addr - (uint64_t)at(r, f[0])->offset + (uint64_t)lo, buf, (size_t)(hi - lo)))
        return false;
    for (int i = 0; i < n; i++)
        out[i] = field_in(buf, (size_t)(hi - lo), at(r, f[i])->offset - lo, at(r, f[i])->size);
    return true;
}

static void read_sys(struct reader *r) {
    static const enum state_field F[] = {MSTATS_STACKS_SYS,   MSTATS_MSPAN_SYS,  MSTATS_MCACHE_SYS,
                                         MSTATS_BUCKHASH_SYS, MSTATS_GCMISC_SYS, MSTATS_OTHER_SYS};
    uint64_t v[6];
    struct go_sys_stats *s = &r->m->sys;
    /* The runtime reads a fixalloc's in-use bytes and its obtained bytes under mheap_.lock; gmon cannot take
     * it, so a chunk obtained between the two reads shows more in use than obtained: read again. */
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt)
            r->m->retries++, pause_briefly();
        if (!read_span(r, F, 6, v) || !read_field(r, 0, MHEAP_SPANALLOC_INUSE, &s->mspan_inuse) ||
            !read_field(r, 0, MHEAP_CACHEALLOC_INUSE, &s->mcache_inuse))
            return why_not(r->m, "memstats' *_sys counters or mheap_'s allocators could not be read");
        s->stacks_sys = v[0];
        s->mspan_sys = v[1];
        s->mcache_sys = v[2];
        s->buckhash_sys = v[3];
        s->gcmisc_sys = v[4];
        s->other_sys = v[5];
        r->m->have_sys = s->mspan_inuse <= s->mspan_sys && s->mcache_inuse <= s->mcache_sys;
        if (r->m->have_sys)
            return;
    }
    why_not(r->m, "mheap_'s allocators report more in use than obtained: layout or global wrong");
}

/* gcMarkTermination writes the pause ring, the total and then numgc, with the world stopped (mgc.go): a read
 * is kept when numgc is the same after it as in it. */
static void read_gc(struct reader *r) {
    static const enum state_field F[] = {GC_NUMGC, GC_NUMFORCEDGC, GC_PAUSE_TOTAL_NS, GC_LAST_UNIX,
                                         GC_PAUSE_NS};
    const struct state_offset *ring = at(r, GC_PAUSE_NS);
    struct go_gc_ring *g = &r->m->gc;
    if (ring->size != GC_PAUSE_RING * 8)
        return why_not(r->m, "this release's memstats has no pause ring gmon knows");
    for (int attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
        uint64_t v[5], numgc_after;
        if (attempt)
            r->m->retries++, pause_briefly();
        if (!read_span(r, F, 4, v) ||
            !read_bytes(r, global_addr(r, GC_PAUSE_NS), g->pause_ns, sizeof(g->pause_ns)) ||
            !read_field(r, 0, GC_NUMGC, &numgc_after))
            return why_not(r->m, "memstats' GC figures could not be read");
        if (numgc_after != v[0])
            continue;
        g->numgc = (uint32_t)v[0];
        g->numforcedgc = (uint32_t)v[1];
        g->pause_total_ns = v[2];
        g->last_gc_unix = v[3];
        r->m->have_gc = g->numforcedgc <= g->numgc;
        return;
    }
    why_not(r->m, "memstats' GC figures kept changing");
}

/* gcController's goal inputs; memoryLimitHeapGoal itself reads them again until heapFree + heapAlloc <=
 * mappedReady, and so does gmon. */
static void read_goal(struct reader *r) {
    if (r->minor <= 18) {
        r->m->have_goal = read_field(r, 0, GCC_HEAP_GOAL, &r->m->heap_goal);
        if (!r->m->have_goal)
            why_not(r->m, "gcController.heapGoal could not be read");
        return;
    }
    static const enum state_field F[] = {GCC_PERCENT_HEAP_GOAL, GCC_SWEEP_DIST_MIN_TRIGGER,
                                         GCC_TRIGGERED,         HEAP_MARKED,
                                         GCC_MEMORY_LIMIT,      HEAP_FREE,
                                         GCC_TOTAL_ALLOC,       GCC_TOTAL_FREE,
                                         GCC_MAPPED_READY};
    for (int attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
        uint64_t x[9];
        if (attempt)
            r->m->retries++, pause_briefly();
        if (!read_span(r, F, 9, x))
            return why_not(r->m, "gcController's heap-goal inputs could not be read");
        struct go_goal_inputs in = {r->minor,      0,    x[0], x[1], x[2], x[3],
                                    (int64_t)x[4], x[5], x[6], x[7], x[8]};
        if (in.heap_free + (in.total_alloc - in.total_free) > in.mapped_ready)
            continue;
        r->m->heap_goal = go_heap_goal(&in);
        r->m->have_goal = true;
        return;
    }
    why_not(r->m, "gcController's heap-goal inputs kept changing");
}

static void read_knobs(struct reader *r) {
    uint64_t v;
    r->m->have_gogc = read_field(r, 0, GCCONTROLLER_PERCENT, &v);
    r->m->gogc = (int32_t)v;
    r->m->have_memory_limit = read_field(r, 0, GCC_MEMORY_LIMIT, &v);
    r->m->memory_limit = (int64_t)v;
}

/* sched.timeToRun, in one read: a race with a writer shows one transition more or less, as the runtime's
 * own read would. */
static void read_sched_latency(struct reader *r) {
    const struct state_offset *o = at(r, SCHED_TIME_TO_RUN);
    uint64_t raw[TIME_HISTOGRAM_MAX + 1];
    if (o->offset < 0 || o->size <= 0 || (size_t)o->size > sizeof(raw))
        return;
    r->m->have_sched_latency =
        read_bytes(r, global_addr(r, SCHED_TIME_TO_RUN), raw, (size_t)o->size) &&
        go_time_histogram_from(r->minor, raw, (size_t)o->size / 8, &r->m->sched_latency);
}

/* proc.go gcount (1.17-1.27): allglen less the free lists (the scheduler's and each P's) and the runtime's
 * own goroutines, at least 1. mcount: Ms created less Ms freed. */
static void read_counts(struct reader *r, const uint64_t *ps, int np, uint64_t allgs) {
    uint64_t allglen = 0, gfree = 0, gfree_nostack = 0, ngsys = 0, mnext = 0, nmfreed = 0;
    bool ok = np > 0 && allgs && read_bytes(r, allgs + r->bias + 8, &allglen, 8) &&
              read_field(r, 0, SCHED_GFREE_N, &gfree) && read_field(r, 0, SCHED_NGSYS, &ngsys);
    if (ok && at(r, SCHED_GFREE_NOSTACK_N)->offset >= 0)
        ok = read_field(r, 0, SCHED_GFREE_NOSTACK_N, &gfree_nostack);
    /* int32 arithmetic as gcount's, done in uint64 where C's would overflow on garbage */
    uint64_t n = allglen - (uint64_t)(int64_t)(int32_t)gfree - (uint64_t)(int64_t)(int32_t)gfree_nostack -
                 (uint64_t)(int64_t)(int32_t)ngsys;
    for (int i = 0; ok && i < np; i++) {
        uint64_t pfree;
        ok = read_field(r, ps[i], P_GFREE_N, &pfree);
        n -= (uint64_t)(int64_t)(int32_t)pfree;
    }
    int32_t count = (int32_t)(uint32_t)n; /* gcount's result is an int32 */
    int32_t with_system = (int32_t)(uint32_t)(n + (uint64_t)(int64_t)(int32_t)ngsys);
    r->m->have_goroutines = ok;
    r->m->goroutines = count < 1 ? 1 : count;
    r->m->goroutines_with_system = with_system < 1 ? 1 : with_system;
    if (!ok)
        why_not(r->m, "the goroutine counts (allgs, sched.gFree, sched.ngsys, p.gFree) could not be read");
    r->m->have_threads = read_field(r, 0, SCHED_MNEXT, &mnext) && read_field(r, 0, SCHED_NMFREED, &nmfreed) &&
                         mnext >= nmfreed;
    r->m->threads = (int64_t)(mnext - nmfreed);
}

/* From go1.26 the runtime counts goroutines created (sched.goroutinesCreated and each P's); before, goids
 * are handed out in batches from sched.goidgen to each P's cache, and the ids still cached were not used. */
static void read_created(struct reader *r, const uint64_t *ps, int np) {
    uint64_t total = 0, v, lo, hi;
    bool counted = at(r, SCHED_GOROUTINES_CREATED)->offset >= 0;
    bool ok = np > 0 && read_field(r, 0, counted ? SCHED_GOROUTINES_CREATED : SCHED_GOIDGEN, &total);
    for (int i = 0; ok && i < np; i++) {
        if (counted) {
            ok = read_field(r, ps[i], P_GOROUTINES_CREATED, &v);
            total += v;
        } else {
            ok = read_field(r, ps[i], P_GOIDCACHE, &lo) && read_field(r, ps[i], P_GOIDCACHEEND, &hi) &&
                 hi >= lo;
            total -= hi - lo;
        }
    }
    r->m->have_created = ok;
    r->m->goroutines_created = total;
}

/* What one cached span puts between the heap's count of its class and the allocations made: up to go1.18
 * mcache.refill counts the span's free slots as allocated when it caches it (the count runs ahead by
 * nelems - allocCount); from go1.19 nothing is counted until the span is uncached (releaseAll, refill), which
 * adds allocCount - allocCountBeforeCache (the count lags by that). Read in one call. */
static bool span_adjust(const struct reader *r, uint64_t span, int64_t *adjust, int *cls,
                        uint64_t *before_out) {
    static const enum state_field F[] = {MSPAN_NELEMS, MSPAN_ALLOCCOUNT, MSPAN_SPANCLASS,
                                         MSPAN_ALLOCCOUNT_BEFORE_CACHE};
    bool lags = at(r, MSPAN_ALLOCCOUNT_BEFORE_CACHE)->offset >= 0;
    int lo = at(r, F[0])->offset, hi = 0;
    for (int i = 0; i < (lags ? 4 : 3); i++) {
        const struct state_offset *o = at(r, F[i]);
        if (o->offset < 0)
            return false;
        lo = o->offset < lo ? o->offset : lo;
        hi = o->offset + o->size > hi ? o->offset + o->size : hi;
    }
    uint8_t buf[256];
    if (hi - lo > (int)sizeof(buf) || !read_bytes(r, span + (uint64_t)lo, buf, (size_t)(hi - lo)))
        return false;
#define FIELD(f) field_in(buf, sizeof(buf), at(r, f)->offset - lo, at(r, f)->size)
    uint64_t nelems = FIELD(MSPAN_NELEMS), used = FIELD(MSPAN_ALLOCCOUNT);
    uint64_t before = lags ? FIELD(MSPAN_ALLOCCOUNT_BEFORE_CACHE) : 0;
    *cls = (int)(field_in(buf, sizeof(buf), at(r, MSPAN_SPANCLASS)->offset - lo, 1) >> 1);
#undef FIELD
    if (used > nelems || before > used)
        return false; /* changing under the read, or not a span */
    *adjust = lags ? (int64_t)(used - before) : -(int64_t)(nelems - used);
    *before_out = before;
    return true;
}

bool runtime_metrics_cached_adjust(const struct runtime_state *s, const struct target *t,
                                   const uint64_t *mcaches, int n, int64_t *adjust_by_class, int nclasses,
                                   uint64_t *signature, uint64_t *bytes) {
    struct reader r = {s, t->pid, t->load_bias, bytes, NULL, 0}; /* reads only: nothing to record in m */
    const struct state_offset *alloc = &r.s->layout.f[MCACHE_ALLOC];
    enum { SPAN_CLASSES_MAX = 256 };
    uint64_t spans[SPAN_CLASSES_MAX];
    size_t nspans = alloc->size > 0 ? (size_t)alloc->size / 8 : 0;
    for (int c = 0; c < nclasses; c++)
        adjust_by_class[c] = 0;
    *signature = 0;
    if (!nspans || nspans > SPAN_CLASSES_MAX)
        return false;
    for (int p = 0; p < n; p++) {
        if (!mcaches[p])
            continue;
        if (!read_bytes(&r, mcaches[p] + (uint64_t)alloc->offset, spans, nspans * 8))
            return false;
        for (size_t i = 0; i < nspans; i++) {
            int64_t adjust;
            int cls;
            uint64_t before;
            if (!spans[i])
                continue;
            if (!span_adjust(&r, spans[i], &adjust, &cls, &before))
                return false;
            /* which span each slot holds, and since when: what a cache or release changes */
            *signature = (*signature ^ (spans[i] + before + (uint64_t)p * 0x9e3779b97f4a7c15ull + i)) *
                         0x100000001b3ull;
            if (cls > 0 && cls < nclasses && i / 2 == (size_t)cls) /* the slot is its span class */
                adjust_by_class[cls] += adjust;
        }
    }
    return true;
}

bool runtime_metrics_heap_goal(const struct runtime_state *s, int pid, uint64_t bias, int minor,
                               uint64_t *goal, uint64_t *bytes) {
    static _Thread_local struct runtime_metrics scratch;
    memset(&scratch, 0, sizeof(scratch));
    struct reader r = {s, pid, bias, bytes, &scratch, minor};
    read_goal(&r);
    *goal = scratch.heap_goal;
    return scratch.have_goal;
}

/* Starts a read of m: false (m says why) when the release has no layout. */
static bool begin_read(struct reader *r, struct runtime_metrics *m, const struct runtime_state *s,
                       const struct target *t, const struct go_size_classes *classes, uint64_t *bytes) {
    memset(m, 0, sizeof(*m));
    m->classes = *classes;
    *r = (struct reader){s,     t->pid, t->load_bias,
                         bytes, m,      t->bin.version.major == 1 ? t->bin.version.minor : 0};
    if (!s->layout.from[0])
        why_not(m, s->why_not[0] ? s->why_not : "no layout for this release");
    return s->layout.from[0] != 0;
}

void runtime_metrics_read_heap(struct runtime_metrics *m, const struct runtime_state *s,
                               const struct target *t, const struct go_size_classes *classes,
                               uint64_t *bytes) {
    struct reader r;
    if (begin_read(&r, m, s, t, classes, bytes))
        read_heap_stats(&r);
}

void runtime_metrics_read_sched_latency(struct runtime_metrics *m, const struct runtime_state *s,
                                        const struct target *t, uint64_t *bytes) {
    struct reader r;
    struct go_size_classes none = {0};
    if (begin_read(&r, m, s, t, &none, bytes)) {
        read_sched_latency(&r);
        if (!m->have_sched_latency && !m->why_not[0])
            why_not(m, at(&r, SCHED_TIME_TO_RUN)->offset < 0
                           ? "the layout of this release has no sched.timeToRun"
                           : "sched.timeToRun could not be read");
    }
}

void runtime_metrics_read(struct runtime_metrics *m, const struct runtime_state *s, const struct target *t,
                          const uint64_t *ps, int np, uint64_t allgs, const struct go_size_classes *classes,
                          uint64_t *bytes) {
    struct reader r;
    if (!begin_read(&r, m, s, t, classes, bytes))
        return;
    read_heap_stats(&r);
    read_sys(&r);
    read_gc(&r);
    read_goal(&r);
    read_knobs(&r);
    read_counts(&r, ps, np, allgs);
    read_created(&r, ps, np);
    read_sched_latency(&r);
}
