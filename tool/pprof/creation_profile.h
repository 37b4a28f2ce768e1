/* Goroutine creation and leak profiles (golang/go#16894, "profile goroutine creation"): one sample per full
 * creation stack — the `go` statement's frame and every caller, as the lifecycle probes walked them — with
 * what happened to the goroutines created there while gmon traced. The creation profile's values are
 * created/count, exited/count, live/count and lifetime/nanoseconds (summed over the exited ones); the live
 * (leak) profile's live/count and age/nanoseconds (summed over the live ones), so that `go tool pprof -top`
 * ranks the sites that leave goroutines behind. */
#ifndef GMON_CREATION_PROFILE_H
#define GMON_CREATION_PROFILE_H
#include <stdbool.h>
#include <stdint.h>

#include "pclntab.h"
#include "profile_builder.h"

#ifdef __cplusplus
extern "C" {
#endif

enum creation_profile_kind { CREATION_PROFILE, LIVE_PROFILE };

bool creation_profile_init(struct profile_builder *p, enum creation_profile_kind kind);
/* One creation stack: physical return addresses of process pid (runtime addresses, pcln looked up at
 * pc - load_bias), the go statement's first; values as the kind's sample types. A "pid" label when pid > 0
 * (a --path trace of several processes). */
bool creation_profile_add(struct profile_builder *p, uint64_t mapping, const struct pclntab *pcln,
                          uint64_t load_bias, const uint64_t *pcs, size_t n, const int64_t *values, int pid);

#ifdef __cplusplus
}
#endif

#endif
