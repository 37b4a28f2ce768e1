/* A hash table from fixed-size keys to fixed-size rows of 64-bit counts, kept in gmon's own memory: what the
 * host adds up itself beside a BPF map (exits found by reading the target, lifecycle_exit_scan.c), where an
 * update of the map from user space could lose the BPF program's concurrent additions to the same value. Not
 * locked: the caller serializes. */
#ifndef GMON_COUNT_TABLE_H
#define GMON_COUNT_TABLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

struct count_table {
    size_t key_size, ncounts;
    size_t slot_size; /* a used flag (8 bytes, for alignment), the key rounded up to 8 bytes, the counts */
    size_t cap, used; /* cap: a power of two, or 0 before the first row */
    uint8_t *slots;
};

void count_table_init(struct count_table *t, size_t key_size, size_t ncounts);
/* Adds counts[0..ncounts) to key's row, made (zero) first when absent. -1 when memory ran out. */
int count_table_add(struct count_table *t, const void *key, const uint64_t *counts);
/* The row of key, or NULL. Valid until the next add or removal. */
const uint64_t *count_table_find(const struct count_table *t, const void *key);
typedef void (*count_row_fn)(void *ctx, const void *key, const uint64_t *counts);
void count_table_for_each(const struct count_table *t, count_row_fn fn, void *ctx);
/* Removes the rows doomed picks (same signature as the BPF map pruning in lifecycle_probes.c). */
void count_table_remove_if(struct count_table *t,
                           bool (*doomed)(const void *key, const void *counts, const void *ctx),
                           const void *ctx);
void count_table_free(struct count_table *t);

#ifdef __cplusplus
}
#endif
#endif
