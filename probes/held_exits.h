/* Exits that --exits poll found before their goroutine's creation was handed over (the reader lags behind a
 * storm of creations): held here, in the order found, until it has been, so that no exit is told before its
 * creation. The scan itself no longer waits for the reader: it frees the slots of ended goroutines at once,
 * where a scan that waited let the slots and then the live map fill. */
#ifndef GMON_HELD_EXITS_H
#define GMON_HELD_EXITS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lifecycle_event.h"

#ifdef __cplusplus
extern "C" {
#endif

struct held_exit {
    uint64_t created_ns;
    struct lifecycle_event ev;
};

struct held_exits {
    struct held_exit *items;
    size_t n, cap;
};

/* The time before which every goroutine's creation has been handed over (or lost), after a read of the
 * events that began at read_ns and emptied the buffer when drained, and handed over last a creation at
 * last_created_ns: a creation reaches the buffer within LIFECYCLE_EXIT_SCAN_YOUNGEST_NS of its time. A read
 * that stopped short vouches only for the creations older than the last one it handed over (the buffer holds
 * them in about the order they happened). */
int64_t held_exits_cutoff(uint64_t last_created_ns, int64_t read_ns, bool drained);
/* Holds the exit of a goroutine created at created_ns when its creation may not have been handed over yet
 * (created_ns not before cutoff). Returns false when the exit can be told now: its creation has been, or
 * there is no memory to hold it (it is then told before its creation). */
bool held_exits_hold(struct held_exits *h, int64_t cutoff, const struct lifecycle_event *ev,
                     uint64_t created_ns);
/* Holds one more exit of a goroutine created at created_ns; false when out of memory. */
bool held_exits_add(struct held_exits *h, const struct lifecycle_event *ev, uint64_t created_ns);
/* Hands fn the exits of the goroutines created before created_before_ns, in the order they were held, and
 * keeps the others, in order. */
void held_exits_release(struct held_exits *h, int64_t created_before_ns,
                        void (*fn)(void *ctx, const struct lifecycle_event *ev), void *ctx);
void held_exits_free(struct held_exits *h);

#ifdef __cplusplus
}
#endif
#endif
