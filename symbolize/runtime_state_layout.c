#include "runtime_state_layout.h"

#include <stdio.h>
#include <string.h>

#include "dwarf_fields.h"

/* One name of a field in one release family: its struct type and member path. */
struct field_name {
    const char *type, *path;
};

struct field_spec {
    const char *id;
    struct field_name names[3]; /* tried in order; the first that DWARF has wins */
};

#define SCHED(f, m)  [f] = {#f, {{"runtime.schedt", m}}}
#define ONE(f, t, m) [f] = {#f, {{t, m}}}

static const struct field_spec SPECS[STATE_FIELDS] = {
    SCHED(SCHED_LOCK, "lock"),
    SCHED(SCHED_NMIDLE, "nmidle"),
    SCHED(SCHED_NMSPINNING, "nmspinning"),
    SCHED(SCHED_NPIDLE, "npidle"),
    [SCHED_RUNQSIZE] = {"SCHED_RUNQSIZE", {{"runtime.schedt", "runqsize"}, {"runtime.schedt", "runq.size"}}},
    SCHED(SCHED_MNEXT, "mnext"),
    ONE(P_STATUS, "runtime.p", "status"),
    ONE(P_SCHEDTICK, "runtime.p", "schedtick"),
    ONE(P_SYSCALLTICK, "runtime.p", "syscalltick"),
    ONE(P_M, "runtime.p", "m"),
    ONE(P_RUNQHEAD, "runtime.p", "runqhead"),
    ONE(P_RUNQTAIL, "runtime.p", "runqtail"),
    ONE(P_RUNNEXT, "runtime.p", "runnext"),
    ONE(P_MCACHE, "runtime.p", "mcache"),
    ONE(M_ID, "runtime.m", "id"),
    ONE(GC_NUMGC, "runtime.mstats", "numgc"),
    ONE(GC_NUMFORCEDGC, "runtime.mstats", "numforcedgc"),
    ONE(GC_PAUSE_TOTAL_NS, "runtime.mstats", "pause_total_ns"),
    ONE(GC_LAST_NANOTIME, "runtime.mstats", "last_gc_nanotime"),
    ONE(GCCONTROLLER_PERCENT, "runtime.gcControllerState", "gcPercent"),
    /* Byte counts of heap memory: in gcController in some releases, in memstats in others. */
    [HEAP_INUSE] = {"HEAP_INUSE",
                    {{"runtime.gcControllerState", "heapInUse"},
                     {"runtime.mstats", "heapInUse"},
                     {"runtime.mstats", "heap_inuse"}}},
    [HEAP_FREE] = {"HEAP_FREE",
                   {{"runtime.gcControllerState", "heapFree"},
                    {"runtime.mstats", "heapFree"},
                    {"runtime.mstats", "heap_free"}}},
    [HEAP_RELEASED] = {"HEAP_RELEASED",
                       {{"runtime.gcControllerState", "heapReleased"},
                        {"runtime.mstats", "heapReleased"},
                        {"runtime.mstats", "heap_released"}}},
    ONE(HEAP_SYS, "runtime.mstats", "heap_sys"),
    ONE(HEAP_MARKED, "runtime.gcControllerState", "heapMarked"),
    ONE(HEAP_STATS, "runtime.mstats", "heapStats.stats"),
    ONE(HEAPSTATS_SIZE, "runtime.heapStatsDelta", ""),
    ONE(HS_TINY_ALLOCS, "runtime.heapStatsDelta", "tinyAllocCount"),
    ONE(HS_LARGE_ALLOC, "runtime.heapStatsDelta", "largeAlloc"),
    ONE(HS_LARGE_ALLOCS, "runtime.heapStatsDelta", "largeAllocCount"),
    ONE(HS_SMALL_ALLOCS, "runtime.heapStatsDelta", "smallAllocCount"),
    ONE(HS_LARGE_FREE, "runtime.heapStatsDelta", "largeFree"),
    ONE(HS_LARGE_FREES, "runtime.heapStatsDelta", "largeFreeCount"),
    ONE(HS_SMALL_FREES, "runtime.heapStatsDelta", "smallFreeCount"),
    ONE(MHEAP_LOCK, "runtime.mheap", "lock"),
    ONE(MHEAP_SWEEPGEN, "runtime.mheap", "sweepgen"),
    ONE(MHEAP_PAGES_INUSE, "runtime.mheap", "pagesInUse"),
    ONE(MHEAP_PAGES_SWEPT, "runtime.mheap", "pagesSwept"),
    ONE(MHEAP_ALLSPANS, "runtime.mheap", "allspans"),
    ONE(MCACHE_TINYOFFSET, "runtime.mcache", "tinyoffset"),
    ONE(MCACHE_TINY_ALLOCS, "runtime.mcache", "tinyAllocs"),
    ONE(MCACHE_ALLOC, "runtime.mcache", "alloc"),
    ONE(MCACHE_FLUSHGEN, "runtime.mcache", "flushGen"),
    ONE(MSPAN_NPAGES, "runtime.mspan", "npages"),
    ONE(MSPAN_NELEMS, "runtime.mspan", "nelems"),
    ONE(MSPAN_ALLOCCOUNT, "runtime.mspan", "allocCount"),
    ONE(MSPAN_SPANCLASS, "runtime.mspan", "spanclass"),
    ONE(MSPAN_STATE, "runtime.mspan", "state"),
    ONE(MSPAN_ELEMSIZE, "runtime.mspan", "elemsize"),
    ONE(MSPAN_SWEEPGEN, "runtime.mspan", "sweepgen"),
    ONE(GC_LAST_UNIX, "runtime.mstats", "last_gc_unix"),
    ONE(GC_PAUSE_NS, "runtime.mstats", "pause_ns"),
    ONE(MSTATS_STACKS_SYS, "runtime.mstats", "stacks_sys"),
    ONE(MSTATS_MSPAN_SYS, "runtime.mstats", "mspan_sys"),
    ONE(MSTATS_MCACHE_SYS, "runtime.mstats", "mcache_sys"),
    ONE(MSTATS_BUCKHASH_SYS, "runtime.mstats", "buckhash_sys"),
    ONE(MSTATS_GCMISC_SYS, "runtime.mstats", "gcMiscSys"),
    ONE(MSTATS_OTHER_SYS, "runtime.mstats", "other_sys"),
    ONE(HEAPSTATS_GEN, "runtime.mstats", "heapStats.gen"),
    ONE(HS_COMMITTED, "runtime.heapStatsDelta", "committed"),
    ONE(HS_RELEASED, "runtime.heapStatsDelta", "released"),
    ONE(HS_INHEAP, "runtime.heapStatsDelta", "inHeap"),
    ONE(HS_INSTACKS, "runtime.heapStatsDelta", "inStacks"),
    ONE(HS_INWORKBUFS, "runtime.heapStatsDelta", "inWorkBufs"),
    ONE(HS_INPTRSCALARBITS, "runtime.heapStatsDelta", "inPtrScalarBits"),
    ONE(MHEAP_SPANALLOC_INUSE, "runtime.mheap", "spanalloc.inuse"),
    ONE(MHEAP_CACHEALLOC_INUSE, "runtime.mheap", "cachealloc.inuse"),
    ONE(GCC_HEAP_GOAL, "runtime.gcControllerState", "heapGoal"),
    ONE(GCC_PERCENT_HEAP_GOAL, "runtime.gcControllerState", "gcPercentHeapGoal"),
    ONE(GCC_SWEEP_DIST_MIN_TRIGGER, "runtime.gcControllerState", "sweepDistMinTrigger"),
    ONE(GCC_TRIGGERED, "runtime.gcControllerState", "triggered"),
    ONE(GCC_MEMORY_LIMIT, "runtime.gcControllerState", "memoryLimit"),
    ONE(GCC_TOTAL_ALLOC, "runtime.gcControllerState", "totalAlloc"),
    ONE(GCC_TOTAL_FREE, "runtime.gcControllerState", "totalFree"),
    ONE(GCC_MAPPED_READY, "runtime.gcControllerState", "mappedReady"),
    SCHED(SCHED_NGSYS, "ngsys"),
    SCHED(SCHED_NMFREED, "nmfreed"),
    [SCHED_GFREE_N] = {"SCHED_GFREE_N",
                       {{"runtime.schedt", "gFree.n"}, {"runtime.schedt", "gFree.stack.size"}}},
    SCHED(SCHED_GFREE_NOSTACK_N, "gFree.noStack.size"),
    [P_GFREE_N] = {"P_GFREE_N", {{"runtime.p", "gFree.n"}, {"runtime.p", "gFree.size"}}},
    SCHED(SCHED_TIME_TO_RUN, "timeToRun"),
    SCHED(SCHED_GOIDGEN, "goidgen"),
    ONE(P_GOIDCACHE, "runtime.p", "goidcache"),
    ONE(P_GOIDCACHEEND, "runtime.p", "goidcacheend"),
    SCHED(SCHED_GOROUTINES_CREATED, "goroutinesCreated"),
    ONE(P_GOROUTINES_CREATED, "runtime.p", "goroutinesCreated"),
    ONE(GCC_HEAP_LIVE, "runtime.gcControllerState", "heapLive"),
    ONE(GCC_TRIGGER, "runtime.gcControllerState", "trigger"),
    ONE(GCC_HEAP_MINIMUM, "runtime.gcControllerState", "heapMinimum"),
    ONE(MSPAN_ALLOCCOUNT_BEFORE_CACHE, "runtime.mspan", "allocCountBeforeCache"),
};

