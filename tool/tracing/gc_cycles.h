/* Turns the GC probes' raw events (probes/gc_event.h) into stop-the-world pauses and GC cycles, per process:
 * a pause is STW_BEGIN..STW_END (one at a time per process), classified by who asked for it; a cycle is the
 * sweep-termination pause, the concurrent mark, and the mark-termination pause, with the gcStart trigger
 * that began it. */
#ifndef GMON_GC_CYCLES_H
#define GMON_GC_CYCLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gc_event.h"
#include "go_binary.h"
#include "go_string_table.h"

/* gcStart's trigger kind (gcTriggerHeap, gcTriggerTime, gcTriggerCycle: the same values in every release),
 * or unknown when gmon did not see the gcStart call. */
enum gc_trigger_kind { GC_TRIGGER_HEAP, GC_TRIGGER_PERIODIC, GC_TRIGGER_FORCED, GC_TRIGGER_UNKNOWN };
/* "heap", "periodic", "forced" (runtime.GC) or "?". */
const char *gc_trigger_name(enum gc_trigger_kind kind);

enum stw_kind { STW_GC_SWEEP_TERMINATION, STW_GC_MARK_TERMINATION, STW_OTHER };

struct stw_pause {
    uint32_t tgid;
    enum stw_kind kind;
    const char *reason; /* the runtime's stwReason string (Go 1.21+), else named after the kind */
    char caller[192];   /* the function that asked (runtime.ReadMemStats, runtime.GC, ...) or "?" */
    uint64_t goid;
    int64_t begin_ns, stopped_ns, end_ns; /* CLOCK_MONOTONIC */
};

struct gc_cycle {
    uint32_t tgid;
    uint64_t number; /* 1 for the first cycle gmon saw in this process */
    enum gc_trigger_kind trigger;
    struct stw_pause sweep_termination, mark_termination;
    int64_t mark_ns; /* concurrent mark: end of sweep termination to start of mark termination */
};

typedef void (*stw_pause_fn)(void *ctx, const struct stw_pause *p);
typedef void (*gc_cycle_fn)(void *ctx, const struct gc_cycle *c);
typedef bool (*load_bias_fn)(void *ctx, uint32_t tgid, uint64_t *bias);

struct gc_process; /* per-process pairing state */

struct gc_cycles {
    const struct go_binary *bin;
    const struct go_string_table *reasons; /* may be empty (before Go 1.21) */
    load_bias_fn bias;
    void *bias_ctx;
    stw_pause_fn on_pause;
    gc_cycle_fn on_cycle;
    void *ctx;
    struct gc_process *procs;
    size_t nprocs, cap;
    uint64_t unpaired; /* events that did not fit the expected order (e.g. gmon attached mid-pause) */
};

void gc_cycles_init(struct gc_cycles *c, const struct go_binary *bin, const struct go_string_table *reasons,
                    load_bias_fn bias, void *bias_ctx, stw_pause_fn on_pause, gc_cycle_fn on_cycle,
                    void *ctx);
void gc_cycles_event(struct gc_cycles *c, const struct gc_event *ev);
void gc_cycles_free(struct gc_cycles *c);

#endif
