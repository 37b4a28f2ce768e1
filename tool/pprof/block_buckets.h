/* The runtime's blocking- and mutex-profile buckets (runtime/mprof.go bbuckets, xbuckets), read from a
 * running program without stopping it: each bucket's stack as the runtime recorded it (return PCs from
 * callers() up to Go 1.22; from 1.23 frame-pointer return addresses whose inlined frames the reader expands)
 * and its blockRecord {count float64; cycles int64}, the same in 1.17-1.27. */
#ifndef GMON_BLOCK_BUCKETS_H
#define GMON_BLOCK_BUCKETS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bucket_list.h"
#include "gmon_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct block_bucket {
    double count;   /* events, weighted: the runtime adds rate/cycles for a sampled short block event */
    int64_t cycles; /* CPU ticks spent blocked (the mutex profile: delay caused to waiters) */
    uint32_t nstk;
    size_t stk_at; /* index into block_buckets.pcs */
};

struct block_buckets {
    struct block_bucket *b;
    size_t n, cap;
    uint64_t *pcs; /* runtime addresses */
    size_t npcs, pcs_cap;
    char stopped[160]; /* why the walk ended before the list's end, "" when it did not */
};

/* Reads the list whose head pointer is at head_addr (runtime address); typ says which (BUCKET_BLOCK for
 * bbuckets, BUCKET_MUTEX for xbuckets). Returns 0, or -1 with err set when the head cannot be read. */
int block_buckets_read(mem_read_fn read, void *ctx, uint64_t head_addr, enum bucket_type typ,
                       struct block_buckets *out, struct gmon_error *err);
void block_buckets_free(struct block_buckets *m);

#ifdef __cplusplus
}
#endif

#endif
