/* Structures shared by the goroutine lifecycle BPF program (lifecycle.bpf.c) and its host side
 * (lifecycle_probes.c). The build embeds this header in front of the BPF source, so both sides compile the
 * very same text. */
#ifndef GMON_LIFECYCLE_EVENT_H
#define GMON_LIFECYCLE_EVENT_H

#include <linux/types.h>

/* Lifetime histogram bucket bounds in nanoseconds (Prometheus `le`, cumulative on the host); the last bucket
 * is +Inf. Short-lived goroutines dominate real programs, so the scale starts at 10 microseconds. */
#define LIFECYCLE_BUCKETS 11
#define LIFECYCLE_BUCKET_BOUNDS_NS                                                                           \
    {                                                                                                        \
        10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,           \
            60000000000ULL, 600000000000ULL, 3600000000000ULL                                                \
    }

enum lifecycle_event_kind {
    LIFECYCLE_CREATED = 1,
    LIFECYCLE_EXITED = 2,
    LIFECYCLE_EXITED_UNTRACKED = 3, /* a goroutine created before gmon attached */
    /* Scheduler events (gmon gr -v): the goroutine was put on the global run queue, taken from it, or
     * stolen from another P's local run queue. */
    LIFECYCLE_RUNQ_PUT = 4,
    LIFECYCLE_RUNQ_GET = 5,
    LIFECYCLE_RUNQ_STEAL = 6,
    /* A process's Go runtime created goroutine 1 (runtime.main): the process started, or an exec replaced
     * its program with the same binary. site.image holds the new image number, time_ns when it started,
     * startpc where runtime.main is loaded. */
    LIFECYCLE_RUNTIME_STARTED = 7,
};

/* gmon's own counters, one slot each in a per-CPU array. */
enum lifecycle_counter {
    COUNTER_CREATE_HITS,    /* newproc1 RET probe hits */
    COUNTER_EXIT_HITS,      /* goexit1 probe hits */
    COUNTER_EVENTS_SENT,    /* events written to the ring/perf buffer */
    COUNTER_EVENTS_LOST,    /* events the buffer had no room for */
    COUNTER_LIVE_MAP_FULL,  /* creations not tracked: the live-goroutine map was full */
    COUNTER_SITE_MAP_FULL,  /* creations not counted by site: the creation-site map was full */
    COUNTER_STACK_FAILED,   /* user stacks that could not be walked or stored */
    COUNTER_READ_FAILED,    /* reads of runtime.g fields that faulted */
    COUNTER_EXIT_UNTRACKED, /* exits of goroutines created before attaching (or lost) */
    COUNTER_LOG2_MAP_FULL,  /* lifetimes not put in the log2 histogram: its map was full */
    COUNTER_RUNQ_HITS,      /* run-queue probe hits (gr -v) */
    /* With the ones above, every probe hit is accounted for: newproc1 hits = creations counted by site +
     * SITE_MAP_FULL + CREATE_UNREADABLE; goexit1 hits = exits counted by site + EXIT_UNTRACKED +
     * EXIT_SITE_MAP_FULL + EXIT_UNREADABLE. */
    COUNTER_CREATE_UNREADABLE,  /* creations whose new g could not be read: not counted */
    COUNTER_EXIT_UNREADABLE,    /* exits whose g could not be read: not counted */
    COUNTER_EXIT_SITE_MAP_FULL, /* exits not counted by site: the creation-site map was full */
    /* Counted by the host with --exits poll (lifecycle_exit_scan.c), which then fills COUNTER_EXIT_HITS with
     * the exits it found: scans of the tracked goroutines' memory, their time, goroutines checked. */
    COUNTER_EXIT_SCANS,
    COUNTER_EXIT_SCAN_US,
    COUNTER_EXIT_CHECKS,
    COUNTER_EXIT_SCAN_UNREADABLE, /* reads of a tracked g that failed in a process that still runs */
    LIFECYCLE_COUNTERS
};

/* The slots probe_common.bpf.h counts into (in the BPF program only). */
#ifdef GMON_BPF_PROGRAM
#define PROBE_COUNTERS            LIFECYCLE_COUNTERS
#define PROBE_COUNTER_SENT        COUNTER_EVENTS_SENT
#define PROBE_COUNTER_LOST        COUNTER_EVENTS_LOST
#define PROBE_COUNTER_READ_FAILED COUNTER_READ_FAILED
#endif

/* A live goroutine, keyed by process and goroutine ID (goids are unique for the life of a Go runtime; after
 * an exec, a new goroutine overwrites any stale entry with its ID when it is created). */
struct goroutine_key {
    __u32 tgid;
    __u32 pad;
    __u64 goid;
};

/* A creation site: the process, the `go` statement's PC (g.gopc) and the hash of the user stack that ran it
 * (the key of its frames in the `stacks` map). stack is 0 when the stack could not be walked or stored; gopc
 * alone then names the site. image tells the programs one process has run apart: 0 for the one running when
 * gmon attached, then 1, 2, ... for each start of a Go runtime gmon saw in it (an exec of the same binary
 * starts a new one: new load address, goroutine IDs from 1 again). */
struct site_key {
    __u32 tgid;
    __u32 image;
    __u64 gopc;
    __u64 stack;
};

