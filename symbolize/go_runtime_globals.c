#include "go_runtime_globals.h"

#include <stdlib.h>
#include <string.h>

#include "x86_rip_refs.h"

enum { MAX_REFS = 512 };

static bool in_data(const struct go_moduledata *md, uint64_t a) {
    return (a >= md->noptrdata && a < md->enoptrdata) || (a >= md->data && a < md->edata) ||
           (a >= md->bss && a < md->ebss) || (a >= md->noptrbss && a < md->enoptrbss);
}

static bool contains(const uint64_t *refs, size_t n, uint64_t a) {
    for (size_t i = 0; i < n; i++)
        if (refs[i] == a)
            return true;
    return false;
}

/* The data addresses a function's code refers to (appended to refs after n of them); the new count. */
static size_t data_refs(const struct go_binary *b, const char *function, uint64_t *refs, size_t n,
                        size_t max) {
    struct go_func fn;
    if (n >= max || !go_binary_find_func(b, function, &fn, NULL))
        return n;
    const uint8_t *code = elf_image_at_vaddr(&b->elf, fn.entry, fn.end - fn.entry);
    if (!code)
        return n;
    size_t got = x86_rip_refs(code, fn.end - fn.entry, fn.entry, refs + n, max - n), kept = n;
    for (size_t i = 0; i < got; i++) {
        uint64_t a = refs[n + i];
        if (in_data(&b->md, a))
            refs[kept++] = a;
    }
    return kept;
}

/* The lowest data address A the function refers to together with A+8 and A+16: a slice header. 0: none. */
static uint64_t lowest_slice_ref(const struct go_binary *b, const char *function) {
    uint64_t refs[MAX_REFS];
    size_t n = data_refs(b, function, refs, 0, MAX_REFS);
    uint64_t best = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = refs[i];
        if ((!best || a < best) && contains(refs, n, a + 8) && contains(refs, n, a + 16))
            best = a;
    }
    return best;
}

static uint64_t symbol(const struct go_binary *b, const char *name) {
    uint64_t value = 0, size = 0;
    return elf_image_find_symbol(&b->elf, name, &value, &size) ? value : 0;
}

int go_runtime_globals_find(const struct go_binary *b, struct go_runtime_globals *out,
                            struct gmon_error *err) {
    memset(out, 0, sizeof(*out));
    out->allgs = symbol(b, "runtime.allgs");
    out->allgs_from = "symbol table";
    if (!out->allgs) {
        out->allgs = lowest_slice_ref(b, "runtime.allgadd");
        out->allgs_from = "code of runtime.allgadd";
    }
    out->allp = symbol(b, "runtime.allp");
    out->allp_from = "symbol table";
    if (!out->allp) {
        out->allp = lowest_slice_ref(b, "runtime.procresize");
        out->allp_from = "code of runtime.procresize";
    }
    if (!out->allgs)
        return gmon_fail(err,
                         "runtime.allgs not found: no symbol table, and runtime.allgadd does not show it");
    return 0;
}

/* Per structure: its symbol, and the runtime functions that touch its fields with RIP-relative operands. */
/* The anchor, when there is one, is a field every candidate base must explain: the lock that the functions
 * take by address (lock(&sched.lock), lea mheap_ before calls to its methods). Without it, a run of
 * consecutive 8-byte fields elsewhere can explain as many fields as the true base. */
static const struct {
    enum state_base base;
    const char *symbol;
    int anchor; /* enum state_field, or -1 */
    const char *functions[8];
    const char *fallback[4]; /* tried when functions give no answer: more functions, more ways to tie */
} STATE_GLOBALS[] = {
    {BASE_SCHED,
     "runtime.sched",
     SCHED_LOCK,
     {"runtime.checkdead", "runtime.mput", "runtime.pidleput", "runtime.globrunqget", "runtime.wakep",
      "runtime.resetspinning", "runtime.mcommoninit", "runtime.stopm"},
     {NULL}},
    {BASE_MSTATS,
     "runtime.memstats",
     HEAP_STATS,
     {"runtime.gcMarkTermination", "runtime.(*mheap).allocSpan", "runtime.(*mheap).freeSpanLocked",
      "runtime.readGCStats_m"},
     {NULL}},
    {BASE_GCCONTROLLER,
     "runtime.gcController",
     GCCONTROLLER_PERCENT,
     {"runtime.gcControllerCommit", "runtime.(*mheap).allocSpan", "runtime.(*mheap).freeSpanLocked",
      "runtime.(*mheap).grow"},
     /* go1.17 keeps the heap's byte counts in memstats: only heapMarked and gcPercent are here. */
     {"runtime.setGCPercent", "runtime.gcStart", "runtime.gcMarkTermination"}},
    {BASE_MHEAP,
     "runtime.mheap_",
     MHEAP_LOCK,
     {"runtime.(*mcentral).grow", "runtime.(*mcache).allocLarge", "runtime.largeAlloc", "runtime.stackalloc",
      "runtime.(*sweepLocked).sweep", "runtime.sweepone", "runtime.gcSweep", "runtime.bgsweep"},
     {NULL}},
};

