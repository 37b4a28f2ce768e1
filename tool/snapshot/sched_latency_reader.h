/* The runtime's own scheduling-latency histogram (sched.timeToRun, what runtime/metrics serves as
 * /sched/latencies:seconds) of one process, or summed over every process that runs a binary (looked for in
 * /proc at each read), counted from when the reader opened: a process running then counts from there, one
 * that starts later from its start, and one that exits keeps what gmon last read of it. What gmon sched
 * shows without probes. */
#ifndef GMON_SCHED_LATENCY_READER_H
#define GMON_SCHED_LATENCY_READER_H
#include <stdbool.h>
#include <stdint.h>

#include "goroutine_snapshot.h"
#include "process_follower.h"
#include "runtime_metrics.h"
#include "target.h"

enum { SCHED_LATENCY_MAX_PROCESSES = FOLLOW_MAX_PROCESSES };

struct sched_latency_source {
    int pid;
    struct goroutine_snapshot *snap;
    struct go_time_histogram base, last; /* at the first read (zero for a process started later); the last */
};

struct sched_latency_reader {
    const char *cmd;  /* how stderr lines begin ("gmon sched") */
    const char *path; /* every process running it, or NULL: one process */
    struct target binary;
    bool binary_open;
    int64_t opened_wall_ns;
    struct sched_latency_source sources[SCHED_LATENCY_MAX_PROCESSES];
    int n;
    struct process_follower follower; /* --path: sources[i] is the follower's slot i */
    struct go_time_histogram exited;  /* what the processes that exited added */
    struct runtime_metrics scratch;
    uint64_t reads, bytes;
};

/* One process (pid), or every process running path. Refused (err) when the process cannot be read or has no
 * histogram gmon can read, or the binary cannot be opened. */
int sched_latency_reader_open(struct sched_latency_reader *r, const char *cmd, int pid, const char *path,
                              struct gmon_error *err);
/* The histogram gained since the reader opened, summed over the processes (bounds of the release; n 0 while
 * no process was read). False (why says why) when the one process could not be read this time. */
bool sched_latency_reader_read(struct sched_latency_reader *r, struct go_time_histogram *out, char *why,
                               size_t size);
void sched_latency_reader_close(struct sched_latency_reader *r);

#endif
