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
