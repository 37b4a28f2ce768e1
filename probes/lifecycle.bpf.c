/* Goroutine lifecycle probes, compiled at run time by libbcc (lifecycle_probes.c supplies the -D flags
 * below).
 *
 *   on_runqput_call  uprobe on newproc.func1's CALL of runqput, right after newproc1 returned: RBX is the new
 * g; this runs on g0, so R14 is g0 and g0.m.curg is the creating goroutine. on_newproc1_ret, the same on each
 * RET of runtime.newproc1 (RAX the new g; never a uretprobe: docs/design.md), where that call is not found.
 * on_goexit1 uprobe on goexit1's CALL of mcall(goexit0), or after its stack-split check (an entry probe would
 * fire twice when the check fails); R14 is the exiting g. Either call probe may sit on the NOP right before
 * its CALL (symbolize/x86_calls.h): the kernel skips a NOP and emulates a CALL, where it single-steps the
 * other instructions out of line, a second trap: 3.5-13 us against 21-30 us a probe on our test VM.
 *
 * Configuration (-D): G_GOID G_PARENT_GOID(-1: none before Go 1.21) G_GOPC G_STARTPC G_M G_SCHED_BP M_G0
 * M_CURG: runtime.g and runtime.m offsets for the target's Go release; TARGET_TGID (0: every process);
 * EMIT_CREATED EMIT_EXITED EMIT_UNTRACKED (send events for log lines); LIFETIME_LOG2 (1: a log2 histogram of
 * lifetimes, per process; 2: per creation site) MAX_LOG2_KEYS; EMIT_RUNQ (scheduler events for gr -v);
 * USE_RINGBUF (else a perf buffer) RINGBUF_PAGES; MAX_LIVE MAX_SITES MAX_STACKS MAX_IMAGES (map sizes);
 * LIVE_SLOTS (a power of two, or 0: none; lifecycle_event.h); EXITS_SCANNED (--exits poll: no exit probe,
 * gmon frees the slots); EMPTY_PROBES (bench floor: programs that do nothing).
 *
 * Creation stacks are walked here along the frame-pointer chain, a chunk of stack per read (read_frame),
 * rather than with bpf_get_stackid: the kernel's walk reads frame by frame and cost ~4 us per call on our
 * test VM against ~0.3 us for this loop, and it was most of gmon's cost per goroutine
 * (bench/lifecycle_storm.sh). */
#ifndef GMON_LIFECYCLE_EVENT_H /* the build embeds both headers in front; includes are for editors */
#include "lifecycle_event.h"
#include "probe_common.bpf.h"
#endif

BPF_F_TABLE("hash", u64, struct creation_stack, stacks, MAX_STACKS, BPF_F_NO_PREALLOC);
BPF_PERCPU_ARRAY(stack_scratch, struct creation_stack, 1);
BPF_HASH(live, struct goroutine_key, struct goroutine_info, MAX_LIVE);
#if LIVE_SLOTS
/* In front of `live` (lifecycle_event.h); mapped by the host, which reads it and clears the slots of a
 * process that ended. */
BPF_F_TABLE("array", u32, struct live_slot, live_slots, LIVE_SLOTS, BPF_F_MMAPABLE);
#endif
BPF_HASH(sites, struct site_key, struct site_stats, MAX_SITES);
/* Processes whose Go runtime gmon saw start. Not an LRU map: an evicted entry would number a later image
 * again. The host deletes the entry of a process that ended. */
BPF_F_TABLE("hash", u32, struct process_image, images, MAX_IMAGES, BPF_F_NO_PREALLOC);
/* Every creation needs its process's image: a look-up in this array, inlined by the verifier, instead of one
 * in the hash map (55-130 ns of the creation program's ~800 in bpf_stats). A slot holds one process's image
 * in a single 8-byte word, so it is never read half written; it is filled from `images` on a miss and
 * rewritten with it when a runtime starts (only then does a process's image change, and no other creation
 * in that process runs at that moment: goroutine 1 is the new runtime's first). The host clears a slot when
 * it forgets its process. */
