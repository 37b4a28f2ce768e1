/* FNV-1a, the hash of gmon's tables in memory (count_table, profile_builder, stack_groups): short keys, no
 * setup, good enough spread for open addressing with linear probing. (The BPF programs hash their stacks
 * with the same constants, a word at a time.) */
#ifndef GMON_FNV1A_H
#define GMON_FNV1A_H
#include <stddef.h>
#include <stdint.h>

#define FNV1A_OFFSET 0xcbf29ce484222325ULL
#define FNV1A_PRIME  0x100000001b3ULL

static inline uint64_t fnv1a(const void *data, size_t len) {
    const uint8_t *p = (const uint8_t *)data;
    uint64_t h = FNV1A_OFFSET;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * FNV1A_PRIME;
    return h;
}

/* The same over a NUL-terminated string (its bytes, not the NUL). */
static inline uint64_t fnv1a_text(const char *s) {
    uint64_t h = FNV1A_OFFSET;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * FNV1A_PRIME;
    return h;
}

#endif
