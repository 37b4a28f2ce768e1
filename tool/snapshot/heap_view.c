#include "heap_view.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proc_target.h"

enum { SPAN_CHUNK = 4096, SPAN_EXTENT_MAX = 256 };

/* The mspan fields gmon reads, in the order of struct span_read. */
static const enum state_field SPAN_FIELDS[] = {MSPAN_NPAGES,     MSPAN_NELEMS,   MSPAN_ELEMSIZE,
                                               MSPAN_ALLOCCOUNT, MSPAN_SWEEPGEN, MSPAN_SPANCLASS,
                                               MSPAN_STATE};
enum { NSPAN_FIELDS = sizeof(SPAN_FIELDS) / sizeof(SPAN_FIELDS[0]) };

/* Where the fields gmon reads lie in an mspan: [*lo, *lo + *len). False when the layout lacks one. */
static bool span_extent(const struct state_layout *l, int *lo, int *len) {
    int hi = 0;
    *lo = 1 << 30;
    for (int i = 0; i < NSPAN_FIELDS; i++) {
        const struct state_offset *o = &l->f[SPAN_FIELDS[i]];
        if (o->offset < 0 || o->size <= 0 || o->size > 8)
            return false;
        *lo = o->offset < *lo ? o->offset : *lo;
        hi = o->offset + o->size > hi ? o->offset + o->size : hi;
    }
    *len = hi - *lo;
    return *len <= SPAN_EXTENT_MAX;
}

