#include "heap_profile.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stack_locations.h"

bool heap_profile_init(struct profile_builder *p, int64_t rate, const char *default_sample_type) {
    static const char *const TYPES[][2] = {{"alloc_objects", "count"},
                                           {"alloc_space", "bytes"},
                                           {"inuse_objects", "count"},
                                           {"inuse_space", "bytes"}};
    if (!profile_builder_init(p, 4, TYPES, "space", "bytes", rate))
        return false;
    p->keep_samples_apart = true;
    if (default_sample_type && default_sample_type[0])
        profile_set_default_sample_type(p, default_sample_type);
    return !p->oom;
}

/* a - b wrapping, as Go's int arithmetic does (counts from target memory may be anything) */
static int64_t minus(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

void heap_profile_scale(int64_t count, int64_t size, int64_t rate, int64_t *scaled_count,
                        int64_t *scaled_size) {
    if (count == 0 || size == 0) {
        *scaled_count = *scaled_size = 0;
        return;
    }
    if (rate <= 1) {
        *scaled_count = count;
        *scaled_size = size;
        return;
    }
    double avg = (double)size / (double)count;
    double scale = 1 / (1 - exp(-avg / (double)rate));
    *scaled_count = profile_go_int64((double)count * scale);
    *scaled_size = profile_go_int64((double)size * scale);
}

/* protomem.go: the leading runtime frames are hidden (the first frame of another package and what it called
 * of the runtime stay); when that leaves no location, every frame is shown. */
static size_t bucket_locations(struct profile_builder *p, uint64_t mapping, struct stack_symbols *s,
                               const uint64_t *stk, size_t n, uint64_t *locs, size_t max) {
    size_t from = 0;
    while (from < n && stack_pc_is_runtime(s, stk[from]))
        from++;
    if (from == n)
        from = 0; /* Go's loop finds no other package and keeps the whole stack */
    size_t got = stack_locations(p, mapping, s, stk + from, n - from, locs, max);
    if (got == 0 && from > 0)
        got = stack_locations(p, mapping, s, stk, n, locs, max);
    return got;
}

/* The "bytes" label: the average size of the allocated objects when any were (Go 1.17-1.26), the bucket's
 * object size always from Go 1.27 (protomem.go, "remove redundant fields from memory profile records"). */
static int64_t bytes_label(const struct mem_bucket *b, int minor) {
    if (minor >= 27)
        return (int64_t)b->size;
    if (b->r.allocs <= 0)
        return 0;
    return b->r.alloc_bytes / b->r.allocs; /* allocs > 0: no INT64_MIN / -1 */
}

bool heap_profile_add(struct profile_builder *p, uint64_t mapping, const struct pclntab *pcln,
                      uint64_t load_bias, int minor, const struct mem_buckets *m, int64_t rate) {
    enum { MAX_LOCS = MEM_BUCKET_MAX_DEPTH + STACK_MAX_INLINE };
    uint64_t locs[MAX_LOCS];
    struct stack_symbols syms;
    stack_symbols_init(&syms, pcln, load_bias, minor);
    bool ok = true;
    for (size_t i = 0; i < m->n && ok; i++) {
        const struct mem_bucket *b = &m->b[i];
        size_t nlocs = bucket_locations(p, mapping, &syms, m->pcs + b->stk_at, b->nstk, locs, MAX_LOCS);
        int64_t v[4];
        heap_profile_scale(b->r.allocs, b->r.alloc_bytes, rate, &v[0], &v[1]);
        heap_profile_scale(minus(b->r.allocs, b->r.frees), minus(b->r.alloc_bytes, b->r.free_bytes), rate,
                           &v[2], &v[3]);
        struct profile_label bytes = {"bytes", NULL, bytes_label(b, minor)};
        ok = profile_add_sample(p, locs, nlocs, v, &bytes, bytes.num != 0);
    }
    stack_symbols_free(&syms);
    return ok && !p->oom;
}
