/* Where the runtime's scheduler globals live in a binary: runtime.allgs (the []*g of every goroutine) and
 * runtime.allp (the []*p). From the ELF symbol table when the binary has one; otherwise from the code of the
 * runtime functions that use them (runtime/proc.go, allgadd and procresize): in runtime.allgadd, the lowest
 * data address A referenced together with A+8 and A+16 (a slice header); in runtime.procresize, the lowest
 * such triple (callers validate it: len(allp) == GOMAXPROCS, allp[i].id == i). */
#ifndef GMON_GO_RUNTIME_GLOBALS_H
#define GMON_GO_RUNTIME_GLOBALS_H
#include <stdbool.h>
#include <stdint.h>

#include "go_binary.h"
#include "runtime_state_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

struct go_runtime_globals {
    uint64_t allgs, allp;               /* link-time addresses of the slice headers; 0 when not found */
    const char *allgs_from, *allp_from; /* "symbol table" or "code of runtime.allgadd" / "...procresize" */
};

/* Returns 0 when allgs was found (allp may still be 0). */
int go_runtime_globals_find(const struct go_binary *b, struct go_runtime_globals *out,
                            struct gmon_error *err);

/* The globals that hold the scheduler, GC and heap figures: runtime.sched, runtime.memstats,
 * runtime.gcController and runtime.mheap_, indexed by enum state_base (the per-object bases stay 0). From the
 * symbol table, else from the code of the runtime functions that use them: the base B that explains the most
 * of the fields the layout places in that structure, among the data addresses those functions refer to (at
 * least two different fields must be referenced as B + offset). */
struct go_state_globals {
    uint64_t addr[STATE_BASES];
    const char *from[STATE_BASES]; /* "symbol table", "code", or NULL when not found */
};

void go_state_globals_find(const struct go_binary *b, const struct state_layout *l,
                           struct go_state_globals *out);
/* The bases of structure base the code could point at, for a caller that can tell the right one by its
 * contents in a running process: every base among the data addresses its functions refer to that explains
 * the anchor and another field, most fields first. Returns how many (at most max). */
size_t go_state_global_candidates(const struct go_binary *b, const struct state_layout *l,
                                  enum state_base base, uint64_t *out, size_t max);

#ifdef __cplusplus
}
#endif

#endif
