#include "process_watch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grow_array.h"

bool process_alive(int pid) {
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    /* "PID (comm) S ...": comm may contain spaces and parentheses, the state follows the last ')'. */
    const char *close = strrchr(buf, ')');
    return close && close[1] == ' ' && close[2] != 'Z' && close[2] != 'X';
}

/* A process's start time (/proc/PID/stat's 22nd field), in clock ticks since boot; -1 when unreadable. */
static long long start_ticks(int pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* comm may hold spaces; the fields after it are numbers */
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoll(p + 1, NULL, 10) : -1;
}

/* Whether the process started before gmon did (an exec keeps a process's start time). */
static bool started_before_gmon(const struct process_watch *w, int pid) {
    long long started = start_ticks(pid);
    return started >= 0 && started < w->started_ticks;
}

void process_watch_init(struct process_watch *w, const struct target *target) {
    memset(w, 0, sizeof(*w));
    w->target = target;
    struct timespec now;
    clock_gettime(CLOCK_BOOTTIME, &now);
    long hz = sysconf(_SC_CLK_TCK);
    w->started_ticks = (long long)now.tv_sec * hz + (long long)now.tv_nsec / (1000000000LL / hz);
}

void process_watch_free(struct process_watch *w) {
    free(w->procs);
    free(w->slots);
    memset(w, 0, sizeof(*w));
}

static size_t slot_of(const struct process_watch *w, uint32_t tgid) {
    return (size_t)(tgid * 2654435761u) & (w->nslots - 1);
}

/* The table slot that holds tgid, or the empty one where it would go. */
static size_t probe_slot(const struct process_watch *w, uint32_t tgid) {
    size_t i = slot_of(w, tgid);
    while (w->slots[i] && w->procs[w->slots[i] - 1].tgid != tgid)
        i = (i + 1) & (w->nslots - 1);
    return i;
}

/* Rebuilds the table for the n processes, at most half full; false without memory (lookups then scan). */
static bool reindex(struct process_watch *w) {
    size_t nslots = 64;
    while (nslots < 2 * (w->n + 1))
        nslots *= 2;
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    free(w->slots);
    w->slots = slots;
    w->nslots = slots ? nslots : 0;
    for (size_t i = 0; slots && i < w->n; i++)
        w->slots[probe_slot(w, w->procs[i].tgid)] = (uint32_t)i + 1;
    return slots != NULL;
}

static struct watched_process *find(const struct process_watch *w, uint32_t tgid) {
    if (!w->nslots) {
        for (size_t i = 0; i < w->n; i++)
            if (w->procs[i].tgid == tgid)
                return &w->procs[i];
        return NULL;
    }
    uint32_t at = w->slots[probe_slot(w, tgid)];
    return at ? &w->procs[at - 1] : NULL;
}

static struct watched_process *find_or_add(struct process_watch *w, uint32_t tgid) {
    struct watched_process *p = find(w, tgid);
    if (p)
        return p;
    struct watched_process *procs = grow_array(w->procs, &w->cap, w->n, sizeof(*procs), 16);
    if (!procs)
        return NULL;
    w->procs = procs;
    p = &w->procs[w->n++];
    memset(p, 0, sizeof(*p));
    p->tgid = tgid;
    if (2 * w->n > w->nslots)
        reindex(w);
    else
        w->slots[probe_slot(w, tgid)] = (uint32_t)w->n;
    return p;
}

static bool read_bias(const struct target *t, const struct watched_process *p, uint64_t *bias) {
    uint32_t tgid = p->tgid;
    if (t->pid && (uint32_t)t->pid == tgid && !p->restarted) {
        *bias = t->load_bias;
        return true;
    }
    /* On the caller's stack (8.5 KB): the main thread and the metrics thread both get here. */
    struct proc_target pt;
    struct gmon_error err;
    return proc_target_open((int)tgid, &pt, &err) == 0 && proc_load_bias(&pt, &t->bin.elf, bias, &err) == 0;
}

bool process_watch_load_bias(struct process_watch *w, uint32_t tgid, uint64_t *bias) {
    *bias = 0;
    if (!elf_image_is_pie(&w->target->bin.elf))
        return true;
    struct watched_process *p = find_or_add(w, tgid);
    if (!p)
        return false;
    if (!p->bias_known)
        p->bias_known = read_bias(w->target, p, &p->bias);
    *bias = p->bias;
    return p->bias_known;
}

bool process_watch_image_bias(struct process_watch *w, uint32_t tgid, uint32_t image, uint64_t *bias) {
    struct watched_process *p = find(w, tgid);
    if (!p || image >= p->image)
        return process_watch_load_bias(w, tgid, bias);
    for (unsigned i = 0; i < p->nearlier; i++)
        if (p->earlier[i].image == image) {
            *bias = p->earlier[i].bias;
            return true;
        }
    *bias = 0; /* a program replaced long ago, or whose bias was never read: unnamed, never misnamed */
    return !elf_image_is_pie(&w->target->bin.elf);
}

