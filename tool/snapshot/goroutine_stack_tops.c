/* Where each goroutine that is not running stopped: from the PC and frame pointer the scheduler saved in
 * g.sched (inside gopark, or entersyscall's save), up the frame-pointer chain to the first PC outside the
 * runtime; for the runtime's own goroutines, the outermost runtime function below runtime.goexit. The
 * goroutines are walked 1,024 at a time: one read takes the 256 bytes above each one's saved frame pointer
 * (the runtime's few frames of a parked goroutine, nearly always), and each further level that leaves them
 * is one system call for the chunk. A stack that moves while it is read ends that walk early.
 *
 * Those windows are most of a large snapshot's time: each is in a page of its own, cold in every cache, and
 * the kernel walks the target's page tables to pin it (perf, 1,000,000 parked goroutines: half of
 * `summary --json`, nearly all of it in process_vm_readv). The reads wait on memory, not on a CPU, so two
 * threads, each with its own half of the goroutines, buffers, PC cache and count of bytes read, take about
 * half as long; they share nothing they write. */
#include "goroutine_stack_tops.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc_target.h"

enum { STACK_WALK_FRAMES = 32, WALK_CHUNK = 1024, STACK_WINDOW = 256 };

/* One goroutine's walk: the PC to look at next and the frame pointer above it; the window of its stack read
 * at the start (window_ok: [window_base, window_base + STACK_WINDOW) read, within the stack below stack_hi).
 */
struct stack_walk {
    struct goroutine *g;
    uint64_t pc, bp, outermost;
    uint64_t window_base;
    size_t window; /* its index in the chunk's windows */
    bool window_ok;
};

/* One thread's share: the goroutines [from, to) of the snapshot, walked up to WALK_CHUNK at a time with the
 * memory below. */
struct stack_walker {
    const struct goroutine_snapshot *s;
    struct pc_cache *at_return; /* this thread's own */
    size_t from, to;
    uint64_t bytes_read;
    size_t n; /* walks in the chunk */
    struct stack_walk w[WALK_CHUNK];
    uint8_t windows[WALK_CHUNK * STACK_WINDOW];
    uint64_t addrs[WALK_CHUNK];
    uint64_t frames[WALK_CHUNK][2];
    size_t need[WALK_CHUNK];
    bool ok[WALK_CHUNK];
};

/* Looks at w->pc: true when the walk is over (w->g->current_pc set), false when it needs the frame at w->bp.
 */
static bool walk_step(struct stack_walker *k, struct stack_walk *w) {
    const struct pc_symbol *sym = pc_cache_get(k->at_return, w->pc ? w->pc - k->s->t.load_bias : 0);
    if (sym->n > 0 && !sym->inner_in_runtime) {
        w->g->current_pc = w->pc;
        return true;
    }
    if (sym->n > 0 && !sym->outer_is_goexit)
        w->outermost = w->pc;
    if (!w->pc || !w->bp) {
        w->g->current_pc = w->outermost;
        return true;
    }
    return false;
}

/* The frame record {saved BP, return PC} at w->bp from the walk's window, when the window holds it. */
static bool frame_in_window(const struct stack_walker *k, const struct stack_walk *w, uint64_t frame[2]) {
    if (!w->window_ok || w->bp < w->window_base || w->bp - w->window_base > STACK_WINDOW - 16 ||
        w->bp + 16 > w->g->stack_hi)
        return false;
    memcpy(frame, k->windows + w->window * STACK_WINDOW + (w->bp - w->window_base), 16);
    return true;
}

/* Reads the window at the top of each walk's frame chain: the next few frames of most stacks, in one read. */
static void read_windows(struct stack_walker *k) {
    for (size_t i = 0; i < k->n; i++)
        k->addrs[i] = k->w[i].bp;
    k->bytes_read += k->n * STACK_WINDOW;
    proc_read_blocks(k->s->t.pid, k->addrs, k->n, STACK_WINDOW, k->windows, k->ok);
    for (size_t i = 0; i < k->n; i++) {
        struct stack_walk *w = &k->w[i];
        w->window = i;
        w->window_base = w->bp;
        w->window_ok = k->ok[i] && w->bp && w->bp < w->g->stack_hi;
    }
}

