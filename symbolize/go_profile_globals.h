/* Where the runtime keeps its heap profile (runtime/mprof.go): the list of memory-profile buckets
 * (runtime.mbuckets), the sampling rate (runtime.MemProfileRate) and the flag by which the linker turns
 * memory profiling off in programs that never read the profile (runtime.disableMemoryProfiling). From the ELF
 * symbol table when there is one; otherwise from the code that uses them: the loads of
 * runtime.mProf_FlushLocked (mprof.go: it walks mbuckets from its head), and the flag-guarded store that
 * clears MemProfileRate (x86_flag_store.h). */
#ifndef GMON_GO_PROFILE_GLOBALS_H
#define GMON_GO_PROFILE_GLOBALS_H
#include <stdbool.h>
#include <stdint.h>

#include "go_binary.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { MBUCKETS_CANDIDATES = 4 };

struct go_profile_globals {
    /* Link-time addresses that may hold the *bucket head: the symbol, or the first data references of
     * runtime.mProf_FlushLocked in code order (Go 1.17 and 1.18 load mProf.cycle first): the reader keeps the
     * one whose pointer leads to a memory-profile bucket. */
    uint64_t mbuckets[MBUCKETS_CANDIDATES];
    int nmbuckets;
    uint64_t mem_profile_rate; /* runtime.MemProfileRate (an int) */
    uint64_t disable_flag;     /* runtime.disableMemoryProfiling (a bool) */
    int flag_in_file; /* the flag's byte as linked: 1 when the linker turned profiling off; -1 unknown */
    /* runtime.MemProfile (up to Go 1.22) or runtime.memProfileInternal (1.23+) is in the binary: the function
     * whose absence makes the linker set the flag (cmd/link/internal/ld/lib.go). */
    bool marker_present;
    const char *mbuckets_from, *rate_from; /* "symbol table" or the function whose code shows it */
};

void go_profile_globals_find(const struct go_binary *b, struct go_profile_globals *out);

#ifdef __cplusplus
}
#endif

#endif
