/* Where the scheduler, GC and heap figures live in a Go release's runtime structures (runtime.schedt,
 * runtime.p, runtime.m, runtime.mstats, runtime.gcControllerState, runtime.mheap, runtime.mcache,
 * runtime.mspan, runtime.heapStatsDelta): each field's offset and size, read from the binary's DWARF when it
 * has DWARF, else from a table of releases whose layouts were read from real binaries' DWARF; both when both
 * exist, and a disagreement is reported. Fields renamed or moved between releases are looked up under each
 * of their names. */
#ifndef GMON_RUNTIME_STATE_LAYOUT_H
#define GMON_RUNTIME_STATE_LAYOUT_H
#include <stdbool.h>

#include "go_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The structure a field is an offset into. */
enum state_base {
    BASE_SCHED,        /* the global runtime.sched */
    BASE_MSTATS,       /* the global runtime.memstats */
    BASE_GCCONTROLLER, /* the global runtime.gcController */
    BASE_MHEAP,        /* the global runtime.mheap_ */
    BASE_P,            /* one *p of allp */
    BASE_M,            /* one *m */
    BASE_MCACHE,       /* one *mcache */
    BASE_MSPAN,        /* one *mspan */
    BASE_HEAPSTATS,    /* one runtime.heapStatsDelta of memstats.heapStats.stats */
    STATE_BASES
};

