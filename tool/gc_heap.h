/* The heap figures of a GC cycle, read from the target's memory just after the cycle ends: the live heap
 * (gcController.heapMarked, the bytes the cycle marked) and the heap goal of the next cycle
 * (gcController.heapGoal in Go 1.18; gcPercentHeapGoal, lowered by memoryLimitHeapGoal when that is set,
 * from 1.19; memstats.next_gc in 1.17). Where the variables are comes from the ELF symbol table and their
 * layout from DWARF, so this works on binaries built without -s -w ("where readable"); on stripped ones gc
 * says why the columns are empty. */
#ifndef GMON_GC_HEAP_H
#define GMON_GC_HEAP_H
#include <stdbool.h>
#include <stdint.h>

#include "go_binary.h"

struct gc_heap_reader {
    bool usable;
    char why[160];                 /* when not usable */
    uint64_t controller, memstats; /* link-time addresses of runtime.gcController and runtime.memstats */
    int marked, goal, percent_goal, limit_goal, next_gc; /* member offsets, -1 when absent */
};

void gc_heap_reader_init(struct gc_heap_reader *r, const struct go_binary *b);
/* Reads process tgid's figures (bias: its load bias). False when a read fails (the process exited). */
bool gc_heap_read(const struct gc_heap_reader *r, uint32_t tgid, uint64_t bias, uint64_t *live,
                  uint64_t *goal);

#endif