BPF_ARRAY(image_cache, u64, IMAGE_CACHE_SLOTS);
/* Set once the live map has refused a goroutine: from then on an exit missing from it may be one of those. */
BPF_ARRAY(live_overflowed, u32, 1);
/* Set when a goroutine goes to the live map: with --exits poll, gmon reads the map (a walk of all its
 * buckets) only when this says it may hold one, and clears it before the read. */
BPF_ARRAY(live_map_filled, u32, 1);
#if LIFETIME_LOG2
BPF_HASH(lifetime_log2, struct lifetime_slot_key, u64, MAX_LOG2_KEYS);
#endif

/* Every probe starts here: the current process with the probe's hit counted, or 0 when the probe has nothing
 * to do: gmon traces another process, or the programs are the benchmark's empty floor. */
static __always_inline u32 begin_probe(int hit_counter) {
#if EMPTY_PROBES
    return 0;
#else
    u32 tgid = traced_tgid();
    if (tgid)
        count(hit_counter);
    return tgid;
#endif
}

/* A creation or exit event for a tracked goroutine. */
static __always_inline void send_goroutine(struct pt_regs *ctx, u32 kind, struct goroutine_key *key,
                                           struct goroutine_info *info, u64 time_ns, u64 lifetime_ns,
                                           u32 flags) {
    struct lifecycle_event ev = {.kind = kind, .tgid = key->tgid, .goid = key->goid, .flags = flags};
    ev.parent_goid = info->parent_goid;
    ev.startpc = info->startpc;
    ev.time_ns = time_ns;
    ev.lifetime_ns = lifetime_ns;
    ev.site = info->site;
    send_event(ctx, &ev, sizeof(ev));
}

static __always_inline int lifetime_bucket(u64 ns) {
    const u64 bounds[LIFECYCLE_BUCKETS - 1] = LIFECYCLE_BUCKET_BOUNDS_NS;
#pragma unroll
    for (int i = 0; i < LIFECYCLE_BUCKETS - 1; i++)
        if (ns <= bounds[i])
            return i;
    return LIFECYCLE_BUCKETS - 1;
}

/* The counts of a creation site; NULL (counted under map_full) when the map has no room for a new one. */
static __always_inline struct site_stats *site_stats_of(struct site_key *site, int map_full) {
    struct site_stats zero = {};
    struct site_stats *stats = sites.lookup_or_try_init(site, &zero);
    if (!stats)
        count(map_full);
    return stats;
}

/* Frames between newproc1's caller and the `go` statement's frame (newproc.func1, systemstack, newproc, ...);
 * a walk that has not met g.gopc by then has lost the chain. */
#define STACK_SKIP_MAX 8
#define FNV_OFFSET     0xcbf29ce484222325ULL
#define FNV_PRIME      0x100000001b3ULL

/* The creation stack is read a chunk of stack at a time, not a frame (16 bytes) at a time: frames lie close
 * together on the stack, and a read costs its helper call whatever its size. A chunk runs from a frame to
 * the end of its page, at most FRAME_CHUNK_BYTES: the page holding a frame is mapped (and, when the frame
 * crosses into the next, that one too), where the stack's end may be followed by unmapped memory. A walk of
 * 34 frames (1992 ns of the creation program, bpf_stats) now takes 3-4 reads (1092 ns); the storm's
 * 4-frame stacks read 3 chunks where they read 7 frames. */
#define FRAME_CHUNK_BYTES 2048
#define FRAME_CHUNK_WORDS (FRAME_CHUNK_BYTES / 8)
#define PAGE_BYTES        4096
struct frame_chunk {
    u64 base, end; /* the target's addresses the words hold: [base, end) */
    u64 hash;      /* of the walk's return addresses so far */
    u64 words[FRAME_CHUNK_WORDS];
};
BPF_PERCPU_ARRAY(frame_chunks, struct frame_chunk, 1);

/* Reads the frame at addr (the caller's BP, then the return address) into frame, from the chunk when it
 * holds the frame, else after reading a new chunk from addr. Returns -1 when addr cannot be read. */
