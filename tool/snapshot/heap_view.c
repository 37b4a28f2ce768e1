#include "heap_view.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"
#include "proc_target.h"
#include "table_text.h"

enum { PAGE_SIZE_GO = 8192, SPAN_CHUNK = 4096, SPAN_EXTENT_MAX = 256 };

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
 * states incomparable; a slow read on a GC-heavy program meets one often, so the spans are read again. */
enum { HEAP_READ_ATTEMPTS = 3 };

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

static void print_sweep(const struct heap_view *h, FILE *out) {
    uint64_t unswept = 0;
    for (int c = 0; c < GO_SIZE_CLASSES_MAX; c++)
        unswept += h->by_class[c].unswept;
    fprintf(out, "sweep:      generation %" PRIu32 " (GC cycle %" PRIu32 "): ", h->sweepgen, h->sweepgen / 2);
    if (!h->have_spans)
        fprintf(out, "? (%s)\n", h->why_not);
    else if (h->sweep_moved)
        fprintf(out, "? (GC cycle %" PRIu32 " began while gmon read the spans, %d times in a row)\n",
                h->sweepgen_after / 2, HEAP_READ_ATTEMPTS);
    else if (!unswept)
        fprintf(out, "done, every in-use span swept\n");
    else
        fprintf(out, "%" PRIu64 " in-use spans left to sweep (%" PRIu64 " being swept now)\n", unswept,
                h->sweeping);
}

static void print_spans(const struct heap_view *h, const struct runtime_state *st, FILE *out) {
    char pages[32], large[32], freed[32];
    bytes_text(h->pages_in_use * PAGE_SIZE_GO, pages, sizeof(pages));
    fprintf(out, "pages:      %" PRIu64 " in use (%s), %" PRIu64 " swept this cycle\n", h->pages_in_use,
            pages, h->pages_swept);
    print_sweep(h, out);
    if (h->have_spans) {
        fprintf(out,
                "spans:      %" PRIu64 " in allspans: %" PRIu64 " in use, %" PRIu64
                " manual (goroutine stacks and "
                "other runtime memory, %" PRIu64 " pages), %" PRIu64 " free",
                h->all_spans, h->in_use_spans, h->manual_spans, h->manual_pages, h->dead_spans);
        if (h->unreadable_spans)
            fprintf(out, "; %" PRIu64 " changed while read, skipped", h->unreadable_spans);
        fputc('\n', out);
    }
    if (st->have_objects) {
        bytes_text(st->large_alloc, large, sizeof(large));
        bytes_text(st->large_free, freed, sizeof(freed));
        fprintf(out, "large:      %" PRIu64 " objects over 32KiB allocated (%s), %" PRIu64 " freed (%s)",
                st->large_allocs, large, st->large_frees, freed);
        if (h->have_spans)
            fprintf(out, "; %" PRIu64 " spans of large objects in use (%" PRIu64 " pages)",
                    h->by_class[0].spans, h->by_class[0].pages);
        fputc('\n', out);
    }
}

static void print_mcaches(const struct heap_view *h, FILE *out) {
    for (int i = 0; i < h->np; i++) {
        const struct mcache_view *m = &h->mcaches[i];
        if (!m->have)
            continue;
        fprintf(out,
                "P%-3d mcache flushGen %" PRIu32 " (%s), %" PRIu64 " tiny allocations, tiny block %" PRIu64
                "/16 bytes used, %d spans held\n",
                i, m->flush_gen,
                m->flush_gen == h->sweepgen ? "flushed this cycle" : "not yet flushed this cycle",
                m->tiny_allocs, m->tiny_offset, m->nspans);
    }
}

static void print_class_row(const struct heap_view *h, int c, FILE *out) {
    const struct span_use *u = &h->by_class[c];
    char size[32] = "large", in_use[32], used[16] = "-", unswept[24] = "?";
    uint64_t bytes = c ? u->allocated * heap_class_size(h, c) : u->pages * PAGE_SIZE_GO;
    if (c)
        bytes_text(heap_class_size(h, c), size, sizeof(size));
    bytes_text(bytes, in_use, sizeof(in_use));
    if (u->slots)
        snprintf(used, sizeof(used), "%" PRIu64 "%%", u->allocated * 100 / u->slots);
    if (!h->sweep_moved)
        snprintf(unswept, sizeof(unswept), "%" PRIu64, u->unswept);
    fprintf(out, "%-5d %-9s %7" PRIu64 " %7" PRIu64 " %9" PRIu64 " %9" PRIu64 " %5s %10s %7s %6" PRIu64 "\n",
            c, size, u->spans, u->pages, u->allocated, u->slots, used, in_use, unswept, u->cached);
}

