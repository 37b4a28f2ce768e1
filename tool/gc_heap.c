#include "gc_heap.h"

#include <stdio.h>
#include <string.h>

#include "dwarf_layout.h"
#include "proc_target.h"

void gc_heap_reader_init(struct gc_heap_reader *r, const struct go_binary *b) {
    memset(r, 0, sizeof(*r));
    uint64_t size;
    if (!elf_image_find_symbol(&b->elf, "runtime.gcController", &r->controller, &size)) {
        snprintf(r->why, sizeof(r->why), "the binary has no symbol table (built with -s or stripped)");
        return;
    }
    elf_image_find_symbol(&b->elf, "runtime.memstats", &r->memstats, &size);
    const char *members[] = {"heapMarked", "heapGoal", "gcPercentHeapGoal", "memoryLimitHeapGoal"};
    int offsets[4];
    if (!dwarf_struct_members(b->elf.path, "runtime.gcControllerState", members, offsets, 4)) {
        snprintf(r->why, sizeof(r->why), "the binary has no DWARF (built with -w or stripped)");
        return;
    }
    r->marked = offsets[0];
    r->goal = offsets[1];
    r->percent_goal = offsets[2];
    r->limit_goal = offsets[3];
    const char *mstats[] = {"next_gc"};
    r->next_gc = -1;
    if (r->memstats)
        dwarf_struct_members(b->elf.path, "runtime.mstats", mstats, &r->next_gc, 1);
    r->usable = r->marked >= 0 && (r->goal >= 0 || r->percent_goal >= 0 || r->next_gc >= 0);
    if (!r->usable)
        snprintf(r->why, sizeof(r->why), "this release's gcControllerState has no field gmon knows for them");
}

static bool read_u64(uint32_t tgid, uint64_t addr, uint64_t *out) {
    return proc_read((int)tgid, addr, out, sizeof(*out));
}

static bool read_goal(const struct gc_heap_reader *r, uint32_t tgid, uint64_t bias, uint64_t *goal) {
    if (r->goal >= 0)
        return read_u64(tgid, r->controller + bias + (uint64_t)r->goal, goal);
    if (r->percent_goal >= 0) {
        uint64_t limit = 0;
        if (!read_u64(tgid, r->controller + bias + (uint64_t)r->percent_goal, goal))
            return false;
        if (r->limit_goal >= 0 && read_u64(tgid, r->controller + bias + (uint64_t)r->limit_goal, &limit) &&
            limit && limit < *goal)
            *goal = limit;
        return true;
    }
    return read_u64(tgid, r->memstats + bias + (uint64_t)r->next_gc, goal);
}

bool gc_heap_read(const struct gc_heap_reader *r, uint32_t tgid, uint64_t bias, uint64_t *live,
                  uint64_t *goal) {
    return r->usable && read_u64(tgid, r->controller + bias + (uint64_t)r->marked, live) &&
           read_goal(r, tgid, bias, goal);
}
