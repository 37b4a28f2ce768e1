/* What gmon stacks and gmon pprof goroutine share: open the process, pick the release's traceback rules,
 * take a snapshot of its goroutines and, while it is what was read (and frozen, with --freeze), build each
 * selected goroutine's trace and hand it to the command. */
#ifndef GMON_STACK_DUMP_H
#define GMON_STACK_DUMP_H
#include <stdbool.h>
#include <stddef.h>

#include "goroutine_snapshot.h"
#include "goroutine_trace.h"
#include "snapshot_options.h"

struct stack_dump {
    const struct snapshot_options *o;
    bool no_args; /* the command shows no argument words (a profile): they are not read */
    struct traceback_rules rules;
    struct trace_builder builder;
    struct goroutine_trace tr;
    /* called for every goroutine kept (tr built), between begin and end */
    void (*begin)(struct stack_dump *d, struct goroutine_snapshot *s);
    void (*each)(struct stack_dump *d, struct goroutine_snapshot *s);
    void (*end)(struct stack_dump *d, struct goroutine_snapshot *s);
    void *ctx;
    size_t system_hidden, changed; /* left out: the runtime's; the ones that exited since the snapshot */
    bool failed;                   /* out of memory */
    uint64_t goids_found;          /* bit i: the goroutine of o->goids[i] was met */
};

/* Opens o->pid and reads it; returns a GMON_EXIT_* status after printing any error as command cmd. */
int stack_dump_run(struct stack_dump *d, struct goroutine_snapshot *s, const char *cmd);
/* After a run: the goroutines --goid named that the process did not have (they exited, or never were) are
 * said in one line, and the status is GMON_EXIT_FAILED, as a lookup of what is not there fails. */
int stack_dump_missing_goids(const struct stack_dump *d, const char *cmd);
void stack_dump_free(struct stack_dump *d);

#endif
