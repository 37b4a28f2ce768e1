#include "cpu_ticks.h"

#include "clocks.h"

#include <time.h>
#include <x86intrin.h>

/* runtime.nanotime reads CLOCK_MONOTONIC (sys_linux_amd64.s): monotonic_ns is the program's own clock. */
static int64_t nanotime(void) {
    return monotonic_ns();
}

/* runtime.cputicks on amd64: the TSC, the same counter in every process of the machine. */
static int64_t cputicks(void) {
    return (int64_t)__rdtsc();
}

/* ticksPerSecond (runtime.go, 1.21+): float64(nowTicks-startTicks) * 1e9 / float64(nowTime-startTime). */
static int64_t from_start(int64_t start_ticks, int64_t start_time) {
    int64_t now_time = nanotime(), now_ticks = cputicks();
    if (now_ticks <= start_ticks || now_time <= start_time)
        return 0;
    int64_t r = (int64_t)((double)(now_ticks - start_ticks) * 1e9 / (double)(now_time - start_time));
    return r ? r : 1;
}

/* tickspersecond (runtime.go, up to 1.20): 100 ms of both clocks. */
static int64_t measured(void) {
    int64_t t0 = nanotime(), c0 = cputicks();
    struct timespec nap = {0, 100 * 1000 * 1000};
    nanosleep(&nap, NULL);
    int64_t t1 = nanotime(), c1 = cputicks();
    if (t1 == t0)
        t1++;
    int64_t r = (c1 - c0) * 1000 * 1000 * 1000 / (t1 - t0);
    return r ? r : 1;
}

void cpu_ticks_per_second(mem_read_fn read, void *ctx, uint64_t val_addr, uint64_t start_addr,
                          struct cpu_ticks *out) {
    int64_t val = 0, start[2] = {0, 0};
    if (val_addr && read(ctx, val_addr, &val, sizeof(val)) && val > 0) {
        *out = (struct cpu_ticks){val, true, "the program's own figure (runtime.ticks)"};
        return;
    }
    if (start_addr && read(ctx, start_addr, start, sizeof(start)) && start[0] > 0 && start[1] > 0) {
        int64_t r = from_start(start[0], start[1]);
        if (r > 0) {
            *out = (struct cpu_ticks){r, false,
                                      "computed as the program would compute it now, from its start-up "
                                      "readings (it has not computed it yet)"};
            return;
        }
    }
    *out = (struct cpu_ticks){measured(), false,
                              val_addr ? "measured by gmon over 100 ms (the program has not computed it yet)"
                                       : "measured by gmon over 100 ms (runtime.ticks not found)"};
}
