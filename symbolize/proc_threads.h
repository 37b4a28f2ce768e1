/* What /proc says about a process as a whole: how long it has run and the scheduler state of each of its
 * threads (R running, S sleeping, D disk sleep, T stopped, ...), for snapshot headers. */
#ifndef GMON_PROC_THREADS_H
#define GMON_PROC_THREADS_H
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct proc_threads {
    int total;
    int by_state[26]; /* indexed by state letter - 'A' */
    double uptime_s;  /* since the process started; -1 when unknown */
};

/* Fills t from /proc/PID/task/<tid>/stat and /proc/uptime. False when the process is gone. */
bool proc_threads_read(int pid, struct proc_threads *t);
/* "running", "sleeping", "disk sleep", "stopped", "tracing stop", "zombie", "dead", "idle", or "other". */
const char *proc_thread_state_name(char state);

#ifdef __cplusplus
}
#endif

#endif
