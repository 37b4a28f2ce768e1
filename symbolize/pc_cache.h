/* Memoized pclntab lookups for snapshots: 100,000 goroutines parked in the same few places ask for the same
 * handful of return addresses and start functions, so each distinct PC is symbolized once. Open addressing
 * keyed by link-time PC, doubled when half full. */
#ifndef GMON_PC_CACHE_H
#define GMON_PC_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pclntab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a lookup found: n logical frames (0: no function holds the PC), the innermost and the outermost. */
struct pc_symbol {
    uint64_t pc;
    int n;
    struct go_frame inner, outer;
    bool inner_in_runtime; /* inner.function is the runtime's (go_is_runtime_function) */
    bool outer_is_goexit;  /* outer.function is runtime.goexit: the bottom of a goroutine's stack */
    char *text; /* a caller's rendering of this symbol, kept with it (pc_cache_keep_text), or NULL */
    char *json; /* the same as a JSON string, quoted and escaped (pc_cache_keep_json), or NULL */
};

enum pc_lookup {
    PC_AT_RETURN, /* pclntab_frames_at_return: the frames of the CALL before a return address */
    PC_FUNC,      /* pclntab_func_at: the function holding a PC (inner.function is its name, n is 0 or 1) */
};

struct pc_cache {
    const struct pclntab *t;
    enum pc_lookup lookup;
    struct pc_symbol *slots;
    size_t cap, used;
    uint64_t misses;           /* lookups that went to the pclntab */
    struct pc_symbol uncached; /* the last answer that could not be kept (out of memory) */
};

void pc_cache_init(struct pc_cache *c, const struct pclntab *t, enum pc_lookup lookup);
/* The lookup's answer for a link-time pc (never NULL; n is 0 for pc 0 or when out of memory and unknown). */
const struct pc_symbol *pc_cache_get(struct pc_cache *c, uint64_t pc);
/* Keeps a copy of text as sym's rendering (sym: an answer of pc_cache_get with n > 0; freed with its
 * cache), so that a caller formats each distinct PC once, not once per goroutine; returns the copy, or NULL
 * when out of memory. */
const char *pc_cache_keep_text(const struct pc_symbol *sym, const char *text);
/* The same for a rendering already quoted and escaped for JSON: written as it is, once per goroutine. */
const char *pc_cache_keep_json(const struct pc_symbol *sym, const char *json);
void pc_cache_free(struct pc_cache *c);

#ifdef __cplusplus
}
#endif

#endif
