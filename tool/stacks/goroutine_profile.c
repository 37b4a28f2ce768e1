#include "goroutine_profile.h"

#include <string.h>

/* runtime/mprof.go saveg: 32 frames up to 1.22 (StackRecord.Stack0), debug.profstackdepth (128) from 1.23. */
static size_t max_depth(const struct traceback_rules *r) {
    return r->minor >= 23 ? 128 : 32;
}

bool goroutine_profile_add(struct profile_builder *p, uint64_t mapping, const struct goroutine_trace *tr,
                           const struct traceback_rules *r, const struct goroutine_labels *labels) {
    enum { MAX_DEPTH = 128, MAX_LINES = 64 };
    uint64_t locs[MAX_DEPTH];
    size_t nlocs = 0, depth = 0, limit = max_depth(r);
    struct profile_line lines[MAX_LINES];
    size_t nlines = 0;
    uint64_t at_sym = 0; /* where the physical frame of the lines gathered is looked up */
    const char *callee = NULL;
    for (size_t i = 0; i < tr->nall && depth < limit; i++) {
        const struct trace_frame *f = &tr->all[i];
        if (strcmp(f->function, "runtime.goexit") == 0)
            break; /* runtime/pprof's allFrames stops there */
        bool skip = trace_elides_wrapper(r, f->funcid, callee);
        callee = f->function;
        at_sym = f->sym_pc;
        if (!skip && nlines < MAX_LINES) {
            lines[nlines++] = (struct profile_line){f->function, f->file, f->line, f->start_line};
            depth++;
        }
        /* a physical frame's inlined callees come first, the function itself last: one location */
        if (!f->inlined && nlines) {
            locs[nlocs++] = profile_location(p, mapping, at_sym, lines, nlines);
            nlines = 0;
        }
    }
    if (nlines) /* cut inside a physical frame */
        locs[nlocs++] = profile_location(p, mapping, at_sym, lines, nlines);
    struct profile_label pl[GOROUTINE_LABELS_MAX];
    size_t npl = 0;
    for (size_t i = 0; labels && !labels->problem && i < labels->n; i++)
        pl[npl++] = (struct profile_label){labels->key[i], labels->value[i], 0};
    int64_t one = 1;
    return profile_add_sample(p, locs, nlocs, &one, pl, npl);
}
