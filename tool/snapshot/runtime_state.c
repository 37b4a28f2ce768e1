#include "runtime_state.h"

#include <inttypes.h>
#include <string.h>

#include "proc_target.h"

struct reader {
    const struct runtime_state *s;
    int pid;
    uint64_t bias;
    uint64_t *bytes;
};

/* A field of the object at obj (a P, an M, ...); false when the layout lacks it or the read fails. */
static bool field_at(const struct reader *r, uint64_t obj, enum state_field f, uint64_t *out) {
    const struct state_offset *o = &r->s->layout.f[f];
    *out = 0;
    if (o->offset < 0 || o->size <= 0 || o->size > 8 || !obj)
        return false;
    *r->bytes += (uint64_t)o->size;
    return proc_read(r->pid, obj + (uint64_t)o->offset, out, (size_t)o->size);
}

/* A field of one of the runtime's global structures (sched, memstats, gcController, mheap_). */
static bool global_field(const struct reader *r, enum state_field f, uint64_t *out) {
    uint64_t base = runtime_state_base_in(r->s, r->pid, r->bias, r->s->layout.f[f].base);
    *out = 0;
    return base && field_at(r, base, f, out);
}

static bool global_fields(const struct reader *r, const enum state_field *f, uint64_t *out, int n) {
    for (int i = 0; i < n; i++)
        if (!global_field(r, f[i], &out[i]))
            return false;
    return true;
}

bool runtime_state_field(const struct runtime_state *s, const struct target *t, uint64_t obj,
                         enum state_field f, uint64_t *out, uint64_t *bytes) {
    return runtime_state_field_in(s, t->pid, obj, f, out, bytes);
}

bool runtime_state_field_in(const struct runtime_state *s, int pid, uint64_t obj, enum state_field f,
                            uint64_t *out, uint64_t *bytes) {
    struct reader r = {s, pid, 0, bytes};
    return field_at(&r, obj, f, out);
}

bool runtime_state_global(const struct runtime_state *s, const struct target *t, enum state_field f,
                          uint64_t *out, uint64_t *bytes) {
    return runtime_state_global_in(s, t->pid, t->load_bias, f, out, bytes);
}

bool runtime_state_global_in(const struct runtime_state *s, int pid, uint64_t bias, enum state_field f,
                             uint64_t *out, uint64_t *bytes) {
    struct reader r = {s, pid, bias, bytes};
    return global_field(&r, f, out);
}

/* gcControllerState.heapMinimum is defaultHeapMinimum (4 MiB, or 512 KiB with GOEXPERIMENT=heapminimum512kib)
 * times GOGC / 100 in uint64 arithmetic, GOGC at least -1 (mgcpacer.go setGCPercent, 1.17-1.27): two words
 * that tell gcController from other data. GOGC=0 (a heap minimum of 0, as in any zeroed memory) is not told.
 */
static bool looks_like_gc_controller(const struct state_layout *l, int pid, uint64_t base) {
    const struct state_offset *percent = &l->f[GCCONTROLLER_PERCENT], *minimum = &l->f[GCC_HEAP_MINIMUM];
    uint8_t words[64];
    int32_t gogc = 0;
    uint64_t min = 0;
    /* both in one read: setGCPercent writes them together */
    if (percent->offset != 0 || minimum->offset < 0 || percent->size != 4 || minimum->size != 8 ||
        minimum->offset + 8 > (int)sizeof(words) || !proc_read(pid, base, words, (size_t)minimum->offset + 8))
        return false;
    memcpy(&gogc, words, 4);
    memcpy(&min, words + minimum->offset, 8);
    if (gogc < -1 || gogc == 0)
        return false;
    uint64_t g = (uint64_t)(int64_t)gogc;
    return min == (4ull << 20) * g / 100 || min == (512ull << 10) * g / 100;
}

/* runtime.gcController found from code is checked by its contents in each process read (its methods reach
 * their fields through the receiver, so the code names few of them, and other globals can match as many:
 * go1.18's did); the other bases the code could mean are kept, to be tried the same way (go1.17's code
 * elects none). */
static void gc_controller_candidates(struct runtime_state *s, const struct go_binary *symbols) {
    const char *from = s->globals.from[BASE_GCCONTROLLER];
    if (from && strcmp(from, "symbol table") == 0)
        return;
    s->gc_candidates_n = 0;
    if (s->globals.addr[BASE_GCCONTROLLER])
        s->gc_candidates[s->gc_candidates_n++] = s->globals.addr[BASE_GCCONTROLLER];
    s->gc_candidates_n += go_state_global_candidates(symbols, &s->layout, BASE_GCCONTROLLER,
                                                     s->gc_candidates + s->gc_candidates_n,
                                                     STATE_GC_CANDIDATES - s->gc_candidates_n);
}

uint64_t runtime_state_base_in(const struct runtime_state *s, int pid, uint64_t bias, enum state_base base) {
    if (base >= STATE_BASES)
        return 0;
    if (base != BASE_GCCONTROLLER || !s->gc_candidates_n)
        return s->globals.addr[base] ? s->globals.addr[base] + bias : 0;
    for (size_t i = 0; i < s->gc_candidates_n; i++)
        if (looks_like_gc_controller(&s->layout, pid, s->gc_candidates[i] + bias))
            return s->gc_candidates[i] + bias;
    return 0;
}

