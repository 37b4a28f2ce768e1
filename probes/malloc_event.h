/* Structures shared by the allocation probes (malloc.bpf.c) and their host side (malloc_probes.c). The build
 * embeds this header in front of the BPF source. */
#ifndef GMON_MALLOC_EVENT_H
#define GMON_MALLOC_EVENT_H

#include <linux/types.h>

/* Size classes counted, class 0 being large objects (over 32 KiB). Go has 68 (1.17-1.27); room for more. */
#define MALLOC_CLASSES 128
/* The class of a small allocation, looked up by (size + 7) / 8: every Go class size is a multiple of 8. */
#define MALLOC_CLASS_INDEXES (32768 / 8 + 1)
/* Return addresses kept per allocating stack (--by site). A power of two for the verifier's masked index. */
#define MALLOC_STACK_DEPTH 16

/* Every hit is accounted for: HITS = ZERO_SIZE + SAMPLED + the ones --sample skipped; with --by site,
 * SAMPLED = the counts of the sites + MAP_FULL. */
enum malloc_counter {
    MALLOC_COUNTER_HITS,        /* allocator probe hits (every allocation, sampled or not) */
    MALLOC_COUNTER_SAMPLED,     /* allocations counted (1 in --sample), in the size classes */
    MALLOC_COUNTER_EVENTS_SENT, /* unused: everything is aggregated in maps */
    MALLOC_COUNTER_EVENTS_LOST,
    MALLOC_COUNTER_READ_FAILED,
    MALLOC_COUNTER_MAP_FULL,  /* allocating stacks that did not fit their maps (--by site) */
    MALLOC_COUNTER_ZERO_SIZE, /* mallocgc(0) up to Go 1.23: returns runtime.zerobase, allocates nothing */
    MALLOC_COUNTERS
};

#ifdef GMON_BPF_PROGRAM
#define PROBE_COUNTERS            MALLOC_COUNTERS
#define PROBE_COUNTER_SENT        MALLOC_COUNTER_EVENTS_SENT
#define PROBE_COUNTER_LOST        MALLOC_COUNTER_EVENTS_LOST
#define PROBE_COUNTER_READ_FAILED MALLOC_COUNTER_READ_FAILED
#endif

/* Sampled allocations of one size class: how many, and the bytes asked for. */
struct malloc_class_stat {
    __u64 count;
    __u64 bytes;
};

/* An allocating stack of a process: the hash of its return addresses (the key of the `stacks` map). */
struct malloc_site_key {
    __u32 tgid;
    __u32 pad;
    __u64 stack;
    /* At the memory profiler's sampling point (SIZE_IN_CX) the object's size too: samples are scaled by
     * size, as the runtime's profile buckets are keyed by stack and size; 0 otherwise. */
    __u64 size;
};

/* Return addresses, the allocator's caller first. */
struct malloc_stack {
    __u64 depth;
    __u64 pcs[MALLOC_STACK_DEPTH];
};

#endif