/* Frames kept per creation stack, from the `go` statement's frame outward. A power of two, so that the BPF
 * verifier accepts the masked index. */
#define LIFECYCLE_STACK_DEPTH 64

/* A creation stack: return addresses, innermost (== gopc) first. */
struct creation_stack {
    __u64 depth;
    __u64 pcs[LIFECYCLE_STACK_DEPTH];
};

struct goroutine_info {
    __u64 created_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
    __u64 g;          /* its runtime.g: where --exits poll reads whether it still runs */
    __u64 parent_goid;
    __u64 startpc;
    struct site_key site;
};

/* A direct-mapped array in front of the live map (live_slots, LIVE_SLOTS entries): a new goroutine takes the
 * slot its g's address (with --exits poll, its goid) picks when that slot is free, else goes to the hash map.
 * Its exit finds it there with one array look-up and without reading its goid (the exit probe has the g in
 * R14), where the hash map's insert and delete cost ~120 ns more per goroutine (bpf_stats). tag is 0 when
 * free; else the image (7 bits), tgid (22 bits) and goid (34 bits) the slot holds, with LIVE_SLOT_FILLING set
 * while the creation program claims it and writes info. A goroutine whose image or goid needs more bits goes
 * to the hash map. */
struct live_slot {
    __u64 tag;
    struct goroutine_info info;
};
#define LIVE_SLOT_FILLING   (1ULL << 63)
#define LIVE_SLOT_GOID_BITS 34

static inline __u64 live_slot_tag(__u32 tgid, __u32 image, __u64 goid) {
    if (goid >> LIVE_SLOT_GOID_BITS || tgid >> 22 || image > 0x7f)
        return 0; /* the hash map: a 128th exec of the same binary would have the 1st one's tags */
    return (__u64)image << 56 | (__u64)tgid << LIVE_SLOT_GOID_BITS | goid;
}

/* The slot of a goroutine by its g's address (a g is live for one goroutine at a time, and the runtime
 * reuses it for a later one): a multiplicative hash of the address, with tgid's. */
static inline __u32 live_slot_by_g(__u32 tgid, __u64 g, __u32 nslots) {
    return ((__u32)((g * 0x9E3779B97F4A7C15ULL) >> 32) ^ (tgid * 0x9E3779B1u)) & (nslots - 1);
}

/* The slot of a goroutine by its goid (--exits poll): consecutive goids (one process's) fill consecutive
 * slots, so that as many goroutines as slots fit before two meet, where a hash of the goid filled fewer than
 * half the slots before the live map took the rest (a storm of 400,000 goroutines); tgid moves each
 * process's run elsewhere, a rotation, so that the slots read in order hold a process's goroutines in goid
 * order from some slot on (the scan's sort finds them nearly sorted). */
static inline __u32 live_slot_by_goid(__u32 tgid, __u64 goid, __u32 nslots) {
    return ((__u32)goid + tgid * 0x9E3779B1u) & (nslots - 1);
}

static inline __u32 live_slot_image(__u64 tag) {
    return (__u32)(tag >> 56) & 0x7f;
}

static inline __u32 live_slot_tgid(__u64 tag) {
    return (__u32)(tag >> LIVE_SLOT_GOID_BITS) & 0x3fffff;
}

static inline __u64 live_slot_goid(__u64 tag) {
    return tag & ((1ULL << LIVE_SLOT_GOID_BITS) - 1);
}

struct site_stats {
    __u64 created;
    __u64 untracked; /* of the created, those the live map had no room for: their exits are not counted */
    __u64 exited;
    __u64 lifetime_sum_ns;
    __u64 buckets[LIFECYCLE_BUCKETS]; /* not cumulative */
};

/* Lifetimes as a log2 histogram of microseconds (gmon gr seq), laid out as bcc's print_log2_hist: slot s
 * counts lifetimes in [2^(s-1), 2^s - 1] us, and slot 1 also counts 0. */
#define LIFETIME_LOG2_SLOTS 48

/* The latest Go runtime start seen in a process (images map, by tgid). */
struct process_image {
    __u64 started_ns;
    __u32 image;
    __u32 pad;
};

/* A direct-mapped cache in front of the images map (image_cache, an array): slot tgid % IMAGE_CACHE_SLOTS
 * holds (tgid << 32) | image, or 0. */
#define IMAGE_CACHE_SLOTS 4096

/* One slot of the lifetime histogram of a process (site.tgid only, the rest 0) or of a creation site. */
struct lifetime_slot_key {
    struct site_key site;
    __u32 slot;
    __u32 pad;
};

/* lifecycle_event.flags */
enum {
    /* A creation the live map had no room for: its exit will come without a lifetime. */
    LIFECYCLE_NOT_TRACKED = 1,
    /* An untracked exit after the live map has been full once: it may be one of those, not only a goroutine
     * created before gmon attached. */
    LIFECYCLE_MAYBE_DROPPED = 2,
};

struct lifecycle_event {
    __u32 kind;
    __u32 tgid;
    __u64 goid;
    __u64 parent_goid;
    __u64 startpc;
    __u64 time_ns;     /* CLOCK_MONOTONIC */
    __u64 lifetime_ns; /* exits only */
    struct site_key site;
    __u32 flags; /* LIFECYCLE_NOT_TRACKED, LIFECYCLE_MAYBE_DROPPED */
    __u32 pad;
};

#endif