/* With a process at hand, the candidate its contents tell is the global (summary and heap show where it came
 * from). */
static void check_gc_controller(struct runtime_state *s, const struct target *t) {
    if (!s->gc_candidates_n || t->pid <= 0)
        return;
    uint64_t base = runtime_state_base_in(s, t->pid, t->load_bias, BASE_GCCONTROLLER);
    bool moved =
        base != (s->globals.addr[BASE_GCCONTROLLER] ? s->globals.addr[BASE_GCCONTROLLER] + t->load_bias : 0);
    s->globals.addr[BASE_GCCONTROLLER] = base ? base - t->load_bias : 0;
    if (!base)
        s->globals.from[BASE_GCCONTROLLER] = NULL;
    else if (moved)
        s->globals.from[BASE_GCCONTROLLER] = "code, told by its contents";
    for (size_t i = 1; base && i < s->gc_candidates_n; i++) { /* the one told first: tried first next time */
        if (s->gc_candidates[i] + t->load_bias == base) {
            s->gc_candidates[i] = s->gc_candidates[0];
            s->gc_candidates[0] = base - t->load_bias;
        }
    }
    if (!base && !s->why_not[0])
        snprintf(
            s->why_not, sizeof(s->why_not),
            "runtime.gcController not found: no symbol table, and none of the %zu addresses the code could "
            "mean holds it (GOGC=0 cannot be told)",
            s->gc_candidates_n);
}

void runtime_state_init(struct runtime_state *s, const struct target *t, const struct go_binary *symbols,
                        const struct runtime_layout *g_layout) {
    memset(s, 0, sizeof(*s));
    s->g_layout = g_layout;
    state_layout_select(symbols->elf.path, &symbols->version, &s->layout);
    go_state_globals_find(symbols, &s->layout, &s->globals);
    gc_controller_candidates(s, symbols);
    check_gc_controller(s, t);
    if (symbols != &t->bin && strcmp(s->layout.from, "DWARF") == 0)
        snprintf(s->layout.from, sizeof(s->layout.from), "DWARF of --bin");
    if (!s->layout.from[0])
        snprintf(
            s->why_not, sizeof(s->why_not),
            "no DWARF, and gmon's table has no %s layout (give --bin, an unstripped build of the program)",
            t->bin.version_string);
}

static void read_sched(struct runtime_state *s, const struct reader *r) {
    static const enum state_field F[] = {SCHED_NMIDLE, SCHED_NMSPINNING, SCHED_NPIDLE, SCHED_RUNQSIZE,
                                         SCHED_MNEXT};
    uint64_t v[5];
    s->have_sched = global_fields(r, F, v, 5);
    s->nmidle = (int32_t)v[0];
    s->nmspinning = (int32_t)v[1];
    s->npidle = (int32_t)v[2];
    s->runqsize = (int32_t)v[3];
    s->mnext = (int64_t)v[4];
}

static void read_p(struct runtime_state *s, const struct reader *r, uint64_t p, struct p_state *out) {
    uint64_t v, head = 0, tail = 0, next = 0, m = 0;
    field_at(r, p, P_STATUS, &v);
    out->status = (uint32_t)v;
    field_at(r, p, P_SCHEDTICK, &v);
    out->schedtick = (uint32_t)v;
    field_at(r, p, P_SYSCALLTICK, &v);
    out->syscalltick = (uint32_t)v;
    field_at(r, p, P_RUNQHEAD, &head);
    field_at(r, p, P_RUNQTAIL, &tail);
    field_at(r, p, P_RUNNEXT, &next);
    out->runq = (uint32_t)(tail - head) + (next != 0);
    field_at(r, p, P_MCACHE, &out->mcache);
    out->m_id = -1;
    out->m_tid = out->curg = out->curg_goid = 0;
    if (field_at(r, p, P_M, &m) && m && field_at(r, m, M_ID, &v)) {
        out->m_id = (int64_t)v;
        *r->bytes += 24;
        proc_read(r->pid, m + (uint64_t)s->g_layout->m.procid, &out->m_tid, 8);
        if (proc_read(r->pid, m + (uint64_t)s->g_layout->m.curg, &out->curg, 8) && out->curg &&
            !proc_read(r->pid, out->curg + (uint64_t)s->g_layout->g.goid, &out->curg_goid, 8))
            out->curg = 0;
    }
}

static void read_ps(struct runtime_state *s, const struct reader *r, const uint64_t *ps, int np) {
    s->np = 0;
    s->have_ps = np > 0 && np <= STATE_MAX_P && state_has(&s->layout, P_STATUS);
    for (int i = 0; s->have_ps && i < np; i++)
        read_p(s, r, ps[i], &s->ps[s->np++]);
}

