#include "gc_cycles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow_array.h"

/* gcStart calls not yet matched to a cycle: several goroutines can call gcStart at once (each allocation
 * that crosses the trigger does); the one that wins is the one that then stops the world. */
enum { RECENT_TRIGGERS = 16 };

struct gc_trigger {
    uint64_t goid, kind;
    bool used;
};

struct gc_process {
    uint32_t tgid;
    struct gc_trigger triggers[RECENT_TRIGGERS];
    unsigned next_trigger;
    bool in_pause, in_cycle;
    struct stw_pause pause;
    struct gc_cycle cycle;
    uint64_t cycles;
};

void gc_cycles_init(struct gc_cycles *c, const struct go_binary *bin, const struct go_string_table *reasons,
                    load_bias_fn bias, void *bias_ctx, stw_pause_fn on_pause, gc_cycle_fn on_cycle,
                    void *ctx) {
    memset(c, 0, sizeof(*c));
    c->bin = bin;
    c->reasons = reasons;
    c->bias = bias;
    c->bias_ctx = bias_ctx;
    c->on_pause = on_pause;
    c->on_cycle = on_cycle;
    c->ctx = ctx;
}

void gc_cycles_free(struct gc_cycles *c) {
    free(c->procs);
    c->procs = NULL;
    c->nprocs = c->cap = 0;
}

static struct gc_process *process_of(struct gc_cycles *c, uint32_t tgid) {
    for (size_t i = 0; i < c->nprocs; i++)
        if (c->procs[i].tgid == tgid)
            return &c->procs[i];
    struct gc_process *procs = grow_array(c->procs, &c->cap, c->nprocs, sizeof(*procs), 8);
    if (!procs)
        return NULL;
    c->procs = procs;
    struct gc_process *p = &c->procs[c->nprocs++];
    memset(p, 0, sizeof(*p));
    p->tgid = tgid;
    return p;
}

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Frames that are the machinery of stopping the world, not who asked for it. */
static bool is_stw_machinery(const char *name) {
    return starts_with(name, "runtime.systemstack") || starts_with(name, "runtime.stopTheWorld") ||
           starts_with(name, "runtime.startTheWorld") || starts_with(name, "runtime.mstart");
}

/* Looks at one logical frame: the GC phase functions decide the kind; the first other function outside the
 * STW machinery is the caller. Returns true once the caller is known. */
static bool look_at_frame(struct stw_pause *p, const char *name) {
    if (starts_with(name, "runtime.gcStart")) {
        p->kind = STW_GC_SWEEP_TERMINATION;
        return false;
    }
    if (starts_with(name, "runtime.gcMarkDone") || starts_with(name, "runtime.gcMarkTermination")) {
        p->kind = STW_GC_MARK_TERMINATION;
        return false;
    }
    if (is_stw_machinery(name))
        return false;
    snprintf(p->caller, sizeof(p->caller), "%s", name);
    return true;
}

static void classify(struct gc_cycles *c, struct stw_pause *p, const __u64 pcs[GC_CALLER_FRAMES]) {
    uint64_t bias = 0;
    if (c->bias)
        c->bias(c->bias_ctx, p->tgid, &bias);
    p->kind = STW_OTHER;
    snprintf(p->caller, sizeof(p->caller), "?");
    for (int i = 0; i < GC_CALLER_FRAMES; i++) {
        struct go_func fn;
        if (pcs[i] <= bias || !pclntab_func_at(&c->bin->pcln, pcs[i] - bias - 1, &fn))
            continue; /* empty, or not code (a saved BP, see gc.bpf.c) */
        struct go_frame frames[16];
        int n = pclntab_frames(&c->bin->pcln, &fn, pcs[i] - bias - 1, frames, 16);
        for (int f = 0; f < n; f++)
            if (look_at_frame(p, frames[f].function))
                return;
    }
}

static const char *reason_name(const struct gc_cycles *c, const struct stw_pause *p, uint64_t reason) {
    const char *s = reason == GC_NO_REASON || !c->reasons ? NULL : go_string_table_get(c->reasons, reason);
    if (s)
        return s;
    switch (p->kind) {
    case STW_GC_SWEEP_TERMINATION:
        return "GC sweep termination";
    case STW_GC_MARK_TERMINATION:
        return "GC mark termination";
    default:
        return "stop the world";
    }
}