static uint64_t little_endian(const uint8_t *p, int size) {
    uint64_t v = 0;
    for (int i = size - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void decode_span(const struct state_layout *l, const uint8_t *buf, int lo, struct span_read *out) {
    uint64_t v[NSPAN_FIELDS];
    for (int i = 0; i < NSPAN_FIELDS; i++) {
        const struct state_offset *o = &l->f[SPAN_FIELDS[i]];
        v[i] = little_endian(buf + (o->offset - lo), o->size);
    }
    *out = (struct span_read){v[0], v[1], v[2], (uint32_t)v[3], (uint32_t)v[4], (uint8_t)v[5], (uint8_t)v[6]};
}

uint32_t heap_class_size(const struct heap_view *h, int size_class) {
    return size_class > 0 && (size_t)size_class < h->classes.n ? h->classes.size[size_class] : 0;
}

/* An in-use span whose fields agree with each other and with the size classes; anything else was read while
 * the runtime was changing it. */
static bool span_consistent(const struct heap_view *h, const struct span_read *s) {
    int size_class = s->spanclass >> 1;
    if (s->npages == 0 || s->npages > (uint64_t)1 << 40 || s->alloc_count > s->nelems)
        return false;
    if (h->classes.n && (size_t)size_class >= h->classes.n)
        return false;
    if (size_class == 0)
        return s->nelems == 1 && s->elemsize == s->npages * PAGE_SIZE_GO;
    uint32_t size = heap_class_size(h, size_class);
    return s->elemsize && (!size || s->elemsize == size) &&
           s->nelems * s->elemsize <= s->npages * PAGE_SIZE_GO;
}

/* Adds one span of allspans to the view. */
static void add_span(struct heap_view *h, const struct span_read *s) {
    if (s->state == SPAN_DEAD) {
        h->dead_spans++;
        return;
    }
    if (s->state == SPAN_MANUAL && s->npages) {
        h->manual_spans++;
        h->manual_pages += s->npages;
        return;
    }
    if (s->state != SPAN_IN_USE || !span_consistent(h, s)) {
        h->unreadable_spans++;
        return;
    }
    struct span_use *u = &h->by_class[s->spanclass >> 1];
    uint32_t age = h->sweepgen - s->sweepgen; /* mgcsweep.go: 2 unswept, 1 being swept, -1 cached unswept */
    h->in_use_spans++;
    u->spans++;
    u->pages += s->npages;
    u->slots += s->nelems;
    u->allocated += s->alloc_count;
    u->unswept += age == 2 || age == 1 || age == (uint32_t)-1;
    h->sweeping += age == 1;
}

/* Reads n spans at the addresses in ptrs (one system call per SPAN_CHUNK) into out; ok says which. */
static void read_spans(const struct runtime_state *st, const struct target *t, const uint64_t *ptrs, size_t n,
                       struct span_read *out, bool *ok, uint64_t *bytes) {
    int lo, len;
    if (!span_extent(&st->layout, &lo, &len)) {
        memset(ok, 0, n * sizeof(*ok));
        return;
    }
    uint8_t *buf = malloc((n ? n : 1) * (size_t)len);
    uint64_t *addrs = malloc((n ? n : 1) * sizeof(*addrs));
    if (!buf || !addrs) {
        memset(ok, 0, n * sizeof(*ok));
        n = 0;
    }
    for (size_t i = 0; i < n; i++)
        addrs[i] = ptrs[i] ? ptrs[i] + (uint64_t)lo : 0;
    *bytes += n * (uint64_t)len;
    if (n)
        proc_read_blocks(t->pid, addrs, n, (size_t)len, buf, ok);
    for (size_t i = 0; i < n; i++)
        if ((ok[i] = ok[i] && ptrs[i]))
            decode_span(&st->layout, buf + i * (size_t)len, lo, &out[i]);
    free(buf);
    free(addrs);
}

/* mheap_.allspans, SPAN_CHUNK pointers at a time. */
static void read_all_spans(struct heap_view *h, const struct runtime_state *st, const struct target *t,
                           uint64_t *bytes) {
    uint64_t slice[3] = {0};
    uint64_t mheap = st->globals.addr[BASE_MHEAP] + t->load_bias;
    const struct state_offset *o = &st->layout.f[MHEAP_ALLSPANS];
    if (o->offset < 0 || o->size != 24 || !proc_read(t->pid, mheap + (uint64_t)o->offset, slice, 24) ||
        (slice[1] && !slice[0])) {
        snprintf(h->why_not, sizeof(h->why_not), "mheap_.allspans is not readable or not a slice of spans");
        return;
    }
    /* The runtime appends under its lock, so len <= cap; the length is checked before it sizes any read. */
    if (slice[1] > slice[2] || slice[1] > HEAP_MAX_SPANS) {
        snprintf(h->why_not, sizeof(h->why_not),
                 "mheap_.allspans has an implausible length %" PRIu64 " (cap %" PRIu64
                 "; gmon reads at most %d)",
                 slice[1], slice[2], HEAP_MAX_SPANS);
        return;
    }
    *bytes += 24;
    uint64_t *ptrs = malloc(SPAN_CHUNK * sizeof(*ptrs));
    struct span_read *spans = malloc(SPAN_CHUNK * sizeof(*spans));
    bool *ok = malloc(SPAN_CHUNK * sizeof(*ok));
    h->all_spans = slice[1];
    h->have_spans = ptrs && spans && ok;
    for (uint64_t base = 0; h->have_spans && base < slice[1]; base += SPAN_CHUNK) {
        size_t n = slice[1] - base < SPAN_CHUNK ? (size_t)(slice[1] - base) : SPAN_CHUNK;
        *bytes += n * 8;
        if (!proc_read(t->pid, slice[0] + base * 8, ptrs, n * 8)) {
            h->unreadable_spans += n; /* the runtime grew allspans meanwhile and freed the old array */
            continue;
        }
        read_spans(st, t, ptrs, n, spans, ok, bytes);
        for (size_t i = 0; i < n; i++) {
            if (ok[i])
                add_span(h, &spans[i]);
            else
                h->unreadable_spans++;
        }
    }
    free(ptrs);
    free(spans);
    free(ok);
}

/* One P's mcache: its counters and the spans in alloc[] (not runtime.emptymspan, which has no pages). */
static bool read_mcache(struct heap_view *h, const struct runtime_state *st, const struct target *t,
                        uint64_t mcache, struct mcache_view *out, uint64_t *bytes) {
    const struct state_offset *alloc = &st->layout.f[MCACHE_ALLOC];
    uint64_t v, ptrs[HEAP_SPAN_CLASSES];
    struct span_read spans[HEAP_SPAN_CLASSES];
    bool ok[HEAP_SPAN_CLASSES];
    size_t n = alloc->size > 0 ? (size_t)alloc->size / 8 : 0;
    memset(out, 0, sizeof(*out));
    if (!mcache || !n || n > HEAP_SPAN_CLASSES || alloc->offset < 0 ||
        !runtime_state_field(st, t, mcache, MCACHE_FLUSHGEN, &v, bytes))
        return false;
    out->flush_gen = (uint32_t)v;
    runtime_state_field(st, t, mcache, MCACHE_TINY_ALLOCS, &out->tiny_allocs, bytes);
    runtime_state_field(st, t, mcache, MCACHE_TINYOFFSET, &out->tiny_offset, bytes);
    *bytes += n * 8;
    if (!proc_read(t->pid, mcache + (uint64_t)alloc->offset, ptrs, n * 8))
        return false;
    read_spans(st, t, ptrs, n, spans, ok, bytes);
    for (size_t spc = 0; spc < n; spc++) {
        if (!ok[spc] || spans[spc].npages == 0 || spans[spc].state != SPAN_IN_USE ||
            !span_consistent(h, &spans[spc]))
            continue;
        out->spans[out->nspans].spanclass = (uint8_t)spc;
        out->spans[out->nspans++].span = spans[spc];
        h->by_class[spc >> 1].cached++;
    }
    return out->have = true;
}

static void read_mcaches(struct heap_view *h, const struct runtime_state *st, const struct target *t,
                         uint64_t *bytes) {
    h->mcaches = st->have_ps && st->np ? calloc((size_t)st->np, sizeof(*h->mcaches)) : NULL;
    if (!h->mcaches)
        return;
    h->np = st->np;
    for (int i = 0; i < st->np; i++)
        h->have_mcaches |= read_mcache(h, st, t, st->ps[i].mcache, &h->mcaches[i], bytes);
}

void heap_view_init(struct heap_view *h, const struct target *t) {
    memset(h, 0, sizeof(*h));
    if (go_size_classes_choose(&t->bin.elf, &t->bin.version, &h->classes, &h->classes_disagree) != 0)
        h->classes.n = 0;
}

/* Reads mheap_'s pages and spans once; says whether the sweep generation held while the spans were read. */
static void read_heap_once(struct heap_view *h, const struct runtime_state *st, const struct target *t,
                           uint64_t *bytes) {
    /* Every figure is read afresh; only what heap_view_init found (the size classes) is kept. */
    struct go_size_classes classes = h->classes;
    bool classes_disagree = h->classes_disagree;
    heap_view_free(h);
    memset(h, 0, sizeof(*h));
    h->classes = classes;
    h->classes_disagree = classes_disagree;
    uint64_t sweepgen = 0, in_use = 0, swept = 0; /* a failed read leaves them as they are */
    if (st->why_not[0] || !st->globals.addr[BASE_MHEAP]) {
        snprintf(h->why_not, sizeof(h->why_not), "%s",
                 st->why_not[0] ? st->why_not : "runtime.mheap_ was not found in this binary");
        return;
    }
    h->have_pages = runtime_state_global(st, t, MHEAP_SWEEPGEN, &sweepgen, bytes) &&
                    runtime_state_global(st, t, MHEAP_PAGES_INUSE, &in_use, bytes) &&
                    runtime_state_global(st, t, MHEAP_PAGES_SWEPT, &swept, bytes) && sweepgen % 2 == 0;
    h->sweepgen = (uint32_t)sweepgen;
    h->pages_in_use = in_use;
    h->pages_swept = swept;
    if (!h->have_pages) /* a span's sweep state is relative to the heap's generation */
        return;
    read_all_spans(h, st, t, bytes);
    uint64_t after = sweepgen;
    if (h->have_spans && runtime_state_global(st, t, MHEAP_SWEEPGEN, &after, bytes)) {
        h->sweepgen_after = (uint32_t)after;
        h->sweep_moved = h->sweepgen_after != h->sweepgen;
    }
}

/* A GC cycle that begins while the spans are read (mgc.go, gcStart: mheap_.sweepgen += 2) makes their sweep
 * states incomparable; a slow read on a GC-heavy program meets one often, so the spans are read again
 * (HEAP_READ_ATTEMPTS times at most). */

void heap_view_read(struct heap_view *h, const struct runtime_state *st, const struct target *t,
                    uint64_t *bytes) {
    for (int attempt = 1;; attempt++) {
        read_heap_once(h, st, t, bytes);
        if (!h->sweep_moved || attempt == HEAP_READ_ATTEMPTS)
            break;
    }
    read_mcaches(h, st, t, bytes);
}

void heap_view_free(struct heap_view *h) {
    free(h->mcaches);
    h->mcaches = NULL;
    h->np = 0;
}
