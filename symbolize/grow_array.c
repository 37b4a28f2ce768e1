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
