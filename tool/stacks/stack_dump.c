#include "stack_dump.h"

#include "cli.h"

static bool wanted_goid(const struct snapshot_options *o, uint64_t goid) {
    for (size_t i = 0; i < o->ngoids; i++)
        if (o->goids[i] == goid)
            return true;
    return o->ngoids == 0;
}

/* Runs while the goroutines just read are still what they were (and the process stopped, with --freeze). */
static void walk_all(struct goroutine_snapshot *s, void *ctx) {
    struct stack_dump *d = ctx;
    trace_builder_init(&d->builder, &s->t.bin.pcln, s->t.load_bias, &d->rules, s->t.pid, &s->bytes_read);
    if (d->begin)
        d->begin(d, s);
    for (size_t i = 0; i < s->n && !d->failed; i++) {
        const struct goroutine *g = &s->gs[i];
        if (!wanted_goid(d->o, g->goid))
            continue;
        if (!goroutine_trace_build(&d->builder, g, 0, 0, &d->tr)) {
            d->failed = true;
            break;
        }
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