#undef SCHED
#undef ONE

static const struct {
    const char *type;
    enum state_base base;
    const char *id;
} BASES[] = {
    {"runtime.schedt", BASE_SCHED, "BASE_SCHED"},
    {"runtime.mstats", BASE_MSTATS, "BASE_MSTATS"},
    {"runtime.gcControllerState", BASE_GCCONTROLLER, "BASE_GCCONTROLLER"},
    {"runtime.mheap", BASE_MHEAP, "BASE_MHEAP"},
    {"runtime.p", BASE_P, "BASE_P"},
    {"runtime.m", BASE_M, "BASE_M"},
    {"runtime.mcache", BASE_MCACHE, "BASE_MCACHE"},
    {"runtime.mspan", BASE_MSPAN, "BASE_MSPAN"},
    {"runtime.heapStatsDelta", BASE_HEAPSTATS, "BASE_HEAPSTATS"},
};

static enum state_base base_of(const char *type) {
    for (size_t i = 0; i < sizeof(BASES) / sizeof(BASES[0]); i++)
        if (strcmp(BASES[i].type, type) == 0)
            return BASES[i].base;
    return STATE_BASES;
}

const char *state_base_id(enum state_base b) {
    return b < STATE_BASES ? BASES[b].id : "STATE_BASES";
}

