#include "lifecycle_exit_scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "proc_target.h"

#include <bcc/libbpf.h>

/* runtime/runtime2.go (Go 1.17-1.27): _Gdead = 6, the status of a g that is not running a goroutine (exited,
 * or on a free list); the _Gscan bit (0x1000) may be set on it while the GC looks. goexit0 (gdestroy from
 * 1.22, proc.go) sets it; newproc1 takes a dead g off the free list for a new goroutine and gives it a new
 * goid, so a g whose goid changed ran another goroutine since. */
enum { G_DEAD = 6, G_SCAN_BIT = 0x1000 };

/* A scan costs gmon's CPU in proportion to the goroutines tracked: the next one starts no sooner than the
 * last one took after it ended, so that scanning takes at most half a CPU. Not longer: short-lived
 * goroutines pile up in the live map while gmon waits, so a longer wait makes the next scan longer still (a
 * wait of four times the scan ran away into a full map at 220,000 goroutines a second). The time spent
 * telling the exits found (their log lines) is not the scan's: the exit probe's events would cost it too, and
 * counted, it ran away the same way (a storm's scans grew from 8,000 goroutines to 65,536, the map full). */
enum { SCAN_COST_FACTOR = 1 };

/* The kernel's ENOTSUPP (not in the C library's errno.h): what BPF returns for an operation a map lacks. */
enum { ENOTSUPP_ERRNO = 524 };

/* slot_of of a goroutine read from the live map. */
#define NO_SLOT UINT32_MAX

void lifecycle_exit_scan_init(struct lifecycle_exit_scan *s, int interval_ms, int goid_offset,
                              int status_offset, int lifetime_log2, bool emit_exited, int live_fd,
                              int sites_fd, struct live_slots *slots, int map_filled_fd) {
    memset(s, 0, sizeof(*s));
    s->interval_ms = interval_ms;
    s->goid_offset = goid_offset;
    s->status_offset = status_offset;
    s->lifetime_log2 = lifetime_log2;
    s->emit_exited = emit_exited;
    s->live_fd = live_fd;
    s->sites_fd = sites_fd;
    s->slots = slots;
    s->map_filled_fd = map_filled_fd;
    s->map_holds = true; /* not known yet */
    /* The two fields sit side by side in every release (a few bytes apart): one read covers both. */
    s->read_base = goid_offset < status_offset ? goid_offset : status_offset;
    int end = goid_offset + 8 > status_offset + 4 ? goid_offset + 8 : status_offset + 4;
    s->read_span = (size_t)(end - s->read_base);
    s->next_ns = monotonic_ns() + (int64_t)interval_ms * 1000000;
    pthread_mutex_init(&s->lock, NULL);
    count_table_init(&s->by_site, sizeof(struct site_key), SITE_EXIT_COUNTS);
    count_table_init(&s->by_slot, sizeof(struct lifetime_slot_key), 1);
}

int lifecycle_exit_scan_wait_ms(const struct lifecycle_exit_scan *s, int timeout_ms) {
    int64_t left_ns = s->next_ns - monotonic_ns();
    if (left_ns <= 0)
        return 0;
    int64_t left_ms = (left_ns + 999999) / 1000000;
    return left_ms < timeout_ms ? (int)left_ms : timeout_ms;
}

bool lifecycle_exit_scan_due(const struct lifecycle_exit_scan *s) {
    return monotonic_ns() >= s->next_ns;
}

/* Makes room for need goroutines in every scratch array. */
static bool reserve(struct lifecycle_exit_scan *s, size_t need) {
    if (need <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < need)
        cap *= 2;
    struct {
        void **array;
        size_t size;
    } arrays[] = {
        {(void **)&s->keys, sizeof(*s->keys)},
        {(void **)&s->infos, sizeof(*s->infos)},
        {(void **)&s->addrs, sizeof(*s->addrs)},
        {(void **)&s->gs, s->read_span},
        {(void **)&s->ok, sizeof(*s->ok)},
        {(void **)&s->order, sizeof(*s->order)},
        {(void **)&s->ended, sizeof(*s->ended)},
        {(void **)&s->ended_keys, sizeof(*s->ended_keys)},
        {(void **)&s->deleted, sizeof(*s->deleted)},
        {(void **)&s->slot_of, sizeof(*s->slot_of)},
        {(void **)&s->tags, sizeof(*s->tags)},
        {(void **)&s->ended_in_map, sizeof(*s->ended_in_map)},
        {(void **)&s->block_of, sizeof(*s->block_of)},
    };
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        void *grown = realloc(*arrays[i].array, cap * arrays[i].size);
        if (!grown)
            return false; /* the arrays grown so far stay grown: cap is still right for all */
        *arrays[i].array = grown;
    }
    s->cap = cap;
    return true;
}

