/* The runtime state as text (the header of summary, top and heap) and as JSON; runtime_state.c reads it. */
#include "runtime_state.h"

#include <inttypes.h>
#include <string.h>

#include "json_writer.h"
#include "table_text.h"

const char *p_status_name(uint32_t status) {
    static const char *const NAMES[] = {"idle", "running", "syscall", "gcstop", "dead"};
    return status < 5 ? NAMES[status] : "?";
}

static void print_missing(const struct runtime_state *s, const char *what, FILE *out) {
    fprintf(out, "%-11s ? (%s)\n", what,
            s->why_not[0] ? s->why_not : "its runtime structure was not found in this binary");
}

static void print_gc(const struct runtime_state *s, int64_t now_ns, FILE *out) {
    char pause[32], ago[32];
    duration_text((int64_t)s->pause_total_ns, pause, sizeof(pause));
    duration_text(now_ns - s->last_gc_nanotime, ago, sizeof(ago));
    if (!s->numgc || !s->last_gc_nanotime)
        snprintf(ago, sizeof(ago), "none yet");
    else
        strncat(ago, " ago", sizeof(ago) - strlen(ago) - 1);
    fprintf(out, "gc:         %" PRIu32 " cycles (%" PRIu32 " forced), total pause %s, last %s\n", s->numgc,
            s->numforcedgc, pause, ago);
}

/* Why the live heap (gcController.heapMarked) is not shown. */
static const char *live_unknown_because(const struct runtime_state *s) {
    if (!state_has(&s->layout, HEAP_MARKED))
        return "not in this release's known layout";
    if (s->have_gc && s->numgc == 0)
        return "no GC has ended yet";
    if (!s->globals.addr[BASE_GCCONTROLLER])
        return "runtime.gcController not found";
    return "gcController.heapMarked unreadable or implausible";
}

static void print_heap(const struct runtime_state *s, FILE *out) {
    char inuse[32], sys[32], live[32] = "?";
    bytes_text(s->inuse, inuse, sizeof(inuse));
    bytes_text(s->inuse + s->free + s->released, sys, sizeof(sys));
    if (s->have_marked)
        bytes_text(s->marked, live, sizeof(live));
    fprintf(out, "heap:       in use %s, sys %s, live %s (%s)", inuse, sys, live,
            s->have_marked ? "marked by the last GC" : live_unknown_because(s));
    if (s->have_objects)
        fprintf(out, ", objects %" PRIu64 " (mallocs %" PRIu64 ", frees %" PRIu64 ")", s->mallocs - s->frees,
                s->mallocs, s->frees);
    fputc('\n', out);
}

void runtime_state_print_memory(const struct runtime_state *s, int64_t now_ns, FILE *out) {
    if (s->have_gc)
        print_gc(s, now_ns, out);
    else
        print_missing(s, "gc:", out);
    if (s->have_heap)
        print_heap(s, out);
    else
        print_missing(s, "heap:", out);
}

void runtime_state_print(const struct runtime_state *s, int64_t now_ns, FILE *out) {
    if (s->have_sched)
        fprintf(out,
                "sched:      %" PRId64 " Ms created, %" PRId32 " idle, %" PRId32 " spinning; %" PRId32
                " idle Ps; global run queue %" PRId32 "\n",
                s->mnext, s->nmidle, s->nmspinning, s->npidle, s->runqsize);
    else
        print_missing(s, "sched:", out);
    runtime_state_print_memory(s, now_ns, out);
    for (int i = 0; s->have_ps && i < s->np; i++) {
        const struct p_state *p = &s->ps[i];
        fprintf(out, "P%-3d        %-8s schedtick %-9" PRIu32 " syscalltick %-9" PRIu32 " runq %-4" PRIu32, i,
                p_status_name(p->status), p->schedtick, p->syscalltick, p->runq);
        if (p->m_id >= 0)
            fprintf(out, " M%" PRId64 " (thread %" PRIu64 ")", p->m_id, p->m_tid);
        if (p->curg)
            fprintf(out, " goroutine %" PRIu64, p->curg_goid);
        else if (p->m_id >= 0 && p->status == P_RUNNING)
            fprintf(out, " no goroutine (in the scheduler)");
        fputc('\n', out);
    }
}