static __always_inline int read_frame(struct frame_chunk *c, u64 addr, u64 frame[2]) {
    u64 off = addr - c->base;
    if (addr < c->base || addr + 16 > c->end || off % 8) {
        u64 len = PAGE_BYTES - (addr & (PAGE_BYTES - 1));
        if (len < 16)
            len += PAGE_BYTES;
        if (len > FRAME_CHUNK_BYTES)
            len = FRAME_CHUNK_BYTES;
        c->base = c->end = addr;
        if (gmon_read_user(c->words, len, (void *)addr) != 0)
            return -1;
        c->end = addr + len;
        off = 0;
    }
    u64 i = off / 8;
    if (i >= FRAME_CHUNK_WORDS - 1)
        return -1;
    /* The masks change nothing (i + 1 < FRAME_CHUNK_WORDS); they show the verifier the bounds. */
    frame[0] = c->words[i & (FRAME_CHUNK_WORDS - 1)];
    frame[1] = c->words[(i + 1) & (FRAME_CHUNK_WORDS - 1)];
    return 0;
}

/* Walks the frame-pointer chain to the frame that returns to g.gopc and records the return addresses from
 * there outward in *st; returns their FNV-1a hash, or 0 (counted) when the walk never met gopc. It starts at
 * newproc_bp, newproc's own frame on the creating goroutine's stack, when that is known (read_creator; 0:
 * not) and returns to gopc; else at newproc1's caller's frame on g0 (at the probe, BP is that frame), which
 * links to it. */
static __always_inline u64 walk_creation_stack(struct pt_regs *ctx, u64 gopc, u64 newproc_bp,
                                               struct creation_stack *st) {
    int zero = 0;
    struct frame_chunk *c = frame_chunks.lookup(&zero);
    if (!c)
        return 0;
    c->base = c->end = 0; /* nothing read yet (a chunk left by the last walk may be stale) */
    /* The depth and hash live in the map value, not in registers: the verifier does not follow values in
     * maps, so each step's state is the same whatever the depth, where a depth in a register made it check
     * every depth at every step (the kernel took 125-345 ms to load the creation program, now 16-36 ms). */
    st->depth = 0;
    c->hash = FNV_OFFSET;
    u64 frame[2] = {ctx->bp, 0}; /* a frame: the caller's BP, then the return address */
    /* Checked before the loop, which then finds the frame in the chunk this read brought: a restart inside
     * the loop made clang unroll it (a 66 KB program, compiled 2 s longer) or, kept a loop, the verifier
     * take a second to load it. */
    if (newproc_bp) {
        u64 first[2];
        if (read_frame(c, newproc_bp, first) == 0 && first[1] == gopc)
            frame[0] = newproc_bp;
    }
#pragma clang loop unroll(disable)
    for (int i = 0; i < STACK_SKIP_MAX + LIFECYCLE_STACK_DEPTH; i++) {
        if (!frame[0] || read_frame(c, frame[0], frame) != 0 || !frame[1])
            break;
        u64 depth = st->depth;
        if (depth == 0 && frame[1] != gopc) {
            if (i >= STACK_SKIP_MAX)
                break;
            continue;
        }
        if (depth >= LIFECYCLE_STACK_DEPTH)
            break;
        st->pcs[depth & (LIFECYCLE_STACK_DEPTH - 1)] = frame[1];
        st->depth = depth + 1;
        c->hash = (c->hash ^ frame[1]) * FNV_PRIME;
    }
    if (st->depth == 0)
        count(COUNTER_STACK_FAILED);
    return st->depth ? c->hash : 0;
}

/* The creation site of a new goroutine: site->stack set to its stack's hash (0 when the stack could not be
 * walked or stored), and the site's counts, or NULL (counted) when the site map has no room. A site already
 * counted has its stack stored (`stacks` entries are never deleted), so only a new site looks at `stacks`:
 * one hash-map lookup fewer per creation. */
