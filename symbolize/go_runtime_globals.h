/* Where the runtime's scheduler globals live in a binary: runtime.allgs (the []*g of every goroutine) and
 * runtime.allp (the []*p). From the ELF symbol table when the binary has one; otherwise from the code of the
 * runtime functions that use them (go-runtime.md §7.2): in runtime.allgadd, the lowest data address A
 * referenced together with A+8 and A+16 (a slice header); in runtime.procresize, the lowest such triple
 * (callers validate it: len(allp) == GOMAXPROCS, allp[i].id == i). */
#ifndef GMON_GO_RUNTIME_GLOBALS_H
#define GMON_GO_RUNTIME_GLOBALS_H
#include <stdbool.h>
#include <stdint.h>

#include "go_binary.h"

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

#ifdef __cplusplus
}
#endif

#endif
