#include "gc_heap.h"

#include <stdio.h>
#include <string.h>

#include "runtime_metrics.h"

static void find_live(struct gc_heap_reader *r, const struct target *t, const struct runtime_layout *layout) {
    runtime_state_init(&r->state, t, &t->bin, layout);
    r->live_usable = state_has(&r->state.layout, HEAP_MARKED) &&
                     (r->state.globals.addr[BASE_GCCONTROLLER] || r->state.gc_candidates_n);
    if (r->live_usable)
        return;
    if (r->state.why_not[0])
        snprintf(r->why_no_live, sizeof(r->why_no_live), "%s", r->state.why_not);
    else
        snprintf(r->why_no_live, sizeof(r->why_no_live),
                 "runtime.gcController was found neither in the symbol table nor from code");
}

/* The goal is computed as the runtime computes it (runtime_metrics.c), from gcController's fields. */
static void find_goal(struct gc_heap_reader *r, const struct go_binary *b) {
    r->minor = b->version.major == 1 ? b->version.minor : 0;
    r->goal_usable = r->live_usable && (state_has(&r->state.layout, GCC_HEAP_GOAL) ||
                                        state_has(&r->state.layout, GCC_PERCENT_HEAP_GOAL));
    if (!r->goal_usable)
        snprintf(r->why_no_goal, sizeof(r->why_no_goal),
                 "this release's gcControllerState has no heap goal field gmon knows");
}

void gc_heap_reader_init(struct gc_heap_reader *r, const struct target *t,
                         const struct runtime_layout *layout) {
    memset(r, 0, sizeof(*r));
    find_live(r, t, layout);
    find_goal(r, &t->bin);
}

bool gc_heap_read(const struct gc_heap_reader *r, uint32_t tgid, uint64_t bias, uint64_t *live,
                  uint64_t *goal, bool *have_goal) {
    uint64_t bytes = 0;
    *have_goal = false;
    if (!r->live_usable || !runtime_state_global_in(&r->state, (int)tgid, bias, HEAP_MARKED, live, &bytes))
        return false;
    *have_goal =
        r->goal_usable && runtime_metrics_heap_goal(&r->state, (int)tgid, bias, r->minor, goal, &bytes);
    /* GOGC=off without a memory limit: the runtime's goal is then MaxInt64 less the memory in use
     * (from 1.19), which means no goal; said as such (UINT64_MAX), as up to 1.18. */
    uint64_t percent, limit;
    if (*have_goal &&
        runtime_state_global_in(&r->state, (int)tgid, bias, GCCONTROLLER_PERCENT, &percent, &bytes) &&
        (int32_t)percent < 0 &&
        (!state_has(&r->state.layout, GCC_MEMORY_LIMIT) ||
         (runtime_state_global_in(&r->state, (int)tgid, bias, GCC_MEMORY_LIMIT, &limit, &bytes) &&
          limit == (uint64_t)INT64_MAX)))
        *goal = UINT64_MAX;
    return true;
}
