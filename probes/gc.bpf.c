/* GC cycle and stop-the-world probes, compiled at run time by libbcc (gc_probes.c supplies the -D flags).
 *
 *   on_gc_start      runtime.gcStart after its stack-split check (it runs on a goroutine stack, where an
 * entry probe can fire twice): RAX, RBX, ECX hold the gcTrigger; R14 is the calling g. on_stw_begin
 * runtime.stopTheWorldWithSema's entry. It runs on g0 (always inside systemstack), so R14 is g0 and g0.m.curg
 * the goroutine that asked; from Go 1.21 AL is the stwReason. The asking goroutine's saved state names the
 * caller (gcStart, gcMarkDone, stopTheWorld <- ...). on_stw_stopped   each RET of stopTheWorldWithSema (g0:
 * no return-address tricks, docs/design.md). on_stw_end       each RET of startTheWorldWithSema (g0 too).
 * Only one stop-the-world runs at a time in a process (worldsema), so the host pairs these per process.
 * GC events are rare (a few per second at most): the host does the pairing, BPF only timestamps.
 *
 * Configuration (-D): G_GOID G_M G_SCHED_SP G_SCHED_BP M_CURG (runtime.g/m offsets); STW_REASON_IN_AL
 * (Go 1.21+); TARGET_TGID (0: every process); USE_RINGBUF RINGBUF_PAGES. */
#ifndef GMON_GC_EVENT_H /* the build embeds both headers in front; includes are for editors */
#include "gc_event.h"
#include "probe_common.bpf.h"
#endif

/* The event for this process, or 0 when the probe fired in another one. */
static __always_inline u32 begin_probe(struct gc_event *ev, u32 kind) {
    u32 tgid = traced_tgid();
    if (!tgid)
        return 0;
    count(GC_COUNTER_HITS);
    ev->kind = kind;
    ev->tgid = tgid;
    ev->time_ns = bpf_ktime_get_ns();
    return tgid;
}

int on_gc_start(struct pt_regs *ctx) {
    struct gc_event ev = {};
    if (!begin_probe(&ev, GC_EVENT_TRIGGER))
        return 0;
    read_u64(ctx->r14 + G_GOID, &ev.goid);
    ev.arg0 = ctx->ax;
    ev.arg1 = ctx->cx & 0xffffffff;
    send_event(ctx, &ev, sizeof(ev));
    return 0;
}

/* Who asked to stop the world. stopTheWorldWithSema runs on g0 through systemstack, which saved the asking
 * goroutine's SP and BP in g.sched. When systemstack has no frame (it had none through Go 1.20), the word at
 * sched.sp is its return address into the function that called it (gcStart, gcMarkDone, stopTheWorld...);
 * when it has one, that word is a saved BP, which is not code, and the frame-pointer chain from sched.bp
 * starts with that function instead. (SP) on g0 names the closure that called stopTheWorldWithSema, if any.
 * The host symbolizes these and skips what is not code. */
static __always_inline void caller_chain(struct pt_regs *ctx, u64 curg, u64 *pcs) {
    read_u64(ctx->sp, &pcs[0]);
    if (!curg)
        return;
    u64 sched_sp = 0;
    if (read_u64(curg + G_SCHED_SP, &sched_sp) == 0 && sched_sp)
        read_u64(sched_sp, &pcs[1]);
    u64 frame[2] = {0, 0}; /* a frame: the caller's BP, then the return address */
    read_u64(curg + G_SCHED_BP, &frame[0]);
#pragma unroll
    for (int i = 2; i < GC_CALLER_FRAMES; i++) {
        if (!frame[0] || gmon_read_user(frame, sizeof(frame), (void *)frame[0]) != 0 || !frame[1])
            break;
        pcs[i] = frame[1];
    }
}

int on_stw_begin(struct pt_regs *ctx) {
    struct gc_event ev = {};
    if (!begin_probe(&ev, GC_EVENT_STW_BEGIN))
        return 0;
    u64 curg = curg_of_g0(ctx->r14);
    if (curg)
        read_u64(curg + G_GOID, &ev.goid);
    caller_chain(ctx, curg, ev.pcs);
#if STW_REASON_IN_AL
    ev.arg0 = ctx->ax & 0xff;
#else
    ev.arg0 = GC_NO_REASON;
#endif
    send_event(ctx, &ev, sizeof(ev));
    return 0;
}

int on_stw_stopped(struct pt_regs *ctx) {
    struct gc_event ev = {};
    if (begin_probe(&ev, GC_EVENT_STW_STOPPED))
        send_event(ctx, &ev, sizeof(ev));
    return 0;
}

int on_stw_end(struct pt_regs *ctx) {
    struct gc_event ev = {};
    if (begin_probe(&ev, GC_EVENT_STW_END))
        send_event(ctx, &ev, sizeof(ev));
    return 0;
}
