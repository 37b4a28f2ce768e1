/* Structures shared by the scheduler probes (sched.bpf.c) and their host side (sched_probes.c). The build
 * embeds this header in front of the BPF source. */
#ifndef GMON_SCHED_EVENT_H
#define GMON_SCHED_EVENT_H

#include <linux/types.h>

/* Durations as log2 histograms of microseconds, bcc's layout (tool/log2_hist.h): slot s counts
 * [2^(s-1), 2^s - 1] us, slot 1 also 0. */
#define SCHED_LOG2_SLOTS 48

/* The "reason" of the scheduling-latency histogram (runnable -> running); wait reasons are 0..255. */
#define SCHED_RUN_LATENCY 0xffff

/* runtime.g.atomicstatus values passed to casgstatus (runtime/runtime2.go, identical in Go 1.17-1.27). */
#define G_STATUS_RUNNABLE 1
#define G_STATUS_RUNNING  2
#define G_STATUS_WAITING  4

enum sched_counter {
    SCHED_COUNTER_HITS,        /* casgstatus probe hits */
    SCHED_COUNTER_EVENTS_SENT, /* unused: sched sends no events, all is aggregated in maps */
    SCHED_COUNTER_EVENTS_LOST,
    SCHED_COUNTER_READ_FAILED, /* reads of runtime.g fields that faulted */
    SCHED_COUNTER_MAP_FULL,    /* goroutines or histogram slots that did not fit their map */
    SCHED_COUNTER_RECORDED,    /* durations recorded: the counts of the totals map add up to it */
    SCHED_COUNTERS
};

#ifdef GMON_BPF_PROGRAM
#define PROBE_COUNTERS            SCHED_COUNTERS
#define PROBE_COUNTER_SENT        SCHED_COUNTER_EVENTS_SENT
#define PROBE_COUNTER_LOST        SCHED_COUNTER_EVENTS_LOST
#define PROBE_COUNTER_READ_FAILED SCHED_COUNTER_READ_FAILED
#endif

struct sched_goroutine {
    __u32 tgid;
    __u32 pad;
    __u64 goid;
};

/* Since when a goroutine waits, and the wait reason it had when it parked. */
struct sched_wait {
    __u64 since_ns;
    __u64 reason;
};

/* One histogram slot: of the scheduling latency (reason SCHED_RUN_LATENCY) or of the time blocked with a
 * wait reason, in one process. */
struct sched_slot_key {
    __u32 tgid;
    __u16 reason;
    __u16 slot;
};

/* Totals per (process, reason): how many waits or schedulings, and their summed duration. */
struct sched_total {
    __u64 count;
    __u64 sum_ns;
};

#endif
