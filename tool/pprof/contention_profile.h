/* The blocking and mutex profiles as Go's runtime/pprof writes them (pprof.Lookup("block"|"mutex").WriteTo
 * (w, 0): pprof.go writeProfileInternal, printCountCycleProfile), from the buckets gmon read
 * (block_buckets.h): one sample per bucket, most cycles first; values contentions (the record's count, at
 * least 1) and delay in nanoseconds (cycles over CPU ticks per nanosecond); period type contentions, period
 * 1. Up to Go 1.19 runtime/pprof scales the mutex profile by the current fraction when it writes it; from
 * 1.20 the runtime has scaled each event already. From Go 1.23 the stacks are frame-pointer return addresses
 * whose inlined frames are expanded first. */
#ifndef GMON_CONTENTION_PROFILE_H
#define GMON_CONTENTION_PROFILE_H
#include <stdbool.h>
#include <stdint.h>

#include "block_buckets.h"
#include "pclntab.h"
#include "profile_builder.h"

#ifdef __cplusplus
extern "C" {
#endif

bool contention_profile_init(struct profile_builder *p);

struct contention_rules {
    int minor;                /* the target's Go release */
    int64_t ticks_per_second; /* runtime_cyclesPerSecond */
    int64_t scale;            /* the mutex fraction, multiplied in up to 1.19; 1 otherwise */
};

/* The rules runtime/pprof of release 1.minor applies; mutex_rate is the target's current fraction. */
struct contention_rules contention_rules_for(int minor, bool mutex, int64_t mutex_rate,
                                             int64_t ticks_per_second);

/* The values Go writes for one record: contentions and delay (nanoseconds). */
void contention_values(const struct block_bucket *b, const struct contention_rules *r, int64_t values[2]);

/* Adds every bucket (PCs are runtime addresses; pcln is looked up at pc - load_bias). */
bool contention_profile_add(struct profile_builder *p, uint64_t mapping, const struct pclntab *pcln,
                            uint64_t load_bias, const struct block_buckets *m,
                            const struct contention_rules *r);

#ifdef __cplusplus
}
#endif

#endif
