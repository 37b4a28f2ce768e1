#include "lifecycle_probes.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "grow_array.h"

#include <bcc/libbpf.h>

extern const char lifecycle_bpf_source[]; /* lifecycle_event.h + lifecycle.bpf.c, embedded by the build */

/* A storm's events are read in batches (event_reader's batch_ms), and only every WAKEUP_EVERY-th wakes the
 * reader (probe_common.bpf.h): far fewer wake-ups for the traced threads and for gmon. With the per-CPU
 * rings (cpu_ring.h), a ring wakes the reader when RING_WAKE_AT of its events wait, and the ring buffer
 * carries only those wake-ups. */
enum { RINGBUF_PAGES = 1024, PERF_PAGES = 256, BATCH_MS = 10, WAKEUP_EVERY = 64 };
enum { RING_WAKE_AT = 512, WAKE_TOKEN_PAGES = 4 };

/* How the events reach gmon. */
enum transport { VIA_PERF_BUFFER, VIA_RING_BUFFER, VIA_CPU_RINGS };

/* The per-CPU rings need arrays mapped into memory and the BPF compare-and-swap, as the live slots do, and
 * at most 16 possible CPUs (cpu_rings_slots_per_cpu). */
static enum transport transport_for(const struct lifecycle_options *o, int ncpus) {
    if (o->force_perf_buffer || !event_reader_kernel_has_ringbuf())
        return VIA_PERF_BUFFER;
    bool rings_fit = ncpus > 0 && cpu_rings_slots_per_cpu((uint32_t)ncpus) > 0;
    return o->force_ring_buffer || !rings_fit || !live_slots_supported() ? VIA_RING_BUFFER : VIA_CPU_RINGS;
}

static struct cpu_rings_shape rings_shape(int ncpus) {
    uint32_t cpus = ncpus > 0 ? (uint32_t)ncpus : 1;
    return (struct cpu_rings_shape){.cpus = cpus,
                                    .slots = cpu_rings_slots_per_cpu(cpus),
                                    .event_bytes = sizeof(struct lifecycle_event),
                                    .time_offset = offsetof(struct lifecycle_event, time_ns)};
}
/* Live slots in front of the live hash map (lifecycle_event.h): a quarter of max_live, a power of two, at
 * most 16,384 (1.2 MB); the hash map holds the rest, so that no more than max_live goroutines are tracked
 * (--max-goroutines). Not on a kernel without the BPF compare-and-swap. With --exits poll the scan frees the
 * slots of the goroutines it finds ended, as the exit program does otherwise. */
enum { LIVE_SLOTS_MAX = 16384 };
/* --exits poll: once this many exits are held for their creation to be told (96 bytes each, 6 MB; about as
 * many as the event buffer holds creations), a scan leaves the goroutines whose creation is still in the
 * buffer for a later one. A soft cap: the scan that reaches it may hold as many again (--max-goroutines). */
enum { HELD_EXITS_MAX = 65536 };

static uint32_t live_slots_wanted(const struct lifecycle_options *o) {
    uint32_t n = LIVE_SLOTS_MAX;
    while (n > o->max_live / 4)
        n /= 2;
    return live_slots_supported() ? n : 0;
}

static void define_transport(struct bpf_defines *c, enum transport via, int ncpus) {
    bpf_define(c, "USE_RINGBUF", via != VIA_PERF_BUFFER);
    bpf_define(c, "RINGBUF_PAGES", via == VIA_CPU_RINGS ? WAKE_TOKEN_PAGES : RINGBUF_PAGES);
    bpf_define(c, "RINGBUF_WAKEUP_EVERY", WAKEUP_EVERY);
    bpf_define(c, "USE_CPU_RINGS", via == VIA_CPU_RINGS);
    if (via != VIA_CPU_RINGS)
        return;
    struct cpu_rings_shape shape = rings_shape(ncpus);
    bpf_define(c, "CPU_RING_CPUS", shape.cpus);
    bpf_define(c, "CPU_RING_SLOTS", shape.slots);
    bpf_define(c, "CPU_RING_EVENT_BYTES", shape.event_bytes);
    bpf_define(c, "CPU_RING_WAKE_AT", RING_WAKE_AT);
}

