/* Allocation probes, compiled at run time by libbcc (malloc_probes.c supplies the -D flags).
 *
 *   on_malloc   runtime.mallocgc (Go 1.17-1.23), or each allocator mallocgc dispatches to from Go 1.24
 *               (mallocgcTiny, mallocgcSmallNoscan, ..., and the size-specialised mallocgc*SC<n> that Go 1.27
 *               code calls directly): one of them runs per allocation, never two (runtime/malloc.go,
 * mallocgc). All run on goroutine stacks and have a stack-split check: the probe sits after it, so it fires
 *               once per call even when the stack grows. RAX is the size asked for (at every call site).
 *
 *               Or (SIZE_IN_CX) runtime.profilealloc(mp, x, size), the memory profiler's sampling point: the
 *               allocator calls it for the allocations it samples (one per MemProfileRate bytes on average),
 *               with the size in RCX; the host scales the samples as pprof does.
 *
 * Sampling (SAMPLE > 1) keeps 1 allocation in SAMPLE at random, so that periodic allocation patterns are not
 * aliased; the host scales the counts. Note that the uprobe trap itself happens on every allocation: sampling
 * saves gmon's work, not the trap.
 *
 * Configuration (-D): SAMPLE, SIZE_IN_CX, BY_SITE (walk and aggregate allocating stacks), MAX_STACKS
 * MAX_SITES, G_M M_CURG (for probe_common), TARGET_TGID, USE_RINGBUF RINGBUF_PAGES. */
#ifndef GMON_MALLOC_EVENT_H /* the build embeds both headers in front; includes are for editors */
#include "malloc_event.h"
#include "probe_common.bpf.h"
#endif

BPF_PERCPU_ARRAY(class_stats, struct malloc_class_stat, MALLOC_CLASSES);
BPF_ARRAY(class_of_size8, u8, MALLOC_CLASS_INDEXES);
#if BY_SITE
BPF_F_TABLE("hash", u64, struct malloc_stack, stacks, MAX_STACKS, BPF_F_NO_PREALLOC);
BPF_HASH(sites, struct malloc_site_key, struct malloc_class_stat, MAX_SITES);
BPF_PERCPU_ARRAY(stack_scratch, struct malloc_stack, 1);
/* Where the probe fired in each process (a runtime address): the host derives the load bias of a PIE target
 * from it, also after the process has exited. */
BPF_HASH(probe_ip, u32, u64, 4096);
#endif

static __always_inline u32 size_class(u64 size) {
    if (size > 32768)
        return 0;
    u32 index = (size + 7) >> 3;
    u8 *cls = class_of_size8.lookup(&index);
    return cls ? *cls : 0;
}

static __always_inline void count_class(u64 size) {
    u32 cls = size_class(size);
    struct malloc_class_stat *stat = class_stats.lookup(&cls);
    if (!stat)
        return;
    /* Atomic even in a per-CPU slot: a uprobe program can be preempted by another on the same CPU. */
    __sync_fetch_and_add(&stat->count, 1);
    __sync_fetch_and_add(&stat->bytes, size);
}

#if BY_SITE
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

/* The allocator's caller is (SP) (the probe runs before the allocator pushes its frame); from there the
 * frame-pointer chain starts at BP, the caller's frame. Returns the stack's hash, stored in `stacks`, or 0.
 */
static __always_inline u64 allocating_stack(struct pt_regs *ctx) {
    int zero = 0;
    struct malloc_stack *st = stack_scratch.lookup(&zero);
    if (!st)
        return 0;
    u64 hash = FNV_OFFSET, depth = 0;
    u64 frame[2] = {ctx->bp, 0};
    if (gmon_read_user(&frame[1], sizeof(frame[1]), (void *)ctx->sp) != 0)
        return 0;
#pragma unroll
    for (int i = 0; i < MALLOC_STACK_DEPTH; i++) {
        if (!frame[1])
            break;
        st->pcs[depth & (MALLOC_STACK_DEPTH - 1)] = frame[1];
        depth++;
        hash = (hash ^ frame[1]) * FNV_PRIME;
        if (!frame[0] || gmon_read_user(frame, sizeof(frame), (void *)frame[0]) != 0)
            break;
    }
    st->depth = depth;
    if (!stacks.lookup(&hash) && stacks.update(&hash, st) != 0)
        return 0;
    return hash;
}

static __always_inline void count_site(struct pt_regs *ctx, u32 tgid, u64 size) {
    if (!probe_ip.lookup(&tgid)) {
        u64 ip = ctx->ip;
        probe_ip.update(&tgid, &ip);
    }
    struct malloc_site_key key = {
        .tgid = tgid, .stack = allocating_stack(ctx), .size = SIZE_IN_CX ? size : 0};
    if (!key.stack) {
        count(MALLOC_COUNTER_MAP_FULL);
        return;
    }
    struct malloc_class_stat zero = {};
    struct malloc_class_stat *stat = sites.lookup_or_try_init(&key, &zero);
    if (!stat) {
        count(MALLOC_COUNTER_MAP_FULL);
        return;
    }
    __sync_fetch_and_add(&stat->count, 1);
    __sync_fetch_and_add(&stat->bytes, size);
}
#endif

int on_malloc(struct pt_regs *ctx) {
    u32 tgid = traced_tgid();
    if (!tgid)
        return 0;
    count(MALLOC_COUNTER_HITS);
#if SIZE_IN_CX
    u64 size = ctx->cx;
#else
    u64 size = ctx->ax;
#endif
    if (size == 0) {
        /* mallocgc(0) returns runtime.zerobase: nothing is allocated (Go 1.24's mallocgc returns before it
         * calls the allocators probed there). Counted apart, exactly, before sampling. */
        count(MALLOC_COUNTER_ZERO_SIZE);
        return 0;
    }
#if SAMPLE > 1
    if (bpf_get_prandom_u32() % SAMPLE != 0)
        return 0;
#endif
    count(MALLOC_COUNTER_SAMPLED);
    count_class(size);
#if BY_SITE
    count_site(ctx, tgid, size);
#endif
    return 0;
}
