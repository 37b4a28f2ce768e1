#include "sched_probes.h"

#include <string.h>

#include <bcc/libbpf.h>

extern const char sched_bpf_source[]; /* sched_event.h + sched.bpf.c, embedded by the build */

enum { MAX_SLOTS = 16384 };

static void build_defines(struct bpf_defines *d, const struct sched_probe_options *o) {
    memset(d, 0, sizeof(*d));
    bpf_define(d, "G_GOID", o->layout->g.goid);
    bpf_define(d, "G_WAITREASON", o->layout->g.waitreason);
    bpf_define(d, "G_M", o->layout->g.m);
    bpf_define(d, "M_CURG", o->layout->m.curg);
    bpf_define(d, "TARGET_TGID", o->pid > 0 ? o->pid : 0);
    bpf_define(d, "MAX_GOROUTINES", o->max_goroutines);
    bpf_define(d, "MAX_SLOTS", MAX_SLOTS);
    bpf_define(d, "USE_RINGBUF", 0); /* the program sends no events: a small perf map is the cheapest */
    bpf_define(d, "RINGBUF_PAGES", 1);
}

int sched_probes_open(struct sched_probes *sp, const struct sched_probe_options *o,
                      const struct probe_plan *plan, struct gmon_error *err) {
    memset(sp, 0, sizeof(*sp));
    sp->ncpus = bpf_possible_cpus();
    const struct probe_site *site = probe_plan_site(plan, "runtime.casgstatus");
    if (!site || !site->found)
        return gmon_fail(err, "runtime.casgstatus is not in this binary: scheduling cannot be traced");
    struct bpf_defines defines;
    build_defines(&defines, o);
    if (bpf_program_compile(&sp->prog, sched_bpf_source, &defines, err) != 0)
        return -1;
    sp->slots_fd = bpf_program_map_fd(&sp->prog, "slots");
    sp->totals_fd = bpf_program_map_fd(&sp->prog, "totals");
    sp->counters_fd = bpf_program_map_fd(&sp->prog, "counters");
    int fd = bpf_program_load(&sp->prog, "on_casgstatus", err);
    /* casgstatus is nosplit (no split check: its entry runs once per call, on any stack), and the program
     * reads only its arguments (RAX, EBX, ECX): the probe goes on the cheapest instruction that runs once per
     * call before they change, a NOP or a jump the kernel emulates rather than the entry's SUB RSP (Go <
     * 1.21), which it single-steps (x86_calls.h). */
    if (fd < 0 ||
        bpf_program_attach_uprobe(&sp->prog, fd, o->attach_path, site->args_offset, o->pid, err) != 0) {
        sched_probes_close(sp);
        return -1;
    }
    if (sp->slots_fd < 0 || sp->totals_fd < 0 || sp->counters_fd < 0) {
        sched_probes_close(sp);
        return gmon_fail(err, "the compiled scheduler program lacks one of its maps");
    }
    if (bpf_program_start_tracing(&sp->prog, err) != 0) {
        sched_probes_close(sp);
        return -1;
    }
    return 0;
}

void sched_probes_for_each(struct sched_probes *sp, sched_slot_fn on_slot, sched_total_fn on_total,
                           void *ctx) {
    struct sched_slot_key key, next;
    void *prev = NULL;
    uint64_t count;
    while (on_slot && bpf_get_next_key(sp->slots_fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (bpf_lookup_elem(sp->slots_fd, &key, &count) == 0)
            on_slot(ctx, &key, count);
    }
    struct sched_total total;
    prev = NULL;
    while (on_total && bpf_get_next_key(sp->totals_fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (bpf_lookup_elem(sp->totals_fd, &key, &total) == 0)
            on_total(ctx, &key, &total);
    }
}

void sched_probes_counters(struct sched_probes *sp, uint64_t out[SCHED_COUNTERS]) {
    bpf_sum_percpu_counters(sp->counters_fd, sp->ncpus, out, SCHED_COUNTERS);
}

void sched_probes_detach(struct sched_probes *sp) {
    bpf_program_detach(&sp->prog);
}

void sched_probes_close(struct sched_probes *sp) {
    bpf_program_close(&sp->prog);
}