/* The goroutines in the live slots, read in gmon's memory, from slot 0 on. Returns the number read into
 * s->keys and s->infos from index 0. */
static size_t read_slots(struct lifecycle_exit_scan *s) {
    size_t n = 0;
    for (uint32_t i = 0; i < s->slots->n && reserve(s, n + 1); i++) {
        s->tags[n] = live_slots_read(s->slots, i, &s->keys[n], &s->infos[n]);
        if (s->tags[n])
            s->slot_of[n++] = i;
    }
    return n;
}

/* The live map's goroutines, read into s->keys and s->infos from index from on: a batch of entries per system
 * call (kernels from 5.6), or an entry at a time. Returns the index after the last. */
static size_t read_map(struct lifecycle_exit_scan *s, size_t from) {
    size_t n = from;
    __u32 in = 0, out = 0;
    bool first = true;
    for (;;) {
        if (!reserve(s, n + 1024))
            return n;
        __u32 count = (__u32)(s->cap - n);
        int rc = bpf_lookup_batch(s->live_fd, first ? NULL : &in, &out, s->keys + n, s->infos + n, &count);
        int error = rc == 0 ? 0 : rc == -1 ? errno : -rc;
        if (rc != 0 && error != ENOENT)
            break; /* no batch operations on this kernel: one at a time below */
        n += count;
        if (rc != 0)
            return n; /* ENOENT: the end of the map */
        in = out;
        first = false;
    }
    n = from;
    struct goroutine_key key;
    void *prev = NULL;
    while (reserve(s, n + 1) && bpf_get_next_key(s->live_fd, prev, &s->keys[n]) == 0) {
        key = s->keys[n];
        prev = &key;
        if (bpf_lookup_elem(s->live_fd, &key, &s->infos[n]) == 0)
            n++;
    }
    return n;
}

/* Whether the live map may hold goroutines: it did after the last scan, or the creation program has put one
 * there since (its flag, cleared here before the map is read: one put after the clear sets it again). A
 * walk of the map visits every bucket, empty or not; most scans find the goroutines all in the slots. */
static bool map_may_hold(struct lifecycle_exit_scan *s) {
    uint32_t zero = 0, filled = 1, cleared = 0;
    if (s->map_filled_fd < 0 || s->map_holds)
        return true;
    if (bpf_lookup_elem(s->map_filled_fd, &zero, &filled) != 0)
        return true;
    if (!filled)
        return false;
    bpf_update_elem(s->map_filled_fd, &zero, &cleared, BPF_ANY);
    /* A creation that found the flag still set may have put its goroutine in the map too late for this walk
     * to see it (a store may wait in the CPU's buffer past the loads after it, on either side): the next
     * scan walks the map again. */
    s->flag_seen = true;
    return true;
}

/* The live goroutines: those in the slots, then the live map's, a batch of entries per system call (kernels
 * from 5.6) or an entry at a time. Returns the number read into s->keys and s->infos. */
static size_t read_live(struct lifecycle_exit_scan *s) {
    size_t from = read_slots(s);
    s->flag_seen = false;
    size_t n = map_may_hold(s) ? read_map(s, from) : from;
    s->map_left = n - from;
    for (size_t i = from; i < n; i++)
        s->slot_of[i] = NO_SLOT;
    return n;
}