enum state_field {
    SCHED_LOCK,
    SCHED_NMIDLE,
    SCHED_NMSPINNING,
    SCHED_NPIDLE,
    SCHED_RUNQSIZE,
    SCHED_MNEXT,
    P_STATUS,
    P_SCHEDTICK,
    P_SYSCALLTICK,
    P_M,
    P_RUNQHEAD,
    P_RUNQTAIL,
    P_RUNNEXT,
    P_MCACHE,
    M_ID,
    GC_NUMGC,
    GC_NUMFORCEDGC,
    GC_PAUSE_TOTAL_NS,
    GC_LAST_NANOTIME,
    GCCONTROLLER_PERCENT, /* gcController.gcPercent: the receiver of gcControllerCommit's calls */
    HEAP_INUSE,
    HEAP_FREE,
    HEAP_RELEASED,
    HEAP_SYS, /* go1.17: memstats.heap_sys, where later releases keep heapFree */
    HEAP_MARKED,
    HEAP_STATS,     /* memstats.heapStats.stats: [3]heapStatsDelta whose sum is the running total */
    HEAPSTATS_SIZE, /* sizeof(heapStatsDelta) */
    HS_TINY_ALLOCS,
    HS_LARGE_ALLOC,
    HS_LARGE_ALLOCS,
    HS_SMALL_ALLOCS, /* [size classes]uint64 */
    HS_LARGE_FREE,
    HS_LARGE_FREES,
    HS_SMALL_FREES,
    MHEAP_LOCK, /* at 0: found in stripped binaries from the lea before calls to mheap_'s methods */
    MHEAP_SWEEPGEN,
    MHEAP_PAGES_INUSE,
    MHEAP_PAGES_SWEPT,
    MHEAP_ALLSPANS,
    MCACHE_TINYOFFSET,
    MCACHE_TINY_ALLOCS,
    MCACHE_ALLOC, /* [span classes]*mspan */
    MCACHE_FLUSHGEN,
    MSPAN_NPAGES,
    MSPAN_NELEMS,
    MSPAN_ALLOCCOUNT,
    MSPAN_SPANCLASS,
    MSPAN_STATE,
    MSPAN_ELEMSIZE,
    MSPAN_SWEEPGEN, /* against mheap.sweepgen: swept this cycle, unswept, being swept (mgcsweep.go) */
    /* What runtime/metrics and ReadMemStats read (the exporter): */
    GC_LAST_UNIX, /* memstats.last_gc_unix: the end of the last GC, ns since 1970 */
    GC_PAUSE_NS,  /* memstats.pause_ns: [256]uint64, the ring of the last GCs' summed pauses */
    MSTATS_STACKS_SYS,
    MSTATS_MSPAN_SYS,
    MSTATS_MCACHE_SYS,
    MSTATS_BUCKHASH_SYS,
    MSTATS_GCMISC_SYS,
    MSTATS_OTHER_SYS,
    HEAPSTATS_GEN, /* memstats.heapStats.gen: the shard writers add to, rotated by runtime/metrics.Read */
    HS_COMMITTED,
    HS_RELEASED,
    HS_INHEAP,
    HS_INSTACKS,
    HS_INWORKBUFS,
    HS_INPTRSCALARBITS, /* up to go1.24 */
    MHEAP_SPANALLOC_INUSE,
    MHEAP_CACHEALLOC_INUSE,
    GCC_HEAP_GOAL, /* go1.17-1.18: the goal is a field; from 1.19 it is computed (heapGoalInternal) from: */
    GCC_PERCENT_HEAP_GOAL,
    GCC_SWEEP_DIST_MIN_TRIGGER,
    GCC_TRIGGERED,
    GCC_MEMORY_LIMIT,
    GCC_TOTAL_ALLOC,
    GCC_TOTAL_FREE,
    GCC_MAPPED_READY,
    SCHED_NGSYS,
    SCHED_NMFREED,
    SCHED_GFREE_N,         /* go1.17-1.24 sched.gFree.n; from 1.25 sched.gFree.stack.size */
    SCHED_GFREE_NOSTACK_N, /* from 1.25: sched.gFree.noStack.size */
    P_GFREE_N,             /* p.gFree.n; from 1.25 p.gFree.size */
    SCHED_TIME_TO_RUN,     /* sched.timeToRun: the sampled scheduling-latency histogram */
    SCHED_GOIDGEN,
    P_GOIDCACHE,
    P_GOIDCACHEEND,
    SCHED_GOROUTINES_CREATED, /* from 1.26 */
    P_GOROUTINES_CREATED,     /* from 1.26 */
    /* Fields the runtime's code names with RIP-relative operands: more evidence of gcController's address. */
    GCC_HEAP_LIVE,
    GCC_TRIGGER,      /* go1.17-1.18 */
    GCC_HEAP_MINIMUM, /* with gcPercent, what tells gcController by its contents (runtime_state.c) */
    MSPAN_ALLOCCOUNT_BEFORE_CACHE, /* from go1.19: what a cached span had allocated when cached */
    STATE_FIELDS
};

struct state_offset {
    int offset, size;     /* -1: this release has no such field */
    enum state_base base; /* the structure it is in, in this release */
};

struct state_layout {
    struct state_offset f[STATE_FIELDS];
    char from[32];  /* "DWARF", "table (go1.19)", or "" when neither knows this release */
    int mismatches; /* fields where the binary's DWARF and the table disagree (DWARF is used) */
    char first_mismatch[64];
};

/* The DWARF name of a field ("runtime.schedt npidle"), for messages and tests. */
const char *state_field_name(enum state_field f);
/* The enum's name of a field ("SCHED_NPIDLE") and of a base, for the table's generator. */
const char *state_field_id(enum state_field f);
const char *state_base_id(enum state_base b);

/* Fills the layout for the binary at path, of release v. Fields neither source knows are -1. */
void state_layout_select(const char *path, const struct go_version *v, struct state_layout *out);
/* The table's row for a release alone (from = "" when there is none); for tests. */
void state_layout_from_table(const struct go_version *v, struct state_layout *out);
/* DWARF's answer alone; false when the file has no DWARF. */
bool state_layout_from_dwarf(const char *path, struct state_layout *out);

static inline bool state_has(const struct state_layout *l, enum state_field f) {
    return l->f[f].offset >= 0;
}

#ifdef __cplusplus
}
#endif

#endif
