#include "probe_plan.h"

#include <stdio.h>
#include <string.h>

#include "x86_calls.h"
#include "x86_prologue.h"
#include "x86_rets.h"

/* The runtime functions gmon probes (docs/design.md), with the releases that have them, and the function
 * whose calls in them are probed instead of other instructions where possible (cheaper: x86_calls.h). */
static const struct {
    const char *name;
    int first_minor, last_minor;
    bool required;
    const char *callee;
} TARGETS[] = {
    {"runtime.newproc1", 0, 99, true, NULL},
    /* proc.go, newproc (1.17-1.27): systemstack(func() { newg := newproc1(...); runqput(pp, newg, true); ...
     * }) runs every go statement: its call of runqput has the new g in RBX (the second argument). */
    {"runtime.newproc.func1", 0, 99, false, "runtime.runqput"},
    /* proc.go, goexit1 (1.17-1.27): ends with mcall(goexit0), once per exit, the goroutine's g in R14. */
    {"runtime.goexit1", 0, 99, true, "runtime.mcall"},
    {"runtime.goexit0", 0, 99, false, NULL},
    {"runtime.gdestroy", 22, 99, false, NULL},
    {"runtime.casgstatus", 0, 99, false, NULL},
    {"runtime.mallocgc", 0, 99, false, NULL},
    {"runtime.newobject", 0, 99, false, NULL},
    {"runtime.gcStart", 0, 99, false, NULL},
    {"runtime.gcMarkDone", 0, 99, false, NULL},
    {"runtime.gcMarkTermination", 0, 99, false, NULL},
    {"runtime.stopTheWorldWithSema", 0, 99, false, NULL},
    {"runtime.startTheWorldWithSema", 0, 99, false, NULL},
    {"runtime.gcBgMarkWorker", 0, 99, false, NULL},
    {"runtime.bgsweep", 0, 99, false, NULL},
    {"runtime.sweepone", 0, 99, false, NULL},
    {"runtime.gopark", 0, 99, false, NULL},
    {"runtime.goready", 0, 20, false, NULL},
    {"runtime.ready", 0, 99, false, NULL},
    {"runtime.globrunqput", 0, 99, false, NULL},
    {"runtime.globrunqputhead", 0, 99, false, NULL},
    {"runtime.globrunqget", 0, 99, false, NULL},
    {"runtime.runqsteal", 0, 99, false, NULL},
};

/* The file offsets of the site's CALLs to its callee (none when the callee is not in the binary). */
static void plan_calls(const struct go_binary *b, struct probe_site *s, const uint8_t *code) {
    struct go_func callee;
    int wrappers;
    if (!go_binary_find_func(b, s->callee, &callee, &wrappers))
        return;
    uint64_t calls[PROBE_MAX_CALLS];
    s->ncalls = x86_find_calls(code, s->size, s->entry, callee.entry, calls, PROBE_MAX_CALLS);
    size_t kept = s->ncalls < PROBE_MAX_CALLS ? s->ncalls : PROBE_MAX_CALLS;
    for (size_t i = 0; i < kept; i++) {
        uint64_t point = x86_cheapest_probe_point(code, s->size, s->entry, calls[i]);
        s->call_offsets[i] = s->entry_offset + (point - s->entry);
    }
}

static void plan_site(const struct go_binary *b, struct probe_site *s) {
    struct go_func fn;
    if (!go_binary_find_func(b, s->function, &fn, &s->wrappers)) {
        snprintf(s->problem, sizeof(s->problem), "not in the binary");
        return;
    }
    s->entry = fn.entry;
    s->size = fn.end - fn.entry;
    const uint8_t *code = elf_image_at_vaddr(&b->elf, fn.entry, s->size);
    if (!code || !elf_image_vaddr_to_offset(&b->elf, fn.entry, &s->entry_offset)) {
        snprintf(s->problem, sizeof(s->problem), "code lies outside the file");
        return;
    }
    size_t body = 0;
    x86_skip_split_check(code, s->size, &body);
    s->body_offset = s->entry_offset + body;
    uint64_t args_point = x86_cheapest_point_with_arguments(code, s->size, fn.entry, fn.entry + body);
    s->args_offset = s->entry_offset + (args_point - fn.entry);
    uint64_t rets[PROBE_MAX_RETS];
    struct gmon_error err;
    if (x86_find_rets(code, s->size, fn.entry, rets, PROBE_MAX_RETS, &s->nrets, &err) != 0) {
        snprintf(s->problem, sizeof(s->problem), "%s", err.msg);
        return;
    }
    size_t kept = s->nrets < PROBE_MAX_RETS ? s->nrets : PROBE_MAX_RETS;
    for (size_t i = 0; i < kept; i++)
        s->ret_offsets[i] = s->entry_offset + (rets[i] - fn.entry);
    if (s->callee)
        plan_calls(b, s, code);
    s->found = true;
}

int probe_plan_build(const struct go_binary *b, struct probe_plan *plan, struct gmon_error *err) {
    memset(plan, 0, sizeof(*plan));
    int minor = b->version.minor;
    for (size_t i = 0; i < sizeof(TARGETS) / sizeof(TARGETS[0]); i++) {
        if (minor < TARGETS[i].first_minor || minor > TARGETS[i].last_minor)
            continue;
        struct probe_site *s = &plan->sites[plan->nsites++];
        s->function = TARGETS[i].name;
        s->required = TARGETS[i].required;
        s->callee = TARGETS[i].callee;
        plan_site(b, s);
        if (s->required && !s->found)
            return gmon_fail(err, "cannot place a probe on %s: %s", s->function, s->problem);
    }
    return 0;
}

void probe_site_plan(const struct go_binary *b, const char *function, struct probe_site *s) {
    memset(s, 0, sizeof(*s));
    s->function = function;
    plan_site(b, s);
}

const struct probe_site *probe_plan_site(const struct probe_plan *plan, const char *function) {
    for (size_t i = 0; i < plan->nsites; i++)
        if (strcmp(plan->sites[i].function, function) == 0)
            return &plan->sites[i];
    return NULL;
}
