/* Sampling perf events, the CPU profiler's clock: one per CPU, counting CPU time (PERF_COUNT_SW_CPU_CLOCK)
 * and firing a BPF program a given number of times per second of it. Opened with perf_event_open(2) itself,
 * so that a refusal names its cause (kernel.perf_event_paranoid, CAP_PERFMON) instead of a failed libbcc
 * call. */
#ifndef GMON_PERF_EVENTS_H
#define GMON_PERF_EVENTS_H
#include <stdbool.h>
#include <stddef.h>

#include "gmon_error.h"

/* The CPUs online now (/sys/devices/system/cpu/online), at most max of them, ascending. Returns how many;
 * 0 when the list cannot be read. */
size_t perf_online_cpus(int *cpus, size_t max);

/* Whether this process may open a sampling event for every process on a CPU; the reason when not. */
int perf_events_permitted(struct gmon_error *err);

/* A CPU-clock event on cpu for every process, sampling hz times per second of CPU time, with BPF program
 * prog_fd run at each sample and the event enabled. Returns its fd (close it to detach), or -1. */
int perf_event_open_sampler(int cpu, int hz, int prog_fd, struct gmon_error *err);

#endif
