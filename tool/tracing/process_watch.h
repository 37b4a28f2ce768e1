/* The processes a --path trace has seen: their load bias (PIE binaries load at a different address in each)
 * and whether they still run, so that the statistics of an exited process can be retired. */
#ifndef GMON_PROCESS_WATCH_H
#define GMON_PROCESS_WATCH_H
#include <stdbool.h>
#include <stdint.h>
#include "lifecycle_probes.h"
#include "target.h"

/* The load bias of an earlier program of a process (before it execed its own binary). */
struct earlier_image {
    uint32_t image;
    uint64_t bias;
};
enum { EARLIER_IMAGES = 4 };

struct watched_process {
    uint32_t tgid;
    bool bias_known;
    bool restarted; /* its Go runtime started again (exec): the target's load bias no longer holds */
    bool ended;     /* told to process_watch_retire's caller; kept for its load bias */
    uint32_t image; /* the latest runtime start seen (lifecycle_event.h) */
    uint64_t bias;
    /* The last EARLIER_IMAGES programs it replaced, whose sites a report made at the end still names. */
    struct earlier_image earlier[EARLIER_IMAGES];
    unsigned nearlier;
};

struct process_watch {
    const struct target *target;
    struct watched_process *procs;
    size_t n, cap;
    /* procs by tgid: index + 1 in an open-addressed table of nslots (a power of two; 0: empty). Processes
     * that ended are kept (process_watch_retire), and a --path trace of a program started over and over
     * looks each of its sites' processes up every tick. */
    uint32_t *slots;
    size_t nslots;
    long long started_ticks; /* when gmon began, in clock ticks since boot (as /proc/PID/stat's starttime) */
};

/* True while the process exists and is not a zombie. */
bool process_alive(int pid);

void process_watch_init(struct process_watch *w, const struct target *target);
void process_watch_free(struct process_watch *w);
/* Load bias of the target binary in process tgid; false when it cannot be read (bias is then 0). */
bool process_watch_load_bias(struct process_watch *w, uint32_t tgid, uint64_t *bias);
/* The load bias of program `image` of process tgid: the current one's (process_watch_load_bias), or that of
 * one it replaced by an exec of its own binary. */
bool process_watch_image_bias(struct process_watch *w, uint32_t tgid, uint32_t image, uint64_t *bias);
/* Learns the processes that appear in the probes' creation-site map, and the load bias of each new one while
 * it still runs (a PIE process that ends before its sites are named would otherwise leave them in hex). */
void process_watch_scan(struct process_watch *w, struct lifecycle_probes *probes);
/* A Go runtime started in the process (a new process, or an exec of the same binary), with runtime.main at
 * main_pc: its load bias is that minus runtime.main's link-time address. Known from the event itself, it
 * holds even when the process is gone by the time its stacks are symbolized, and replaces the previous
 * program's. Returns false, changing nothing, for an image older than one already seen (a perf buffer can
 * deliver two execs' events out of order). */
bool process_watch_runtime_started(struct process_watch *w, uint32_t tgid, uint32_t image, uint64_t main_pc);
/* Whether the process is known (seen in the sites, at a runtime start, or found running). */
bool process_watch_knows(const struct process_watch *w, uint32_t tgid);
/* Learns every process that runs the target's binary now (a --path trace's processes that started before it
 * attached) and calls on_found for each it did not know. */
void process_watch_find_running(struct process_watch *w, void (*on_found)(void *ctx, uint32_t tgid),
                                void *ctx);
/* Calls on_exit for each known process that has exited or now runs another program (execed true), and
 * forgets it. */
void process_watch_reap(struct process_watch *w, void (*on_exit)(void *ctx, uint32_t tgid, bool execed),
                        void *ctx);
/* Calls on_end once for each known process that has exited or now runs another program, and keeps it: a
 * report made at the end still names the sites of a process that ended long before with its load bias. */
void process_watch_retire(struct process_watch *w, void (*on_end)(void *ctx, uint32_t tgid), void *ctx);

/* For the commands that report on every process at the end (gr seq, pprof creation/live) and gr: */
/* A LIFECYCLE_RUNTIME_STARTED event: learns the new program's load bias (process_watch_runtime_started) and,
 * when the process may have had goroutines of an earlier program (an exec of its own binary, or a program
 * that ran when gmon attached), forgets their live entries: they ended with it. */
void process_watch_runtime_event(struct process_watch *w, struct lifecycle_probes *probes,
                                 const struct lifecycle_event *ev);
/* Learns the processes of the probes' sites and forgets the live goroutines of those that ended since the
 * last call (they never exit, and would fill the live map: a program started over and over), keeping the
 * processes and their sites for a report at the end. */
void process_watch_forget_ended(struct process_watch *w, struct lifecycle_probes *probes);
#endif