/* Moves each walk one frame up: from its window, or else from a read of 16 bytes, one system call for all of
 * those. */
static void next_frames(struct stack_walker *k, size_t active) {
    size_t nread = 0;
    for (size_t i = 0; i < active; i++) {
        uint64_t frame[2];
        if (frame_in_window(k, &k->w[i], frame)) {
            k->w[i].bp = frame[0];
            k->w[i].pc = frame[1];
        } else {
            k->addrs[nread] = k->w[i].bp;
            k->need[nread++] = i;
        }
    }
    if (!nread)
        return;
    k->bytes_read += nread * sizeof(k->frames[0]);
    proc_read_blocks(k->s->t.pid, k->addrs, nread, sizeof(k->frames[0]), k->frames, k->ok);
    for (size_t j = 0; j < nread; j++) {
        struct stack_walk *w = &k->w[k->need[j]];
        w->bp = k->ok[j] ? k->frames[j][0] : 0;
        w->pc = k->ok[j] ? k->frames[j][1] : 0;
    }
}

static void walk_chunk(struct stack_walker *k) {
    read_windows(k);
    size_t active = k->n;
    for (int level = 0; level < STACK_WALK_FRAMES && active; level++) {
        size_t kept = 0;
        for (size_t i = 0; i < active; i++)
            if (!walk_step(k, &k->w[i]))
                k->w[kept++] = k->w[i];
        active = kept;
        if (level + 1 == STACK_WALK_FRAMES)
            break; /* the frames above would not be looked at */
        next_frames(k, active);
    }
    for (size_t i = 0; i < active; i++) /* deeper than STACK_WALK_FRAMES */
        k->w[i].g->current_pc = k->w[i].outermost;
    k->n = 0;
}

/* Walks the walker's goroutines (a thread's start routine). */
static void *walk_share(void *walker) {
    struct stack_walker *k = walker;
    for (size_t i = k->from; i < k->to; i++) {
        struct goroutine *g = &k->s->gs[i];
        if (g->status == GOROUTINE_RUNNING) /* a running goroutine's saved state is stale */
            continue;
        k->w[k->n++] = (struct stack_walk){.g = g, .pc = g->sched_pc, .bp = g->sched_bp};
        if (k->n == WALK_CHUNK)
            walk_chunk(k);
    }
    if (k->n)
        walk_chunk(k);
    return NULL;
}

static struct stack_walker *walker_new(const struct goroutine_snapshot *s, struct pc_cache *at_return,
                                       size_t from, size_t to) {
    struct stack_walker *k = malloc(sizeof(*k)); /* 340 KB: not on a stack */
    if (k)
        *k = (struct stack_walker){.s = s, .at_return = at_return, .from = from, .to = to};
    return k;
}

void snapshot_find_current_pcs(struct goroutine_snapshot *s) {
    struct stack_walker *first = walker_new(s, &s->pcs->at_return, 0, s->n);
    if (!first)
        return;                   /* out of memory: where they are stays unknown (current_pc 0) */
    struct pc_cache second_cache; /* allocates nothing until a lookup misses */
    pc_cache_init(&second_cache, s->pcs->at_return.t, PC_AT_RETURN);
    struct stack_walker *second =
        snapshot_two_threads(s->n) ? walker_new(s, &second_cache, s->n / 2, s->n) : NULL;
    pthread_t thread;
    bool shared = second && pthread_create(&thread, NULL, walk_share, second) == 0;
    if (shared)
        first->to = s->n / 2;
    walk_share(first);
    if (shared) {
        pthread_join(thread, NULL);
        s->bytes_read += second->bytes_read;
    }
    s->bytes_read += first->bytes_read;
    pc_cache_free(&second_cache);
    free(second);
    free(first);
}
