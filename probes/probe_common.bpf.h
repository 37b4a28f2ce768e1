/* What every gmon BPF program shares: the event transport (ring buffer, or perf buffer on kernels without
 * one) and gmon's own per-CPU counters, with the helpers that count into them. The build embeds it between a
 * program's event header and its source (embed_bpf in CMakeLists.txt). The event header names the counter
 * slots: PROBE_COUNTERS (how many), PROBE_COUNTER_SENT, PROBE_COUNTER_LOST, PROBE_COUNTER_READ_FAILED.
 * Configuration (-D): TARGET_TGID (0: every process), USE_RINGBUF, RINGBUF_PAGES; USE_CPU_RINGS (events go to
 * per-CPU rings, cpu_ring.h; the ring buffer then carries only wake-ups) with CPU_RING_CPUS CPU_RING_SLOTS
 * CPU_RING_EVENT_BYTES CPU_RING_WAKE_AT. */
#ifndef GMON_PROBE_COMMON_BPF_H
#define GMON_PROBE_COMMON_BPF_H
#include <linux/version.h>
#include <uapi/linux/ptrace.h>

/* Reads user (and kernel) memory. Not named bpf_probe_read_user: bcc checks every call of that name against
 * the kernel's symbols, and loads the whole of /proc/kallsyms to do so, a third of a compilation's time. The
 * kernel's headers, which bcc compiles with, say whether the helper exists (Linux 5.5); before it,
 * bpf_probe_read reads user memory on x86-64, as bcc would have fallen back to. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 5, 0)
static long (*gmon_read_user)(void *dst, u32 size, const void *unsafe_ptr) = (void *)BPF_FUNC_probe_read_user;
static long (*gmon_read_kernel)(void *dst, u32 size,
                                const void *unsafe_ptr) = (void *)BPF_FUNC_probe_read_kernel;
#else
static long (*gmon_read_user)(void *dst, u32 size, const void *unsafe_ptr) = (void *)BPF_FUNC_probe_read;
static long (*gmon_read_kernel)(void *dst, u32 size, const void *unsafe_ptr) = (void *)BPF_FUNC_probe_read;
#endif

#if USE_RINGBUF
BPF_RINGBUF_OUTPUT(events, RINGBUF_PAGES);
#else
BPF_PERF_OUTPUT(events);
#endif
#ifndef USE_CPU_RINGS
#define USE_CPU_RINGS 0
#endif
#if USE_CPU_RINGS
struct cpu_ring_slot {
    u64 seq; /* the slot's position + 1 once its event is written */
    u8 event[CPU_RING_EVENT_BYTES];
};
BPF_F_TABLE("array", u32, struct cpu_ring_ends, cpu_ring_ends, CPU_RING_CPUS, BPF_F_MMAPABLE);
BPF_F_TABLE("array", u32, struct cpu_ring_slot, cpu_ring_slots, CPU_RING_CPUS *CPU_RING_SLOTS,
            BPF_F_MMAPABLE);
#endif
BPF_PERCPU_ARRAY(counters, u64, PROBE_COUNTERS);
/* Non-zero while gmon traces: the host sets it once every probe is attached and clears it before detaching
 * any. Attaching or detaching one uprobe takes milliseconds, so without it a creation probe could run while
 * the exit probe is not yet (or no longer) there and miss the other end of thousands of goroutines; with it,
 * every probe of a program starts and stops at the same instant. */
BPF_ARRAY(gmon_tracing, u32, 1);

static __always_inline void count(int which) {
    int key = which;
    u64 *slot = counters.lookup(&key);
    if (slot)
        __sync_fetch_and_add(slot, 1); /* per-CPU, but programs on one CPU can preempt each other */
}

/* The current process when gmon traces it, else 0 (also while tracing is off). Uprobes attached to one
 * process already filter; this is the belt to those braces. */
static __always_inline u32 traced_tgid(void) {
    int zero = 0;
    u32 *on = gmon_tracing.lookup(&zero);
    if (!on || !*on)
        return 0;
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    return TARGET_TGID && tgid != TARGET_TGID ? 0 : tgid;
}

/* Reads 8 bytes of the target's memory; a fault is counted and leaves *out as it was. */
static __always_inline int read_u64(u64 addr, u64 *out) {
    if (gmon_read_user(out, sizeof(*out), (void *)addr) == 0)
        return 0;
    count(PROBE_COUNTER_READ_FAILED);
    return -1;
}

/* The user goroutine an M runs, from code on its g0 (systemstack): g0.m.curg; 0 when unreadable. Needs the
 * G_M and M_CURG offsets every program is given. */
static __always_inline u64 curg_of_g0(u64 g0) {
    u64 m = 0, curg = 0;
    if (read_u64(g0 + G_M, &m) == 0 && m)
        read_u64(m + M_CURG, &curg);
    return curg;
}