const char *gc_trigger_name(enum gc_trigger_kind kind) {
    static const char *const names[] = {"heap", "periodic", "forced", "?"};
    return kind <= GC_TRIGGER_UNKNOWN ? names[kind] : "?";
}

static void begin_pause(struct gc_cycles *c, struct gc_process *p, const struct gc_event *ev) {
    if (p->in_pause)
        c->unpaired++; /* the previous pause never ended: an event was lost */
    memset(&p->pause, 0, sizeof(p->pause));
    p->in_pause = true;
    p->pause.tgid = ev->tgid;
    p->pause.goid = ev->goid;
    p->pause.begin_ns = (int64_t)ev->time_ns;
    classify(c, &p->pause, ev->pcs);
    p->pause.reason = reason_name(c, &p->pause, ev->arg0);
}

static void remember_trigger(struct gc_process *p, const struct gc_event *ev) {
    struct gc_trigger *t = &p->triggers[p->next_trigger++ % RECENT_TRIGGERS];
    *t = (struct gc_trigger){.goid = ev->goid, .kind = ev->arg0, .used = true};
}

/* The trigger of the gcStart call made by the goroutine that stopped the world, forgotten once used. */
static enum gc_trigger_kind take_trigger(struct gc_process *p, uint64_t goid) {
    for (unsigned i = 1; i <= RECENT_TRIGGERS; i++) {
        struct gc_trigger *t = &p->triggers[(p->next_trigger - i) % RECENT_TRIGGERS];
        if (t->used && t->goid == goid) {
            t->used = false;
            return t->kind < GC_TRIGGER_UNKNOWN ? (enum gc_trigger_kind)t->kind : GC_TRIGGER_UNKNOWN;
        }
    }
    return GC_TRIGGER_UNKNOWN;
}

static void start_cycle(struct gc_process *p) {
    memset(&p->cycle, 0, sizeof(p->cycle));
    p->in_cycle = true;
    p->cycle.tgid = p->tgid;
    p->cycle.number = ++p->cycles;
    p->cycle.trigger = take_trigger(p, p->pause.goid);
    p->cycle.sweep_termination = p->pause;
}

static void end_pause(struct gc_cycles *c, struct gc_process *p, const struct gc_event *ev) {
    if (!p->in_pause) {
        c->unpaired++; /* gmon attached while the world was stopped */
        return;
    }
    p->in_pause = false;
    p->pause.end_ns = (int64_t)ev->time_ns;
    if (!p->pause.stopped_ns)
        p->pause.stopped_ns = p->pause.end_ns;
    if (c->on_pause)
        c->on_pause(c->ctx, &p->pause);
    if (p->pause.kind == STW_GC_SWEEP_TERMINATION) {
        start_cycle(p);
    } else if (p->pause.kind == STW_GC_MARK_TERMINATION) {
        if (!p->in_cycle) {
            c->unpaired++; /* the cycle began before gmon attached */
            return;
        }
        p->in_cycle = false;
        p->cycle.mark_termination = p->pause;
        p->cycle.mark_ns = p->pause.begin_ns - p->cycle.sweep_termination.end_ns;
        if (c->on_cycle)
            c->on_cycle(c->ctx, &p->cycle);
    }
}

void gc_cycles_event(struct gc_cycles *c, const struct gc_event *ev) {
    struct gc_process *p = process_of(c, ev->tgid);
    if (!p)
        return;
    switch (ev->kind) {
    case GC_EVENT_TRIGGER:
        remember_trigger(p, ev);
        break;
    case GC_EVENT_STW_BEGIN:
        begin_pause(c, p, ev);
        break;
    case GC_EVENT_STW_STOPPED:
        if (p->in_pause)
            p->pause.stopped_ns = (int64_t)ev->time_ns;
        break;
    case GC_EVENT_STW_END:
        end_pause(c, p, ev);
        break;
    default:
        c->unpaired++;
    }
}