/* By process (one read per process), then by creation: the exits a scan finds are told in that order. */
static int by_process_then_age(const void *a, const void *b, void *ctx) {
    const struct lifecycle_exit_scan *s = ctx;
    uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
    uint32_t ta = s->keys[ia].tgid, tb = s->keys[ib].tgid;
    if (ta != tb)
        return (ta > tb) - (ta < tb);
    uint64_t ca = s->infos[ia].created_ns, cb = s->infos[ib].created_ns;
    return (ca > cb) - (ca < cb);
}

/* Merges the sorted runs order[0..mid) and order[mid..n) through s->ended (scratch until check_process). */
static void merge_runs(struct lifecycle_exit_scan *s, size_t mid, size_t n) {
    size_t a = 0, b = mid, k = 0;
    while (a < mid && b < n)
        s->ended[k++] =
            by_process_then_age(&s->order[b], &s->order[a], s) < 0 ? s->order[b++] : s->order[a++];
    while (a < mid)
        s->ended[k++] = s->order[a++];
    while (b < n)
        s->ended[k++] = s->order[b++];
    memcpy(s->order, s->ended, n * sizeof(*s->order));
}

/* The slots hold one process's goroutines in goid order from some slot on (live_slot_by_goid): when one
 * goroutine creates them, in order of creation too, so one or two sorted runs, taken as they are or merged in
 * one pass, where a sort of a storm's scan took a sixth of its time. Any other order is sorted (goids come in
 * batches per P: creators on several Ps interleave them). */
void lifecycle_exit_scan_sort(struct lifecycle_exit_scan *s, size_t n) {
    size_t descents = 0, mid = 0;
    for (size_t i = 1; i < n && descents < 2; i++)
        if (by_process_then_age(&s->order[i - 1], &s->order[i], s) > 0) {
            descents++;
            mid = i;
        }
    if (descents == 0)
        return;
    if (descents == 1)
        merge_runs(s, mid, n);
    else
        qsort_r(s->order, n, sizeof(*s->order), by_process_then_age, s);
}

static uint32_t log2_slot(uint64_t v) {
    return v ? 64 - (uint32_t)__builtin_clzll(v) : 1; /* as probe_common.bpf.h's: slot 1 holds 0 and 1 */
}

static int lifetime_bucket(uint64_t ns) {
    static const uint64_t bounds[LIFECYCLE_BUCKETS - 1] = LIFECYCLE_BUCKET_BOUNDS_NS;
    for (int i = 0; i < LIFECYCLE_BUCKETS - 1; i++)
        if (ns <= bounds[i])
            return i;
    return LIFECYCLE_BUCKETS - 1;
}

/* The site's row exists once the BPF map has the site: a site it had no room for at the creation gets an
 * entry now if there is room, as the goexit1 program's lookup_or_try_init does. */
static bool site_in_map(struct lifecycle_exit_scan *s, const struct site_key *site) {
    if (count_table_find(&s->by_site, site))
        return true;
    struct site_stats stats = {0};
    return bpf_lookup_elem(s->sites_fd, (void *)site, &stats) == 0 ||
           bpf_update_elem(s->sites_fd, (void *)site, &stats, BPF_NOEXIST) == 0 ||
           bpf_lookup_elem(s->sites_fd, (void *)site, &stats) == 0;
}

/* What goexit1's program counts for an exit (lifecycle.bpf.c), counted here. Called with the lock held. */
static void count_exit(struct lifecycle_exit_scan *s, const struct goroutine_info *info, uint64_t lifetime) {
    s->found++;
    if (!site_in_map(s, &info->site)) {
        s->site_map_full++;
    } else {
        uint64_t add[SITE_EXIT_COUNTS] = {1, lifetime};
        add[2 + lifetime_bucket(lifetime)] = 1;
        if (count_table_add(&s->by_site, &info->site, add) != 0)
            s->site_map_full++;
    }
    if (!s->lifetime_log2)
        return;
    struct lifetime_slot_key slot = {0};
    slot.site.tgid = info->site.tgid;
    if (s->lifetime_log2 == 2)
        slot.site = info->site;
    uint32_t n = log2_slot(lifetime / 1000);
    slot.slot = n < LIFETIME_LOG2_SLOTS ? n : LIFETIME_LOG2_SLOTS - 1;
    count_table_add(&s->by_slot, &slot, (const uint64_t[]){1});
}

