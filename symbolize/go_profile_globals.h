/* Where the runtime keeps its profiles (runtime/mprof.go): the list of memory-profile buckets
 * (runtime.mbuckets), the sampling rate (runtime.MemProfileRate) and the flag by which the linker turns
 * memory profiling off in programs that never read the profile (runtime.disableMemoryProfiling); the
 * blocking and mutex lists (bbuckets, xbuckets) and their rates; the CPU ticks per second by which Go turns
 * their cycles into nanoseconds (runtime.ticks). From the ELF symbol table when there is one; otherwise from
 * the code that uses them: the loads of runtime.mProf_FlushLocked (it walks mbuckets from its head), the
 * flag-guarded store that clears MemProfileRate (x86_flag_store.h), the list heads runtime.stkbucket picks
 * after mbuckets (xbuckets, then bbuckets), the first load of runtime.blockevent (blockprofilerate), of
 * sync.event or runtime.mutexevent (mutexprofilerate) and of runtime.tickspersecond or ticksPerSecond
 * (ticks.val), or else of runtime.(*ticksType).init (the struct itself). */
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

    /* The blocking and mutex profiles' list heads for each mbuckets candidate (0: not found). */
    uint64_t bbuckets[MBUCKETS_CANDIDATES], xbuckets[MBUCKETS_CANDIDATES];
    uint64_t block_rate; /* runtime.blockprofilerate: uint64 CPU ticks */
    uint64_t mutex_rate; /* runtime.mutexprofilerate: uint64, one event in N */
    /* runtime.ticks.val (int64): CPU ticks per second once the program computed them (0 until then);
     * ticks_start: runtime.ticks.startTicks, startTime after it (Go 1.21+; 0 before) */
    uint64_t ticks_val, ticks_start;
    const char *contention_from, *ticks_from;
};

/* minor: the binary's Go release (1.minor), whose runtime.ticks layout applies. */
void go_profile_globals_find(const struct go_binary *b, int minor, struct go_profile_globals *out);

#ifdef __cplusplus
}
#endif

#endif
