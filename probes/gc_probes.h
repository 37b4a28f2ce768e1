/* Host side of the GC / stop-the-world probes (gc.bpf.c): compiles the program for one Go runtime layout,
 * attaches it to runtime.gcStart, stopTheWorldWithSema and startTheWorldWithSema, and delivers the raw,
 * timestamped events (tool/gc_cycles.c pairs them into cycles and pauses). */
#ifndef GMON_GC_PROBES_H
#define GMON_GC_PROBES_H
#include <stdbool.h>
#include <stdint.h>
#include "bpf_program.h"
#include "event_reader.h"
#include "gc_event.h"
#include "probe_plan.h"
#include "runtime_layout.h"

struct gc_probe_options {
    const struct runtime_layout *layout;
    const char *attach_path;
    int pid;               /* one process, or -1 for every process running attach_path */
    bool stw_reason_in_al; /* Go 1.21+: stopTheWorldWithSema(reason stwReason) */
    bool force_perf_buffer;
};

typedef void (*gc_event_fn)(void *ctx, const struct gc_event *ev);

struct gc_probes {
    struct bpf_program prog;
    struct event_reader reader;
    int counters_fd;
    int ncpus;
    gc_event_fn on_event;
    void *ctx;
    uint64_t malformed_events;
};

int gc_probes_open(struct gc_probes *gp, const struct gc_probe_options *o, const struct probe_plan *plan,
                   gc_event_fn on_event, void *ctx, struct gmon_error *err);
int gc_probes_poll(struct gc_probes *gp, int timeout_ms);
/* Sums the per-CPU counters (enum gc_counter); perf-buffer losses are added to GC_COUNTER_EVENTS_LOST. */
void gc_probes_counters(struct gc_probes *gp, uint64_t out[GC_COUNTERS]);
/* Detaches the probes and delivers the events still buffered: the figures read afterwards are final. */
void gc_probes_detach(struct gc_probes *gp);
void gc_probes_close(struct gc_probes *gp);

#endif
