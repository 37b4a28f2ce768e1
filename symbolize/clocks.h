/* The clocks in nanoseconds, for every part of gmon: CLOCK_MONOTONIC (what bpf_ktime_get_ns and Go's
 * runtime.nanotime read, so BPF timestamps and the host's compare) and CLOCK_REALTIME. */
#ifndef GMON_CLOCKS_H
#define GMON_CLOCKS_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int64_t monotonic_ns(void);
int64_t wall_ns(void);

#ifdef __cplusplus
}
#endif

#endif
