/* A snapshot of a running Go program's goroutines, read from its memory without eBPF: runtime.allgs (from the
 * symbol table, or from the code of runtime.allgadd in stripped binaries) and each g with the release's
 * layout, plus GOMAXPROCS (len(allp), checked by p.id), thread states and uptime from /proc. Taken as often
 * as needed (gmon top refreshes it); the process is opened once. */
#ifndef GMON_GOROUTINE_SNAPSHOT_H
#define GMON_GOROUTINE_SNAPSHOT_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "go_runtime_globals.h"
#include "go_size_classes.h"
#include "go_string_table.h"
#include "layout_select.h"
#include "pc_cache.h"
#include "proc_threads.h"
#include "runtime_state.h"
#include "target.h"

struct heap_view;

/* One goroutine as read. */
struct goroutine {
    uint64_t goid, startpc, gopc;
    uint64_t parent; /* the goroutine that created it (g.parentGoid, Go 1.21+; see snapshot_has_parent) */
    uint64_t sched_pc, sched_bp; /* where it stopped running (stale while it runs) */
    uint64_t stack_hi;           /* the top of its stack (g.stack.hi) */
    uint64_t addr;               /* the g's address */
    uint64_t current_pc; /* --pc current: its first return address outside the runtime, 0 if unknown */
    int64_t waited_ns;   /* blocked about this long (g.waitsince, stamped by the GC); -1: unknown */
    uint32_t status;
    uint8_t reason;
    bool scan; /* the GC holds its _Gscan bit: it is scanning the stack now */
};

/* What walking a goroutine's whole stack needs beyond its row (gmon stacks), read again from its g. */
struct goroutine_stack_state {
    uint64_t sched_pc, sched_sp;     /* where it stopped running (stale while it runs) */
    uint64_t syscall_pc, syscall_sp; /* where it entered a system call (0: it is not in one) */
    uint64_t stack_lo, stack_hi;     /* its stack: [lo, hi) */
    uint64_t lockedm, labels, m;     /* the M it is locked to, its pprof labels, the M running it (0: none) */
};

/* Which location of a goroutine to show: its start function, its go statement, or where it is now. */
enum snapshot_pc { PC_START, PC_CALLER, PC_CURRENT };
/* Parses --pc start|caller|current for command cmd; false after printing why the value is bad. */
bool snapshot_parse_pc(const char *cmd, const char *arg, enum snapshot_pc *pc);

/* runtime.g.atomicstatus values (runtime/runtime2.go, _Gidle.._Gpreempted, the same in Go 1.17-1.27); named
 * apart from sched_event.h's BPF macros. */
enum {
    GOROUTINE_RUNNABLE = 1,
    GOROUTINE_RUNNING = 2,
    GOROUTINE_SYSCALL = 3,
    GOROUTINE_WAITING = 4,
    GOROUTINE_DEAD = 6,
    G_SCAN = 0x1000,
    STATUSES = 12
};

struct goroutine_snapshot {
    struct target t;
    struct go_binary bin;            /* --bin, an unstripped build of the target's program, when given */
    const struct go_binary *symbols; /* where symbols, DWARF and layouts come from: &bin or &t.bin */
    struct layout_choice layout;
    struct go_runtime_globals globals;
    struct go_string_table reasons;
    bool have_reasons;
    struct goroutine *gs;
    size_t n, cap, unreadable;
    struct g_read_buffers *g_read; /* what reading the gs uses, kept across reads */
    uint64_t bytes_read;           /* from the target, by the last snapshot */
    bool walk_stacks;   /* find each goroutine's current_pc (--pc current): a few more reads per goroutine */
    bool no_goroutines; /* only the runtime's figures (gmon heap) */
    struct heap_view *heap; /* when set, read in the same (frozen) moment as the rest */
    uint64_t counts[STATUSES];
    int64_t now_ns;           /* CLOCK_MONOTONIC when read: the runtime's nanotime() clock */
    int gomaxprocs;           /* -1: unknown */
    uint64_t ps[STATE_MAX_P]; /* allp[0..gomaxprocs) */
    struct proc_threads threads;
    struct runtime_state state; /* scheduler, GC, heap and per-P figures */
    /* Whether the Ps (read first) and the goroutines' statuses agree (each running goroutine is what a
     * running P's M runs); reads are taken again until they do, a few times at most. */
    bool consistent;
    int attempts;
    /* Called once the goroutines are read, while the process is still frozen (--freeze): for readers that
     * need more of its memory in the same moment (gmon stacks walks every stack there). */
    void (*while_stopped)(struct goroutine_snapshot *s, void *ctx);
    void *while_stopped_ctx;
    struct snapshot_pcs {
        struct pc_cache at_return, func; /* symbolized once per PC, kept across refreshes */
    } * pcs;
};