static __always_inline struct site_stats *creation_site(struct pt_regs *ctx, struct site_key *site,
                                                        u64 newproc_bp) {
    int zero = 0;
    struct creation_stack *st = stack_scratch.lookup(&zero);
    site->stack = st ? walk_creation_stack(ctx, site->gopc, newproc_bp, st) : 0;
    struct site_stats *known = sites.lookup(site);
    if (known)
        return known;
    if (site->stack && st && !stacks.lookup(&site->stack) && stacks.update(&site->stack, st) != 0) {
        count(COUNTER_STACK_FAILED);
        site->stack = 0;
    }
    return site_stats_of(site, COUNTER_SITE_MAP_FULL);
}

static __always_inline void note_live_map_full(void) {
    count(COUNTER_LIVE_MAP_FULL);
    u32 zero = 0;
    u32 *overflowed = live_overflowed.lookup(&zero);
    if (overflowed && !*overflowed)
        *overflowed = 1;
}

static __always_inline int live_map_was_full(void) {
    u32 zero = 0;
    u32 *overflowed = live_overflowed.lookup(&zero);
    return overflowed && *overflowed;
}

/* The image number creations of this process are counted under: goroutine 1 (runtime.main) starts a new
 * one, and the host hears of it at once to retire the previous one. */
static __always_inline u32 current_image(struct pt_regs *ctx, u32 tgid, u64 goid, u64 startpc) {
    u32 slot = tgid % IMAGE_CACHE_SLOTS;
    u64 *cached = image_cache.lookup(&slot);
    if (goid != 1 && cached && *cached >> 32 == tgid)
        return (u32)*cached;
    struct process_image *seen = images.lookup(&tgid);
    if (goid != 1) {
        if (seen && cached)
            *cached = (u64)tgid << 32 | seen->image;
        return seen ? seen->image : 0;
    }
    struct process_image started = {.started_ns = bpf_ktime_get_ns(), .image = seen ? seen->image + 1 : 1};
    images.update(&tgid, &started);
    if (cached)
        *cached = (u64)tgid << 32 | started.image;
    struct lifecycle_event ev = {.kind = LIFECYCLE_RUNTIME_STARTED, .tgid = tgid, .goid = goid};
    ev.startpc = startpc; /* runtime.main's address: the host derives the load bias from it */
    ev.time_ns = started.started_ns;
    ev.site.tgid = tgid;
    ev.site.image = started.image;
    /* At once: the host names this process's creation sites through the load bias this event gives, and a
     * short-lived process may be gone (its /proc with it) before a delayed wake-up (a scrape right after
     * it exited showed its sites as hex addresses). */
    send_event_waking(ctx, &ev, sizeof(ev), true);
    return started.image;
}

/* The image a process's goroutines are counted under now (what current_image gave their creation). */
static __always_inline u32 image_of(u32 tgid) {
    u32 slot = tgid % IMAGE_CACHE_SLOTS;
    u64 *cached = image_cache.lookup(&slot);
    if (cached && *cached >> 32 == tgid)
        return (u32)*cached;
    struct process_image *seen = images.lookup(&tgid);
    return seen ? seen->image : 0;
}

/* A goroutine's live slot: by its g's address, which the exit probe has in R14 without a read; with
 * --exits poll (no exit probe) its goid, since gmon frees the slot of an ended goroutine only at its next
 * scan and the runtime hands the same g to the next goroutines at once (a slot by g would still be taken). */
static __always_inline u32 live_slot_index(u32 tgid, u64 g, u64 goid) {
    return EXITS_SCANNED ? live_slot_by_goid(tgid, goid, LIVE_SLOTS) : live_slot_by_g(tgid, g, LIVE_SLOTS);
}

/* Starts tracking a new goroutine: in its live slot when that is free, else in the live map. Returns 0 when
 * tracked. */
static __always_inline int track_live(struct goroutine_key *key, struct goroutine_info *info) {
#if LIVE_SLOTS
    u64 tag = live_slot_tag(key->tgid, info->site.image, key->goid);
    u32 index = live_slot_index(key->tgid, info->g, key->goid);
    struct live_slot *slot = tag ? live_slots.lookup(&index) : NULL;
    if (slot && __sync_val_compare_and_swap(&slot->tag, 0, tag | LIVE_SLOT_FILLING) == 0) {
        slot->info = *info;
        /* info written before the tag says it is there: the compiler keeps this order, and x86 stores too. */
        asm volatile("" ::: "memory");
        *(volatile u64 *)&slot->tag = tag;
        return 0;
    }
#endif
    int rc = live.update(key, info);
#if EXITS_SCANNED
    u32 zero = 0;
    u32 *filled = live_map_filled.lookup(&zero);
    if (rc == 0 && filled && !*filled)
        *filled = 1;
#endif
    return rc;
}

