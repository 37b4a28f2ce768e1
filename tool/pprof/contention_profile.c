#include "contention_profile.h"

#include <stdlib.h>

#include "stack_locations.h"

/* debug.profstackdepth's default (runtime1.go, 1.23+): the length of pprof_makeProfStack, which bounds the
 * expanded stack. */
enum { PROF_STACK_DEPTH = 128, MAX_LOCS = BUCKET_MAX_DEPTH + STACK_MAX_INLINE };

bool contention_profile_init(struct profile_builder *p) {
    static const char *const TYPES[][2] = {{"contentions", "count"}, {"delay", "nanoseconds"}};
    if (!profile_builder_init(p, 2, TYPES, "contentions", "count", 1))
        return false;
    p->keep_samples_apart = true; /* one sample per record, as Go writes them */
    return !p->oom;
}

struct contention_rules contention_rules_for(int minor, bool mutex, int64_t mutex_rate,
                                             int64_t ticks_per_second) {
    return (struct contention_rules){minor, ticks_per_second, mutex && minor <= 19 ? mutex_rate : 1};
}

void contention_values(const struct block_bucket *b, const struct contention_rules *r, int64_t values[2]) {
    int64_t count = profile_go_int64(b->count); /* blockProfileInternal: int64(bp.count), 0 made 1 */
    if (count == 0)
        count = 1;
    double ghz = (double)(r->ticks_per_second > 0 ? r->ticks_per_second : 1) / 1e9;
    double ns = (double)b->cycles / ghz;
    if (r->scale != 1) { /* pprof.go scaleMutexProfile (1.17-1.19) */
        count = (int64_t)((uint64_t)count * (uint64_t)r->scale);
        ns = ns * (double)r->scale;
    }
    values[0] = count;
    values[1] = profile_go_int64(ns);
}

/* writeProfileInternal sorts by cycles, most first (sort.Slice, slices.SortFunc: the order of equal ones is
 * unspecified; gmon keeps the list's). */
static int by_cycles(const void *a, const void *b) {
    const struct block_bucket *x = *(const struct block_bucket *const *)a,
                              *y = *(const struct block_bucket *const *)b;
    if (x->cycles != y->cycles)
        return x->cycles > y->cycles ? -1 : 1;
    return x < y ? -1 : x > y;
}

bool contention_profile_add(struct profile_builder *p, uint64_t mapping, const struct pclntab *pcln,
                            uint64_t load_bias, const struct block_buckets *m,
                            const struct contention_rules *r) {
    const struct block_bucket **order = malloc((m->n ? m->n : 1) * sizeof(*order));
    uint64_t *locs = malloc(MAX_LOCS * sizeof(*locs)),
             *expanded = malloc(PROF_STACK_DEPTH * sizeof(*expanded));
    bool ok = order && locs && expanded;
    for (size_t i = 0; ok && i < m->n; i++)
        order[i] = &m->b[i];
    if (ok)
        qsort(order, m->n, sizeof(*order), by_cycles);
    struct stack_symbols syms;
    stack_symbols_init(&syms, pcln, load_bias, r->minor);
    for (size_t i = 0; ok && i < m->n; i++) {
        const struct block_bucket *b = order[i];
        const uint64_t *stk = m->pcs + b->stk_at;
        size_t n = b->nstk;
        if (r->minor >= 23) { /* printCountCycleProfile: expandInlinedFrames */
            n = stack_expand_inlined(&syms, stk, n, expanded, PROF_STACK_DEPTH);
            stk = expanded;
        }
        size_t nlocs = stack_locations(p, mapping, &syms, stk, n, locs, MAX_LOCS);
        int64_t v[2];
        contention_values(b, r, v);
        ok = profile_add_sample(p, locs, nlocs, v, NULL, 0);
    }
    stack_symbols_free(&syms);
    free(order);
    free(locs);
    free(expanded);
    return ok && !p->oom;
}
