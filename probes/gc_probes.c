#include "gc_probes.h"

#include <string.h>

extern const char gc_bpf_source[]; /* gc_event.h + gc.bpf.c, embedded by the build */

enum { RINGBUF_PAGES = 64, PERF_PAGES = 16 };

static void build_defines(struct bpf_defines *d, const struct gc_probe_options *o, bool ringbuf) {
    memset(d, 0, sizeof(*d));
    bpf_define(d, "G_GOID", o->layout->g.goid);
    bpf_define(d, "G_M", o->layout->g.m);
    bpf_define(d, "G_SCHED_SP", o->layout->g.sched_sp);
    bpf_define(d, "G_SCHED_BP", o->layout->g.sched_bp);
    bpf_define(d, "M_CURG", o->layout->m.curg);
    bpf_define(d, "STW_REASON_IN_AL", o->stw_reason_in_al);
    bpf_define(d, "TARGET_TGID", o->pid > 0 ? o->pid : 0);
    bpf_define(d, "USE_RINGBUF", ringbuf);
    bpf_define(d, "RINGBUF_PAGES", RINGBUF_PAGES);
}

static void deliver(void *ctx, const void *data, size_t size) {
    struct gc_probes *gp = ctx;
    if (size < sizeof(struct gc_event)) {
        gp->malformed_events++;
        return;
    }
    struct gc_event ev; /* perf samples are only 4-byte aligned */
    memcpy(&ev, data, sizeof(ev));
    gp->on_event(gp->ctx, &ev);
}

static int attach_all(struct gc_probes *gp, const struct gc_probe_options *o, const struct probe_plan *plan,
                      struct gmon_error *err) {
    const char *needed[] = {"runtime.gcStart", "runtime.stopTheWorldWithSema",
                            "runtime.startTheWorldWithSema"};
    const struct probe_site *site[3];
    for (int i = 0; i < 3; i++) {
        site[i] = probe_plan_site(plan, needed[i]);
        if (!site[i] || !site[i]->found)
            return gmon_fail(err, "the probe plan lacks %s", needed[i]);
    }
    int on_gc_start = bpf_program_load(&gp->prog, "on_gc_start", err);
    int on_begin = on_gc_start < 0 ? -1 : bpf_program_load(&gp->prog, "on_stw_begin", err);
    int on_stopped = on_begin < 0 ? -1 : bpf_program_load(&gp->prog, "on_stw_stopped", err);
    int on_end = on_stopped < 0 ? -1 : bpf_program_load(&gp->prog, "on_stw_end", err);
    if (on_end < 0)
        return -1;
    /* gcStart runs on a goroutine stack: after the split check, so it fires once per call. The STW functions
     * run on g0, whose stack never grows: their entry is fine. */
    const char *bin = o->attach_path;
    if (bpf_program_attach_uprobe(&gp->prog, on_gc_start, bin, site[0]->body_offset, o->pid, err) != 0 ||
        bpf_program_attach_uprobe(&gp->prog, on_begin, bin, site[1]->entry_offset, o->pid, err) != 0 ||
        bpf_program_attach_rets(&gp->prog, on_stopped, bin, site[1], o->pid, err) != 0 ||
        bpf_program_attach_rets(&gp->prog, on_end, bin, site[2], o->pid, err) != 0)
        return -1;
    return 0;
}

int gc_probes_open(struct gc_probes *gp, const struct gc_probe_options *o, const struct probe_plan *plan,
                   gc_event_fn on_event, void *ctx, struct gmon_error *err) {
    memset(gp, 0, sizeof(*gp));
    gp->on_event = on_event;
    gp->ctx = ctx;
    gp->ncpus = bpf_possible_cpus();
    bool ringbuf = !o->force_perf_buffer && event_reader_kernel_has_ringbuf();
    struct bpf_defines defines;
    build_defines(&defines, o, ringbuf);
    if (bpf_program_compile(&gp->prog, gc_bpf_source, &defines, err) != 0)
        return -1;
    gp->counters_fd = bpf_program_map_fd(&gp->prog, "counters");
    if (gp->counters_fd < 0) {
        gc_probes_close(gp);
        return gmon_fail(err, "the compiled GC program lacks its counters map");
    }
    if (attach_all(gp, o, plan, err) != 0 ||
        event_reader_open(&gp->reader, bpf_program_map_fd(&gp->prog, "events"), ringbuf, PERF_PAGES, deliver,
                          gp, err) != 0 ||
        bpf_program_start_tracing(&gp->prog, err) != 0) {
        gc_probes_close(gp);
        return -1;
    }
    return 0;
}

int gc_probes_poll(struct gc_probes *gp, int timeout_ms) {
    return event_reader_poll(&gp->reader, timeout_ms);
}

void gc_probes_counters(struct gc_probes *gp, uint64_t out[GC_COUNTERS]) {
    bpf_sum_percpu_counters(gp->counters_fd, gp->ncpus, out, GC_COUNTERS);
    out[GC_COUNTER_EVENTS_LOST] += gp->reader.perf_lost + gp->malformed_events;
}

void gc_probes_detach(struct gc_probes *gp) {
    bpf_program_detach(&gp->prog);
    event_reader_drain_all(&gp->reader);
}

void gc_probes_close(struct gc_probes *gp) {
    event_reader_close(&gp->reader);
    bpf_program_close(&gp->prog);
}