/* The goroutine of process tgid (its goroutines counted under image) whose g is at g, and whose goid is
 * key->goid when that is known (0: the exit probe, which has not read it), when its live slot holds it:
 * copies its info to *out, sets key->goid, and with take stops tracking it. Returns 0 when found. A slot is
 * the goroutine's when its tag names tgid, image (and the goid) and its info names g, both the same before
 * and after the copy: g is live for one goroutine at a time, and every exit of a goroutine gmon tracks frees
 * its slot before the runtime can reuse its g (goexit1 runs before goexit0 puts the g on the free list).
 * The exit probe is the only place that frees its own goroutine's slot (the host clears only the slots of
 * processes that ended or replaced their program), so the slot cannot be taken between the copy and the
 * release. */
static __always_inline int find_live_slot(u32 image, u64 g, struct goroutine_key *key,
                                          struct goroutine_info *out, bool take) {
#if LIVE_SLOTS
    u32 index = live_slot_index(key->tgid, g, key->goid);
    struct live_slot *slot = image <= 0x7f ? live_slots.lookup(&index) : NULL;
    if (!slot)
        return -1;
    u64 tag = *(volatile u64 *)&slot->tag;
    if (!tag || tag & LIVE_SLOT_FILLING || live_slot_tgid(tag) != key->tgid || live_slot_image(tag) != image)
        return -1;
    /* A known goid must be the slot's too: with --exits poll, an ended goroutine keeps its slot until the
     * next scan while the runtime already hands its g to a new one (which went to the map). */
    if (key->goid && live_slot_goid(tag) != key->goid)
        return -1;
    *out = slot->info;
    asm volatile("" ::: "memory");
    if (out->g != g || *(volatile u64 *)&slot->tag != tag)
        return -1; /* another goroutine's slot, or it exited (and another took the slot) during the copy */
    if (take)
        *(volatile u64 *)&slot->tag = 0;
    key->goid = live_slot_goid(tag);
    return 0;
#else
    return -1;
#endif
}

/* The tracked goroutine key (its goid read) in the live map: copies its info to *out and, with take, stops
 * tracking it. Returns 0 when it was tracked. */
static __always_inline int find_live_in_map(struct goroutine_key *key, struct goroutine_info *out,
                                            bool take) {
    struct goroutine_info *found = live.lookup(key);
    if (!found)
        return -1;
    *out = *found;
    if (take)
        live.delete(key);
    return 0;
}

/* The new g's goid, gopc, startpc (and parentGoid from Go 1.21) lie within 168 bytes of each other in every
 * release: one read of that span costs what one read of a field does (the helper's fixed cost, ~50 ns here),
 * where four reads cost four times as much. A layout whose span were larger falls back to a read per field.
 */
#define G_MIN2(a, b) ((a) < (b) ? (a) : (b))
#define G_MAX2(a, b) ((a) > (b) ? (a) : (b))
#define G_SPAN_FIRST                                                                                         \
    G_MIN2(G_GOID, G_MIN2(G_GOPC, G_PARENT_GOID >= 0 ? G_MIN2(G_STARTPC, G_PARENT_GOID) : G_STARTPC))
#define G_SPAN_END   (G_MAX2(G_GOID, G_MAX2(G_GOPC, G_MAX2(G_STARTPC, G_PARENT_GOID))) + 8)
#define G_SPAN_WORDS ((G_SPAN_END - G_SPAN_FIRST) / 8)
#define G_SPAN_ONE_READ                                                                                      \
    (G_SPAN_WORDS <= 24 && (G_GOID | G_GOPC | G_STARTPC | G_SPAN_FIRST) % 8 == 0 &&                          \
     (G_PARENT_GOID < 0 || G_PARENT_GOID % 8 == 0))
