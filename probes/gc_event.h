/* Structures shared by the GC / stop-the-world BPF program (gc.bpf.c) and its host side (gc_probes.c). The
 * build embeds this header in front of the BPF source. */
#ifndef GMON_GC_EVENT_H
#define GMON_GC_EVENT_H

#include <linux/types.h>

/* Return addresses kept from a stop-the-world's caller chain: enough to get past systemstack and
 * stopTheWorld to the function that asked for it (runtime.ReadMemStats, runtime.gcStart, ...). */
#define GC_CALLER_FRAMES 8
/* stopTheWorldWithSema takes no reason before Go 1.21. */
#define GC_NO_REASON 0xffffffffULL

enum gc_event_kind {
    GC_EVENT_TRIGGER = 1, /* runtime.gcStart: arg0 trigger kind (heap, time, cycle), arg1 trigger.n */
    GC_EVENT_STW_BEGIN,   /* runtime.stopTheWorldWithSema entry: arg0 stwReason or GC_NO_REASON, pcs */
    GC_EVENT_STW_STOPPED, /* its RET: every P is stopped */
    GC_EVENT_STW_END,     /* runtime.startTheWorldWithSema's RET: the world runs again */
};

enum gc_counter {
    GC_COUNTER_HITS,        /* probe hits, all probes */
    GC_COUNTER_EVENTS_SENT, /* events written to the ring/perf buffer */
    GC_COUNTER_EVENTS_LOST, /* events the buffer had no room for */
    GC_COUNTER_READ_FAILED, /* reads of runtime structures that faulted */
    GC_COUNTERS
};

/* The slots probe_common.bpf.h counts into (in the BPF program only). */
#ifdef GMON_BPF_PROGRAM
#define PROBE_COUNTERS            GC_COUNTERS
#define PROBE_COUNTER_SENT        GC_COUNTER_EVENTS_SENT
#define PROBE_COUNTER_LOST        GC_COUNTER_EVENTS_LOST
#define PROBE_COUNTER_READ_FAILED GC_COUNTER_READ_FAILED
#endif

struct gc_event {
    __u32 kind;
    __u32 tgid;
    __u64 time_ns; /* CLOCK_MONOTONIC */
    __u64 goid;    /* the goroutine that triggered the GC or asked to stop the world */
    __u64 arg0;
    __u64 arg1;
    __u64 pcs[GC_CALLER_FRAMES]; /* STW_BEGIN: candidate return addresses, innermost first (gc.bpf.c) */
};

#endif