static void build_defines(struct bpf_defines *c, const struct lifecycle_options *o, enum transport via,
                          int ncpus, uint32_t live_slots) {
    const struct g_offsets *g = &o->layout->g;
    memset(c, 0, sizeof(*c));
    bpf_define(c, "G_GOID", g->goid);
    bpf_define(c, "G_PARENT_GOID", g->parent_goid);
    bpf_define(c, "G_GOPC", g->gopc);
    bpf_define(c, "G_STARTPC", g->startpc);
    bpf_define(c, "G_M", g->m);
    bpf_define(c, "G_SCHED_BP", g->sched_bp);
    bpf_define(c, "M_G0", o->layout->m.g0);
    bpf_define(c, "M_CURG", o->layout->m.curg);
    bpf_define(c, "TARGET_TGID", o->pid > 0 ? o->pid : 0);
    bpf_define(c, "EMIT_CREATED", o->emit_created);
    bpf_define(c, "EMIT_EXITED", o->emit_exited);
    bpf_define(c, "EMIT_UNTRACKED", o->emit_untracked);
    define_transport(c, via, ncpus);
    bpf_define(c, "MAX_LIVE", o->max_live - live_slots);
    bpf_define(c, "LIVE_SLOTS", live_slots);
    bpf_define(c, "MAX_SITES", o->max_sites);
    bpf_define(c, "MAX_STACKS", o->max_stacks);
    bpf_define(c, "MAX_IMAGES", 65536);
    bpf_define(c, "EMPTY_PROBES", o->empty_probes);
    bpf_define(c, "LIFETIME_LOG2", o->lifetime_log2);
    bpf_define(c, "MAX_LOG2_KEYS", o->max_sites * 4 + LIFETIME_LOG2_SLOTS);
    bpf_define(c, "EMIT_RUNQ", o->emit_runq);
    bpf_define(c, "EXITS_SCANNED", o->exit_scan_ms != 0);
}

static void deliver(void *ctx, const void *data, size_t size) {
    struct lifecycle_probes *lp = ctx;
    if (!lp->on_event)
        return;
    if (size < sizeof(struct lifecycle_event)) {
        lp->malformed_events++;
        return;
    }
    /* Perf buffer samples follow a 4-byte size header, so they are not 8-byte aligned: copy before reading.
     */
    struct lifecycle_event ev;
    memcpy(&ev, data, sizeof(ev));
    if (ev.kind == LIFECYCLE_CREATED)
        lp->last_created_ns = ev.time_ns;
    lp->on_event(lp->ctx, &ev);
}

/* The run-queue functions gr -v probes; a release that inlined one simply shows fewer kinds of events. */
static const struct {
    const char *function, *program;
    bool at_rets;
} RUNQ_PROBES[] = {
    {"runtime.globrunqput", "on_globrunqput", false},
    {"runtime.globrunqputhead", "on_globrunqput", false},
    {"runtime.globrunqget", "on_globrunqget_ret", true},
    {"runtime.runqsteal", "on_runqsteal_ret", true},
};