#define G_SPAN_WORD(off) span[((off)-G_SPAN_FIRST) / 8]

/* The goroutine that ran the `go` statement, as far as the creation program needs it: its goid (from Go 1.21
 * the new g holds it: parentGoid) and the frame where the creation stack begins on its stack. */
struct creator {
    u64 goid;
    u64 newproc_bp; /* 0: not known (the walk starts on g0) */
};

#if G_PARENT_GOID < 0
/* Before Go 1.21 the creator is g0.m.curg (newproc1 runs on g0): three reads, each ~45 ns of the helper's
 * fixed cost. A g0 belongs to one M for the M's life (runtime.allocm), so each CPU keeps the last g0 it saw
 * with its M, which saves the first read; one read of the M checks that it is still g0's (m.g0) and gives
 * its curg, and one read of curg gives its m, sched.bp and goid together. */
struct m_of_g0 {
    u64 g0, m;
};
BPF_PERCPU_ARRAY(m_of_g0_cache, struct m_of_g0, 1);

#define M_SPAN_WORDS    ((M_CURG - M_G0) / 8 + 1)
#define M_SPAN_ONE_READ (M_G0 < M_CURG && M_SPAN_WORDS <= 32 && (M_G0 | M_CURG) % 8 == 0)
#define CURG_SPAN_END   (G_MAX2(G_GOID, G_SCHED_BP) + 8)
#define CURG_SPAN_WORDS ((CURG_SPAN_END - G_M) / 8)
#define CURG_SPAN_ONE_READ                                                                                   \
    (G_M < G_GOID && G_M < G_SCHED_BP && CURG_SPAN_WORDS <= 24 && (G_M | G_GOID | G_SCHED_BP) % 8 == 0)

/* The goroutine M m runs, when m is g0's M; 0 when it runs none (the runtime's start) or m is not g0's. */
static __always_inline u64 curg_of_m(u64 m, u64 g0) {
#if M_SPAN_ONE_READ
    u64 span[M_SPAN_WORDS];
    if (gmon_read_user(span, sizeof(span), (void *)(m + M_G0)) != 0 || span[0] != g0)
        return 0;
    return span[M_SPAN_WORDS - 1];
#else
    u64 m_g0 = 0, curg = 0;
    if (read_u64(m + M_G0, &m_g0) != 0 || m_g0 != g0)
        return 0;
    read_u64(m + M_CURG, &curg);
    return curg;
#endif
}

/* The creator on M m, when m is g0's: curg's goid and, from its sched.bp, newproc's frame.
 * runtime.systemstack saved BP there when it switched to g0 (gosave_systemstack_switch, asm_amd64.s,
 * Go 1.17-1.20); the walk checks that frame. */
static __always_inline int creator_on(u64 m, u64 g0, struct creator *out) {
    u64 curg = curg_of_m(m, g0);
    if (!curg)
        return -1;
#if CURG_SPAN_ONE_READ
    u64 span[CURG_SPAN_WORDS];
    if (gmon_read_user(span, sizeof(span), (void *)(curg + G_M)) != 0 || span[0] != m)
        return -1;
    out->goid = span[(G_GOID - G_M) / 8];
    out->newproc_bp = span[(G_SCHED_BP - G_M) / 8];
#else
    u64 curg_m = 0;
    if (read_u64(curg + G_M, &curg_m) != 0 || curg_m != m || read_u64(curg + G_GOID, &out->goid) != 0)
        return -1;
    read_u64(curg + G_SCHED_BP, &out->newproc_bp);
#endif
    return 0;
}

static __always_inline void read_creator(struct pt_regs *ctx, struct creator *out) {
    u64 g0 = ctx->r14, m = 0;
    int zero = 0;
    struct m_of_g0 *cached = m_of_g0_cache.lookup(&zero);
    if (cached && cached->g0 == g0 && cached->m && creator_on(cached->m, g0, out) == 0)
        return;
    if (read_u64(g0 + G_M, &m) != 0 || !m)
        return;
    if (cached) {
        cached->g0 = g0;
        cached->m = m;
    }
    if (creator_on(m, g0, out) != 0)
        out->goid = out->newproc_bp = 0;
}
#endif

