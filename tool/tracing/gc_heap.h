/* The heap figures of a GC cycle, read from the target's memory just after the cycle ends: the live heap
 * (gcController.heapMarked, the bytes the cycle marked) and the heap goal of the next cycle
 * (gcController.heapGoal in Go 1.18; gcPercentHeapGoal, lowered by memoryLimitHeapGoal when that is set,
 * from 1.19; memstats.next_gc in 1.17).
 * The live heap is read the way summary and heap read it (runtime_state: the layout from DWARF or gmon's
 * table, runtime.gcController found from the symbol table or from code), so it is there for stripped binaries
 * too. The goal's fields are in no table: they come from the binary's symbol table and DWARF, and a stripped
 * binary shows no goal, with the reason. */
#ifndef GMON_GC_HEAP_H
#define GMON_GC_HEAP_H
#include <stdbool.h>
#include <stdint.h>

#include "runtime_state.h"
#include "target.h"

struct gc_heap_reader {
    bool live_usable, goal_usable;
    char why_no_live[192], why_no_goal[160];
    struct runtime_state state;    /* where heapMarked is */
    uint64_t controller, memstats; /* link-time addresses of runtime.gcController and runtime.memstats */
    int goal, percent_goal, limit_goal, next_gc; /* member offsets, -1 when absent */
};

void gc_heap_reader_init(struct gc_heap_reader *r, const struct target *t,
                         const struct runtime_layout *layout);
/* Reads process tgid's figures (bias: its load bias): false when the live heap cannot be read (the process
 * exited, or the binary does not let gmon find it). *have_goal says whether *goal was read. */
bool gc_heap_read(const struct gc_heap_reader *r, uint32_t tgid, uint64_t bias, uint64_t *live,
                  uint64_t *goal, bool *have_goal);

#endif
