/* The heap profile as Go's runtime/pprof writes it (pprof.Lookup("heap").WriteTo(w, 0): protomem.go
 * writeHeapProto), from the memory-profile buckets gmon read (mem_buckets.h): one sample per bucket, in the
 * list's order; values alloc_objects, alloc_space, inuse_objects, inuse_space scaled for the sampling rate as
 * Go scales them; a numeric label "bytes" with the object size; the runtime's frames above the first frame of
 * another package hidden; each physical frame one location whose lines are its inlined frames. */
#ifndef GMON_HEAP_PROFILE_H
#define GMON_HEAP_PROFILE_H
#include <stdbool.h>
#include <stdint.h>

#include "mem_buckets.h"
#include "pclntab.h"
#include "profile_builder.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts a heap profile: period `space bytes` = rate; default sample type "" (inuse_space) or, for the
 * allocs profile, "alloc_space". */
bool heap_profile_init(struct profile_builder *p, int64_t rate, const char *default_sample_type);
/* runtime/pprof/protomem.go scaleHeapSample: count and size divided by the probability that an allocation
 * of the average size was sampled. */
void heap_profile_scale(int64_t count, int64_t size, int64_t rate, int64_t *scaled_count,
                        int64_t *scaled_size);
/* Adds every bucket. The buckets' PCs are runtime addresses; pcln is looked up at pc - load_bias. minor: the
 * target's Go release, whose runtime/pprof rules apply. */
bool heap_profile_add(struct profile_builder *p, uint64_t mapping, const struct pclntab *pcln,
                      uint64_t load_bias, int minor, const struct mem_buckets *m, int64_t rate);

#ifdef __cplusplus
}
#endif

#endif
