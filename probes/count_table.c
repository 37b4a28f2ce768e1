#include "count_table.h"

#include <stdlib.h>
#include <string.h>

#include "fnv1a.h"

enum { FLAG_BYTES = 8, FIRST_CAP = 64 };

static size_t round8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

void count_table_init(struct count_table *t, size_t key_size, size_t ncounts) {
    memset(t, 0, sizeof(*t));
    t->key_size = key_size;
    t->ncounts = ncounts;
    t->slot_size = FLAG_BYTES + round8(key_size) + ncounts * sizeof(uint64_t);
}

static uint8_t *slot_at(const struct count_table *t, size_t i) {
    return t->slots + i * t->slot_size;
}

static bool slot_used(const uint8_t *slot) {
    return slot[0] != 0;
}

static uint8_t *slot_key(uint8_t *slot) {
    return slot + FLAG_BYTES;
}

static uint64_t *slot_counts(const struct count_table *t, uint8_t *slot) {
    return (uint64_t *)(void *)(slot + FLAG_BYTES + round8(t->key_size));
}

/* The slot holding key, or the empty one where it would go (linear probing; the table is never full). */
static uint8_t *probe(const struct count_table *t, const void *key) {
    size_t mask = t->cap - 1;
    for (size_t i = fnv1a(key, t->key_size) & mask;; i = (i + 1) & mask) {
        uint8_t *slot = slot_at(t, i);
        if (!slot_used(slot) || memcmp(slot_key(slot), key, t->key_size) == 0)
            return slot;
    }
}

/* Rebuilds the table with cap slots, keeping the rows doomed does not pick (doomed NULL: all). */
static int rebuild(struct count_table *t, size_t cap,
                   bool (*doomed)(const void *key, const void *counts, const void *ctx), const void *ctx) {
    uint8_t *slots = calloc(cap, t->slot_size);
    if (!slots)
        return -1;
    struct count_table old = *t;
    t->slots = slots;
    t->cap = cap;
    t->used = 0;
    for (size_t i = 0; i < old.cap; i++) {
        uint8_t *from = slot_at(&old, i);
        if (!slot_used(from) || (doomed && doomed(slot_key(from), slot_counts(&old, from), ctx)))
            continue;
        memcpy(probe(t, slot_key(from)), from, t->slot_size);
        t->used++;
    }
    free(old.slots);
    return 0;
}

int count_table_add(struct count_table *t, const void *key, const uint64_t *counts) {
    /* At most half full: probes stay short. */
    if ((t->used + 1) * 2 > t->cap && rebuild(t, t->cap ? t->cap * 2 : FIRST_CAP, NULL, NULL) != 0)
        return -1;
    uint8_t *slot = probe(t, key);
    if (!slot_used(slot)) {
        slot[0] = 1;
        memcpy(slot_key(slot), key, t->key_size);
        t->used++;
    }
    uint64_t *row = slot_counts(t, slot);
    for (size_t i = 0; i < t->ncounts; i++)
        row[i] += counts[i];
    return 0;
}

const uint64_t *count_table_find(const struct count_table *t, const void *key) {
    if (!t->cap)
        return NULL;
    uint8_t *slot = probe(t, key);
    return slot_used(slot) ? slot_counts(t, slot) : NULL;
}

void count_table_for_each(const struct count_table *t, count_row_fn fn, void *ctx) {
    for (size_t i = 0; i < t->cap; i++) {
        uint8_t *slot = slot_at(t, i);
        if (slot_used(slot))
            fn(ctx, slot_key(slot), slot_counts(t, slot));
    }
}

void count_table_remove_if(struct count_table *t,
                           bool (*doomed)(const void *key, const void *counts, const void *ctx),
                           const void *ctx) {
    if (!t->cap || rebuild(t, t->cap, doomed, ctx) == 0)
        return;
    /* No memory for the new table: the doomed rows stay, emptied, so that they add nothing. */
    for (size_t i = 0; i < t->cap; i++) {
        uint8_t *slot = slot_at(t, i);
        if (slot_used(slot) && doomed(slot_key(slot), slot_counts(t, slot), ctx))
            memset(slot_counts(t, slot), 0, t->ncounts * sizeof(uint64_t));
    }
}

void count_table_free(struct count_table *t) {
    free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}
