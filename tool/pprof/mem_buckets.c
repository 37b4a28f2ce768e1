#include "mem_buckets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow_array.h"

/* runtime/mprof.go bucket: {next, allnext *bucket; typ bucketType; hash uintptr; size uintptr; nstk uintptr}
 * then stk[nstk] then the memRecord {active, future[3] memRecordCycle}. Same header in 1.17-1.27. */
enum {
    BUCKET_HEADER = 48,
    OFF_ALLNEXT = 8,
    OFF_TYP = 16,
    OFF_SIZE = 32,
    OFF_NSTK = 40,
    MEM_PROFILE = 1,  /* bucketType memProfile */
    FUTURES = 3,      /* memRecord.future */
    SPECULATIVE = 32, /* PCs read with the header in one system call (maxStack up to 1.22) */
    MAX_OBJECT = 1ull << 47,
};

static uint64_t u64_at(const uint8_t *p, size_t off) {
    uint64_t v;
    memcpy(&v, p + off, 8);
    return v;
}

/* memRecordCycle: {allocs, frees, alloc_bytes, free_bytes uintptr} up to 1.26, {allocs, frees} from 1.27. */
static size_t cycle_words(int minor) {
    return minor >= 27 ? 2 : 4;
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

/* Room for need items in *items (grow_array's policy); the array is allocated even for none. */
static bool reserve(void **items, size_t *cap, size_t need, size_t size) {
    void *grown = grow_array(*items, cap, need ? need - 1 : 0, size, 256);
    if (!grown)
        return false;
    *items = grown;
    return true;
}

/* Reads one bucket at addr into raw (header, stack, record); its allnext in *next. False with out->stopped.
 */
static bool read_bucket(mem_read_fn read, void *ctx, uint64_t addr, int minor, uint8_t *raw,
                        struct mem_buckets *out, uint64_t *next) {
    size_t rec = (1 + FUTURES) * cycle_words(minor) * 8;
    size_t first = BUCKET_HEADER + SPECULATIVE * 8 + rec;
    bool whole = read(ctx, addr, raw, first);
    if (!whole && !read(ctx, addr, raw, BUCKET_HEADER)) {
        snprintf(out->stopped, sizeof(out->stopped), "bucket at 0x%llx unreadable", (unsigned long long)addr);
        return false;
    }
    uint64_t typ = u64_at(raw, OFF_TYP), size = u64_at(raw, OFF_SIZE), nstk = u64_at(raw, OFF_NSTK);
    if (typ != MEM_PROFILE || nstk > MEM_BUCKET_MAX_DEPTH || size > MAX_OBJECT) {
        snprintf(out->stopped, sizeof(out->stopped),
                 "bucket at 0x%llx is not a memory-profile bucket (type %llu, %llu PCs, size %llu)",
                 (unsigned long long)addr, (unsigned long long)typ, (unsigned long long)nstk,
                 (unsigned long long)size);
        return false;
    }
    if ((!whole || nstk > SPECULATIVE) && !read(ctx, addr, raw, BUCKET_HEADER + nstk * 8 + rec)) {
        snprintf(out->stopped, sizeof(out->stopped), "bucket at 0x%llx unreadable", (unsigned long long)addr);
        return false;
    }
    *next = u64_at(raw, OFF_ALLNEXT);
    return true;
}

static bool append_bucket(struct mem_buckets *out, const uint8_t *raw, int minor, uint64_t cycle) {
    uint64_t size = u64_at(raw, OFF_SIZE), nstk = u64_at(raw, OFF_NSTK);
    if (!reserve((void **)&out->b, &out->cap, out->n + 1, sizeof(*out->b)) ||
        !reserve((void **)&out->pcs, &out->pcs_cap, out->npcs + nstk, sizeof(*out->pcs)))
        return false;
    const uint8_t *record = raw + BUCKET_HEADER + nstk * 8;
    struct mem_bucket *b = &out->b[out->n++];
    b->size = size;
    b->nstk = (uint32_t)nstk;
    b->stk_at = out->npcs;
    memcpy(out->pcs + out->npcs, raw + BUCKET_HEADER, nstk * 8);
    out->npcs += nstk;
    /* runtime.MemProfile: mProf_FlushLocked(cycle % 3) adds that future into active before reporting. */
    b->r = record_at(record, 0, minor, size);
    struct mem_record f = record_at(record, 1 + (int)(cycle % FUTURES), minor, size);
    add(&b->r, &f);
    return true;
}

/* runtime.MemProfile: "Absolutely no data, suggesting that a garbage collection has not yet happened": then
 * every cycle's future record counts. Takes the buckets' futures from their raw records again. */
static bool all_zero(const struct mem_buckets *m) {
    for (size_t i = 0; i < m->n; i++)
        if (m->b[i].r.allocs || m->b[i].r.frees)
            return false;
    return true;
}

int mem_buckets_read(mem_read_fn read, void *ctx, uint64_t head_addr, int minor, uint64_t cycle,
                     struct mem_buckets *out, struct gmon_error *err) {
    memset(out, 0, sizeof(*out));
    uint64_t addr;
    if (!read(ctx, head_addr, &addr, 8))
        return gmon_fail(err, "runtime.mbuckets at 0x%llx unreadable", (unsigned long long)head_addr);
    size_t raw_size = BUCKET_HEADER + MEM_BUCKET_MAX_DEPTH * 8 + (1 + FUTURES) * 4 * 8;
    uint8_t *raw = malloc(raw_size);
    uint64_t *addrs = NULL; /* each bucket's address, to add all futures when no GC has published any */
    size_t addrs_cap = 0;
    if (!raw)
        return gmon_fail(err, "out of memory");
    /* Brent's cycle detection: a list that comes back to a bucket it has passed (memory read while it
     * changed, or not a list at all) is seen within twice its length. */
    uint64_t saved = 0;
    size_t power = 1, steps = 0;
    while (addr && !out->stopped[0]) {
        if (out->n >= MEM_BUCKETS_MAX) {
            snprintf(out->stopped, sizeof(out->stopped), "more than %d buckets", MEM_BUCKETS_MAX);
            break;
        }
        if (addr == saved) {
            snprintf(out->stopped, sizeof(out->stopped), "the list comes back to the bucket at 0x%llx",
                     (unsigned long long)addr);
            break;
        }
        if (++steps == power) {
            saved = addr;
            power *= 2;
            steps = 0;
        }
        uint64_t next;
        if (!read_bucket(read, ctx, addr, minor, raw, out, &next))
            break;
        if (!reserve((void **)&addrs, &addrs_cap, out->n + 1, sizeof(*addrs)) ||
            !append_bucket(out, raw, minor, cycle)) {
            free(raw);
            free(addrs);
            mem_buckets_free(out);
            return gmon_fail(err, "out of memory");
        }
        addrs[out->n - 1] = addr;
        addr = next;
    }
    if (out->n && all_zero(out)) {
        for (size_t i = 0; i < out->n; i++) {
            struct mem_bucket *b = &out->b[i];
            size_t rec_at = BUCKET_HEADER + (size_t)b->nstk * 8, w = cycle_words(minor) * 8;
            if (!read(ctx, addrs[i] + rec_at, raw, (1 + FUTURES) * w))
                continue;
            b->r = record_at(raw, 0, minor, b->size);
            for (int c = 0; c < FUTURES; c++) {
                struct mem_record f = record_at(raw, 1 + c, minor, b->size);
                add(&b->r, &f);
            }
        }
    }
    free(raw);
    free(addrs);
    return 0;
}

void mem_buckets_free(struct mem_buckets *m) {
    free(m->b);
    free(m->pcs);
    memset(m, 0, sizeof(*m));
}

int mem_buckets_pick_head(mem_read_fn read, void *ctx, const uint64_t *candidates, int n) {
    int empty = -1;
    for (int i = 0; i < n; i++) {
        uint64_t head;
        uint8_t header[BUCKET_HEADER];
        if (!read(ctx, candidates[i], &head, 8))
            continue;
        if (head == 0) {
            if (empty < 0)
                empty = i;
            continue;
        }
        if (read(ctx, head, header, sizeof(header)) && u64_at(header, OFF_TYP) == MEM_PROFILE &&
            u64_at(header, OFF_NSTK) <= MEM_BUCKET_MAX_DEPTH)
            return i;
    }
    return empty;
}
