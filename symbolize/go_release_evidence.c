#include "go_release_evidence.h"

#include <stdio.h>

/* Runtime functions every binary of a release range links (the runtime itself calls them), so that finding
 * one bounds the release. Only presence counts: a function missing may have been inlined. Checked against the
 * npm corpus of go1.17-go1.27 binaries (tests/test_corpus.cc). */
static const struct {
    const char *function;
    int first_minor, last_minor;
} MARKERS[] = {
    /* The scavenger's reservation, gone with the Go 1.19 scavenger rewrite (mgcscavenge.go). */
    {"runtime.(*pageAlloc).scavengeReserve", 17, 18},
    /* The GC CPU limiter of Go 1.19 (mgclimit.go). */
    {"runtime.(*gcCPULimiterState).update", 19, GO_MINOR_UNBOUNDED},
    /* traceback.go's gentraceback, replaced by the unwinder in Go 1.21. */
    {"runtime.gentraceback", 17, 20},
    {"runtime.(*unwinder).next", 21, GO_MINOR_UNBOUNDED},
    /* The runtime's ChaCha8 generator of Go 1.22 (internal/chacha8rand). */
    {"internal/chacha8rand.block", 22, GO_MINOR_UNBOUNDED},
    /* time.go: runtimer ran the timers of a P until Go 1.23 gave them their own type. */
    {"runtime.runtimer", 17, 22},
    {"runtime.(*timers).run", 23, GO_MINOR_UNBOUNDED},
    /* malloc.go: mallocgc split into allocators by size and kind in Go 1.24 (mallocgcTiny is gone again by
     * 1.27; the large-object one stays). */
    {"runtime.mallocgcLarge", 24, GO_MINOR_UNBOUNDED},
};

static void family_bounds(uint32_t magic, struct go_release_evidence *e) {
    e->min_minor = magic == PCLNTAB_MAGIC_116 ? 16 : magic == PCLNTAB_MAGIC_118 ? 18 : 20;
    e->max_minor = magic == PCLNTAB_MAGIC_116 ? 17 : magic == PCLNTAB_MAGIC_118 ? 19 : GO_MINOR_UNBOUNDED;
    e->min_because[0] = e->max_because[0] = '\0';
}

void go_release_evidence_read(const struct pclntab *t, struct go_release_evidence *out) {
    family_bounds(t->magic, out);
    for (size_t i = 0; i < sizeof(MARKERS) / sizeof(MARKERS[0]); i++) {
        struct go_func fn;
        if (pclntab_funcs_named(t, MARKERS[i].function, &fn, 1) == 0)
            continue;
        if (MARKERS[i].first_minor > out->min_minor) {
            out->min_minor = MARKERS[i].first_minor;
            snprintf(out->min_because, sizeof(out->min_because), "%s", MARKERS[i].function);
        }
        if (MARKERS[i].last_minor < out->max_minor) {
            out->max_minor = MARKERS[i].last_minor;
            snprintf(out->max_because, sizeof(out->max_because), "%s", MARKERS[i].function);
        }
    }
}
