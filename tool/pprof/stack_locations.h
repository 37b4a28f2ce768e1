/* A recorded stack turned into pprof locations as Go's runtime/pprof turns it (proto.go appendLocsForStack):
 * each PC symbolized once (a memo keyed by PC: 100,000 buckets share a few hundred return addresses), the
 * PCs of one physical frame gathered into one location whose lines are its inlined frames (pcDeck), a stack
 * cut in the middle of inlined frames completed (expandFinalInlineFrame), and, for the stacks Go 1.23+
 * records by frame pointers, the inlined frames of each return address expanded first as
 * runtime.CallersFrames expands them (pprof.go expandInlinedFrames). */
#ifndef GMON_STACK_LOCATIONS_H
#define GMON_STACK_LOCATIONS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pclntab.h"
#include "profile_builder.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { STACK_MAX_INLINE = 64 /* inlined frames per physical frame gmon follows */ };

struct pc_memo_slot;

/* Symbolizes a process's PCs (runtime addresses; pcln is looked up at pc - load_bias) by the rules of Go
 * release 1.minor. */
struct stack_symbols {
    const struct pclntab *pcln;
    uint64_t load_bias;
    int minor;
    struct pc_memo_slot *slots;
    size_t cap, used;
};

void stack_symbols_init(struct stack_symbols *s, const struct pclntab *pcln, uint64_t load_bias, int minor);
void stack_symbols_free(struct stack_symbols *s);

/* runtime.FuncForPC(pc).Name() is the runtime's own: "runtime.", and from Go 1.24 "internal/runtime/". */
bool stack_pc_is_runtime(struct stack_symbols *s, uint64_t pc);

/* appendLocsForStack: the location IDs of stk (return PCs, leaf first) in locs, at most max; runtime.goexit
 * and unknown PCs end a location without one of their own. Returns how many. */
size_t stack_locations(struct profile_builder *p, uint64_t mapping, struct stack_symbols *s,
                       const uint64_t *stk, size_t n, uint64_t *locs, size_t max);

/* expandInlinedFrames (Go 1.23+ block and mutex stacks): the return PCs runtime.CallersFrames gives for stk,
 * each inlined frame of a return address its own PC, at most max of them; PCs outside Go code are dropped.
 * Returns how many. */
size_t stack_expand_inlined(struct stack_symbols *s, const uint64_t *stk, size_t n, uint64_t *out,
                            size_t max);

#ifdef __cplusplus
}
#endif

#endif
