/* The CPU ticks per second by which Go turns a blocking or mutex profile's cycles into nanoseconds
 * (runtime/pprof printCountCycleProfile: cycles / (ticks per second / 1e9)). The program's own figure when it
 * has computed it (runtime.ticks.val: once it set a block profile rate other than 1, or wrote a blocking or
 * mutex profile); otherwise what it would compute now from its start-up readings (Go 1.21+ ticksPerSecond),
 * or a measurement of the TSC over 100 ms as Go up to 1.20 measures it: close to what the program would
 * compute, not equal, and said to be so. */
#ifndef GMON_CPU_TICKS_H
#define GMON_CPU_TICKS_H
#include <stdbool.h>
#include <stdint.h>

#include "bucket_list.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cpu_ticks {
    int64_t per_second;
    bool programs_own; /* read from runtime.ticks.val */
    const char *how;   /* how per_second was found, for the user */
};

/* val_addr: runtime.ticks.val (runtime address, 0 unknown); start_addr: ticks.startTicks, startTime after
 * it (Go 1.21+, 0 otherwise). */
void cpu_ticks_per_second(mem_read_fn read, void *ctx, uint64_t val_addr, uint64_t start_addr,
                          struct cpu_ticks *out);

#ifdef __cplusplus
}
#endif

#endif
