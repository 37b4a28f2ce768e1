#include "grow_array.h"

#include <stdlib.h>

void *grow_array(void *items, size_t *cap, size_t used, size_t elem_size, size_t first_cap) {
    if (used < *cap)
        return items;
    size_t grown_cap = *cap ? *cap * 2 : first_cap;
    while (grown_cap <= used) /* a caller making room for many at once */
        grown_cap *= 2;
    void *grown = realloc(items, grown_cap * elem_size);
    if (grown)
        *cap = grown_cap;
    return grown;
}

bool grow_array_reserve(void **items, size_t *cap, size_t need, size_t elem_size) {
    void *grown = grow_array(*items, cap, need ? need - 1 : 0, elem_size, 256);
    if (!grown)
        return false;
    *items = grown;
    return true;
}