/* The slot of a value in a log2 histogram: floor(log2(v)) + 1, and 1 for 0 (bcc's numbering, as
 * tool/log2_hist.c prints it). */
static __always_inline u32 log2_slot(u64 v) {
    u32 r = 0;
#pragma unroll
    for (int shift = 32; shift > 0; shift /= 2) {
        if (v >> shift) {
            v >>= shift;
            r += shift;
        }
    }
    return r + 1;
}

#if USE_RINGBUF
/* Waking gmon's reader costs the traced thread an irq_work and a wake-up per event when every event wakes it
 * (the reader is usually waiting: it keeps up). A program that sends many events (lifecycle) sets
 * RINGBUF_WAKEUP_EVERY: only every that many-th event a CPU sends wakes the reader, which also empties the
 * buffer whenever its poll times out (event_reader.c: at least every 100 ms), so an event waits at most that
 * long. Programs whose host reads the target's memory when an event arrives (gc) keep waking it each time. */
#ifndef RINGBUF_WAKEUP_EVERY
#define RINGBUF_WAKEUP_EVERY 1
#endif
static __always_inline u64 ringbuf_wakeup_flag(void) {
    int key = PROBE_COUNTER_SENT;
    u64 *sent = counters.lookup(&key);
    return sent && (*sent + 1) % RINGBUF_WAKEUP_EVERY == 0 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}
#endif

#if USE_CPU_RINGS
/* Wakes the host's reader: a token in the ring buffer, which the reader waits on. */
static __always_inline void wake_ring_reader(void) {
    u64 token = 0;
    events.ringbuf_output(&token, sizeof(token), BPF_RB_FORCE_WAKEUP); /* full: the reader is awake anyway */
}

/* Puts size bytes at ev in this CPU's ring (cpu_ring.h). Returns 0, or -1 when the ring is full (or another
 * program on this CPU took the position twice in a row). The reader is woken when the ring's unread events
 * reach CPU_RING_WAKE_AT, or at once with wake_now: it reads every few milliseconds anyway while events come
 * (event_reader.c), so a wake-up per batch instead of one per event or per 64. */
static __always_inline int cpu_ring_put(void *ev, u32 size, bool wake_now) {
    u32 cpu = bpf_get_smp_processor_id();
    struct cpu_ring_ends *ends = cpu_ring_ends.lookup(&cpu);
    if (!ends || size > CPU_RING_EVENT_BYTES)
        return -1;
#pragma unroll
    for (int attempt = 0; attempt < 2; attempt++) {
        /* The tail first: read after the head, it could have passed a head this program read before being
         * preempted (head - tail would wrap). */
        u64 tail = *(volatile u64 *)&ends->tail;
        u64 head = *(volatile u64 *)&ends->head;
        u64 unread = head - tail;
        if (unread >= CPU_RING_SLOTS)
            return -1;
        u32 index = cpu * CPU_RING_SLOTS + (u32)(head & (CPU_RING_SLOTS - 1));
        struct cpu_ring_slot *slot = cpu_ring_slots.lookup(&index);
        if (!slot)
            return -1;
        if (__sync_val_compare_and_swap(&ends->head, head, head + 1) != head)
            continue; /* a program that interrupted this one took the position */
        __builtin_memcpy(slot->event, ev, size);
        /* The event written before seq says so: the compiler keeps this order, and x86 stores too. */
        asm volatile("" ::: "memory");
        *(volatile u64 *)&slot->seq = head + 1;
        if (wake_now || unread + 1 == CPU_RING_WAKE_AT)
            wake_ring_reader();
        return 0;
    }
    return -1;
}
#endif

/* Sends size bytes at ev to the host; a full buffer is counted as a lost event. wake_now: the host must see
 * this one at once, whatever RINGBUF_WAKEUP_EVERY says (a rare event that what the host shows depends on).
 * Events sent through the per-CPU rings are counted by the rings' heads, not here. */
static __always_inline void send_event_waking(struct pt_regs *ctx, void *ev, u32 size, bool wake_now) {
#if USE_CPU_RINGS
    (void)ctx;
    if (cpu_ring_put(ev, size, wake_now) != 0)
        count(PROBE_COUNTER_LOST);
#else
#if USE_RINGBUF
    int rc = events.ringbuf_output(ev, size, wake_now ? BPF_RB_FORCE_WAKEUP : ringbuf_wakeup_flag());
#else
    (void)wake_now; /* every perf buffer event wakes the reader */
    int rc = events.perf_submit(ctx, ev, size);
#endif
    count(rc == 0 ? PROBE_COUNTER_SENT : PROBE_COUNTER_LOST);
#endif
}

static __always_inline void send_event(struct pt_regs *ctx, void *ev, u32 size) {
    send_event_waking(ctx, ev, size, false);
}

#endif
