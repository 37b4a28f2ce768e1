/* The runtime's profile buckets (runtime/mprof.go), walked from a list head without stopping the program:
 * memory-profile buckets from runtime.mbuckets, blocking ones from runtime.bbuckets, mutex ones from
 * runtime.xbuckets. Every bucket has the same header, then its stack, then a record whose layout depends on
 * the list (mem_buckets.h, block_buckets.h). Buckets come from persistentalloc and are never freed; each is
 * checked before it is used, and a bucket that does not read as one of its list ends the walk with a reason.
 */
#ifndef GMON_BUCKET_LIST_H
#define GMON_BUCKET_LIST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmon_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* runtime/mprof.go: maxStack (32) up to 1.22, debug.profstackdepth (at most 1024) from 1.23. */
enum { BUCKET_MAX_DEPTH = 1024, BUCKETS_MAX = 1 << 22, BUCKET_HEADER = 48 };

/* runtime/mprof.go bucketType */
enum bucket_type { BUCKET_MEMORY = 1, BUCKET_BLOCK = 2, BUCKET_MUTEX = 3 };

/* How a memory read is done: proc_read on a live process, a buffer in the fuzzer. */
typedef bool (*mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* One bucket as read: its address, object size (memory buckets), stack (return PCs as recorded) and the
 * record's bytes. Valid during the call only. */
struct raw_bucket {
    uint64_t addr, size;
    uint32_t nstk;
    const uint64_t *stk;
    const uint8_t *record;
};

/* Called for each bucket in list order; false stops the walk as out of memory. */
typedef bool (*bucket_fn)(void *ctx, const struct raw_bucket *b);

/* Walks the list whose head pointer is at head_addr (a runtime address), expecting buckets of type typ with
 * record_size bytes of record. Returns 0 (the walk ended at the list's end, or early with the reason in
 * stopped[160]), or -1 with err set when the head is unreadable or memory runs out. */
int bucket_list_walk(mem_read_fn read, void *rctx, uint64_t head_addr, enum bucket_type typ,
                     size_t record_size, bucket_fn each, void *ctx, char *stopped, size_t stopped_size,
                     struct gmon_error *err);

/* Of n addresses that may hold a list's head, the first whose pointer leads to a bucket of type typ, else
 * the first that holds nil (an empty list); -1 when none does. */
int bucket_list_pick_head(mem_read_fn read, void *ctx, const uint64_t *candidates, int n,
                          enum bucket_type typ);

/* The type of the bucket a head pointer at head_addr leads to: 0 for an empty list, -1 when unreadable. */
int bucket_list_head_type(mem_read_fn read, void *ctx, uint64_t head_addr);

#ifdef __cplusplus
}
#endif

#endif