static void read_gc(struct runtime_state *s, const struct reader *r) {
    static const enum state_field F[] = {GC_NUMGC, GC_NUMFORCEDGC, GC_PAUSE_TOTAL_NS, GC_LAST_NANOTIME};
    uint64_t v[4];
    s->have_gc = global_fields(r, F, v, 4) && v[1] <= v[0];
    s->numgc = (uint32_t)v[0];
    s->numforcedgc = (uint32_t)v[1];
    s->pause_total_ns = v[2];
    s->last_gc_nanotime = (int64_t)v[3];
}

/* go1.17 keeps the heap's total instead of its free bytes. */
static bool read_heap_free(const struct reader *r, uint64_t inuse, uint64_t released, uint64_t *free) {
    uint64_t sys;
    if (state_has(&r->s->layout, HEAP_FREE))
        return global_field(r, HEAP_FREE, free);
    if (!global_field(r, HEAP_SYS, &sys) || sys < inuse + released)
        return false;
    *free = sys - inuse - released;
    return true;
}

/* heapMarked is in gcController, which go1.17's code does not pin down (it only shares two known fields with
 * the layout); the rest of the heap line does without it. Before the first GC has ended there is no marked
 * heap: go1.17's gcControllerState.init fakes one (heapMinimum / (1 + triggerRatio), which can exceed the
 * heap in use), later releases hold 0; neither is shown as the live heap. */
static void read_heap(struct runtime_state *s, const struct reader *r) {
    static const enum state_field F[] = {HEAP_INUSE, HEAP_RELEASED};
    uint64_t v[3];
    /* Page counts in bytes: anything else means the global or the layout is wrong. */
    s->have_heap = global_fields(r, F, v, 2) && read_heap_free(r, v[0], v[1], &v[2]) && v[0] % 8192 == 0 &&
                   v[1] % 8192 == 0 && v[2] % 8192 == 0;
    s->inuse = v[0];
    s->released = v[1];
    s->free = v[2];
    s->have_marked = !(s->have_gc && s->numgc == 0) && global_field(r, HEAP_MARKED, &s->marked) &&
                     s->marked <= s->inuse + s->free;
}

/* Sums a [n]uint64 array field of one heapStatsDelta. */
static uint64_t sum_array(const struct reader *r, uint64_t delta, enum state_field f) {
    const struct state_offset *o = &r->s->layout.f[f];
    uint64_t counts[128] = {0}, total = 0;
    size_t n = o->size > 0 ? (size_t)o->size / 8 : 0;
    if (n > 128 || !n)
        return 0;
    *r->bytes += n * 8;
    if (!proc_read(r->pid, delta + (uint64_t)o->offset, counts, n * 8))
        return 0;
    for (size_t i = 0; i < n; i++)
        total += counts[i];
    return total;
}

/* memstats.heapStats keeps its counts as three deltas whose sum is the running total (what the runtime's
 * own unsynchronised read does); the tiny allocations still counted in each P's mcache are added. */
static void read_objects(struct runtime_state *s, const struct reader *r) {
    const struct state_layout *l = &s->layout;
    uint64_t stats = s->globals.addr[BASE_MSTATS];
    s->have_objects = false;
    if (!stats || !state_has(l, HEAP_STATS) || !state_has(l, HEAPSTATS_SIZE) ||
        !state_has(l, HS_SMALL_ALLOCS))
        return;
    s->mallocs = s->frees = s->large_alloc = s->large_allocs = s->large_free = s->large_frees = 0;
    for (int d = 0; d < 3; d++) {
        uint64_t delta =
            stats + r->bias + (uint64_t)l->f[HEAP_STATS].offset + (uint64_t)(d * l->f[HEAPSTATS_SIZE].size);
        uint64_t tiny, la, lac, lf, lfc;
        if (!field_at(r, delta, HS_TINY_ALLOCS, &tiny) || !field_at(r, delta, HS_LARGE_ALLOC, &la) ||
            !field_at(r, delta, HS_LARGE_ALLOCS, &lac) || !field_at(r, delta, HS_LARGE_FREE, &lf) ||
            !field_at(r, delta, HS_LARGE_FREES, &lfc))
            return;
        s->mallocs += tiny + lac + sum_array(r, delta, HS_SMALL_ALLOCS);
        s->frees += tiny + lfc + sum_array(r, delta, HS_SMALL_FREES);
        s->large_alloc += la;
        s->large_allocs += lac;
        s->large_free += lf;
        s->large_frees += lfc;
    }
    for (int i = 0; i < s->np; i++) {
        uint64_t tiny;
        if (field_at(r, s->ps[i].mcache, MCACHE_TINY_ALLOCS, &tiny)) {
            s->mallocs += tiny;
            s->frees += tiny;
        }
    }
    s->have_objects = s->mallocs >= s->frees;
}

void runtime_state_read(struct runtime_state *s, const struct target *t, const uint64_t *ps, int np,
                        uint64_t *bytes) {
    struct reader r = {s, t->pid, t->load_bias, bytes};
    read_sched(s, &r);
    read_ps(s, &r, ps, np);
    read_gc(s, &r);
    read_heap(s, &r);
    read_objects(s, &r);
}
