#include "heap_profile.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_INLINE = 64 };

bool heap_profile_init(struct profile_builder *p, int64_t rate, const char *default_sample_type) {
    static const char *const TYPES[][2] = {{"alloc_objects", "count"},
                                           {"alloc_space", "bytes"},
                                           {"inuse_objects", "count"},
                                           {"inuse_space", "bytes"}};
    if (!profile_builder_init(p, 4, TYPES, "space", "bytes", rate))
        return false;
    p->keep_samples_apart = true;
    if (default_sample_type && default_sample_type[0])
        profile_set_default_sample_type(p, default_sample_type);
    return !p->oom;
}

/* float64 to int64 as amd64 converts it (CVTTSD2SQ): out of range and NaN give the "integer indefinite",
 * INT64_MIN, where C leaves the conversion undefined. Only memory read while it changed gets there. */
static int64_t to_int64(double x) {
    return x > -9223372036854775808.0 && x < 9223372036854775808.0 ? (int64_t)x : INT64_MIN;
}

/* a - b wrapping, as Go's int arithmetic does (counts from target memory may be anything) */
static int64_t minus(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

void heap_profile_scale(int64_t count, int64_t size, int64_t rate, int64_t *scaled_count,
                        int64_t *scaled_size) {
    if (count == 0 || size == 0) {
        *scaled_count = *scaled_size = 0;
        return;
    }
    if (rate <= 1) {
        *scaled_count = count;
        *scaled_size = size;
        return;
    }
    double avg = (double)size / (double)count;
    double scale = 1 / (1 - exp(-avg / (double)rate));
    *scaled_count = to_int64((double)count * scale);
    *scaled_size = to_int64((double)size * scale);
}

/* One PC of a bucket as runtime.CallersFrames sees it: the innermost function at pc - 1 (pc itself at a
 * function's entry), with the entry of its physical function. */
struct pc_frame {
    bool found;
    struct go_frame f;
    uint64_t entry;
    uint64_t frame_pc; /* runtime.Frame.PC: the address looked up (runtime address) */
};

static struct pc_frame frame_of(const struct pclntab *pcln, uint64_t load_bias, uint64_t pc) {
    struct pc_frame r = {0};
    struct go_func fn;
    struct go_frame frames[MAX_INLINE];
    uint64_t at = pc - load_bias;
    if (!pclntab_func_at(pcln, at, &fn))
        return r;
    if (at > fn.entry)
        at--;
    if (pclntab_frames(pcln, &fn, at, frames, MAX_INLINE) < 1)
        return r;
    r.found = true;
    r.f = frames[0];
    r.entry = fn.entry;
    r.frame_pc = at + load_bias;
    return r;
}

/* runtime.FuncForPC(pc).Name() (the innermost function at pc itself) is the runtime's: "runtime.", and from
 * Go 1.24 "internal/runtime/" too (protomem.go, "hide map runtime frames from heap profiles", d0c9142ce3, in
 * the tree before the 1.25 version bump; seen in go1.26 code, absent from go1.23's). */
static bool is_runtime_pc(const struct pclntab *pcln, uint64_t load_bias, uint64_t pc, int minor) {
    struct go_func fn;
    struct go_frame frames[MAX_INLINE];
    if (!pclntab_func_at(pcln, pc - load_bias, &fn) ||
        pclntab_frames(pcln, &fn, pc - load_bias, frames, MAX_INLINE) < 1)
        return false;
    const char *name = frames[0].function;
    return strncmp(name, "runtime.", 8) == 0 || (minor >= 24 && strncmp(name, "internal/runtime/", 17) == 0);
}

/* Each distinct PC symbolized once: 100,000 buckets share a few hundred return addresses. Open addressing
 * keyed by runtime PC, doubled when half full. */
struct pc_memo_slot {
    uint64_t pc; /* 0: empty */
    struct pc_frame frame;
    bool runtime;
};

struct pc_memo {
    const struct pclntab *pcln;
    uint64_t load_bias;
    int minor;
    struct pc_memo_slot *slots;
    size_t cap, used;
    struct pc_memo_slot uncached; /* the answer when the table cannot grow */
};

static size_t memo_index(uint64_t pc, size_t cap) {
    return (size_t)((pc * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static bool memo_grow(struct pc_memo *m) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    struct pc_memo_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].pc)
            continue;
        size_t k = memo_index(m->slots[i].pc, cap);
        while (slots[k].pc)
            k = (k + 1) & (cap - 1);
        slots[k] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

static struct pc_memo_slot memo_lookup(const struct pc_memo *m, uint64_t pc) {
    return (struct pc_memo_slot){pc, frame_of(m->pcln, m->load_bias, pc),
                                 is_runtime_pc(m->pcln, m->load_bias, pc, m->minor)};
}

static const struct pc_memo_slot *memo_get(struct pc_memo *m, uint64_t pc) {
    if (pc == 0 || ((m->used + 1) * 2 > m->cap && !memo_grow(m))) {
        m->uncached = memo_lookup(m, pc);
        return &m->uncached;
    }
    size_t k = memo_index(pc, m->cap);
    while (m->slots[k].pc && m->slots[k].pc != pc)
        k = (k + 1) & (m->cap - 1);
    if (!m->slots[k].pc) {
        m->slots[k] = memo_lookup(m, pc);
        m->used++;
    }
    return &m->slots[k];
}

/* The PCs of one physical frame, gathered as runtime/pprof's pcDeck gathers them (proto.go tryAdd): a PC
 * joins when the frame before it is inlined into the same function and is not the same function (recursion).
 */
struct deck {
    struct profile_line lines[MAX_INLINE];
    size_t n;
    uint64_t address;
    bool last_inlined;
    uint64_t last_entry;
    const char *last_function;
};

static bool deck_joins(const struct deck *d, const struct pc_frame *f) {
    return d->n == 0 || (d->n < MAX_INLINE && d->last_inlined && d->last_entry == f->entry &&
                         strcmp(d->last_function, f->f.function) != 0);
}

static void deck_add(struct deck *d, const struct pc_frame *f) {
    if (d->n == 0)
        d->address = f->frame_pc;
    d->lines[d->n++] = (struct profile_line){f->f.function, f->f.file, f->f.line, f->f.start_line};
    d->last_inlined = f->f.inlined;
    d->last_entry = f->entry;
    d->last_function = f->f.function;
}

/* Emits the deck as one location; appends its ID to locs. */
static void deck_emit(struct deck *d, struct profile_builder *p, uint64_t mapping, uint64_t *locs,
                      size_t *n) {
    if (d->n == 0)
        return;
    uint64_t id = profile_location(p, mapping, d->address, d->lines, d->n);
    if (id)
        locs[(*n)++] = id;
    d->n = 0;
}

/* runtime/pprof appendLocsForStack: the locations of stk; runtime.goexit and unknown PCs end a location
 * without one of their own. */
static size_t locations_of(struct profile_builder *p, uint64_t mapping, struct pc_memo *memo,
                           const uint64_t *stk, size_t n, uint64_t *locs) {
    struct deck d = {0};
    size_t nlocs = 0;
    for (size_t i = 0; i < n; i++) {
        struct pc_frame f = memo_get(memo, stk[i])->frame;
        if (!f.found || strcmp(f.f.function, "runtime.goexit") == 0) {
            deck_emit(&d, p, mapping, locs, &nlocs);
            continue;
        }
        if (!deck_joins(&d, &f))
            deck_emit(&d, p, mapping, locs, &nlocs);
        deck_add(&d, &f);
    }
    deck_emit(&d, p, mapping, locs, &nlocs);
    return nlocs;
}

/* protomem.go: the leading runtime frames are hidden (the first frame of another package and what it called
 * of the runtime stay); when that leaves no location, every frame is shown. */
static size_t bucket_locations(struct profile_builder *p, uint64_t mapping, struct pc_memo *memo,
                               const uint64_t *stk, size_t n, uint64_t *locs) {
    size_t from = 0;
    while (from < n && memo_get(memo, stk[from])->runtime)
        from++;
    if (from == n)
        from = 0; /* Go's loop finds no other package and keeps the whole stack */
    size_t got = locations_of(p, mapping, memo, stk + from, n - from, locs);
    if (got == 0 && from > 0)
        got = locations_of(p, mapping, memo, stk, n, locs);
    return got;
}

/* The "bytes" label: the average size of the allocated objects when any were (Go 1.17-1.26), the bucket's
 * object size always from Go 1.27 (protomem.go, "remove redundant fields from memory profile records"). */
static int64_t bytes_label(const struct mem_bucket *b, int minor) {
    if (minor >= 27)
        return (int64_t)b->size;
    if (b->r.allocs <= 0)
        return 0;
    return b->r.alloc_bytes / b->r.allocs; /* allocs > 0: no INT64_MIN / -1 */
}

bool heap_profile_add(struct profile_builder *p, uint64_t mapping, const struct pclntab *pcln,
                      uint64_t load_bias, int minor, const struct mem_buckets *m, int64_t rate) {
    uint64_t locs[MEM_BUCKET_MAX_DEPTH];
    struct pc_memo memo = {.pcln = pcln, .load_bias = load_bias, .minor = minor};
    bool ok = true;
    for (size_t i = 0; i < m->n && ok; i++) {
        const struct mem_bucket *b = &m->b[i];
        size_t nlocs = bucket_locations(p, mapping, &memo, m->pcs + b->stk_at, b->nstk, locs);
        int64_t v[4];
        heap_profile_scale(b->r.allocs, b->r.alloc_bytes, rate, &v[0], &v[1]);
        heap_profile_scale(minus(b->r.allocs, b->r.frees), minus(b->r.alloc_bytes, b->r.free_bytes), rate,
                           &v[2], &v[3]);
        struct profile_label bytes = {"bytes", NULL, bytes_label(b, minor)};
        ok = profile_add_sample(p, locs, nlocs, v, &bytes, bytes.num != 0);
    }
    free(memo.slots);
    return ok && !p->oom;
}
