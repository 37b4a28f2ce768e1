/* The heap figures of a GC cycle, read from the target's memory just after the cycle ends: the live heap
 * (gcController.heapMarked, the bytes the cycle marked) and the heap goal of the next cycle, as
 * gcControllerState.heapGoal() computes it (runtime_metrics.h: the field up to Go 1.18; from 1.19 the GOGC
 * goal, lowered to the memory limit's or raised to the sweeper's minimum trigger).
 * Both are read the way summary, heap and the exporter read them (runtime_state: the layout from DWARF or
 * gmon's table, runtime.gcController found from the symbol table or from code and told by its contents), so
 * they are there for stripped binaries too. */
#ifndef GMON_GC_HEAP_H
#define GMON_GC_HEAP_H
#include <stdbool.h>
#include <stdint.h>

#include "runtime_state.h"
#include "target.h"

struct gc_heap_reader {
    bool live_usable, goal_usable;
    char why_no_live[192], why_no_goal[160];
    struct runtime_state state; /* where heapMarked and the goal's inputs are */
    int minor;                  /* the target's Go 1.x release: how the goal is computed */
};

void gc_heap_reader_init(struct gc_heap_reader *r, const struct target *t,
                         const struct runtime_layout *layout);
/* Reads process tgid's figures (bias: its load bias): false when the live heap cannot be read (the process
 * exited, or the binary does not let gmon find it). *have_goal says whether *goal was read. */
bool gc_heap_read(const struct gc_heap_reader *r, uint32_t tgid, uint64_t bias, uint64_t *live,
                  uint64_t *goal, bool *have_goal);

#endif
