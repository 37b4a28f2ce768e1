/* The heap view as text and as JSON; heap_view.c reads it. */
#include "heap_view.h"

#include <inttypes.h>
#include <string.h>

#include "json_writer.h"
#include "table_text.h"

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
