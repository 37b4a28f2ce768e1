#include "mem_buckets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow_array.h"

enum { FUTURES = 3 /* memRecord.future */ };

static uint64_t u64_at(const uint8_t *p, size_t off) {
    uint64_t v;
    memcpy(&v, p + off, 8);
    return v;
}

/* memRecordCycle: {allocs, frees, alloc_bytes, free_bytes uintptr} up to 1.26, {allocs, frees} from 1.27. */
static size_t cycle_words(int minor) {
    return minor >= 27 ? 2 : 4;
}

/* memRecord: {active memRecordCycle; future [3]memRecordCycle} */
static size_t record_size(int minor) {
    return (1 + FUTURES) * cycle_words(minor) * 8;
}

static struct mem_record record_at(const uint8_t *p, int i, int minor, uint64_t size) {
    size_t w = cycle_words(minor);
    const uint8_t *c = p + (size_t)i * w * 8;
    struct mem_record r = {(int64_t)u64_at(c, 0), (int64_t)u64_at(c, 8), 0, 0};
    if (w == 4) {
        r.alloc_bytes = (int64_t)u64_at(c, 16);
        r.free_bytes = (int64_t)u64_at(c, 24);
    } else {
        r.alloc_bytes = (int64_t)((uint64_t)r.allocs * size); /* uintptr arithmetic, as the runtime's */
        r.free_bytes = (int64_t)((uint64_t)r.frees * size);
    }
    return r;
}

/* The records are uintptr counters in the runtime: sums wrap, never overflow. */
static int64_t plus(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static void add(struct mem_record *to, const struct mem_record *r) {
    to->allocs = plus(to->allocs, r->allocs);
    to->frees = plus(to->frees, r->frees);
    to->alloc_bytes = plus(to->alloc_bytes, r->alloc_bytes);
    to->free_bytes = plus(to->free_bytes, r->free_bytes);
}

struct walk {
    struct mem_buckets *out;
    int minor;
    uint64_t cycle;
    uint64_t *addrs; /* each bucket's address, to add all futures when no GC has published any */
    size_t addrs_cap;
};

static bool append_bucket(void *ctx, const struct raw_bucket *raw) {
    struct walk *w = ctx;
    struct mem_buckets *out = w->out;
    if (!grow_array_reserve((void **)&w->addrs, &w->addrs_cap, out->n + 1, sizeof(*w->addrs)) ||
        !grow_array_reserve((void **)&out->b, &out->cap, out->n + 1, sizeof(*out->b)) ||
        !grow_array_reserve((void **)&out->pcs, &out->pcs_cap, out->npcs + raw->nstk, sizeof(*out->pcs)))
        return false;
    w->addrs[out->n] = raw->addr;
    struct mem_bucket *b = &out->b[out->n++];
    b->size = raw->size;
    b->nstk = raw->nstk;
    b->stk_at = out->npcs;
    memcpy(out->pcs + out->npcs, raw->stk, raw->nstk * 8);
    out->npcs += raw->nstk;
    /* runtime.MemProfile: mProf_FlushLocked(cycle % 3) adds that future into active before reporting. */
    b->r = record_at(raw->record, 0, w->minor, raw->size);
    struct mem_record f = record_at(raw->record, 1 + (int)(w->cycle % FUTURES), w->minor, raw->size);
    add(&b->r, &f);
    return true;
}

static bool all_zero(const struct mem_buckets *m) {
    for (size_t i = 0; i < m->n; i++)
        if (m->b[i].r.allocs || m->b[i].r.frees)
            return false;
    return true;
}

/* runtime.MemProfile: "Absolutely no data, suggesting that a garbage collection has not yet happened": then
 * every cycle's future record counts. Takes the buckets' futures from their raw records again. */
static void add_all_futures(mem_read_fn read, void *rctx, const struct walk *w) {
    uint8_t raw[(1 + FUTURES) * 4 * 8];
    for (size_t i = 0; i < w->out->n; i++) {
        struct mem_bucket *b = &w->out->b[i];
        if (!read(rctx, w->addrs[i] + BUCKET_HEADER + (size_t)b->nstk * 8, raw, record_size(w->minor)))
            continue;
        b->r = record_at(raw, 0, w->minor, b->size);
        for (int c = 0; c < FUTURES; c++) {
            struct mem_record f = record_at(raw, 1 + c, w->minor, b->size);
            add(&b->r, &f);
        }
    }
}

int mem_buckets_read(mem_read_fn read, void *ctx, uint64_t head_addr, int minor, uint64_t cycle,
                     struct mem_buckets *out, struct gmon_error *err) {
    memset(out, 0, sizeof(*out));
    struct walk w = {out, minor, cycle, NULL, 0};
    if (bucket_list_walk(read, ctx, head_addr, BUCKET_MEMORY, record_size(minor), append_bucket, &w,
                         out->stopped, sizeof(out->stopped), err) != 0) {
        free(w.addrs);
        mem_buckets_free(out);
        return -1;
    }
    if (out->n && all_zero(out))
        add_all_futures(read, ctx, &w);
    free(w.addrs);
    return 0;
}

void mem_buckets_free(struct mem_buckets *m) {
    free(m->b);
    free(m->pcs);
    memset(m, 0, sizeof(*m));
}

int mem_buckets_pick_head(mem_read_fn read, void *ctx, const uint64_t *candidates, int n) {
    return bucket_list_pick_head(read, ctx, candidates, n, BUCKET_MEMORY);
}
