#include "live_slots.h"

#include <string.h>
#include <sys/mman.h>

#include "bpf_program.h"
#include "kernel_release.h"

bool live_slots_supported(void) {
    int major, minor;
    return kernel_release(&major, &minor) && release_at_least(major, minor, 5, 12);
}

int live_slots_map(struct live_slots *s, int fd, uint32_t n) {
    memset(s, 0, sizeof(*s));
    s->slots = bpf_map_values(fd, (size_t)n * sizeof(struct live_slot), &s->bytes);
    if (!s->slots)
        return -1;
    s->n = n;
    return 0;
}

void live_slots_unmap(struct live_slots *s) {
    if (s->slots)
        munmap(s->slots, s->bytes);
    memset(s, 0, sizeof(*s));
}

static struct goroutine_key key_of(uint64_t tag) {
    return (struct goroutine_key){.tgid = live_slot_tgid(tag), .goid = live_slot_goid(tag)};
}

/* A consistent copy of slot i: the tag before and after the copy are the same, and mark a goroutine (a tag
 * is never reused: one goid per goroutine of an image). Returns its tag, or 0 when empty or changing. */
static uint64_t read_slot(const struct live_slots *s, uint32_t i, struct goroutine_info *info) {
    for (int attempt = 0; attempt < 4; attempt++) {
        uint64_t tag = __atomic_load_n(&s->slots[i].tag, __ATOMIC_ACQUIRE);
        if (tag == 0)
            return 0;
        if (tag & LIVE_SLOT_FILLING)
            continue; /* being written: a creation a few hundred nanoseconds from done */
        memcpy(info, &s->slots[i].info, sizeof(*info));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s->slots[i].tag, __ATOMIC_RELAXED) == tag)
            return tag;
    }
    return 0;
}

uint64_t live_slots_read(const struct live_slots *s, uint32_t i, struct goroutine_key *key,
                         struct goroutine_info *info) {
    uint64_t tag = s->slots && i < s->n ? read_slot(s, i, info) : 0;
    if (tag)
        *key = key_of(tag);
    return tag;
}

bool live_slots_free(struct live_slots *s, uint32_t i, uint64_t tag) {
    __u64 expected = tag; /* the slot's own type, as the compare-and-swap writes it back */
    return s->slots && i < s->n &&
           __atomic_compare_exchange_n(&s->slots[i].tag, &expected, 0, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED);
}

void live_slots_for_each(const struct live_slots *s, live_slot_fn fn, void *ctx) {
    struct goroutine_key key;
    struct goroutine_info info;
    for (uint32_t i = 0; s->slots && i < s->n; i++)
        if (live_slots_read(s, i, &key, &info))
            fn(ctx, &key, &info);
}

size_t live_slots_clear_if(struct live_slots *s,
                           bool (*doomed)(const void *key, const void *value, const void *ctx),
                           const void *ctx) {
    struct goroutine_info info;
    size_t cleared = 0;
    for (uint32_t i = 0; s->slots && i < s->n; i++) {
        __u64 tag = read_slot(s, i, &info); /* the slot's own type: the compare-and-swap writes it back */
        struct goroutine_key key = key_of(tag);
        /* Compare-and-swap: the tag may have changed since it was read (a pid reused meanwhile). */
        if (tag && doomed(&key, &info, ctx) &&
            __atomic_compare_exchange_n(&s->slots[i].tag, &tag, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            cleared++;
    }
    return cleared;
}
