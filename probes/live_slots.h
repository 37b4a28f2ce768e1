/* Host side of the live-goroutine slots (struct live_slot, lifecycle_event.h): the BPF array in front of the
 * live hash map, mapped into gmon's memory. The lifecycle programs claim and free slots with atomic
 * operations; gmon reads them without stopping the programs and clears the slots of a process that ended. */
#ifndef GMON_LIVE_SLOTS_H
#define GMON_LIVE_SLOTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lifecycle_event.h"

struct live_slots {
    struct live_slot *slots; /* NULL: no slots (a kernel without them) */
    uint32_t n;
    size_t bytes;
};

/* Whether the running kernel has what the slots need: arrays mapped into memory (Linux 5.5) and the BPF
 * compare-and-swap (5.12). Without them the live hash map works alone. */
bool live_slots_supported(void);
/* Maps the BPF array map fd of n slots (BPF_F_MMAPABLE). Returns 0, or -1 with errno. */
int live_slots_map(struct live_slots *s, int fd, uint32_t n);
void live_slots_unmap(struct live_slots *s);

/* Calls fn for each slot that holds a goroutine, with a copy read whole: a slot that changed while it was
 * copied (its goroutine exited, another took it) is read again, up to a few times, then left out as one
 * would be that was taken a moment later. */
typedef void (*live_slot_fn)(void *ctx, const struct goroutine_key *key, const struct goroutine_info *info);
void live_slots_for_each(const struct live_slots *s, live_slot_fn fn, void *ctx);

/* Slot i read whole, as live_slots_for_each reads it: its tag (0 when empty or changing), with the
 * goroutine's key and info. */
uint64_t live_slots_read(const struct live_slots *s, uint32_t i, struct goroutine_key *key,
                         struct goroutine_info *info);
/* Frees slot i if it still holds the goroutine of tag, which ended (--exits poll: the scan found it so).
 * Returns whether it did. */
bool live_slots_free(struct live_slots *s, uint32_t i, uint64_t tag);

/* Frees each slot whose goroutine doomed picks (key: struct goroutine_key, value: struct goroutine_info), if
 * it still holds that goroutine. Only for goroutines that cannot exit any more (their process ended or
 * replaced its program): their exit is the only other place that frees a slot. Returns how many it freed. */
size_t live_slots_clear_if(struct live_slots *s,
                           bool (*doomed)(const void *key, const void *value, const void *ctx),
                           const void *ctx);

#endif
