/* gmon heap's figures, read from a running Go program's memory: runtime.mheap_ (pages in use and swept, the
 * sweep generation), every span of mheap_.allspans added up by size class (spans, pages, object slots,
 * allocated objects, sweep state), and each P's mcache (flush generation, tiny allocations, the span of each
 * class it holds). Layouts come from runtime_state_layout.h, the size classes from the binary's own
 * class_to_size (go_size_classes.h). The target keeps running unless frozen: a span that changes while it is
 * read and no longer makes sense is counted as unreadable, never added up. */
#ifndef GMON_HEAP_VIEW_H
#define GMON_HEAP_VIEW_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "go_size_classes.h"
#include "runtime_state.h"
#include "target.h"

enum { HEAP_SPAN_CLASSES = 2 * GO_SIZE_CLASSES_MAX, HEAP_MAX_SPANS = 1 << 25 };
/* The runtime's page (runtime/malloc.go, _PageShift = 13); how often the spans are read again when a GC cycle
 * begins meanwhile. */
enum { PAGE_SIZE_GO = 8192, HEAP_READ_ATTEMPTS = 3 };

/* mspan.state */
enum { SPAN_DEAD = 0, SPAN_IN_USE = 1, SPAN_MANUAL = 2 };

/* Spans of one size class (class 0: large objects, one per span). */
struct span_use {
    uint64_t spans, pages;
    uint64_t slots;     /* objects the spans can hold (mspan.nelems) */
    uint64_t allocated; /* objects allocated and not yet freed by the sweeper (mspan.allocCount) */
    uint64_t unswept;   /* spans the sweeper has yet to look at this cycle (or is looking at) */
    uint64_t cached;    /* spans held by a P's mcache */
};

/* One span as read; the fields of struct span_use it adds to. */
struct span_read {
    uint64_t npages, nelems, elemsize;
    uint32_t alloc_count, sweepgen;
    uint8_t spanclass, state;
};

/* A P's mcache. */
struct mcache_view {
    bool have;
    uint32_t flush_gen;
    uint64_t tiny_allocs; /* tiny allocations since the mcache last flushed them to the heap's stats */
    uint64_t tiny_offset; /* bytes used of the current 16-byte tiny block */
    int nspans;
    struct {
        uint8_t spanclass;
        struct span_read span;
    } spans[HEAP_SPAN_CLASSES]; /* the spans it allocates from (not the empty placeholder) */
};

struct heap_view {
    struct go_size_classes classes;
    bool classes_disagree; /* the binary's class_to_size and gmon's table of its release differ */
    bool have_pages, have_spans, have_mcaches;
    char why_not[160]; /* why a group is missing, "" when none is */
    uint32_t sweepgen;
    uint64_t pages_in_use, pages_swept;
    uint64_t all_spans; /* len(mheap_.allspans): every span the heap ever set up, free ones included */
    uint64_t in_use_spans, manual_spans, manual_pages, dead_spans, unreadable_spans;
    uint64_t sweeping; /* in-use spans being swept right now */
    /* The GC began a cycle while the spans were read, on every attempt: a span's sweep state is relative to
     * the generation, so unswept and sweeping mean nothing and are not shown. */
    bool sweep_moved;
    uint32_t sweepgen_after; /* the generation after the last attempt's spans */
    struct span_use by_class[GO_SIZE_CLASSES_MAX];
    int np;
    struct mcache_view *mcaches; /* np of them */
};

/* Finds the size classes; the layout and globals are the runtime_state's. */
void heap_view_init(struct heap_view *h, const struct target *t);
/* Reads everything now; st has just been read (its Ps give the mcaches). Reads count into bytes. */
void heap_view_read(struct heap_view *h, const struct runtime_state *st, const struct target *t,
                    uint64_t *bytes);
void heap_view_free(struct heap_view *h);

/* The object size of a span class's objects, 0 for large ones. */
uint32_t heap_class_size(const struct heap_view *h, int size_class);
/* Text and JSON ("pages", "sweep", "spans", "size_classes", "mcaches" members of an open object). */
void heap_view_print(const struct heap_view *h, const struct runtime_state *st, FILE *out);
struct json_writer;
void heap_view_json(const struct heap_view *h, struct json_writer *w);

#endif
