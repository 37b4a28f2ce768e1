#include "process_follower.h"

#include <stdio.h>
#include <string.h>

#include "proc_target.h"
#include "process_stats.h"

void process_follower_init(struct process_follower *f, const char *who, const struct target *binary) {
    memset(f, 0, sizeof(*f));
    f->who = who;
    f->binary = binary;
}

static bool refused(const struct process_follower *f, int pid, double start) {
    for (int i = 0; i < f->nrefused; i++)
        if (f->refused[i].pid == pid && f->refused[i].start_time == start)
            return true;
    return false;
}

static void refuse(struct process_follower *f, int pid, double start) {
    int at = f->nrefused < FOLLOW_MAX_PROCESSES ? f->nrefused++ : FOLLOW_MAX_PROCESSES - 1;
    f->refused[at].pid = pid;
    f->refused[at].start_time = start;
}

struct offer {
    struct process_follower *f;
    const struct follow_callbacks *cb;
};

/* A process running the binary: joins unless known or refused already. */
static void consider(void *ctx, int pid) {
    struct offer *o = ctx;
    struct process_follower *f = o->f;
    for (int i = 0; i < f->n; i++)
        if (f->slots[i].pid == pid)
            return;
    double start = process_start_time(pid);
    if (refused(f, pid, start))
        return;
    struct gmon_error err;
    if (f->n == FOLLOW_MAX_PROCESSES) {
        fprintf(stderr, "%s: more than %d processes run %s: PID %d left out\n", f->who, FOLLOW_MAX_PROCESSES,
                f->binary->path, pid);
        refuse(f, pid, start);
    } else if (o->cb->join(o->cb->ctx, f->n, pid, !f->scanned, &err) != 0) {
        fprintf(stderr, "%s: PID %d: %s\n", f->who, pid, err.msg);
        refuse(f, pid, start);
    } else {
        f->slots[f->n].pid = pid;
        f->slots[f->n].start_time = start;
        f->n++;
    }
}

void process_follower_update(struct process_follower *f, const struct follow_callbacks *cb) {
    for (int i = 0; i < f->n;) {
        int pid = f->slots[i].pid;
        if (proc_exists(pid) && target_process_runs_binary(f->binary, pid) &&
            process_start_time(pid) == f->slots[i].start_time) {
            i++;
            continue;
        }
        cb->leave(cb->ctx, i, --f->n);
        f->slots[i] = f->slots[f->n];
    }
    struct offer o = {f, cb};
    target_for_each_process(f->binary, consider, &o);
    f->scanned = true;
}