const char *state_field_id(enum state_field f) {
    return SPECS[f].id;
}

const char *state_field_name(enum state_field f) {
    static char names[STATE_FIELDS][96];
    if (!names[f][0])
        snprintf(names[f], sizeof(names[f]), "%s %s", SPECS[f].names[0].type,
                 SPECS[f].names[0].path[0] ? SPECS[f].names[0].path : "(size)");
    return names[f];
}

/* The layouts read from the DWARF of real binaries of each release (gmon info --state-layout --bin BIN
 * prints a row), for binaries built without DWARF. */
struct table_row {
    int first_minor, last_minor;
    struct state_offset f[STATE_FIELDS];
};

#include "runtime_state_table.inc"

static void clear(struct state_layout *out) {
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < STATE_FIELDS; i++)
        out->f[i] = (struct state_offset){-1, -1, STATE_BASES};
}

void state_layout_from_table(const struct go_version *v, struct state_layout *out) {
    clear(out);
    for (size_t r = 0; v->major == 1 && r < sizeof(STATE_TABLE) / sizeof(STATE_TABLE[0]); r++) {
        if (v->minor < STATE_TABLE[r].first_minor || v->minor > STATE_TABLE[r].last_minor)
            continue;
        for (int f = 0; f < STATE_FIELDS; f++)
            if (STATE_TABLE[r].f[f].size > 0) /* fields a row leaves out are zero: absent */
                out->f[f] = STATE_TABLE[r].f[f];
        snprintf(out->from, sizeof(out->from), "table (go1.%d)", v->minor);
        return;
    }
}

bool state_layout_from_dwarf(const char *path, struct state_layout *out) {
    clear(out);
    enum { ALTS = 3 };
    struct dwarf_field_query q[STATE_FIELDS * ALTS];
    size_t n = 0;
    for (int f = 0; f < STATE_FIELDS; f++)
        for (int a = 0; a < ALTS; a++)
            q[n++] = (struct dwarf_field_query){SPECS[f].names[a].type ? SPECS[f].names[a].type : "-",
                                                SPECS[f].names[a].path ? SPECS[f].names[a].path : "", -1, -1};
    if (!dwarf_fields_resolve(path, q, n))
        return false;
    for (int f = 0; f < STATE_FIELDS; f++) {
        for (int a = 0; a < ALTS; a++) {
            const struct dwarf_field_query *x = &q[f * ALTS + a];
            if (SPECS[f].names[a].type && x->offset >= 0) {
                out->f[f] = (struct state_offset){x->offset, x->size, base_of(SPECS[f].names[a].type)};
                break;
            }
        }
    }
    snprintf(out->from, sizeof(out->from), "DWARF");
    return true;
}

void state_layout_select(const char *path, const struct go_version *v, struct state_layout *out) {
    struct state_layout table;
    state_layout_from_table(v, &table);
    if (!state_layout_from_dwarf(path, out)) {
        *out = table;
        return;
    }
    if (!table.from[0])
        return;
    for (int f = 0; f < STATE_FIELDS; f++) {
        if (out->f[f].offset == table.f[f].offset && out->f[f].size == table.f[f].size &&
            out->f[f].base == table.f[f].base)
            continue;
        if (!out->mismatches++)
            snprintf(out->first_mismatch, sizeof(out->first_mismatch), "%s", state_field_name(f));
    }
}