static void json_sched(const struct runtime_state *s, struct json_writer *w) {
    json_key(w, "sched");
    if (!s->have_sched) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_member_uint(w, "ms_created", (uint64_t)s->mnext);
    json_member_uint(w, "idle_ms", (uint64_t)s->nmidle);
    json_member_uint(w, "spinning_ms", (uint64_t)s->nmspinning);
    json_member_uint(w, "idle_ps", (uint64_t)s->npidle);
    json_member_uint(w, "global_runq", (uint64_t)s->runqsize);
    json_end_object(w);
}

static void json_gc(const struct runtime_state *s, int64_t now_ns, struct json_writer *w) {
    json_key(w, "gc");
    if (!s->have_gc) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_member_uint(w, "cycles", s->numgc);
    json_member_uint(w, "forced", s->numforcedgc);
    json_member_uint(w, "pause_total_ns", s->pause_total_ns);
    json_key(w, "last_gc_ago_ns");
    /* now_ns is taken before the reads: a GC that ended while gmon was reading ended 0 ns ago, not later. */
    if (s->numgc && s->last_gc_nanotime)
        json_int(w, now_ns > s->last_gc_nanotime ? now_ns - s->last_gc_nanotime : 0);
    else
        json_null(w);
    json_end_object(w);
}

static void json_heap(const struct runtime_state *s, struct json_writer *w) {
    json_key(w, "heap");
    if (!s->have_heap) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_member_uint(w, "inuse_bytes", s->inuse);
    json_member_uint(w, "sys_bytes", s->inuse + s->free + s->released);
    json_member_uint(w, "free_bytes", s->free);
    json_member_uint(w, "released_bytes", s->released);
    json_key(w, "live_bytes");
    if (s->have_marked)
        json_uint(w, s->marked);
    else
        json_null(w);
    if (s->have_objects) {
        json_member_uint(w, "objects", s->mallocs - s->frees);
        json_member_uint(w, "mallocs", s->mallocs);
        json_member_uint(w, "frees", s->frees);
        json_member_uint(w, "large_allocs", s->large_allocs);
        json_member_uint(w, "large_alloc_bytes", s->large_alloc);
        json_member_uint(w, "large_frees", s->large_frees);
        json_member_uint(w, "large_free_bytes", s->large_free);
    }
    json_end_object(w);
}

static void json_ps(const struct runtime_state *s, struct json_writer *w) {
    json_key(w, "ps");
    if (!s->have_ps) {
        json_null(w);
        return;
    }
    json_begin_array(w);
    for (int i = 0; i < s->np; i++) {
        const struct p_state *p = &s->ps[i];
        json_begin_object(w);
        json_member_uint(w, "id", (uint64_t)i);
        json_key(w, "status");
        json_string(w, p_status_name(p->status));
        json_member_uint(w, "schedtick", p->schedtick);
        json_member_uint(w, "syscalltick", p->syscalltick);
        json_member_uint(w, "runq", p->runq);
        json_key(w, "m");
        if (p->m_id >= 0)
            json_int(w, p->m_id);
        else
            json_null(w);
        json_key(w, "thread");
        if (p->m_id >= 0)
            json_uint(w, p->m_tid);
        else
            json_null(w);
        json_key(w, "goroutine");
        if (p->curg)
            json_uint(w, p->curg_goid);
        else
            json_null(w);
        json_end_object(w);
    }
    json_end_array(w);
}

void runtime_state_json(const struct runtime_state *s, int64_t now_ns, struct json_writer *w) {
    json_key(w, "state_layout_from");
    json_string(w, s->layout.from);
    json_sched(s, w);
    json_gc(s, now_ns, w);
    json_heap(s, w);
    json_ps(s, w);
}
