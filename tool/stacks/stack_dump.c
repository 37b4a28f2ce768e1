#include "stack_dump.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "thread_registers.h"

/* Whether goroutine goid is one to show; the --goid options it answers (the same one may be given twice) are
 * marked found. */
static bool wanted_goid(struct stack_dump *d, uint64_t goid) {
    const struct snapshot_options *o = d->o;
    bool wanted = o->ngoids == 0;
    for (size_t i = 0; i < o->ngoids; i++) {
        if (o->goids[i] == goid) {
            d->goids_found |= 1ull << i;
            wanted = true;
        }
    }
    return wanted;
}

int stack_dump_missing_goids(const struct stack_dump *d, const char *cmd) {
    char list[512] = "";
    size_t len = 0, missing = 0;
    for (size_t i = 0; i < d->o->ngoids; i++) {
        if (d->goids_found & (1ull << i))
            continue;
        if (len < sizeof(list))
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%" PRIu64, missing ? ", " : "",
                                    d->o->goids[i]);
        missing++;
    }
    if (!missing)
        return GMON_EXIT_OK;
    cli_error(cmd, "process %d has no goroutine%s %s (exited, or never created)", d->o->pid,
              missing > 1 ? "s" : "", list);
    return GMON_EXIT_FAILED;
}

/* A thread stopped as the kernel enters a signal handler (the runtime preempts a goroutine that runs for
 * long with SIGURG, every 10 ms) is at the entry of runtime.sigtramp on its signal stack; the goroutine's own
 * registers are in the ucontext_t the kernel passes in rdx. */
static bool interrupted_context(const struct goroutine_snapshot *s, struct thread_regs *r) {
    struct go_func fn;
    uint64_t bias = s->t.load_bias;
    if (r->pc < bias || !pclntab_func_at(&s->t.bin.pcln, r->pc - bias, &fn) || fn.entry + bias != r->pc ||
        strncmp(fn.name, "runtime.sigtramp", strlen("runtime.sigtramp")) != 0)
        return false;
    uint64_t sp, pc;
    if (!proc_read(s->t.pid, r->arg3 + UCONTEXT_RSP, &sp, 8) ||
        !proc_read(s->t.pid, r->arg3 + UCONTEXT_RIP, &pc, 8))
        return false;
    r->pc = pc;
    r->sp = sp;
    return true;
}

/* Where a running goroutine of the frozen process is: the registers of the thread of its M (m.procid), when
 * they point into the goroutine's own stack (or those its signal handler was entered with). A thread inside
 * the scheduler, a systemstack call, a signal handler or the vDSO leaves pc and sp 0: no stack. */
static void running_registers(const struct goroutine_snapshot *s, const struct goroutine_stack_state *g,
                              uint64_t *pc, uint64_t *sp) {
    uint64_t tid = 0;
    struct thread_regs r;
    const char *why;
    if (!g->m || !proc_read(s->t.pid, g->m + (uint64_t)s->layout.layout->m.procid, &tid, 8) || tid == 0 ||
        tid > 1u << 22 || !thread_registers((int)tid, &r, &why))
        return;
    if ((r.sp < g->stack_lo || r.sp >= g->stack_hi) && !interrupted_context(s, &r))
        return;
    if (r.sp < g->stack_lo || r.sp >= g->stack_hi)
        return;
    *pc = r.pc;
    *sp = r.sp;
}

static bool same_state(const struct goroutine *a, const struct goroutine_stack_state *sa,
                       const struct goroutine *b, const struct goroutine_stack_state *sb) {
    return a->status == b->status && a->reason == b->reason && sa->sched_pc == sb->sched_pc &&
           sa->sched_sp == sb->sched_sp && sa->syscall_pc == sb->syscall_pc &&
           sa->syscall_sp == sb->syscall_sp && sa->stack_lo == sb->stack_lo;
}

/* Walks goroutine g (its row refreshed in place) into d->tr. A process that runs on while it is read may
 * move the goroutine meanwhile: its state is read before and after the walk, and the walk is taken again
 * (3 times at most) until they agree; then the trace says it changed rather than show frames of two
 * moments. Returns false when g is gone (exited, its g reused). */
static bool trace_goroutine(struct stack_dump *d, struct goroutine_snapshot *s, struct goroutine *g) {
    enum { ATTEMPTS = 3 };
    struct goroutine_stack_state st, after;
    if (!snapshot_reread(s, g, &st))
        return false;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        uint64_t pc = 0, sp = 0;
        if (d->o->freeze && g->status == GOROUTINE_RUNNING)
            running_registers(s, &st, &pc, &sp);
        if (!goroutine_trace_build(&d->builder, g, &st, pc, sp, &d->tr)) {
            d->failed = true;
            return true;
        }
        if (d->o->freeze || d->tr.kind == TRACE_RUNNING)
            return true; /* nothing moves; or nothing was walked */
        struct goroutine again = *g;
        if (!snapshot_reread(s, &again, &after))
            return false;
        if (same_state(g, &st, &again, &after))
            return true;
        *g = again;
        st = after;
    }
    d->tr.kind = TRACE_CHANGED;
    return true;
}

/* Runs while the goroutines just read are still what they were (and the process stopped, with --freeze). */
static void walk_all(struct goroutine_snapshot *s, void *ctx) {
    struct stack_dump *d = ctx;
    trace_builder_init(&d->builder, &s->t.bin.pcln, s->t.load_bias, &d->rules, s->t.pid, &s->bytes_read);
    d->builder.no_args = d->no_args;
    if (d->begin)
        d->begin(d, s);
    for (size_t i = 0; i < s->n && !d->failed; i++) {
        struct goroutine *g = &s->gs[i];
        if (!wanted_goid(d, g->goid))
            continue;
        if (!trace_goroutine(d, s, g)) {
            d->changed++; /* it exited since the snapshot */
            continue;
        }
        if (d->failed)
            break;
        /* Go leaves the runtime's goroutines out of its dumps and profiles; --goid names them on purpose */
        if (!d->o->system && !d->o->ngoids &&
            goroutine_is_system(&s->t.bin.pcln, s->t.load_bias, g, &d->tr)) {
            d->system_hidden++;
            continue;
        }
        d->each(d, s);
    }
    if (d->end)
        d->end(d, s);
    trace_builder_free(&d->builder);
}

int stack_dump_run(struct stack_dump *d, struct goroutine_snapshot *s, const char *cmd) {
    struct gmon_error err;
    if (snapshot_open(s, d->o->pid, d->o->bin, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    if (!traceback_rules_for(s->t.bin.version.minor, &d->rules)) {
        cli_error(cmd, "process %d: Go %s is outside the releases gmon knows the traceback of (1.17-1.27)",
                  d->o->pid, s->t.bin.version_string);
        return GMON_EXIT_BAD_INPUT;
    }
    s->while_stopped = walk_all;
    s->while_stopped_ctx = d;
    if (snapshot_take(s, d->o->freeze, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    if (d->failed) {
        cli_error(cmd, "out of memory while reading the stacks");
        return GMON_EXIT_FAILED;
    }
    return GMON_EXIT_OK;
}

void stack_dump_free(struct stack_dump *d) {
    goroutine_trace_free(&d->tr);
}
