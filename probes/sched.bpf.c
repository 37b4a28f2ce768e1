/* Scheduler probes, compiled at run time by libbcc (sched_probes.c supplies the -D flags): every goroutine
 * status change goes through runtime.casgstatus(gp RAX, oldval EBX, newval ECX), a nosplit function (no
 * stack-split check: its entry fires once per call) that runs on goroutine stacks and g0 alike; one probe
 * that reads its three arguments is all it needs (runtime/proc.go, casgstatus): on the cheapest instruction
 * that runs once per call before they change (probe_plan's args_offset).
 *
 *   X -> _Grunnable            remember when gp became runnable
 *   _Grunnable -> _Grunning    scheduling latency: now - runnable since
 *   X -> _Gwaiting             remember when gp parked, and g.waitreason
 *   _Gwaiting -> X             time blocked, by wait reason (g.waitreason read at the wake-up, where every
 *                              release has set it; the one read at the park is the fallback)
 * Everything is aggregated here: log2 histograms and totals per process and reason. Only transitions that
 * start after gmon attached are measured.
 *
 * Configuration (-D): G_GOID G_WAITREASON (runtime.g offsets), G_M M_CURG (unused, for probe_common),
 * TARGET_TGID, MAX_GOROUTINES MAX_SLOTS (map sizes), USE_RINGBUF RINGBUF_PAGES. */
#ifndef GMON_SCHED_EVENT_H /* the build embeds both headers in front; includes are for editors */
#include "sched_event.h"
#include "probe_common.bpf.h"
#endif

/* LRU: a goroutine that parks for good (or exits in a way casgstatus does not show) must not hold its slot
 * forever; when the map is full, the oldest waits are forgotten rather than new ones refused. */
BPF_TABLE("lru_hash", struct sched_goroutine, u64, runnable_since, MAX_GOROUTINES);
BPF_TABLE("lru_hash", struct sched_goroutine, struct sched_wait, waiting_since, MAX_GOROUTINES);
BPF_HASH(slots, struct sched_slot_key, u64, MAX_SLOTS);
BPF_HASH(totals, struct sched_slot_key, struct sched_total, MAX_SLOTS);

static __always_inline void record(u32 tgid, u32 reason, u64 ns) {
    u32 slot = log2_slot(ns / 1000);
    struct sched_slot_key key = {.tgid = tgid, .reason = reason, .slot = 0};
    struct sched_total zero_total = {};
    struct sched_total *t = totals.lookup_or_try_init(&key, &zero_total);
    key.slot = slot < SCHED_LOG2_SLOTS ? slot : SCHED_LOG2_SLOTS - 1;
    u64 zero = 0;
    u64 *n = slots.lookup_or_try_init(&key, &zero);
    if (!t || !n) {
        count(SCHED_COUNTER_MAP_FULL);
        return;
    }
    __sync_fetch_and_add(&t->count, 1);
    __sync_fetch_and_add(&t->sum_ns, ns);
    __sync_fetch_and_add(n, 1);
    count(SCHED_COUNTER_RECORDED);
}

static __always_inline u64 wait_reason(u64 gp) {
    u8 reason = 0;
    if (gmon_read_user(&reason, 1, (void *)(gp + G_WAITREASON)) != 0)
        count(SCHED_COUNTER_READ_FAILED);
    return reason;
}

static __always_inline void woke_up(struct sched_goroutine *key, u64 gp, u64 now) {
    struct sched_wait *w = waiting_since.lookup(key);
    if (!w)
        return; /* parked before gmon attached */
    u64 reason = wait_reason(gp);
    record(key->tgid, reason ? reason : w->reason, now - w->since_ns);
    waiting_since.delete(key);
}

static __always_inline void started_running(struct sched_goroutine *key, u64 now) {
    u64 *since = runnable_since.lookup(key);
    if (!since)
        return;
    record(key->tgid, SCHED_RUN_LATENCY, now - *since);
    runnable_since.delete(key);
}

int on_casgstatus(struct pt_regs *ctx) {
    u32 tgid = traced_tgid();
    if (!tgid)
        return 0;
    count(SCHED_COUNTER_HITS);
    u32 oldval = ctx->bx, newval = ctx->cx;
    if (oldval != G_STATUS_WAITING && newval != G_STATUS_WAITING && newval != G_STATUS_RUNNABLE &&
        newval != G_STATUS_RUNNING)
        return 0;
    u64 gp = ctx->ax;
    struct sched_goroutine key = {.tgid = tgid};
    if (read_u64(gp + G_GOID, &key.goid) != 0)
        return 0;
    u64 now = bpf_ktime_get_ns();
    if (oldval == G_STATUS_WAITING)
        woke_up(&key, gp, now);
    if (newval == G_STATUS_RUNNABLE) {
        if (runnable_since.update(&key, &now) != 0)
            count(SCHED_COUNTER_MAP_FULL);
    } else if (newval == G_STATUS_RUNNING && oldval == G_STATUS_RUNNABLE) {
        started_running(&key, now);
    } else if (newval == G_STATUS_WAITING) {
        struct sched_wait w = {.since_ns = now, .reason = wait_reason(gp)};
        if (waiting_since.update(&key, &w) != 0)
            count(SCHED_COUNTER_MAP_FULL);
    }
    return 0;
}
