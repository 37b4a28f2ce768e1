#include "goroutine_labels.h"

#include <stdlib.h>
#include <string.h>

#include "proc_target.h"

/* runtime/map.go (Go 1.17-1.23): hmap {count int; flags, B uint8; noverflow uint16; hash0 uint32; buckets,
 * oldbuckets unsafe.Pointer; ...}; a map[string]string bucket {tophash [8]uint8; keys [8]string;
 * elems [8]string; overflow *bmap}. Slots with tophash < minTopHash (5) are empty or evacuated. */
enum {
    HMAP_COUNT = 0,
    HMAP_B = 9,
    HMAP_BUCKETS = 16,
    HMAP_OLDBUCKETS = 24,
    BUCKET_SLOTS = 8,
    BUCKET_KEYS = 8,
    BUCKET_ELEMS = 8 + 8 * 16,
    BUCKET_OVERFLOW = 8 + 16 * 16,
    BUCKET_SIZE = BUCKET_OVERFLOW + 8,
    MIN_TOP_HASH = 5,
    MAX_BUCKETS = 64, /* a label map of GOROUTINE_LABELS_MAX entries has 8 at most */
};

static bool read_string(labels_read_fn read, void *ctx, const uint8_t *header, char *out) {
    uint64_t ptr, len;
    memcpy(&ptr, header, 8);
    memcpy(&len, header + 8, 8);
    if (len >= GOROUTINE_LABEL_MAX_TEXT || (len && !read(ctx, ptr, out, len)))
        return false;
    out[len] = '\0';
    return true;
}

static bool add(struct goroutine_labels *out, labels_read_fn read, void *ctx, const uint8_t *key,
                const uint8_t *value) {
    if (out->n == GOROUTINE_LABELS_MAX) {
        out->problem = "more labels than gmon reads";
        return false;
    }
    if (!read_string(read, ctx, key, out->key[out->n]) ||
        !read_string(read, ctx, value, out->value[out->n])) {
        out->problem = "a label's text cannot be read";
        return false;
    }
    out->n++;
    return true;
}

static void read_map(uint64_t hmap, labels_read_fn read, void *ctx, struct goroutine_labels *out) {
    uint8_t h[32];
    if (!hmap)
        return; /* a nil map: no labels */
    if (!read(ctx, hmap, h, sizeof(h))) {
        out->problem = "the label map cannot be read";
        return;
    }
    uint64_t count, buckets, old;
    memcpy(&count, h + HMAP_COUNT, 8);
    memcpy(&buckets, h + HMAP_BUCKETS, 8);
    memcpy(&old, h + HMAP_OLDBUCKETS, 8);
    uint8_t b = h[HMAP_B];
    if (old) {
        out->problem = "the label map is being grown";
        return;
    }
    if (count > GOROUTINE_LABELS_MAX || b > 6) {
        out->problem = "the label map is larger than labels ever are";
        return;
    }
    size_t visited = 0;
    for (uint64_t i = 0; i < (1ull << b); i++) {
        uint64_t at = buckets + i * BUCKET_SIZE;
        while (at) {
            uint8_t bucket[BUCKET_SIZE];
            if (++visited > MAX_BUCKETS || !read(ctx, at, bucket, sizeof(bucket))) {
                out->problem = "a bucket of the label map cannot be read";
                return;
            }
            for (int s = 0; s < BUCKET_SLOTS; s++)
                if (bucket[s] >= MIN_TOP_HASH &&
                    !add(out, read, ctx, bucket + BUCKET_KEYS + 16 * s, bucket + BUCKET_ELEMS + 16 * s))
                    return;
            memcpy(&at, bucket + BUCKET_OVERFLOW, 8);
        }
    }
    if (out->n != count)
        out->problem = "the label map changed while it was read";
}

/* Go 1.24+: labelMap{LabelSet{list []label}} (1.27: label.Set{List []label.Label}): the same words. */
static void read_list(uint64_t set, labels_read_fn read, void *ctx, struct goroutine_labels *out) {
    uint64_t slice[3];
    if (!read(ctx, set, slice, sizeof(slice))) {
        out->problem = "the label list cannot be read";
        return;
    }
    if (slice[1] > GOROUTINE_LABELS_MAX || slice[1] > slice[2]) {
        out->problem = "the label list is longer than labels ever are";
        return;
    }
    for (uint64_t i = 0; i < slice[1]; i++) {
        uint8_t kv[32];
        if (!read(ctx, slice[0] + i * 32, kv, sizeof(kv))) {
            out->problem = "the label list cannot be read";
            return;
        }
        if (!add(out, read, ctx, kv, kv + 16))
            return;
    }
}

static int by_key(const void *a, const void *b) {
    return strcmp(a, b);
}

void goroutine_labels_read_process(uint64_t labels_ptr, int minor, int pid, struct goroutine_labels *out) {
    goroutine_labels_read(labels_ptr, minor, proc_read_callback, &pid, out);
}

void goroutine_labels_read(uint64_t labels_ptr, int minor, labels_read_fn read, void *ctx,
                           struct goroutine_labels *out) {
    out->n = 0;
    out->problem = NULL;
    if (!labels_ptr)
        return;
    if (minor >= 24) {
        read_list(labels_ptr, read, ctx, out);
    } else {
        uint64_t hmap;
        if (!read(ctx, labels_ptr, &hmap, 8))
            out->problem = "the label map cannot be read";
        else
            read_map(hmap, read, ctx, out);
    }
    if (out->problem) {
        out->n = 0;
        return;
    }
    /* sort the pairs by key: a permutation of indexes, then apply */
    struct goroutine_labels sorted = {.n = out->n};
    int order[GOROUTINE_LABELS_MAX];
    for (size_t i = 0; i < out->n; i++)
        order[i] = (int)i;
    for (size_t i = 1; i < out->n; i++)
        for (size_t j = i; j > 0 && by_key(out->key[order[j - 1]], out->key[order[j]]) > 0; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < out->n; i++) {
        memcpy(sorted.key[i], out->key[order[i]], GOROUTINE_LABEL_MAX_TEXT);
        memcpy(sorted.value[i], out->value[order[i]], GOROUTINE_LABEL_MAX_TEXT);
    }
    memcpy(out->key, sorted.key, sizeof(out->key));
    memcpy(out->value, sorted.value, sizeof(out->value));
}