/* The middle of the window in which the goroutine ended: after the last scan that saw it alive (or its
 * creation, if it was younger than that scan) and before this scan's read. */
static uint64_t exit_time(const struct lifecycle_exit_scan *s, const struct goroutine_info *info,
                          int64_t read_ns) {
    uint64_t seen_alive = info->created_ns;
    if (s->last_read_ns && (int64_t)info->created_ns < s->last_checked_before)
        seen_alive = (uint64_t)s->last_read_ns;
    return seen_alive + ((uint64_t)read_ns - seen_alive) / 2;
}

static bool has_exited(const struct lifecycle_exit_scan *s, const uint8_t *g, uint64_t goid) {
    uint64_t read_goid;
    uint32_t status;
    memcpy(&read_goid, g + (s->goid_offset - s->read_base), sizeof(read_goid));
    memcpy(&status, g + (s->status_offset - s->read_base), sizeof(status));
    return read_goid != goid || (status & ~(uint32_t)G_SCAN_BIT) == G_DEAD;
}

/* Deletes the live-map entries of the n goroutines in ended_keys, a batch per system call where the kernel
 * has batches (5.6); deleted[ended_in_map[i]] says whether entry i was there to delete. */
static void delete_ended(struct lifecycle_exit_scan *s, size_t n) {
    size_t done = 0;
    while (done < n) {
        __u32 count = (__u32)(n - done);
        int rc = s->no_delete_batch ? -1 : bpf_delete_batch(s->live_fd, s->ended_keys + done, &count);
        if (s->no_delete_batch)
            count = 0;
        for (size_t i = done; i < done + count && i < n; i++)
            s->deleted[s->ended_in_map[i]] = true;
        done += count;
        if (rc == 0)
            return;
        if (count == 0 && !s->no_delete_batch && (errno == EINVAL || errno == ENOTSUPP_ERRNO))
            s->no_delete_batch = true;
        if (done < n) { /* the batch stopped at this key: gone already, or batches are not supported */
            s->deleted[s->ended_in_map[done]] = bpf_delete_elem(s->live_fd, &s->ended_keys[done]) == 0;
            done++;
        }
    }
}

/* exit_time is never before the creation (the window starts at it or at a later scan): the guard is for a
 * clock that would say otherwise. */
static uint64_t lifetime_of(uint64_t ended, const struct goroutine_info *info) {
    return ended > info->created_ns ? ended - info->created_ns : 0;
}

/* Hands fn the exit of goroutine i of the scan. */
static void tell_exit(struct lifecycle_exit_scan *s, uint32_t i, int64_t read_ns, exit_found_fn fn,
                      void *ctx) {
    const struct goroutine_key *key = &s->keys[i];
    const struct goroutine_info *info = &s->infos[i];
    uint64_t ended = exit_time(s, info, read_ns);
    struct lifecycle_event ev = {.kind = LIFECYCLE_EXITED, .tgid = key->tgid, .goid = key->goid};
    ev.parent_goid = info->parent_goid;
    ev.startpc = info->startpc;
    ev.time_ns = ended;
    ev.lifetime_ns = lifetime_of(ended, info);
    ev.site = info->site;
    fn(ctx, &ev);
}

/* Counts the exits of the n goroutines in s->ended whose slot or entry was there to free (s->deleted), under
 * one hold of the lock, and hands each to fn (outside it) when exits are told. Only fn's time is taken out of
 * the scan's cost (telling_ns). */
static void count_and_tell_exits(struct lifecycle_exit_scan *s, size_t n, int64_t read_ns, exit_found_fn fn,
                                 void *ctx) {
    bool tell = s->emit_exited && fn;
    pthread_mutex_lock(&s->lock);
    for (size_t j = 0; j < n; j++) {
        if (!s->deleted[j]) /* forgotten meanwhile: an exec of the same binary reused its key */
            continue;
        const struct goroutine_info *info = &s->infos[s->ended[j]];
        count_exit(s, info, lifetime_of(exit_time(s, info, read_ns), info));
        s->events += tell;
    }
    pthread_mutex_unlock(&s->lock);
    if (!tell)
        return;
    int64_t telling = monotonic_ns();
    for (size_t j = 0; j < n; j++)
        if (s->deleted[j])
            tell_exit(s, s->ended[j], read_ns, fn, ctx);
    s->telling_ns += monotonic_ns() - telling;
}