/* Opens the process and finds what every snapshot needs (layout, allgs, wait reason strings), from the
 * symbols and DWARF of bin (an unstripped build of the same program) when it is not NULL. */
int snapshot_open(struct goroutine_snapshot *s, int pid, const char *bin, struct gmon_error *err);
/* Reads the goroutines, GOMAXPROCS and threads now; with freeze, the process is stopped meanwhile (and
 * resumed before this returns). */
int snapshot_take(struct goroutine_snapshot *s, bool freeze, struct gmon_error *err);
void snapshot_close(struct goroutine_snapshot *s);
/* A snapshot of the runtime's figures alone (no goroutines), allocated, for readers that take one at each
 * scrape (gmon exporter, gmon gm): NULL with err when process pid cannot be read. classes gets the target's
 * size classes (n 0: neither the binary nor gmon's table has them). */
struct goroutine_snapshot *snapshot_open_runtime(int pid, const char *bin, struct go_size_classes *classes,
                                                 struct gmon_error *err);
/* snapshot_close, then free (NULL is nothing). */
void snapshot_free(struct goroutine_snapshot *s);
/* Reads goroutine g again from its g (g->addr): its row (status, wait reason, ...) into *g and what walking
 * its stack needs into *st. False when it cannot be read, or has exited (its g is dead or holds another). */
bool snapshot_reread(struct goroutine_snapshot *s, struct goroutine *g, struct goroutine_stack_state *st);

/* Whether a snapshot reads n goroutines with two threads: from SNAPSHOT_TWO_THREADS_MIN of them, when gmon
 * may run on two CPUs or more (its affinity mask: taskset, a container's cpuset). Below, a read takes a few
 * milliseconds, and a thread's start and its cold buffers would eat the gain. */
enum { SNAPSHOT_TWO_THREADS_MIN = 8192 };
bool snapshot_two_threads(size_t n);

/* True when the release records each goroutine's creator (g.parentGoid, from Go 1.21). */
bool snapshot_has_parent(const struct goroutine_snapshot *s);
/* "waiting", "syscall", ... */
const char *snapshot_status_name(uint32_t status);
/* The wait reason of a waiting goroutine, "-" otherwise; the text in buf ("wait reason 42") when the
 * release's name for it is unknown. */
const char *snapshot_reason(const struct goroutine_snapshot *s, const struct goroutine *g, char *buf,
                            size_t size);
/* The start function, the go statement's function and file:line, or where it is now (function file:line):
 * formatted once per distinct PC, valid while the snapshot is open. */
const char *snapshot_location(const struct goroutine_snapshot *s, const struct goroutine *g,
                              enum snapshot_pc pc);
/* snapshot_location as a JSON string (quoted, escaped), escaped once per distinct PC; NULL for a location
 * that names no function ("?", "- (running)": not kept) or when out of memory (then write
 * snapshot_location with json_string). */
const char *snapshot_location_json(const struct goroutine_snapshot *s, const struct goroutine *g,
                                   enum snapshot_pc pc);
/* How long a blocked goroutine has waited, approximately ("~5m10s"), "-" when unknown. */
void snapshot_waited_text(const struct goroutine *g, char *out, size_t size);
/* Opens the JSON object of a snapshot command with what every one of them starts with: "binary",
 * "go_version", "pid", "nspid", "container_id", "gomaxprocs" and "bytes_read". */
struct json_writer;
void snapshot_json_begin(const struct goroutine_snapshot *s, struct json_writer *w);
/* The "binary:" line, and a "process:" line with the container's view of the PID when it runs in one. */
void snapshot_print_binary(const struct goroutine_snapshot *s, FILE *out);
/* The header lines summary and top print: binary, GOMAXPROCS, scheduler, GC, heap, Ps, goroutines by status,
 * threads, uptime. */
void snapshot_print_header(const struct goroutine_snapshot *s, FILE *out);

#endif
