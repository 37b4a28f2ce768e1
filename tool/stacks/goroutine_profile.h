/* A goroutine profile as Go's own /debug/pprof/goroutine (debug=0) writes it (runtime.GoroutineProfile
 * through runtime/pprof's profile builder): one sample per distinct stack and label set, its value the number
 * of goroutines; every logical frame, the runtime's included, up to runtime.goexit; wrappers left out as the
 * runtime leaves them out; at most 32 frames (128 from Go 1.23, debug.profstackdepth); inlined frames as the
 * lines of one location. */
#ifndef GMON_GOROUTINE_PROFILE_H
#define GMON_GOROUTINE_PROFILE_H
#include <stdbool.h>
#include <stdint.h>

#include "goroutine_labels.h"
#include "goroutine_trace.h"
#include "profile_builder.h"

/* Adds one goroutine (a TRACE_FRAMES trace). */
bool goroutine_profile_add(struct profile_builder *p, uint64_t mapping, const struct goroutine_trace *tr,
                           const struct traceback_rules *r, const struct goroutine_labels *labels);

#endif
