/* Entry points of gmon's commands: each parses its own options and returns the process exit status. */
#ifndef GMON_COMMANDS_H
#define GMON_COMMANDS_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

int cmd_info(int argc, char *argv[]);
int cmd_cache(int argc, char *argv[]);
int cmd_lifecycle(int argc, char *argv[]);
int cmd_gc(int argc, char *argv[]);
int cmd_gr(int argc, char *argv[]);
int cmd_lifetime(int argc, char *argv[]);
int cmd_sched(int argc, char *argv[]);
/* gmon sched of one process without probes: the runtime's own latency histogram (cmd_sched_runtime.c). */
struct log_writer;
struct sched_read_options {
    int pid;                         /* one process, or 0 with path */
    const char *path;                /* every process running it, or NULL */
    uint64_t interval_s, duration_s; /* 0: only at the end; until Ctrl-C */
    bool table;                      /* else records through log */
};
int sched_from_runtime(const struct sched_read_options *o, struct log_writer *log);
int cmd_gm(int argc, char *argv[]);
int cmd_var(int argc, char *argv[]);
int cmd_summary(int argc, char *argv[]);
int cmd_top(int argc, char *argv[]);
int cmd_heap(int argc, char *argv[]);
int cmd_exporter(int argc, char *argv[]);
int cmd_stacks(int argc, char *argv[]);
int cmd_pprof(int argc, char *argv[]);
/* gmon pprof creation|live: argv[0] is the kind. */
struct profile_builder;
/* Where a pprof profile goes: -o FILE, - (stdout), or without -o stdout when it is not a terminal, else
 * KIND-PID-TIME.pb.gz in the current directory (named on stderr once written). */
struct pprof_output {
    FILE *file;
    char path[4096]; /* "" for stdout */
    bool named;      /* gmon chose the name */
    bool created;    /* the file did not exist before: removed when no profile is written */
    bool regular;    /* a regular file: truncated when the profile is written, not before */
};
/* Opens it, before a run that takes time, so that an output that cannot be written is said before the run,
 * not after it. A GMON_EXIT_* status, errors printed. */
int pprof_output_open(struct pprof_output *out, const char *output, const char *cmd, const char *kind,
                      int pid);
/* Writes the profile there and closes it. A GMON_EXIT_* status, errors printed. */
int pprof_output_write(struct pprof_output *out, struct profile_builder *p, const char *cmd);
/* Closes it without a profile (the run failed): a file gmon created is removed. */
void pprof_output_discard(struct pprof_output *out);
/* Opens and writes at once. */
int pprof_write(struct profile_builder *p, const char *output, const char *cmd, const char *kind, int pid);
int cmd_pprof_creation(int argc, char *argv[], const char *kind);
/* gmon pprof cpu (cmd_pprof_cpu.c). */
int cmd_pprof_cpu(int argc, char *argv[]);
/* gmon pprof block|mutex, options parsed (snapshot_options.h); and its --help. */
struct snapshot_options;
int pprof_contention(const struct snapshot_options *o, const char *kind);
void pprof_contention_usage(const char *kind);

#endif