static int attach_runq(struct lifecycle_probes *lp, const struct lifecycle_options *o,
                       const struct probe_plan *plan, struct gmon_error *err) {
    for (size_t i = 0; i < sizeof(RUNQ_PROBES) / sizeof(RUNQ_PROBES[0]); i++) {
        const struct probe_site *site = probe_plan_site(plan, RUNQ_PROBES[i].function);
        if (!site || !site->found) {
            size_t used = strlen(lp->runq_missing);
            snprintf(lp->runq_missing + used, sizeof(lp->runq_missing) - used, "%s%s", used ? ", " : "",
                     RUNQ_PROBES[i].function);
            continue;
        }
        int fd = bpf_program_load(&lp->prog, RUNQ_PROBES[i].program, err);
        if (fd < 0)
            return -1;
        /* Entry probes go after the split check: they fire once per call even when the stack grows. */
        int rc =
            RUNQ_PROBES[i].at_rets
                ? bpf_program_attach_rets(&lp->prog, fd, o->attach_path, site, o->pid, err)
                : bpf_program_attach_uprobe(&lp->prog, fd, o->attach_path, site->body_offset, o->pid, err);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The site's one CALL of its callee, or NULL: a cheaper place for a probe than its RETs or its body. */
static const struct probe_site *single_call(const struct probe_site *site) {
    return site && site->found && site->ncalls == 1 ? site : NULL;
}

/* Creations: at newproc.func1's call of runqput where it is found (every go statement passes there), else at
 * newproc1's RETs. */
static int attach_creation(struct lifecycle_probes *lp, const struct lifecycle_options *o,
                           const struct probe_plan *plan, struct gmon_error *err) {
    const struct probe_site *call = single_call(probe_plan_site(plan, "runtime.newproc.func1"));
    const struct probe_site *create = probe_plan_site(plan, "runtime.newproc1");
    if (!call && (!create || !create->found))
        return gmon_fail(err, "the probe plan lacks runtime.newproc1");
    int fd = bpf_program_load(&lp->prog, call ? "on_runqput_call" : "on_newproc1_ret", err);
    if (fd < 0)
        return -1;
    return call ? bpf_program_attach_uprobe(&lp->prog, fd, o->attach_path, call->call_offsets[0], o->pid, err)
                : bpf_program_attach_rets(&lp->prog, fd, o->attach_path, create, o->pid, err);
}

/* Exits: at goexit1's call of mcall(goexit0) where it is found, else after its stack-split check. */
static int attach_exit(struct lifecycle_probes *lp, const struct lifecycle_options *o,
                       const struct probe_plan *plan, struct gmon_error *err) {
    const struct probe_site *exit = probe_plan_site(plan, "runtime.goexit1");
    if (!exit || !exit->found)
        return gmon_fail(err, "the probe plan lacks runtime.goexit1");
    int fd = bpf_program_load(&lp->prog, "on_goexit1", err);
    if (fd < 0)
        return -1;
    uint64_t offset = single_call(exit) ? exit->call_offsets[0] : exit->body_offset;
    return bpf_program_attach_uprobe(&lp->prog, fd, o->attach_path, offset, o->pid, err);
}

static int attach_all(struct lifecycle_probes *lp, const struct lifecycle_options *o,
                      const struct probe_plan *plan, struct gmon_error *err) {
    if (attach_creation(lp, o, plan, err) != 0 || (!o->exit_scan_ms && attach_exit(lp, o, plan, err) != 0))
        return -1;
    return o->emit_runq ? attach_runq(lp, o, plan, err) : 0;
}

static int find_maps(struct lifecycle_probes *lp, uint32_t live_slots, struct gmon_error *err) {
    lp->live_fd = bpf_program_map_fd(&lp->prog, "live");
    lp->sites_fd = bpf_program_map_fd(&lp->prog, "sites");
    lp->stacks_fd = bpf_program_map_fd(&lp->prog, "stacks");
    lp->counters_fd = bpf_program_map_fd(&lp->prog, "counters");
    lp->log2_fd = bpf_program_map_fd(&lp->prog, "lifetime_log2"); /* only with lifetime_log2 */
    lp->images_fd = bpf_program_map_fd(&lp->prog, "images");
    lp->image_cache_fd = bpf_program_map_fd(&lp->prog, "image_cache");
    if (lp->live_fd < 0 || lp->sites_fd < 0 || lp->stacks_fd < 0 || lp->counters_fd < 0)
        return gmon_fail(err, "the compiled BPF program lacks one of its maps");
    if (live_slots &&
        live_slots_map(&lp->slots, bpf_program_map_fd(&lp->prog, "live_slots"), live_slots) != 0)
        return gmon_fail(err, "cannot map the live-goroutine slots into memory: %s", strerror(errno));
    return 0;
}

static int open_reader(struct lifecycle_probes *lp, enum transport via, struct gmon_error *err) {
    int events_fd = bpf_program_map_fd(&lp->prog, "events");
    if (via != VIA_CPU_RINGS)
        return event_reader_open(&lp->reader, events_fd, via == VIA_RING_BUFFER, PERF_PAGES, deliver, lp,
                                 err);
    struct cpu_rings_shape shape = rings_shape(lp->ncpus);
    return event_reader_open_cpu_rings(&lp->reader, events_fd, bpf_program_map_fd(&lp->prog, "cpu_ring_ends"),
                                       bpf_program_map_fd(&lp->prog, "cpu_ring_slots"), &shape, deliver, lp,
                                       err);
}

int lifecycle_open(struct lifecycle_probes *lp, const struct lifecycle_options *o,
                   const struct probe_plan *plan, lifecycle_event_fn on_event, void *ctx,
                   struct gmon_error *err) {
    memset(lp, 0, sizeof(*lp));
    lp->on_event = on_event;
    lp->ctx = ctx;
    lp->ncpus = bpf_possible_cpus();
    enum transport via = transport_for(o, lp->ncpus);
    struct bpf_defines defines;
    uint32_t live_slots = live_slots_wanted(o); /* once: it asks the kernel's release */
    build_defines(&defines, o, via, lp->ncpus, live_slots);
    if (bpf_program_compile(&lp->prog, lifecycle_bpf_source, &defines, err) != 0)
        return -1;
    if (find_maps(lp, live_slots, err) != 0)
        goto fail;
    if (o->exit_scan_ms)
        lifecycle_exit_scan_init(&lp->exits, o->exit_scan_ms, o->layout->g.goid, o->layout->g.atomicstatus,
                                 o->lifetime_log2, o->emit_exited, lp->live_fd, lp->sites_fd, &lp->slots,
                                 bpf_program_map_fd(&lp->prog, "live_map_filled"));
    if (attach_all(lp, o, plan, err) != 0 || open_reader(lp, via, err) != 0 ||
        bpf_program_start_tracing(&lp->prog, err) != 0)
        goto fail;
    lp->reader.batch_ms = BATCH_MS;
    return 0;
fail:
    lifecycle_close(lp);
    return -1;
}

/* An exit the scan found: told now if its goroutine's creation has been, else held until it is. */
static void tell_or_hold_exit(void *ctx, const struct lifecycle_event *ev) {
    struct lifecycle_probes *lp = ctx;
    /* Exact: the scan places an exit after its goroutine's creation, so the lifetime is never clamped. */
    uint64_t created_ns = ev->time_ns - ev->lifetime_ns;
    if (!held_exits_hold(&lp->held, lp->creations_told_before, ev, created_ns))
        lp->on_event(lp->ctx, ev);
}

/* Reads the events sent so far (at most a read's budget) and tells the held exits whose creation has now
 * been told. */
static void read_events_and_release(struct lifecycle_probes *lp) {
    int64_t read_ns = monotonic_ns();
    bool drained = event_reader_drain(&lp->reader);
    lp->creations_told_before = held_exits_cutoff(lp->last_created_ns, read_ns, drained);
    if (lp->held.n)
        held_exits_release(&lp->held, lp->creations_told_before, lp->on_event, lp->ctx);
}

/* Delivers the creation events sent so far, then looks for the exits of the goroutines created before
 * created_before_ns. The scan does not wait for a reader that lags behind a storm (the ended goroutines'
 * slots would stay taken, and the live map fill): the exits of goroutines whose creation is still in the
 * buffer are held until it has been told. Only when HELD_EXITS_MAX are held does the scan leave those
 * goroutines for a later one. */
static void scan_exits(struct lifecycle_probes *lp, int64_t created_before_ns) {
    read_events_and_release(lp);
    if (lp->held.n >= HELD_EXITS_MAX && lp->creations_told_before < created_before_ns)
        created_before_ns = lp->creations_told_before;
    lifecycle_exit_scan_run(&lp->exits, created_before_ns, lp->on_event ? tell_or_hold_exit : NULL, lp);
}

int lifecycle_poll(struct lifecycle_probes *lp, int timeout_ms) {
    if (!lp->exits.interval_ms)
        return event_reader_poll(&lp->reader, timeout_ms);
    int rc = event_reader_poll(&lp->reader, lifecycle_exit_scan_wait_ms(&lp->exits, timeout_ms));
    if (rc != 0)
        return rc;
    /* Held exits are told at the first poll that can: before the command's housekeeping, which may forget
     * their process (its sites named and counted without it, after). A poll alone does not empty the buffer
     * (the creation program wakes the reader only every WAKEUP_EVERY events): a read after it does, the one a
     * scan starts with when one is due. */
    if (lifecycle_exit_scan_due(&lp->exits))
        scan_exits(lp, monotonic_ns() - LIFECYCLE_EXIT_SCAN_YOUNGEST_NS);
    else if (lp->held.n)
        read_events_and_release(lp);
    return rc;
}

int lifecycle_counters(struct lifecycle_probes *lp, uint64_t out[LIFECYCLE_COUNTERS]) {
    bpf_sum_percpu_counters(lp->counters_fd, lp->ncpus, out, LIFECYCLE_COUNTERS);
    out[COUNTER_EVENTS_LOST] += lp->reader.perf_lost + lp->malformed_events;
    out[COUNTER_EVENTS_SENT] += event_reader_ring_events_sent(&lp->reader);
    if (lp->exits.interval_ms)
        lifecycle_exit_scan_counters(&lp->exits, out);
    return 0;
}

int lifecycle_stack(struct lifecycle_probes *lp, uint64_t stack, uint64_t *pcs, int max) {
    struct creation_stack found;
    if (stack == 0 || bpf_lookup_elem(lp->stacks_fd, &stack, &found) != 0)
        return 0;
    int n = 0;
    while (n < max && (uint64_t)n < found.depth && n < LIFECYCLE_STACK_DEPTH) {
        pcs[n] = found.pcs[n];
        n++;
    }
    return n;
}

void lifecycle_for_each_site(struct lifecycle_probes *lp, lifecycle_site_fn fn, void *ctx) {
    struct site_key key, next;
    struct site_stats stats;
    void *prev = NULL;
    while (bpf_get_next_key(lp->sites_fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (bpf_lookup_elem(lp->sites_fd, &key, &stats) != 0)
            continue;
        if (lp->exits.interval_ms)
            lifecycle_exit_scan_add_to_site(&lp->exits, &key, &stats);
        fn(ctx, &key, &stats);
    }
}

void lifecycle_for_each_live(struct lifecycle_probes *lp, lifecycle_live_fn fn, void *ctx) {
    live_slots_for_each(&lp->slots, fn, ctx);
    struct goroutine_key key, next;
    struct goroutine_info info;
    void *prev = NULL;
    while (bpf_get_next_key(lp->live_fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (bpf_lookup_elem(lp->live_fd, &key, &info) == 0)
            fn(ctx, &key, &info);
    }
}

void lifecycle_for_each_lifetime_slot(struct lifecycle_probes *lp, lifecycle_slot_fn fn, void *ctx) {
    if (lp->exits.interval_ms) { /* the scan counts every lifetime: the BPF map stays empty */
        lifecycle_exit_scan_for_each_slot(&lp->exits, fn, ctx);
        return;
    }
    struct lifetime_slot_key key, next;
    uint64_t count;
    void *prev = NULL;
    while (lp->log2_fd >= 0 && bpf_get_next_key(lp->log2_fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (bpf_lookup_elem(lp->log2_fd, &key, &count) == 0)
            fn(ctx, &key, count);
    }
}

/* Deletes the entries of map fd that doomed picks. Deleting while iterating a BPF hash map restarts the
 * walk, so the keys are collected first. */
static void delete_entries(int fd, size_t key_size, size_t value_size,
                           bool (*doomed)(const void *key, const void *value, const void *ctx),
                           const void *ctx) {
    size_t cap = 0, n = 0;
    uint8_t *keys = NULL;
    uint8_t key[64], next[64], value[256];
    if (key_size > sizeof(key) || value_size > sizeof(value))
        return;
    void *prev = NULL;
    while (bpf_get_next_key(fd, prev, next) == 0) {
        memcpy(key, next, key_size);
        prev = key;
        if (bpf_lookup_elem(fd, key, value) != 0 || !doomed(key, value, ctx))
            continue;
        uint8_t *grown = grow_array(keys, &cap, n, key_size, 256);
        if (!grown)
            break;
        keys = grown;
        memcpy(keys + n++ * key_size, key, key_size);
    }
    for (size_t i = 0; i < n; i++)
        bpf_delete_elem(fd, keys + i * key_size);
    free(keys);
}

static bool of_process(const void *key, const void *value, const void *ctx) {
    (void)value;
    uint32_t tgid;
    memcpy(&tgid, key, sizeof(tgid)); /* every key struct starts with tgid */
    return tgid == *(const uint32_t *)ctx;
}

/* Clears the image cache's slot of process tgid, if it holds that process (after its images entry is gone: a
 * creation in between would only fill the slot again from `images`, where it no longer is). */
static void forget_cached_image(struct lifecycle_probes *lp, uint32_t tgid) {
    uint32_t slot = tgid % IMAGE_CACHE_SLOTS;
    uint64_t cached, empty = 0;
    if (lp->image_cache_fd >= 0 && bpf_lookup_elem(lp->image_cache_fd, &slot, &cached) == 0 &&
        cached >> 32 == tgid)
        bpf_update_elem(lp->image_cache_fd, &slot, &empty, BPF_ANY);
}

/* Not the stacks: they are shared by every process (--path), and the creation program counts a known site
 * without looking its stack up, on the promise that a stored stack stays. */
void lifecycle_forget_process(struct lifecycle_probes *lp, uint32_t tgid) {
    /* Its image number first: a process that reuses the pid after this returns numbers its programs from 1,
     * not on from the old one's. */
    if (lp->images_fd >= 0)
        bpf_delete_elem(lp->images_fd, &tgid);
    forget_cached_image(lp, tgid);
    lifecycle_forget_live(lp, tgid);
    delete_entries(lp->sites_fd, sizeof(struct site_key), sizeof(struct site_stats), of_process, &tgid);
    if (lp->log2_fd >= 0)
        delete_entries(lp->log2_fd, sizeof(struct lifetime_slot_key), sizeof(uint64_t), of_process, &tgid);
    if (lp->exits.interval_ms)
        lifecycle_exit_scan_forget(&lp->exits, of_process, of_process, &tgid);
}

/* The exit scan's counts are per site and slot: they stay. */
void lifecycle_forget_live(struct lifecycle_probes *lp, uint32_t tgid) {
    delete_entries(lp->live_fd, sizeof(struct goroutine_key), sizeof(struct goroutine_info), of_process,
                   &tgid);
    live_slots_clear_if(&lp->slots, of_process, &tgid);
}

struct image_change {
    uint32_t tgid, image;
    uint64_t started_ns;
};

static bool live_before_start(const void *key, const void *value, const void *ctx) {
    const struct image_change *c = ctx;
    const struct goroutine_info *info = value;
    return of_process(key, value, &c->tgid) && info->created_ns < c->started_ns;
}

static bool site_of_older_image(const void *key, const void *value, const void *ctx) {
    const struct image_change *c = ctx;
    const struct site_key *site = key;
    (void)value;
    return site->tgid == c->tgid && site->image < c->image;
}

void lifecycle_forget_live_before(struct lifecycle_probes *lp, uint32_t tgid, uint64_t started_ns) {
    struct image_change c = {tgid, 0, started_ns};
    delete_entries(lp->live_fd, sizeof(struct goroutine_key), sizeof(struct goroutine_info),
                   live_before_start, &c);
    live_slots_clear_if(&lp->slots, live_before_start, &c);
}

void lifecycle_forget_image(struct lifecycle_probes *lp, uint32_t tgid, uint32_t image, uint64_t started_ns) {
    struct image_change c = {tgid, image, started_ns};
    lifecycle_forget_live_before(lp, tgid, started_ns);
    delete_entries(lp->sites_fd, sizeof(struct site_key), sizeof(struct site_stats), site_of_older_image, &c);
    if (lp->exits.interval_ms)
        lifecycle_exit_scan_forget(&lp->exits, site_of_older_image, NULL, &c);
}

void lifecycle_detach(struct lifecycle_probes *lp) {
    /* A scan now, before detaching (which takes milliseconds per probe): a goroutine that ended since the
     * last scan gets its exit placed between that scan and now, not between that scan and the end of the
     * detach. */
    if (lp->exits.interval_ms)
        scan_exits(lp, monotonic_ns() - LIFECYCLE_EXIT_SCAN_YOUNGEST_NS);
    bpf_program_detach(&lp->prog);
    event_reader_drain_all(&lp->reader);
    if (lp->exits.interval_ms) {
        /* Every creation has been handed over: the held exits, then the last ones. */
        lp->last_created_ns = INT64_MAX;
        scan_exits(lp, INT64_MAX);
    }
}

void lifecycle_close(struct lifecycle_probes *lp) {
    live_slots_unmap(&lp->slots);
    event_reader_close(&lp->reader);
    bpf_program_close(&lp->prog);
    lifecycle_exit_scan_free(&lp->exits);
    held_exits_free(&lp->held);
}