/* The addresses to read for goroutines order[from..to) into s->addrs, one per distinct g, and in
 * s->block_of the one each goroutine reads. Returns how many. The runtime hands an ended goroutine's g to the
 * next one it creates (gfget, proc.go), so a storm's goroutines share a few gs: a small table of the gs seen
 * lately reads each once, where a read per goroutine was a third of a storm's scan. */
static size_t distinct_gs(struct lifecycle_exit_scan *s, size_t from, size_t to) {
    enum { SEEN = 64 };
    uint64_t seen[SEEN] = {0};
    uint32_t seen_block[SEEN];
    size_t n = 0;
    for (size_t i = from; i < to; i++) {
        uint64_t g = s->infos[s->order[i]].g;
        size_t h = (size_t)((g >> 4) * 0x9E3779B97F4A7C15ULL >> 58); /* 64 buckets */
        if (seen[h] != g) {
            seen[h] = g;
            seen_block[h] = (uint32_t)n;
            s->addrs[n++] = g + (uint64_t)s->read_base;
        }
        s->block_of[i - from] = seen_block[h];
    }
    return n;
}

/* Reads the goid and status of goroutines order[from..to) (one process) and handles those that ended. */
static void check_process(struct lifecycle_exit_scan *s, size_t from, size_t to, exit_found_fn fn,
                          void *ctx) {
    size_t span = s->read_span;
    uint32_t tgid = s->keys[s->order[from]].tgid;
    size_t blocks = distinct_gs(s, from, to);
    int64_t read_ns = monotonic_ns();
    size_t read = proc_read_blocks((int)tgid, s->addrs, blocks, span, s->gs, s->ok);
    /* A process that exited reads nothing: its goroutines ended with it, and process_watch forgets them.
     * Reads that fail in a process that still runs (no CAP_SYS_PTRACE, Yama) are counted: those exits are
     * not seen. */
    if (read < blocks && !proc_memory_gone((int)tgid)) {
        size_t unread = 0;
        for (size_t i = from; i < to; i++)
            unread += !s->ok[s->block_of[i - from]];
        pthread_mutex_lock(&s->lock);
        s->unreadable += unread;
        pthread_mutex_unlock(&s->lock);
    }
    if (read == 0)
        return;
    size_t n = 0, in_map = 0;
    for (size_t i = from; i < to; i++) {
        uint32_t k = s->order[i], block = s->block_of[i - from];
        if (!s->ok[block] || !has_exited(s, s->gs + block * span, s->keys[k].goid))
            continue;
        s->ended[n] = k;
        /* A slot is freed only if it still holds this goroutine: else it was forgotten meanwhile. */
        s->deleted[n] = s->slot_of[k] != NO_SLOT && live_slots_free(s->slots, s->slot_of[k], s->tags[k]);
        if (s->slot_of[k] == NO_SLOT) {
            s->ended_keys[in_map] = s->keys[k];
            s->ended_in_map[in_map++] = (uint32_t)n;
        }
        n++;
    }
    delete_ended(s, in_map);
    for (size_t j = 0; j < in_map; j++)
        s->map_left -= s->deleted[s->ended_in_map[j]];
    count_and_tell_exits(s, n, read_ns, fn, ctx);
}

/* Whether the n goroutines in order are all one process's: then, when no exit is told, they need no sorting
 * (a sort of each scan's goroutines was a sixth of a storm's scan time). */
static bool one_process(const struct lifecycle_exit_scan *s, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (s->keys[s->order[i]].tgid != s->keys[s->order[0]].tgid)
            return false;
    return true;
}