/* Reads the new g's identity into key and info; -1 when its goid cannot be read. */
static __always_inline int read_new_g(u64 newg, struct goroutine_key *key, struct goroutine_info *info) {
#if G_SPAN_ONE_READ
    u64 span[G_SPAN_WORDS];
    if (gmon_read_user(span, sizeof(span), (void *)(newg + G_SPAN_FIRST)) != 0) {
        count(PROBE_COUNTER_READ_FAILED);
        return -1;
    }
    key->goid = G_SPAN_WORD(G_GOID);
    info->site.gopc = G_SPAN_WORD(G_GOPC);
    info->startpc = G_SPAN_WORD(G_STARTPC);
#if G_PARENT_GOID >= 0
    info->parent_goid = G_SPAN_WORD(G_PARENT_GOID);
#endif
#else
    if (read_u64(newg + G_GOID, &key->goid) != 0)
        return -1;
    read_u64(newg + G_GOPC, &info->site.gopc);
    read_u64(newg + G_STARTPC, &info->startpc);
#if G_PARENT_GOID >= 0
    read_u64(newg + G_PARENT_GOID, &info->parent_goid);
#endif
#endif
    return 0;
}

/* A goroutine was created: newg is its g, ctx is on g0 in the frame of newproc1's caller. */
static __always_inline int created(struct pt_regs *ctx, u64 newg) {
    u32 tgid = begin_probe(COUNTER_CREATE_HITS);
    if (!tgid)
        return 0;
    struct goroutine_key key = {.tgid = tgid};
    struct goroutine_info info = {};
    if (!newg || read_new_g(newg, &key, &info) != 0) {
        count(COUNTER_CREATE_UNREADABLE);
        return 0;
    }
    struct creator creator = {};
#if G_PARENT_GOID < 0
    read_creator(ctx, &creator);
    info.parent_goid = creator.goid;
#endif
    info.site.tgid = tgid;
    info.site.image = current_image(ctx, tgid, key.goid, info.startpc);
    struct site_stats *stats = creation_site(ctx, &info.site, creator.newproc_bp);
    info.created_ns = bpf_ktime_get_ns();
    info.g = newg;
    int tracked = track_live(&key, &info) == 0;
    if (!tracked)
        note_live_map_full();
    if (stats) {
        __sync_fetch_and_add(&stats->created, 1);
        if (!tracked)
            __sync_fetch_and_add(&stats->untracked, 1);
    }
#if EMIT_CREATED
    send_goroutine(ctx, LIFECYCLE_CREATED, &key, &info, info.created_ns, 0,
                   tracked ? 0 : LIFECYCLE_NOT_TRACKED);
#endif
    return 0;
}

int on_newproc1_ret(struct pt_regs *ctx) {
    return created(ctx, ctx->ax);
}

/* newproc.func1's call of runqput(pp, newg, next): the second argument, in RBX. Same frame (BP) as at
 * newproc1's RETs, one emulated CALL instead of a single-stepped RET. */
int on_runqput_call(struct pt_regs *ctx) {
    return created(ctx, ctx->bx);
}

static __always_inline void count_lifetime_log2(struct site_key *site, u64 lifetime_ns) {
#if LIFETIME_LOG2
    struct lifetime_slot_key key = {};
    key.site.tgid = site->tgid;
#if LIFETIME_LOG2 == 2
    key.site = *site;
#endif
    u32 slot = log2_slot(lifetime_ns / 1000);
    key.slot = slot < LIFETIME_LOG2_SLOTS ? slot : LIFETIME_LOG2_SLOTS - 1;
    u64 zero = 0;
    u64 *n = lifetime_log2.lookup_or_try_init(&key, &zero);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        count(COUNTER_LOG2_MAP_FULL);
#endif
}

/* An exit missing from the live map: a goroutine created before gmon attached, or, once the map has been
 * full, possibly one it had no room for. Its lifetime is unknown; log lines say so (at INFO in the second
 * case, since its creation was logged). */