void heap_view_print(const struct heap_view *h, const struct runtime_state *st, FILE *out) {
    if (!h->have_pages) {
        fprintf(out, "pages:      ? (%s)\n",
                h->why_not[0] ? h->why_not
                              : "mheap_'s fields were not readable (see gmon info --state-layout)");
        return;
    }
    print_spans(h, st, out);
    print_mcaches(h, out);
    if (!h->have_spans)
        return;
    if (h->classes_disagree)
        fprintf(
            out,
            "(the binary's size classes differ from gmon's table of its release: the binary's are used)\n");
    fprintf(out, "\n%-5s %-9s %7s %7s %9s %9s %5s %10s %7s %6s\n", "CLASS", "SIZE", "SPANS", "PAGES",
            "OBJECTS", "SLOTS", "USED", "IN USE", "UNSWEPT", "CACHED");
    for (int c = 1; c < GO_SIZE_CLASSES_MAX; c++)
        if (h->by_class[c].spans)
            print_class_row(h, c, out);
    if (h->by_class[0].spans)
        print_class_row(h, 0, out);
}

static void json_class(const struct heap_view *h, int c, struct json_writer *w) {
    const struct span_use *u = &h->by_class[c];
    json_begin_object(w);
    json_member_uint(w, "class", (uint64_t)c);
    json_member_uint(w, "object_size", heap_class_size(h, c));
    json_member_uint(w, "spans", u->spans);
    json_member_uint(w, "pages", u->pages);
    json_member_uint(w, "objects", u->allocated);
    json_member_uint(w, "slots", u->slots);
    json_member_uint(w, "bytes", c ? u->allocated * heap_class_size(h, c) : u->pages * PAGE_SIZE_GO);
    json_key(w, "unswept_spans");
    if (h->sweep_moved)
        json_null(w);
    else
        json_uint(w, u->unswept);
    json_member_uint(w, "cached_spans", u->cached);
    json_end_object(w);
}

static void json_spans(const struct heap_view *h, struct json_writer *w) {
    json_key(w, "spans");
    if (!h->have_spans) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_member_uint(w, "all", h->all_spans);
    json_member_uint(w, "in_use", h->in_use_spans);
    json_member_uint(w, "manual", h->manual_spans);
    json_member_uint(w, "manual_pages", h->manual_pages);
    json_member_uint(w, "free", h->dead_spans);
    json_member_uint(w, "unreadable", h->unreadable_spans);
    json_key(w, "being_swept");
    if (h->sweep_moved)
        json_null(w);
    else
        json_uint(w, h->sweeping);
    json_key(w, "sweep_state_known");
    json_bool(w, !h->sweep_moved);
    json_end_object(w);
    json_key(w, "size_classes");
    json_begin_array(w);
    for (int c = 0; c < GO_SIZE_CLASSES_MAX; c++)
        if (h->by_class[c].spans)
            json_class(h, c, w);
    json_end_array(w);
}

static void json_mcache(const struct heap_view *h, int p, struct json_writer *w) {
    const struct mcache_view *m = &h->mcaches[p];
    json_begin_object(w);
    json_member_uint(w, "p", (uint64_t)p);
    json_member_uint(w, "flush_gen", m->flush_gen);
    json_member_uint(w, "tiny_allocs", m->tiny_allocs);
    json_member_uint(w, "tiny_offset", m->tiny_offset);
    json_key(w, "spans");
    json_begin_array(w);
    for (int i = 0; i < m->nspans; i++) {
        const struct span_read *s = &m->spans[i].span;
        json_begin_object(w);
        json_member_uint(w, "span_class", m->spans[i].spanclass);
        json_member_uint(w, "size_class", (uint64_t)(m->spans[i].spanclass >> 1));
        json_key(w, "noscan");
        json_bool(w, m->spans[i].spanclass & 1);
        json_member_uint(w, "object_size", s->elemsize);
        json_member_uint(w, "pages", s->npages);
        json_member_uint(w, "slots", s->nelems);
        json_member_uint(w, "objects", s->alloc_count);
        json_end_object(w);
    }
    json_end_array(w);
    json_end_object(w);
}

void heap_view_json(const struct heap_view *h, struct json_writer *w) {
    json_key(w, "pages");
    if (h->have_pages) {
        json_begin_object(w);
        json_member_uint(w, "in_use", h->pages_in_use);
        json_member_uint(w, "swept", h->pages_swept);
        json_member_uint(w, "sweepgen", h->sweepgen);
        json_end_object(w);
    } else {
        json_null(w);
    }
    json_spans(h, w);
    json_key(w, "mcaches");
    if (!h->have_mcaches) {
        json_null(w);
    } else {
        json_begin_array(w);
        for (int p = 0; p < h->np; p++)
            if (h->mcaches[p].have)
                json_mcache(h, p, w);
        json_end_array(w);
    }
    json_key(w, "why_not");
    json_string(w, h->why_not);
}
