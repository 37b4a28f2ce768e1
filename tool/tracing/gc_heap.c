#include "gc_heap.h"

#include <stdio.h>
#include <string.h>

#include "dwarf_layout.h"
#include "proc_target.h"

static void find_live(struct gc_heap_reader *r, const struct target *t, const struct runtime_layout *layout) {
    runtime_state_init(&r->state, t, &t->bin, layout);
    r->live_usable = state_has(&r->state.layout, HEAP_MARKED) && r->state.globals.addr[BASE_GCCONTROLLER];
    if (r->live_usable)
        return;
    if (r->state.why_not[0])
        snprintf(r->why_no_live, sizeof(r->why_no_live), "%s", r->state.why_not);
    else
        snprintf(r->why_no_live, sizeof(r->why_no_live),
                 "runtime.gcController was found neither in the symbol table nor from code");
}

static void find_goal(struct gc_heap_reader *r, const struct go_binary *b) {
    uint64_t size;
    r->goal = r->percent_goal = r->limit_goal = r->next_gc = -1;
    if (!elf_image_find_symbol(&b->elf, "runtime.gcController", &r->controller, &size)) {
        snprintf(r->why_no_goal, sizeof(r->why_no_goal),
                 "the binary has no symbol table (built with -s or stripped)");
        return;
    }
    elf_image_find_symbol(&b->elf, "runtime.memstats", &r->memstats, &size);
    const char *members[] = {"heapGoal", "gcPercentHeapGoal", "memoryLimitHeapGoal"};
    int offsets[3];
    if (!dwarf_struct_members(b->elf.path, "runtime.gcControllerState", members, offsets, 3)) {
        snprintf(r->why_no_goal, sizeof(r->why_no_goal),
                 "the binary has no DWARF (built with -w or stripped)");
        return;
    }
    r->goal = offsets[0];
    r->percent_goal = offsets[1];
    r->limit_goal = offsets[2];
    const char *mstats[] = {"next_gc"};
    if (r->memstats)
        dwarf_struct_members(b->elf.path, "runtime.mstats", mstats, &r->next_gc, 1);
    r->goal_usable = r->goal >= 0 || r->percent_goal >= 0 || r->next_gc >= 0;
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
                  uint64_t *goal, bool *have_goal) {
    uint64_t bytes = 0;
    *have_goal = false;
    if (!r->live_usable || !runtime_state_global_in(&r->state, (int)tgid, bias, HEAP_MARKED, live, &bytes))
        return false;
    *have_goal = r->goal_usable && read_goal(r, tgid, bias, goal);
    return true;
}