/* How many different fields of base the layout places at B + offset among refs. */
static int fields_at(const struct state_layout *l, enum state_base base, uint64_t b, const uint64_t *refs,
                     size_t n) {
    int hits = 0;
    for (int f = 0; f < STATE_FIELDS; f++)
        if (state_has(l, f) && l->f[f].base == base && contains(refs, n, b + (uint64_t)l->f[f].offset))
            hits++;
    return hits;
}

/* The bases of structure base that the refs explain, most fields first: each B = ref - offset of one of its
 * fields that explains at least two fields, the anchor among them (out[0..max), their field counts in
 * hits; a full list keeps the best). Returns how many. */
static size_t ranked_bases(const struct state_layout *l, enum state_base base, int anchor,
                           const uint64_t *refs, size_t n, uint64_t *out, int *hits, size_t max) {
    size_t found = 0;
    for (size_t r = 0; r < n; r++) {
        for (int f = 0; f < STATE_FIELDS; f++) {
            if (!state_has(l, f) || l->f[f].base != base || refs[r] < (uint64_t)l->f[f].offset)
                continue;
            uint64_t c = refs[r] - (uint64_t)l->f[f].offset;
            if (anchor >= 0 && state_has(l, anchor) && !contains(refs, n, c + (uint64_t)l->f[anchor].offset))
                continue;
            int h = fields_at(l, base, c, refs, n);
            if (h < 2 || contains(out, found, c) || (found == max && (!max || h <= hits[max - 1])))
                continue;
            size_t at = found < max ? found++ : max - 1; /* insertion, most hits first */
            for (; at > 0 && hits[at - 1] < h; at--) {
                out[at] = out[at - 1];
                hits[at] = hits[at - 1];
            }
            out[at] = c;
            hits[at] = h;
        }
    }
    return found;
}

/* The base that explains the most fields (at least two, the anchor among them; 0 when none or when two
 * bases tie). */
static uint64_t base_from_fields(const struct state_layout *l, enum state_base base, int anchor,
                                 const uint64_t *refs, size_t n) {
    uint64_t best[2];
    int hits[2];
    size_t found = ranked_bases(l, base, anchor, refs, n, best, hits, 2);
    return found == 0 || (found == 2 && hits[0] == hits[1]) ? 0 : best[0];
}

/* Every base that explains the anchor and one more field of base among what its functions (both lists)
 * refer to, most fields first. */
size_t go_state_global_candidates(const struct go_binary *b, const struct state_layout *l,
                                  enum state_base base, uint64_t *out, size_t max) {
    enum { MAX_STATE_REFS = 4096 };
    size_t found = 0, i = 0, n = 0;
    uint64_t *refs = malloc(MAX_STATE_REFS * sizeof(*refs));
    int *hits = calloc(max ? max : 1, sizeof(*hits));
    while (i < sizeof(STATE_GLOBALS) / sizeof(STATE_GLOBALS[0]) && STATE_GLOBALS[i].base != base)
        i++;
    if (refs && hits && i < sizeof(STATE_GLOBALS) / sizeof(STATE_GLOBALS[0])) {
        for (int f = 0; f < 8 && STATE_GLOBALS[i].functions[f]; f++)
            n = data_refs(b, STATE_GLOBALS[i].functions[f], refs, n, MAX_STATE_REFS);
        for (int f = 0; f < 4 && STATE_GLOBALS[i].fallback[f]; f++)
            n = data_refs(b, STATE_GLOBALS[i].fallback[f], refs, n, MAX_STATE_REFS);
        found = ranked_bases(l, base, STATE_GLOBALS[i].anchor, refs, n, out, hits, max);
    }
    free(refs);
    free(hits);
    return found;
}

void go_state_globals_find(const struct go_binary *b, const struct state_layout *l,
                           struct go_state_globals *out) {
    memset(out, 0, sizeof(*out));
    enum { MAX_STATE_REFS = 4096 };
    uint64_t *refs = malloc(MAX_STATE_REFS * sizeof(*refs));
    for (size_t i = 0; i < sizeof(STATE_GLOBALS) / sizeof(STATE_GLOBALS[0]); i++) {
        enum state_base base = STATE_GLOBALS[i].base;
        if ((out->addr[base] = symbol(b, STATE_GLOBALS[i].symbol))) {
            out->from[base] = "symbol table";
            continue;
        }
        size_t n = 0;
        for (int f = 0; refs && f < 8 && STATE_GLOBALS[i].functions[f]; f++)
            n = data_refs(b, STATE_GLOBALS[i].functions[f], refs, n, MAX_STATE_REFS);
        if (!(out->addr[base] = base_from_fields(l, base, STATE_GLOBALS[i].anchor, refs, n))) {
            for (int f = 0; refs && f < 4 && STATE_GLOBALS[i].fallback[f]; f++)
                n = data_refs(b, STATE_GLOBALS[i].fallback[f], refs, n, MAX_STATE_REFS);
            out->addr[base] = base_from_fields(l, base, STATE_GLOBALS[i].anchor, refs, n);
        }
        if (out->addr[base])
            out->from[base] = "code";
    }
    free(refs);
}
