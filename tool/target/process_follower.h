/* The processes running a binary (--path), followed from one read to the next: each process that starts
 * running it is offered once to the caller, which opens it in a slot or refuses it (said once, and remembered
 * by PID and start time, so that a new process given that PID is tried); each that exits, or whose PID
 * another process has taken, leaves. The caller keeps its own per-process state in slots parallel to the
 * follower's. Used by gmon exporter's --path and gmon sched's. */
#ifndef GMON_PROCESS_FOLLOWER_H
#define GMON_PROCESS_FOLLOWER_H
#include <stdbool.h>

#include "gmon_error.h"
#include "target.h"

enum { FOLLOW_MAX_PROCESSES = 64 };

struct process_follower {
    const char *who; /* how stderr lines begin ("gmon exporter") */
    const struct target *binary;
    bool scanned; /* one scan done: the processes found later started running the binary since */
    int n;
    struct {
        int pid;
        double start_time;
    } slots[FOLLOW_MAX_PROCESSES], refused[FOLLOW_MAX_PROCESSES];
    int nrefused;
};

struct follow_callbacks {
    /* Opens pid in slot (the next free one); first: found by the first scan. 0, or -1 with err (refused). */
    int (*join)(void *ctx, int slot, int pid, bool first, struct gmon_error *err);
    /* Closes slot, then moves slot last into it (the follower does the same with its own). */
    void (*leave)(void *ctx, int slot, int last);
    void *ctx;
};

void process_follower_init(struct process_follower *f, const char *who, const struct target *binary);
/* Drops the processes gone since the last call, then offers the new ones. */
void process_follower_update(struct process_follower *f, const struct follow_callbacks *cb);

#endif
