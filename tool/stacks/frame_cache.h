/* What symbolizing a stack frame costs, paid once per PC: goroutines parked at the same place (a pool of
 * workers, 100,000 leaked ones) share their PCs, and every lookup below decodes pc-value tables from the
 * function's entry (pcsp, file, line, inlining, argument liveness). Direct-mapped: a PC evicts another that
 * hashes to its slot, which only costs a new lookup. */
#ifndef GMON_FRAME_CACHE_H
#define GMON_FRAME_CACHE_H
#include <stdbool.h>
#include <stdint.h>

#include "pclntab.h"

enum { FRAME_CACHE_SLOTS = 4096, FRAME_CACHE_MAX_INLINED = 8 };

struct frame_cache_entry {
    uint64_t pc; /* link-time address; 0: empty */
    bool found;
    struct go_func fn;
    int32_t sp_delta;
    /* the logical frames and the argument liveness index at the symbol PC (pc - 1, or pc after a trap) */
    bool expanded[2];
    int nframes[2];
    int32_t live_index[2];
    struct go_frame frames[2][FRAME_CACHE_MAX_INLINED];
};

struct frame_cache {
    const struct pclntab *t;
    struct frame_cache_entry *slots;
};

bool frame_cache_init(struct frame_cache *c, const struct pclntab *t);
void frame_cache_free(struct frame_cache *c);
/* The function holding link-time pc and its frame size there; NULL when no function holds it. */
const struct frame_cache_entry *frame_cache_func(struct frame_cache *c, uint64_t pc);
/* The logical frames at the symbol PC of the frame at pc (trap: pc itself, else pc - 1 unless pc is the
 * entry), innermost first, into out (up to max); also the argument liveness index there. Returns the count.
 */
int frame_cache_frames(struct frame_cache *c, uint64_t pc, bool trap, struct go_frame *out, int max,
                       int32_t *live_index);

#endif
