#include "goroutine_snapshot.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "clocks.h"
#include "dwarf_open.h"
#include "freeze.h"
#include "goroutine_stack_tops.h"
#include "heap_view.h"

enum { MAX_GOROUTINES = 1 << 24, G_READ = 512 };

/* Every read of the target goes through here, so that the snapshot can say how much it read. */
static bool read_target(struct goroutine_snapshot *s, uint64_t addr, void *buf, size_t len) {
    s->bytes_read += len;
    return proc_read(s->t.pid, addr, buf, len);
}

/* Memory for n items of size bytes, by mmap: its pages are made present in one call each time
 * (populate_items) instead of one page fault per 4 KB. A snapshot of a million goroutines fills 90 MB of
 * rows, and those faults took a tenth of its time (each fault's trap is dearer still in a virtual machine).
 * Only what is filled is made present: allgs never shrinks, and a program that once ran ten million
 * goroutines keeps a list that long. Freed with items_free. */
static void *items_alloc(size_t n, size_t size, bool populate) {
    if (n == 0 || size > SIZE_MAX / n)
        return NULL;
    void *p = mmap(NULL, n * size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
    /* Large row arrays in 2 MB pages where the kernel allows them (transparent huge pages: "madvise" mode,
     * Debian's default): writing 88 MB of rows through 4 KB pages missed the TLB at nearly every row.
     * 1,000,000 goroutines: 0.41 -> 0.30 s of user time (alternated runs). Populated a chunk at a time as
     * before, so at most one 2 MB page more than the rows; below 4 MB there is nothing to gain, and a huge
     * page's fault may compact memory first. */
    if (p != MAP_FAILED && !populate && n * size >= ((size_t)4 << 20))
        (void)madvise(p, n * size, MADV_HUGEPAGE);
    return p == MAP_FAILED ? NULL : p;
}

/* Makes items [from, to) of an items_alloc array present (MADV_POPULATE_WRITE, Linux 5.14; before it, the
 * writes fault as usual). */
static void populate_items(void *items, size_t size, size_t from, size_t to) {
    const uintptr_t page = 4096;
    uintptr_t start = ((uintptr_t)items + from * size) & ~(page - 1);
    uintptr_t end = (uintptr_t)items + to * size;
    if (end > start)
        madvise((void *)start, end - start, MADV_POPULATE_WRITE);
}

static void items_free(void *p, size_t n, size_t size) {
    if (p)
        munmap(p, n * size);
}

static uint64_t field(const uint8_t *g, int off, int size) {
    uint64_t v = 0;
    if (off >= 0 && off + size <= G_READ)
        memcpy(&v, g + off, (size_t)size);
    return v;
}

/* The bytes of a g that hold the fields summary reads (no further: the g may end a mapping). */
static size_t g_extent(const struct g_offsets *o) {
    int fields[] = {o->atomicstatus, o->goid,        o->waitreason, o->startpc,  o->gopc,
                    o->stack_hi,     o->parent_goid, o->sched_pc,   o->sched_bp, o->waitsince};
    int end = 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        end = fields[i] + 8 > end ? fields[i] + 8 : end;
    return end < G_READ ? (size_t)end : G_READ;
}

/* The runtime keeps no exact time of blocking. The first GC stack scan that finds a goroutine blocked stamps
 * g.waitsince with the nanotime() at which the previous cycle ended (0 until a GC has seen it and again once
 * it runs), which is what Go's own tracebacks print as "[chan receive, 5 minutes]": right to within one GC
 * period. */
static int64_t waited(const struct g_offsets *o, const uint8_t *g, uint32_t status, int64_t now) {
    int64_t since = (int64_t)field(g, o->waitsince, 8);
    if ((status != GOROUTINE_WAITING && status != GOROUTINE_SYSCALL) || o->waitsince < 0 || since <= 0 ||
        since > now)
        return -1;
    return now - since;
}

/* Decodes one g's bytes; false when they do not look like a g (it may have been reused meanwhile). */
static bool decode_g(const struct g_offsets *o, const uint8_t *g, int64_t now, struct goroutine *out) {
    uint32_t status = (uint32_t)field(g, o->atomicstatus, 4);
    out->status = status & ~(uint32_t)G_SCAN;
    out->scan = (status & G_SCAN) != 0;
    out->goid = field(g, o->goid, 8);
    out->reason = (uint8_t)field(g, o->waitreason, 1);
    out->startpc = field(g, o->startpc, 8);
    out->gopc = field(g, o->gopc, 8);
    out->parent = field(g, o->parent_goid, 8);
    out->sched_pc = field(g, o->sched_pc, 8);
    out->sched_bp = field(g, o->sched_bp, 8);
    out->stack_hi = field(g, o->stack_hi, 8);
    out->current_pc = 0;
    out->waited_ns = waited(o, g, out->status, now);
    return out->status < STATUSES;
}

/* The gs read a chunk at a time: one system call per chunk, and memory that does not grow with their number.
 * The runtime allocates gs one after another in the spans of their size class (416 bytes in Go 1.19,
 * runtime/malg) and lists them in allgs in that order, so consecutive gs less than G_RUN_GAP apart are read
 * as one range: one walk of the target's page tables per range instead of one per g. */
enum { G_CHUNK = 1024, G_RUN_GAP = 1024 };
_Static_assert((int)G_READ <= (int)G_RUN_GAP, "a g's bytes fit in the room each g may add to a range");
struct g_chunk {
    uint64_t run_addr[G_CHUNK];
    size_t run_len[G_CHUNK];
    bool run_ok[G_CHUNK];
    size_t at[G_CHUNK];        /* where g i's bytes start in runs */
    size_t in_run[G_CHUNK];    /* the range g i was read in */
    uint8_t *runs;             /* the ranges end to end: at most cap * G_RUN_GAP bytes */
    uint8_t *single;           /* cap * extent: gs whose range could not be read, read alone */
    const uint8_t *g[G_CHUNK]; /* g i's bytes, NULL when unreadable */
    size_t cap;                /* how many gs runs and single hold: min(len(allgs), G_CHUNK) */
};

/* What reading the gs uses, kept from one read to the next (a torn read taken again, top's refreshes): a read
 * then allocates little between the Ps, read first, and the goroutines' statuses, which the scheduler may
 * change meanwhile (the second thread's stack, when one starts); and a small program's read takes small
 * buffers. */
struct g_read_buffers {
    uint64_t *ptrs; /* allgs's pointers */
    size_t ptrs_cap;
    struct g_chunk chunks[2]; /* one per reading thread */
};

/* c's buffers for reading up to n gs of extent bytes; false when out of memory. */
static bool g_chunk_fit(struct g_chunk *c, size_t n, size_t extent) {
    size_t chunk = n < G_CHUNK ? n : G_CHUNK;
    if (chunk > c->cap || !c->runs || !c->single) {
        free(c->runs);
        free(c->single);
        c->cap = chunk;
        c->runs = malloc(chunk * G_RUN_GAP);
        c->single = malloc(chunk * extent);
    }
    return c->runs && c->single;
}

/* Buffers for reading n gs of extent bytes, with the first chunk's; false when out of memory. */
static bool g_read_buffers_fit(struct goroutine_snapshot *s, size_t n, size_t extent) {
    if (!s->g_read && !(s->g_read = calloc(1, sizeof(*s->g_read))))
        return false;
    struct g_read_buffers *b = s->g_read;
    if (n > b->ptrs_cap || !b->ptrs) {
        items_free(b->ptrs, b->ptrs_cap, sizeof(*b->ptrs));
        b->ptrs_cap = n;
        b->ptrs = items_alloc(n, sizeof(*b->ptrs), true); /* the kernel fills every one */
    }
    return b->ptrs && g_chunk_fit(&b->chunks[0], n, extent);
}

static void g_read_buffers_free(struct g_read_buffers *b) {
    if (!b)
        return;
    items_free(b->ptrs, b->ptrs_cap, sizeof(*b->ptrs));
    for (int i = 0; i < 2; i++)
        free(b->chunks[i].runs), free(b->chunks[i].single);
    free(b);
}

/* One thread's share of allgs: the gs at ptrs[from, to), decoded into rows (from rows[0]), with its own
 * buffers, counts and count of bytes read. */
struct g_share {
    const struct goroutine_snapshot *s;
    const uint64_t *ptrs;
    size_t from, to, extent;
    struct g_chunk *c;
    struct goroutine *rows;
    size_t n, unreadable;
    uint64_t counts[STATUSES];
    uint64_t bytes_read;
};

static void read_g_chunk(struct g_share *r, const uint64_t *ptrs, size_t n) {
    struct g_chunk *c = r->c;
    size_t nruns = 0, staged = 0, extent = r->extent;
    for (size_t i = 0; i < n; i++) {
        bool joins = nruns && ptrs[i] > ptrs[i - 1] && ptrs[i] - ptrs[i - 1] <= G_RUN_GAP;
        if (!joins) {
            staged += nruns ? c->run_len[nruns - 1] : 0;
            c->run_addr[nruns] = ptrs[i];
            nruns++;
        }
        c->run_len[nruns - 1] = ptrs[i] + extent - c->run_addr[nruns - 1];
        c->in_run[i] = nruns - 1;
        c->at[i] = staged + (ptrs[i] - c->run_addr[nruns - 1]);
    }
    r->bytes_read += staged + (nruns ? c->run_len[nruns - 1] : 0); /* the gaps between gs too */
    proc_read_ranges(r->s->t.pid, c->run_addr, c->run_len, nruns, c->runs, c->run_ok);
    for (size_t i = 0; i < n; i++) {
        bool ok = c->run_ok[c->in_run[i]];
        c->g[i] = ok ? c->runs + c->at[i] : NULL;
        if (!ok) {
            r->bytes_read += extent;
            if (proc_read(r->s->t.pid, ptrs[i], c->single + i * extent, extent))
                c->g[i] = c->single + i * extent;
        }
    }
}

/* Reads and decodes a share of the gs, a chunk at a time (a thread's start routine). */
static void *read_g_share(void *share) {
    struct g_share *r = share;
    const struct g_offsets *o = &r->s->layout.layout->g;
    for (size_t base = r->from; base < r->to; base += G_CHUNK) {
        size_t n = r->to - base < G_CHUNK ? r->to - base : G_CHUNK;
        read_g_chunk(r, r->ptrs + base, n);
        populate_items(r->rows, sizeof(*r->rows), r->n, r->n + n); /* the rows this chunk may fill */
        for (size_t i = 0; i < n; i++) {
            struct goroutine g;
            g.addr = r->ptrs[base + i];
            if (!r->c->g[i] || !decode_g(o, r->c->g[i], r->s->now_ns, &g)) {
                r->unreadable++;
                continue;
            }
            if (g.status == GOROUTINE_DEAD)
                continue; /* free-list entries */
            r->counts[g.status]++;
            r->rows[r->n++] = g;
        }
    }
    return NULL;
}

/* Adds a share's rows (moved to the end of those before it), counts and bytes to the snapshot. */
static void take_share(struct goroutine_snapshot *s, const struct g_share *r) {
    if (r->n && r->rows != s->gs + s->n)
        memmove(s->gs + s->n, r->rows, r->n * sizeof(*r->rows));
    s->n += r->n;
    s->unreadable += r->unreadable;
    for (int i = 0; i < STATUSES; i++)
        s->counts[i] += r->counts[i];
    s->bytes_read += r->bytes_read;
}

/* The share of allgs [from, to) for reading thread `which` (0 or 1), its rows where its first g's would be.
 */
static struct g_share share_of(struct goroutine_snapshot *s, const uint64_t *ptrs, size_t from, size_t to,
                               size_t extent, int which) {
    return (struct g_share){.s = s,
                            .ptrs = ptrs,
                            .from = from,
                            .to = to,
                            .extent = extent,
                            .c = &s->g_read->chunks[which],
                            .rows = s->gs + from};
}

/* Reads and decodes the n gs at ptrs into the snapshot's rows. Two threads read a large snapshot, each its
 * half (whole chunks) into its half of the rows: like the stack windows (goroutine_stack_tops.c), the reads
 * wait on memory more than on a CPU. */
static void read_gs(struct goroutine_snapshot *s, const uint64_t *ptrs, size_t n, size_t extent) {
    size_t half = snapshot_two_threads(n) ? (n / 2 + G_CHUNK - 1) / G_CHUNK * G_CHUNK : n;
    struct g_share first = share_of(s, ptrs, 0, half, extent, 0);
    struct g_share second = share_of(s, ptrs, half, n, extent, 1);
    pthread_t thread;
    bool shared = half < n && g_chunk_fit(second.c, n - half, extent) &&
                  pthread_create(&thread, NULL, read_g_share, &second) == 0;
    if (!shared)
        first.to = n;
    read_g_share(&first);
    take_share(s, &first);
    if (shared) {
        pthread_join(thread, NULL);
        take_share(s, &second);
    }
}

/* allgs is a slice header {ptr, len, cap}; the runtime appends under a lock, so len <= cap always holds. */
static int read_goroutines(struct goroutine_snapshot *s, struct gmon_error *err) {
    uint64_t hdr[3];
    if (!read_target(s, s->globals.allgs + s->t.load_bias, hdr, sizeof(hdr)))
        return gmon_fail(err, "process %d: cannot read runtime.allgs", s->t.pid);
    if (hdr[1] > hdr[2] || hdr[1] > MAX_GOROUTINES)
        return gmon_fail(err,
                         "process %d: runtime.allgs has an implausible length %" PRIu64 " (cap %" PRIu64 ")",
                         s->t.pid, hdr[1], hdr[2]);
    size_t nptrs = hdr[1] ? hdr[1] : 1;
    if (hdr[1] > s->cap || !s->gs) {
        items_free(s->gs, s->cap, sizeof(*s->gs));
        s->cap = nptrs;
        s->gs = items_alloc(s->cap, sizeof(*s->gs), false);
    }
    const struct g_offsets *o = &s->layout.layout->g;
    size_t extent = g_extent(o);
    if (!s->gs || !g_read_buffers_fit(s, nptrs, extent))
        return gmon_fail(err, "out of memory");
    uint64_t *ptrs = s->g_read->ptrs;
    if (!read_target(s, hdr[0], ptrs, hdr[1] * 8))
        return gmon_fail(err, "process %d: cannot read the %" PRIu64 " goroutine pointers", s->t.pid, hdr[1]);
    read_gs(s, ptrs, (size_t)hdr[1], extent);
    return 0;
}

/* len(allp) when every allp[i].id == i (the check that the address found from code is right); else -1.
 * Keeps the Ps' addresses for the runtime figures. */
static int read_gomaxprocs(struct goroutine_snapshot *s) {
    uint64_t hdr[3];
    if (!s->globals.allp || !read_target(s, s->globals.allp + s->t.load_bias, hdr, sizeof(hdr)) ||
        hdr[1] == 0 || hdr[1] > hdr[2] || hdr[1] > STATE_MAX_P ||
        !read_target(s, hdr[0], s->ps, hdr[1] * sizeof(s->ps[0])))
        return -1;
    for (uint64_t i = 0; i < hdr[1]; i++) {
        int32_t id;
        if (!read_target(s, s->ps[i] + (uint64_t)s->layout.layout->p.id, &id, 4) || id != (int32_t)i)
            return -1;
    }
    return (int)hdr[1];
}

bool snapshot_two_threads(size_t n) {
    cpu_set_t allowed;
    return n >= SNAPSHOT_TWO_THREADS_MIN && sched_getaffinity(0, sizeof(allowed), &allowed) == 0 &&
           CPU_COUNT(&allowed) >= 2;
}

bool snapshot_has_parent(const struct goroutine_snapshot *s) {
    return s->layout.layout && s->layout.layout->g.parent_goid >= 0;
}

static int find_layouts(struct goroutine_snapshot *s, struct gmon_error *err) {
    if (layout_select(s->symbols, &s->layout, err) != 0)
        return -1;
    if (!s->layout.layout)
        return gmon_fail(err, "%s", s->layout.problem);
    if (go_runtime_globals_find(s->symbols, &s->globals, err) != 0)
        return -1;
    s->have_reasons = go_wait_reasons_find(&s->t.bin.elf, &s->reasons) == 0;
    runtime_state_init(&s->state, &s->t, s->symbols, s->layout.layout);
    return 0;
}

int snapshot_open(struct goroutine_snapshot *s, int pid, const char *bin, struct gmon_error *err) {
    memset(s, 0, sizeof(*s));
    if (target_open(&s->t, NULL, pid, "auto", err) != 0 || proc_check_memory_access(pid, err) != 0)
        return -1;
    s->symbols = &s->t.bin;
    if (bin) {
        if (target_open_symbols(&s->t, bin, &s->bin, err) != 0)
            return -1;
        s->symbols = &s->bin;
    }
    dwarf_types_hold(s->symbols->elf.path); /* both layouts below are checked against it */
    int found = find_layouts(s, err);
    dwarf_types_release();
    if (found != 0)
        return -1;
    if (!(s->pcs = calloc(1, sizeof(*s->pcs))))
        return gmon_fail(err, "out of memory");
    pc_cache_init(&s->pcs->at_return, &s->t.bin.pcln, PC_AT_RETURN);
    pc_cache_init(&s->pcs->func, &s->t.bin.pcln, PC_FUNC);
    return 0;
}

/* The goroutine a P's M runs, read with the Ps: NULL when the P runs none, or it is not among the goroutines.
 */
static const struct goroutine *goroutine_of(const struct goroutine_snapshot *s, const struct p_state *p) {
    for (size_t i = 0; p->curg && i < s->n; i++)
        if (s->gs[i].goid == p->curg_goid)
            return &s->gs[i];
    return NULL;
}

/* A goroutine that runs GC work and says so: the runtime marks it waiting meanwhile, so that its stack can be
 * scanned (mgc.go gcBgMarkWorker: "GC worker (active)" from Go 1.21, and before that the reason of its last
 * park, "GC worker (idle)"; mgcmark.go gcAssistAlloc: "GC assist marking"; markroot scanning its own stack:
 * "garbage collection scan"). It is the curg of its P's M meanwhile. Without the reason strings: any waiting
 * one. */
static bool running_gc_work(const struct goroutine_snapshot *s, const struct goroutine *g) {
    if (g->status != GOROUTINE_WAITING)
        return false;
    const char *reason = s->have_reasons ? go_string_table_get(&s->reasons, g->reason) : NULL;
    if (!reason)
        return true;
    return strcmp(reason, "GC worker (active)") == 0 || strcmp(reason, "GC worker (idle)") == 0 ||
           strcmp(reason, "GC assist marking") == 0 || strcmp(reason, "garbage collection scan") == 0;
}

/* True when what the Ps run agrees with the goroutines' statuses: every goroutine read as running is what the
 * M of a running P runs (or of a P stopped for the GC: the goroutine that stops the world keeps running with
 * its P in gcstop), and every running P's goroutine reads as running, or as waiting on GC work it does
 * itself. The Ps are read before the goroutines, so a busy scheduler can make the two disagree; such a
 * snapshot is read again. */
static bool scheduler_consistent(const struct goroutine_snapshot *s) {
    if (!s->state.have_ps || s->no_goroutines)
        return true;
    for (size_t i = 0; i < s->n; i++) {
        if (s->gs[i].status != GOROUTINE_RUNNING)
            continue;
        bool claimed = false;
        for (int p = 0; p < s->state.np && !claimed; p++) {
            const struct p_state *ps = &s->state.ps[p];
            claimed = (ps->status == P_RUNNING || ps->status == P_GCSTOP) && ps->curg &&
                      ps->curg_goid == s->gs[i].goid;
        }
        if (!claimed)
            return false;
    }
    for (int p = 0; p < s->state.np; p++) {
        const struct p_state *ps = &s->state.ps[p];
        const struct goroutine *g = goroutine_of(s, ps);
        if (ps->status == P_RUNNING && ps->curg &&
            (!g || (g->status != GOROUTINE_RUNNING && !running_gc_work(s, g))))
            return false;
    }
    return true;
}

static int read_once(struct goroutine_snapshot *s, struct gmon_error *err) {
    s->n = s->unreadable = 0;
    memset(s->counts, 0, sizeof(s->counts));
    s->now_ns = monotonic_ns();
    s->gomaxprocs = read_gomaxprocs(s);
    runtime_state_read(&s->state, &s->t, s->ps, s->gomaxprocs > 0 ? s->gomaxprocs : 0, &s->bytes_read);
    return s->no_goroutines ? 0 : read_goroutines(s, err);
}

/* Reads taken again when the scheduler moved during one, while a read is this quick. */
enum { CONSISTENT_ATTEMPTS = 3, RETRY_WITHIN_NS = 50 * 1000000 };

int snapshot_take(struct goroutine_snapshot *s, bool freeze, struct gmon_error *err) {
    s->bytes_read = 0;
    if (freeze && freeze_process(s->t.pid, err) != 0)
        return -1;
    int rc = 0;
    s->attempts = 0;
    do {
        int64_t started = monotonic_ns();
        rc = read_once(s, err);
        s->attempts++;
        s->consistent = rc != 0 || scheduler_consistent(s);
        if (monotonic_ns() - started > RETRY_WITHIN_NS)
            break;
    } while (!s->consistent && s->attempts < CONSISTENT_ATTEMPTS);
    proc_threads_read(s->t.pid, &s->threads);
    if (rc == 0 && s->walk_stacks)
        snapshot_find_current_pcs(s);
    if (rc == 0 && s->heap)
        heap_view_read(s->heap, &s->state, &s->t, &s->bytes_read);
    if (rc == 0 && s->while_stopped)
        s->while_stopped(s, s->while_stopped_ctx);
    thaw_process(); /* the reading is done: the target runs again before gmon prints */
    return rc;
}

bool snapshot_reread(struct goroutine_snapshot *s, struct goroutine *g, struct goroutine_stack_state *st) {
    const struct g_offsets *o = &s->layout.layout->g;
    int fields[] = {o->sched_sp, o->syscallpc, o->syscallsp, o->stack_lo,
                    o->stack_hi, o->lockedm,   o->labels,    o->m};
    int end = (int)g_extent(o);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        end = fields[i] + 8 > end ? fields[i] + 8 : end;
    uint8_t bytes[G_READ];
    struct goroutine now = {.addr = g->addr};
    if (end > G_READ || !read_target(s, g->addr, bytes, (size_t)end) ||
        !decode_g(o, bytes, monotonic_ns(), &now) || now.goid != g->goid || now.status == GOROUTINE_DEAD)
        return false;
    *g = now;
    *st = (struct goroutine_stack_state){.sched_pc = now.sched_pc,
                                         .sched_sp = field(bytes, o->sched_sp, 8),
                                         .syscall_pc = field(bytes, o->syscallpc, 8),
                                         .syscall_sp = field(bytes, o->syscallsp, 8),
                                         .stack_lo = field(bytes, o->stack_lo, 8),
                                         .stack_hi = field(bytes, o->stack_hi, 8),
                                         .lockedm = field(bytes, o->lockedm, 8),
                                         .labels = field(bytes, o->labels, 8),
                                         .m = field(bytes, o->m, 8)};
    return true;
}

struct goroutine_snapshot *snapshot_open_runtime(int pid, const char *bin, struct go_size_classes *classes,
                                                 struct gmon_error *err) {
    struct goroutine_snapshot *s = calloc(1, sizeof(*s));
    if (!s) {
        gmon_fail(err, "out of memory");
        return NULL;
    }
    if (snapshot_open(s, pid, bin, err) != 0) {
        snapshot_free(s);
        return NULL;
    }
    s->no_goroutines = true;
    bool disagree;
    if (go_size_classes_choose(&s->symbols->elf, &s->t.bin.version, classes, &disagree) != 0)
        classes->n = 0;
    return s;
}

void snapshot_free(struct goroutine_snapshot *s) {
    if (s)
        snapshot_close(s);
    free(s);
}

void snapshot_close(struct goroutine_snapshot *s) {
    items_free(s->gs, s->cap, sizeof(*s->gs));
    g_read_buffers_free(s->g_read);
    go_string_table_free(&s->reasons);
    if (s->pcs) {
        pc_cache_free(&s->pcs->at_return);
        pc_cache_free(&s->pcs->func);
        free(s->pcs);
    }
    if (s->symbols == &s->bin)
        go_binary_close(&s->bin);
    target_close(&s->t);
    memset(s, 0, sizeof(*s));
}