static __always_inline void exited_untracked(struct pt_regs *ctx, struct goroutine_key *key, u64 now) {
    count(COUNTER_EXIT_UNTRACKED);
    u32 flags = live_map_was_full() ? LIFECYCLE_MAYBE_DROPPED : 0;
    if (!EMIT_UNTRACKED && !(EMIT_EXITED && flags))
        return;
    struct lifecycle_event ev = {.kind = LIFECYCLE_EXITED_UNTRACKED, .tgid = key->tgid, .goid = key->goid};
    ev.time_ns = now;
    ev.flags = flags;
    read_u64(ctx->r14 + G_STARTPC, &ev.startpc);
    send_event(ctx, &ev, sizeof(ev));
}

int on_goexit1(struct pt_regs *ctx) {
#if EXITS_SCANNED
    return 0; /* not attached: gmon reads the exits from memory */
#else
    u32 tgid = begin_probe(COUNTER_EXIT_HITS);
    if (!tgid)
        return 0;
    u64 now = bpf_ktime_get_ns();
    struct goroutine_key key = {.tgid = tgid};
    struct goroutine_info info;
    if (find_live_slot(image_of(tgid), ctx->r14, &key, &info, true) != 0) {
        if (read_u64(ctx->r14 + G_GOID, &key.goid) != 0) {
            count(COUNTER_EXIT_UNREADABLE);
            return 0;
        }
        if (find_live_in_map(&key, &info, true) != 0) {
            exited_untracked(ctx, &key, now);
            return 0;
        }
    }
    u64 lifetime = now - info.created_ns;
    count_lifetime_log2(&info.site, lifetime);
    struct site_stats *stats = site_stats_of(&info.site, COUNTER_EXIT_SITE_MAP_FULL);
    if (stats) {
        __sync_fetch_and_add(&stats->exited, 1);
        __sync_fetch_and_add(&stats->lifetime_sum_ns, lifetime);
        int b = lifetime_bucket(lifetime);
        if (b >= 0 && b < LIFECYCLE_BUCKETS)
            __sync_fetch_and_add(&stats->buckets[b], 1);
    }
#if EMIT_EXITED
    send_goroutine(ctx, LIFECYCLE_EXITED, &key, &info, now, lifetime, 0);
#endif
    return 0;
#endif
}

#if EMIT_RUNQ
/* A scheduler event for goroutine gp: what gr -v shows. Its parent and creation site come from the live map
 * when gmon saw it created. */
static __always_inline void send_runq(struct pt_regs *ctx, u32 kind, u64 gp) {
    u32 tgid = begin_probe(COUNTER_RUNQ_HITS);
    if (!tgid || !gp)
        return;
    struct lifecycle_event ev = {.kind = kind, .tgid = tgid};
    if (read_u64(gp + G_GOID, &ev.goid) != 0)
        return;
    ev.time_ns = bpf_ktime_get_ns();
    struct goroutine_key key = {.tgid = tgid, .goid = ev.goid};
    struct goroutine_info info;
    if (find_live_slot(image_of(tgid), gp, &key, &info, false) == 0 ||
        find_live_in_map(&key, &info, false) == 0) {
        ev.parent_goid = info.parent_goid;
        ev.startpc = info.startpc;
        ev.site = info.site;
        ev.lifetime_ns = ev.time_ns - info.created_ns; /* its age so far */
    } else {
        read_u64(gp + G_STARTPC, &ev.startpc);
    }
    send_event(ctx, &ev, sizeof(ev));
}

/* globrunqput(gp *g) and globrunqputhead(gp *g): gp in RAX at entry. */
int on_globrunqput(struct pt_regs *ctx) {
    send_runq(ctx, LIFECYCLE_RUNQ_PUT, ctx->ax);
    return 0;
}

/* The RETs of globrunqget and runqsteal: the *g they return is in RAX (nil when the queue was empty). */
int on_globrunqget_ret(struct pt_regs *ctx) {
    send_runq(ctx, LIFECYCLE_RUNQ_GET, ctx->ax);
    return 0;
}

int on_runqsteal_ret(struct pt_regs *ctx) {
    send_runq(ctx, LIFECYCLE_RUNQ_STEAL, ctx->ax);
    return 0;
}
#endif