static void note_site_process(void *ctx, const struct site_key *key, const struct site_stats *stats) {
    (void)stats;
    struct process_watch *w = ctx;
    struct watched_process *p = find_or_add(w, key->tgid);
    if (p && !p->bias_known && !p->ended && elf_image_is_pie(&w->target->bin.elf))
        p->bias_known = read_bias(w->target, p, &p->bias);
}

void process_watch_scan(struct process_watch *w, struct lifecycle_probes *probes) {
    lifecycle_for_each_site(probes, note_site_process, w);
}

bool process_watch_knows(const struct process_watch *w, uint32_t tgid) {
    return find(w, tgid) != NULL;
}

struct found_process {
    struct process_watch *w;
    void (*on_found)(void *ctx, uint32_t tgid);
    void *ctx;
};

static void learn(void *ctx, int pid) {
    struct found_process *f = ctx;
    if (!process_watch_knows(f->w, (uint32_t)pid) && find_or_add(f->w, (uint32_t)pid))
        f->on_found(f->ctx, (uint32_t)pid);
}

void process_watch_find_running(struct process_watch *w, void (*on_found)(void *ctx, uint32_t tgid),
                                void *ctx) {
    struct found_process f = {w, on_found, ctx};
    target_for_each_process(w->target, learn, &f);
}

bool process_watch_runtime_started(struct process_watch *w, uint32_t tgid, uint32_t image, uint64_t main_pc) {
    struct watched_process *p = find_or_add(w, tgid);
    if (!p)
        return true;
    if (image < p->image)
        return false;
    /* The program being replaced, when its bias is known: read already, or the --pid target's, read before
     * attaching (a process new to gmon had no earlier program here). */
    bool target_before = (uint32_t)w->target->pid == tgid && !p->restarted;
    if (image > p->image && elf_image_is_pie(&w->target->bin.elf) && (p->bias_known || target_before)) {
        memmove(p->earlier + 1, p->earlier, (EARLIER_IMAGES - 1) * sizeof(p->earlier[0]));
        p->earlier[0] = (struct earlier_image){p->image, p->bias_known ? p->bias : w->target->load_bias};
        if (p->nearlier < EARLIER_IMAGES)
            p->nearlier++;
    }
    p->image = image;
    p->ended = false;    /* its pid reused by a new process of the binary: to be retired again when it ends */
    p->restarted = true; /* the target's bias, read before attaching, may be the replaced program's */
    p->bias_known = false;
    struct go_func fn;
    if (!elf_image_is_pie(&w->target->bin.elf)) {
        p->bias = 0;
        p->bias_known = true;
    } else if (main_pc && go_binary_find_func(&w->target->bin, "runtime.main", &fn, NULL) &&
               main_pc >= fn.entry) {
        p->bias = main_pc - fn.entry;
        p->bias_known = true; /* else read from /proc when needed */
    }
    return true;
}

void process_watch_reap(struct process_watch *w, void (*on_exit)(void *ctx, uint32_t tgid, bool execed),
                        void *ctx) {
    for (size_t i = 0; i < w->n;) {
        int pid = (int)w->procs[i].tgid;
        bool alive = process_alive(pid), execed = alive && !target_runs_its_binary(w->target, pid);
        if (alive && !execed) {
            i++;
            continue;
        }
        /* Told while its entry is still here: retiring its sites names them with its load bias, which only
         * the entry knows once the process is gone. on_exit only appends entries: index i stays its own. */
        on_exit(ctx, w->procs[i].tgid, execed);
        w->procs[i] = w->procs[--w->n];
        reindex(w); /* an entry moved: the next on_exit may look processes up */
    }
}

static bool has_ended(const struct process_watch *w, int pid) {
    return !process_alive(pid) || !target_runs_its_binary(w->target, pid);
}

void process_watch_retire(struct process_watch *w, void (*on_end)(void *ctx, uint32_t tgid), void *ctx) {
    for (size_t i = 0; i < w->n; i++) {
        struct watched_process *p = &w->procs[i];
        if (p->ended || !has_ended(w, (int)p->tgid))
            continue;
        p->ended = true;
        on_end(ctx, p->tgid);
    }
}

/* A new process is told apart by its image number (1) and by being unknown until its runtime started. */
void process_watch_runtime_event(struct process_watch *w, struct lifecycle_probes *probes,
                                 const struct lifecycle_event *ev) {
    /* Decided before runtime_started makes the process known; /proc read only when nothing else tells. */
    bool restarted = ev->site.image > 1 || process_watch_knows(w, ev->tgid) ||
                     (uint32_t)w->target->pid == ev->tgid || started_before_gmon(w, (int)ev->tgid);
    if (process_watch_runtime_started(w, ev->tgid, ev->site.image, ev->startpc) && restarted)
        lifecycle_forget_live_before(probes, ev->tgid, ev->time_ns);
}

static void forget_live(void *ctx, uint32_t tgid) {
    lifecycle_forget_live(ctx, tgid);
}

void process_watch_forget_ended(struct process_watch *w, struct lifecycle_probes *probes) {
    process_watch_scan(w, probes);
    process_watch_retire(w, forget_live, probes);
}