void lifecycle_exit_scan_run(struct lifecycle_exit_scan *s, int64_t created_before_ns, exit_found_fn fn,
                             void *ctx) {
    int64_t started = monotonic_ns();
    s->telling_ns = 0;
    size_t n = read_live(s), checked = 0;
    for (size_t i = 0; i < n; i++)
        if ((int64_t)s->infos[i].created_ns < created_before_ns && s->infos[i].g)
            s->order[checked++] = (uint32_t)i;
    if (s->emit_exited || !one_process(s, checked))
        lifecycle_exit_scan_sort(s, checked);
    for (size_t from = 0, to; from < checked; from = to) {
        for (to = from + 1; to < checked && s->keys[s->order[to]].tgid == s->keys[s->order[from]].tgid; to++)
            ;
        check_process(s, from, to, fn, ctx);
    }
    int64_t ended = monotonic_ns();
    s->map_holds = s->map_left > 0 || s->flag_seen;
    s->last_read_ns = started;
    s->last_checked_before = created_before_ns;
    s->next_ns = started + (int64_t)s->interval_ms * 1000000;
    int64_t cost = ended - started - s->telling_ns;
    if (s->next_ns < ended + cost * SCAN_COST_FACTOR)
        s->next_ns = ended + cost * SCAN_COST_FACTOR;
    pthread_mutex_lock(&s->lock);
    s->scans++;
    s->scan_ns += (uint64_t)cost;
    s->checked += checked;
    pthread_mutex_unlock(&s->lock);
}

void lifecycle_exit_scan_add_to_site(struct lifecycle_exit_scan *s, const struct site_key *site,
                                     struct site_stats *stats) {
    pthread_mutex_lock(&s->lock);
    const uint64_t *row = count_table_find(&s->by_site, site);
    if (row) {
        stats->exited += row[0];
        stats->lifetime_sum_ns += row[1];
        for (int b = 0; b < LIFECYCLE_BUCKETS; b++)
            stats->buckets[b] += row[2 + b];
    }
    pthread_mutex_unlock(&s->lock);
}

struct slot_walk {
    exit_slot_fn fn;
    void *ctx;
};

static void tell_slot(void *ctx, const void *key, const uint64_t *counts) {
    struct slot_walk *w = ctx;
    w->fn(w->ctx, key, counts[0]);
}

void lifecycle_exit_scan_for_each_slot(struct lifecycle_exit_scan *s, exit_slot_fn fn, void *ctx) {
    struct slot_walk w = {fn, ctx};
    pthread_mutex_lock(&s->lock);
    count_table_for_each(&s->by_slot, tell_slot, &w);
    pthread_mutex_unlock(&s->lock);
}

void lifecycle_exit_scan_counters(struct lifecycle_exit_scan *s, uint64_t out[LIFECYCLE_COUNTERS]) {
    pthread_mutex_lock(&s->lock);
    out[COUNTER_EXIT_HITS] += s->found;
    out[COUNTER_EXIT_SITE_MAP_FULL] += s->site_map_full;
    out[COUNTER_EVENTS_SENT] += s->events;
    out[COUNTER_EXIT_SCANS] += s->scans;
    out[COUNTER_EXIT_SCAN_US] += s->scan_ns / 1000;
    out[COUNTER_EXIT_CHECKS] += s->checked;
    out[COUNTER_EXIT_SCAN_UNREADABLE] += s->unreadable;
    pthread_mutex_unlock(&s->lock);
}

void lifecycle_exit_scan_forget(struct lifecycle_exit_scan *s, exit_doomed_fn site_doomed,
                                exit_doomed_fn slot_doomed, const void *ctx) {
    pthread_mutex_lock(&s->lock);
    if (site_doomed)
        count_table_remove_if(&s->by_site, site_doomed, ctx);
    if (slot_doomed)
        count_table_remove_if(&s->by_slot, slot_doomed, ctx);
    pthread_mutex_unlock(&s->lock);
}

void lifecycle_exit_scan_free(struct lifecycle_exit_scan *s) {
    if (!s->interval_ms)
        return;
    count_table_free(&s->by_site);
    count_table_free(&s->by_slot);
    free(s->keys);
    free(s->infos);
    free(s->addrs);
    free(s->gs);
    free(s->ok);
    free(s->order);
    free(s->ended);
    free(s->ended_keys);
    free(s->deleted);
    free(s->slot_of);
    free(s->tags);
    free(s->ended_in_map);
    free(s->block_of);
    pthread_mutex_destroy(&s->lock);
    s->interval_ms = 0;
}
