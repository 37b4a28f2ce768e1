/* Room for one more element in a growable array: the one growth policy (start small, double) every table in
 * gmon uses. */
#ifndef GMON_GROW_ARRAY_H
#define GMON_GROW_ARRAY_H
#include <stdbool.h>
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
/* Returns items, reallocated to hold at least used + 1 elements of elem_size bytes (first_cap at first, then
 * twice as many, doubled again as often as used needs) with *cap updated, or NULL when out of memory (items
 * and *cap are then unchanged). With *cap 0 it always allocates: the array is never NULL after a call. */
void *grow_array(void *items, size_t *cap, size_t used, size_t elem_size, size_t first_cap);
/* The same in place: *items holds room for need elements (256 at first); false when out of memory. */
bool grow_array_reserve(void **items, size_t *cap, size_t need, size_t elem_size);
#ifdef __cplusplus
}
#endif
#endif
