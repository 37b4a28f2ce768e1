/* What the process collector of client_golang reports about a process (prometheus/procfs 0.8 as
 * process_collector_other.go reads it), read from outside through /proc: CPU seconds, resident and virtual
 * memory, start time, open file descriptors and the soft limits on them and on the address space. */
#ifndef GMON_PROCESS_STATS_H
#define GMON_PROCESS_STATS_H
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct process_stats {
    bool have_stat;            /* /proc/PID/stat (and /proc/stat's btime) read: the next four are set */
    double cpu_seconds;        /* (utime + stime) / 100: procfs's userHZ, whatever the kernel's */
    double resident_bytes;     /* rss pages x page size */
    double virtual_bytes;      /* vsize */
    double start_time_seconds; /* btime + starttime / 100 */
    bool have_fds;
    double open_fds; /* entries of /proc/PID/fd */
    bool have_limits;
    double max_fds;           /* soft "Max open files"; unlimited: 2^64 - 1 */
    double virtual_max_bytes; /* soft "Max address space"; unlimited: 2^64 - 1 */
};

/* Reads what it can of pid (proc is "/proc", or another procfs mount); false when the process is gone. */
bool process_stats_read(const char *proc, int pid, struct process_stats *out);
/* When process pid started (seconds since the epoch), -1 when unknown: a PID another process has since taken
 * tells itself by this. */
double process_start_time(int pid);

#ifdef __cplusplus
}
#endif

#endif
