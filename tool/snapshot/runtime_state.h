/* The scheduler, GC and heap figures of a running Go program, read from its memory like the goroutines are
 * (runtime.sched, each P of allp and its M, runtime.memstats, runtime.gcController, runtime.mheap_ and each
 * P's mcache), with the layout of runtime_state_layout.h and the globals of go_state_globals_find. Every
 * group is read only when the layout and the global it needs are both known; the others say why not. */
#ifndef GMON_RUNTIME_STATE_H
#define GMON_RUNTIME_STATE_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "go_runtime_globals.h"
#include "runtime_layout.h"
#include "runtime_state_layout.h"
#include "target.h"

enum { STATE_MAX_P = 4096, STATE_GC_CANDIDATES = 64 };

/* One P: runtime.p's status (idle, running, syscall, gcstop, dead) and counters, and its M. */
struct p_state {
    uint32_t status, schedtick, syscalltick;
    uint32_t runq;  /* goroutines in its local run queue (runnext included) */
    int64_t m_id;   /* -1: no M */
    uint64_t m_tid; /* the M's thread ID (m.procid) */
    uint64_t curg;  /* the goroutine its M runs (m.curg), 0: none (the M is in the scheduler, on g0) */
    uint64_t curg_goid;
    uint64_t mcache; /* address, for the heap view */
};

struct runtime_state {
    struct state_layout layout;
    struct go_state_globals globals;
    /* Where gcController may be when the symbol table does not say: the base code elected first, then the
     * others it could mean; each process's contents tell which (runtime_state_base_in). */
    uint64_t gc_candidates[STATE_GC_CANDIDATES];
    size_t gc_candidates_n;
    const struct runtime_layout *g_layout;
    bool have_sched, have_ps, have_gc, have_heap, have_marked, have_objects;
    char why_not[128]; /* why some figures are missing, "" when none is */
    int32_t nmidle, nmspinning, npidle, runqsize;
    int64_t mnext; /* Ms created */
    int np;
    struct p_state ps[STATE_MAX_P];
    uint32_t numgc, numforcedgc;
    uint64_t pause_total_ns;
    int64_t last_gc_nanotime;
    uint64_t inuse, free, released, marked;
    uint64_t mallocs, frees, large_alloc, large_allocs, large_free, large_frees;
};

/* Finds the layout and globals (once per process) in symbols: the target's binary, or an unstripped build of
 * it (--bin). */
void runtime_state_init(struct runtime_state *s, const struct target *t, const struct go_binary *symbols,
                        const struct runtime_layout *g_layout);
/* Reads every figure it can now; ps are the np Ps of allp (np 0: unknown). Reads count into bytes. */
void runtime_state_read(struct runtime_state *s, const struct target *t, const uint64_t *ps, int np,
                        uint64_t *bytes);

/* One field of the object at obj (a P, an mcache, a span, ...), or of the global structure the field is in;
 * false when the layout or the global lacks it or the read fails. Reads count into bytes. */
bool runtime_state_field(const struct runtime_state *s, const struct target *t, uint64_t obj,
                         enum state_field f, uint64_t *out, uint64_t *bytes);
bool runtime_state_global(const struct runtime_state *s, const struct target *t, enum state_field f,
                          uint64_t *out, uint64_t *bytes);
/* runtime_state_field in process pid. */
bool runtime_state_field_in(const struct runtime_state *s, int pid, uint64_t obj, enum state_field f,
                            uint64_t *out, uint64_t *bytes);
/* The run-time address of a global structure in process pid (at load bias bias); 0 when unknown. gcController
 * found from code is checked by its contents each time. */
uint64_t runtime_state_base_in(const struct runtime_state *s, int pid, uint64_t bias, enum state_base base);
/* The same in process pid at load bias bias: one of the processes a --path trace follows. */
bool runtime_state_global_in(const struct runtime_state *s, int pid, uint64_t bias, enum state_field f,
                             uint64_t *out, uint64_t *bytes);

/* runtime.p.status values (runtime2.go: _Pidle ... _Pdead, the same in Go 1.17-1.27). */
enum { P_IDLE, P_RUNNING, P_SYSCALL, P_GCSTOP, P_DEAD };
const char *p_status_name(uint32_t status);
/* The header lines: sched, GC, heap, one line per P. now_ns is CLOCK_MONOTONIC. */
void runtime_state_print(const struct runtime_state *s, int64_t now_ns, FILE *out);
/* Only the GC and heap lines. */
void runtime_state_print_memory(const struct runtime_state *s, int64_t now_ns, FILE *out);
/* The same as JSON members "sched", "gc", "heap" and "ps" (null when unknown) of an open object. */
struct json_writer;
void runtime_state_json(const struct runtime_state *s, int64_t now_ns, struct json_writer *w);

#endif
