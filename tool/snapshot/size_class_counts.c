#include "size_class_counts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { READ_ATTEMPTS = 5 };

int size_class_reader_open(struct size_class_reader *r, int pid, const char *bin, struct gmon_error *err) {
    memset(r, 0, sizeof(*r));
    if (!(r->snap = snapshot_open_runtime(pid, bin, &r->classes, err)))
        return -1;
    if (!r->classes.n)
        return gmon_fail(err, "no size class table for %s, and none found in the binary",
                         r->snap->t.bin.version_string);
    return 0;
}

static bool cached_adjust(struct size_class_reader *r, int64_t *adjust, uint64_t *signature,
                          uint64_t *bytes) {
    uint64_t mcaches[STATE_MAX_P];
    int n = r->snap->state.np;
    for (int i = 0; i < n; i++)
        mcaches[i] = r->snap->state.ps[i].mcache;
    return runtime_metrics_cached_adjust(&r->snap->state, &r->snap->t, mcaches, n, adjust, (int)r->classes.n,
                                         signature, bytes);
}

/* The mcaches' spans before and after the counts: when a P cached or released a span meanwhile, the counts
 * may or may not hold that span's allocations: the read is taken again. Else the adjustment after is right
 * (it holds the allocations made since the counts were read, too). */
bool size_class_reader_read(struct size_class_reader *r, struct size_class_counts *out) {
    static struct runtime_metrics m; /* large: not on the stack */
    struct gmon_error err;
    int64_t before[GO_SIZE_CLASSES_MAX], after[GO_SIZE_CLASSES_MAX];
    uint64_t bytes = 0, sig_before, sig_after;
    memset(out, 0, sizeof(*out));
    for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        if (snapshot_take(r->snap, false, &err) != 0) {
            snprintf(r->why_not, sizeof(r->why_not), "%s", err.msg);
            return false;
        }
        if (!cached_adjust(r, before, &sig_before, &bytes)) {
            out->retries++;
            continue;
        }
        runtime_metrics_read_heap(&m, &r->snap->state, &r->snap->t, &r->classes, &bytes);
        if (!m.have_heap) {
            snprintf(r->why_not, sizeof(r->why_not), "%s", m.why_not);
            return false;
        }
        if (!cached_adjust(r, after, &sig_after, &bytes) || sig_after != sig_before) {
            out->retries++;
            continue;
        }
        for (size_t c = 1; c < r->classes.n && (int)c < m.heap.nclasses; c++) {
            int64_t made = (int64_t)(m.heap.small_allocs[c] + (uint64_t)after[c]);
            out->count[c] = made > 0 ? (uint64_t)made : 0;
            out->bytes[c] = out->count[c] * r->classes.size[c];
        }
        out->count[0] = m.heap.large_allocs;
        out->bytes[0] = m.heap.large_alloc;
        out->tiny = m.heap.tiny_allocs;
        return true;
    }
    snprintf(r->why_not, sizeof(r->why_not), "the Ps' mcaches kept changing under the read (%d tries)",
             READ_ATTEMPTS);
    return false;
}

void size_class_reader_close(struct size_class_reader *r) {
    snapshot_free(r->snap);
    r->snap = NULL;
}
