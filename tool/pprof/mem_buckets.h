/* The runtime's memory-profile buckets (runtime/mprof.go), read from a running program without stopping it:
 * each bucket's allocation stack (return PCs, as the runtime's callers() records them), object size, and the
 * counts that runtime.MemProfile would report at this instant. Buckets come from persistentalloc and are
 * never freed; the list is walked from runtime.mbuckets through bucket.allnext. Every bound is checked: a
 * bucket that does not read as one ends the walk with a reason. */
#ifndef GMON_MEM_BUCKETS_H
#define GMON_MEM_BUCKETS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bucket_list.h"
#include "gmon_error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { MEM_BUCKET_MAX_DEPTH = BUCKET_MAX_DEPTH, MEM_BUCKETS_MAX = BUCKETS_MAX };

struct mem_record {
    int64_t allocs, frees, alloc_bytes, free_bytes;
};

struct mem_bucket {
    uint64_t size; /* bytes per object */
    uint32_t nstk; /* PCs at stk_at */
    size_t stk_at; /* index into mem_buckets.pcs */
    struct mem_record r;
};

struct mem_buckets {
    struct mem_bucket *b;
    size_t n, cap;
    uint64_t *pcs; /* runtime addresses */
    size_t npcs, pcs_cap;
    char stopped[160]; /* why the walk ended before the list's end, "" when it did not */
};

/* Reads the list whose head pointer is at head_addr (runtime address). minor is the Go release (1.27 keeps
 * only counts per record: bytes are count x size). cycle is the memory profile's publication cycle (the
 * number of GC cycles): runtime.MemProfile adds future[cycle % 3] to active; when every bucket's active
 * record is zero (no GC yet) it adds all three. Returns 0, or -1 with err set when the head cannot be read.
 */
int mem_buckets_read(mem_read_fn read, void *ctx, uint64_t head_addr, int minor, uint64_t cycle,
                     struct mem_buckets *out, struct gmon_error *err);
void mem_buckets_free(struct mem_buckets *m);
/* Of n addresses that may hold the list's head, the first whose pointer leads to a memory-profile bucket,
 * else the first that holds nil (an empty list); -1 when none does. */
int mem_buckets_pick_head(mem_read_fn read, void *ctx, const uint64_t *candidates, int n);

#ifdef __cplusplus
}
#endif

#endif
