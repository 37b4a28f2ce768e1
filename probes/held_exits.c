#include "held_exits.h"

#include <stdlib.h>

#include "grow_array.h"
#include "lifecycle_exit_scan.h"

int64_t held_exits_cutoff(uint64_t last_created_ns, int64_t read_ns, bool drained) {
    int64_t delivered = (int64_t)last_created_ns - LIFECYCLE_EXIT_SCAN_YOUNGEST_NS;
    int64_t read = read_ns - LIFECYCLE_EXIT_SCAN_YOUNGEST_NS;
    return drained && read > delivered ? read : delivered;
}

bool held_exits_hold(struct held_exits *h, int64_t cutoff, const struct lifecycle_event *ev,
                     uint64_t created_ns) {
    return (int64_t)created_ns >= cutoff && held_exits_add(h, ev, created_ns);
}

bool held_exits_add(struct held_exits *h, const struct lifecycle_event *ev, uint64_t created_ns) {
    struct held_exit *grown = grow_array(h->items, &h->cap, h->n, sizeof(*h->items), 256);
    if (!grown)
        return false;
    h->items = grown;
    h->items[h->n++] = (struct held_exit){created_ns, *ev};
    return true;
}

void held_exits_release(struct held_exits *h, int64_t created_before_ns,
                        void (*fn)(void *ctx, const struct lifecycle_event *ev), void *ctx) {
    size_t kept = 0;
    for (size_t i = 0; i < h->n; i++) {
        if ((int64_t)h->items[i].created_ns < created_before_ns)
            fn(ctx, &h->items[i].ev);
        else
            h->items[kept++] = h->items[i];
    }
    h->n = kept;
}

void held_exits_free(struct held_exits *h) {
    free(h->items);
    *h = (struct held_exits){0};
}
