#include "bucket_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* runtime/mprof.go bucket: {next, allnext *bucket; typ bucketType; hash uintptr; size uintptr; nstk uintptr}
 * then stk[nstk] then the record. Same header in 1.17-1.27. */
enum {
    OFF_ALLNEXT = 8,
    OFF_TYP = 16,
    OFF_SIZE = 32,
    OFF_NSTK = 40,
    SPECULATIVE = 32, /* PCs read with the header in one system call (maxStack up to 1.22) */
    MAX_RECORD = 128,
    MAX_OBJECT_SIZE = 1ull << 47,
};

static uint64_t u64_at(const uint8_t *p, size_t off) {
    uint64_t v;
    memcpy(&v, p + off, 8);
    return v;
}

static void say(char *stopped, size_t size, const char *what, uint64_t addr) {
    snprintf(stopped, size, "bucket at 0x%llx %s", (unsigned long long)addr, what);
}

/* Reads the bucket at addr into raw (header, stack, record); false with the reason in stopped. */
static bool read_bucket(mem_read_fn read, void *rctx, uint64_t addr, enum bucket_type typ, size_t record_size,
                        uint8_t *raw, char *stopped, size_t stopped_size) {
    size_t first = BUCKET_HEADER + SPECULATIVE * 8 + record_size;
    bool whole = read(rctx, addr, raw, first);
    if (!whole && !read(rctx, addr, raw, BUCKET_HEADER)) {
        say(stopped, stopped_size, "unreadable", addr);
        return false;
    }
    uint64_t t = u64_at(raw, OFF_TYP), size = u64_at(raw, OFF_SIZE), nstk = u64_at(raw, OFF_NSTK);
    if (t != (uint64_t)typ || nstk > BUCKET_MAX_DEPTH || size > MAX_OBJECT_SIZE) {
        static const char *const KIND[] = {"", "memory-profile", "blocking-profile", "mutex-profile"};
        snprintf(stopped, stopped_size,
                 "bucket at 0x%llx is not a %s bucket (type %llu, %llu PCs, size %llu)",
                 (unsigned long long)addr, KIND[typ], (unsigned long long)t, (unsigned long long)nstk,
                 (unsigned long long)size);
        return false;
    }
    if ((!whole || nstk > SPECULATIVE) && !read(rctx, addr, raw, BUCKET_HEADER + nstk * 8 + record_size)) {
        say(stopped, stopped_size, "unreadable", addr);
        return false;
    }
    return true;
}

int bucket_list_walk(mem_read_fn read, void *rctx, uint64_t head_addr, enum bucket_type typ,
                     size_t record_size, bucket_fn each, void *ctx, char *stopped, size_t stopped_size,
                     struct gmon_error *err) {
    stopped[0] = '\0';
    uint64_t addr;
    if (record_size > MAX_RECORD)
        return gmon_fail(err, "a bucket record of %zu bytes", record_size);
    if (!read(rctx, head_addr, &addr, 8))
        return gmon_fail(err, "the list head at 0x%llx is unreadable", (unsigned long long)head_addr);
    uint8_t *raw = malloc(BUCKET_HEADER + BUCKET_MAX_DEPTH * 8 + MAX_RECORD);
    if (!raw)
        return gmon_fail(err, "out of memory");
    /* Brent's cycle detection: a list that comes back to a bucket it has passed (memory read while it
     * changed, or not a list at all) is seen within twice its length. */
    uint64_t saved = 0;
    size_t power = 1, steps = 0, n = 0;
    int rc = 0;
    while (addr && !stopped[0]) {
        if (n >= BUCKETS_MAX) {
            snprintf(stopped, stopped_size, "more than %d buckets", BUCKETS_MAX);
            break;
        }
        if (addr == saved) {
            snprintf(stopped, stopped_size, "the list comes back to the bucket at 0x%llx",
                     (unsigned long long)addr);
            break;
        }
        if (++steps == power) {
            saved = addr;
            power *= 2;
            steps = 0;
        }
        if (!read_bucket(read, rctx, addr, typ, record_size, raw, stopped, stopped_size))
            break;
        uint64_t nstk = u64_at(raw, OFF_NSTK);
        struct raw_bucket b = {addr, u64_at(raw, OFF_SIZE), (uint32_t)nstk,
                               (const uint64_t *)(raw + BUCKET_HEADER), raw + BUCKET_HEADER + nstk * 8};
        if (!each(ctx, &b)) {
            rc = gmon_fail(err, "out of memory");
            break;
        }
        n++;
        addr = u64_at(raw, OFF_ALLNEXT);
    }
    free(raw);
    return rc;
}

int bucket_list_head_type(mem_read_fn read, void *ctx, uint64_t head_addr) {
    uint64_t head;
    uint8_t header[BUCKET_HEADER];
    if (!read(ctx, head_addr, &head, 8))
        return -1;
    if (head == 0)
        return 0;
    if (!read(ctx, head, header, sizeof(header)) || u64_at(header, OFF_NSTK) > BUCKET_MAX_DEPTH ||
        u64_at(header, OFF_TYP) > BUCKET_MUTEX)
        return -1;
    return (int)u64_at(header, OFF_TYP);
}

int bucket_list_pick_head(mem_read_fn read, void *ctx, const uint64_t *candidates, int n,
                          enum bucket_type typ) {
    int empty = -1;
    for (int i = 0; i < n; i++) {
        int t = bucket_list_head_type(read, ctx, candidates[i]);
        if (t == (int)typ)
            return i;
        if (t == 0 && empty < 0)
            empty = i;
    }
    return empty;
}
