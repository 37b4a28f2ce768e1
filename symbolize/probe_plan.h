/* Where gmon's uprobes go in a Go binary: the file offset of each probed runtime function's entry and of each
 * of its RET instructions (return values are read there, never with uretprobes). */
#ifndef GMON_PROBE_PLAN_H
#define GMON_PROBE_PLAN_H

#include "go_binary.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { PROBE_MAX_RETS = 32, PROBE_MAX_SITES = 32, PROBE_MAX_CALLS = 4 };

struct probe_site {
    const char *function;
    bool required; /* live tracing cannot work without it */
    bool found;
    uint64_t entry;        /* link-time address */
    uint64_t entry_offset; /* file offset: where a uprobe attaches */
    /* File offset of the first instruction after the stack-split check (== entry_offset for nosplit
     * functions): an entry probe there fires once per call, also when the stack grows (x86_prologue.h). */
    uint64_t body_offset;
    /* File offset of the cheapest instruction that runs once each time body_offset does, with the argument
     * registers and R14 as they were there (the stack pointer may have moved: x86_calls.h). For a probe that
     * reads only those registers. */
    uint64_t args_offset;
    uint64_t size;
    uint64_t ret_offsets[PROBE_MAX_RETS];
    size_t nrets; /* how many RETs the function has (ret_offsets holds up to PROBE_MAX_RETS) */
    /* For the functions planned with a callee: for each CALL of it, the file offset where a uprobe sees the
     * state of that CALL at the least cost (the CALL, or the NOP right before it: x86_calls.h). */
    const char *callee;
    uint64_t call_offsets[PROBE_MAX_CALLS];
    size_t ncalls; /* how many there are (call_offsets holds up to PROBE_MAX_CALLS) */
    int wrappers;  /* ABI wrappers with the same name that were skipped */
    char problem[128];
};

struct probe_plan {
    struct probe_site sites[PROBE_MAX_SITES];
    size_t nsites;
};

/* Builds the plan for the binary's Go version (functions that do not exist in that release are left out). */
int probe_plan_build(const struct go_binary *b, struct probe_plan *plan, struct gmon_error *err);

/* Plans one function that is not in the fixed list (the allocator family, found by name at run time).
 * function must outlive s; s->found says whether it worked, s->problem why not. */
void probe_site_plan(const struct go_binary *b, const char *function, struct probe_site *s);

/* The site of a function in a built plan, or NULL. */
const struct probe_site *probe_plan_site(const struct probe_plan *plan, const char *function);

#ifdef __cplusplus
}
#endif

#endif
