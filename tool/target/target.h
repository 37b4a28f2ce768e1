/* The Go program a command works on, from --path and/or --pid: the binary (opened through /proc/PID/exe for a
 * process, so containers work), the process, and its load bias. */
#ifndef GMON_TARGET_H
#define GMON_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

#include "go_binary.h"
#include "proc_target.h"

struct json_writer; /* output/: only target.c writes into them */
struct log_writer;

/* A file by device and inode: what a process runs, which an exec into another program changes. */
struct file_identity {
    dev_t dev;
    ino_t ino;
};

struct target {
    const char *path; /* --path as given, or NULL */
    int pid;          /* --pid, or 0 */
    struct proc_target proc;
    struct go_binary bin;
    uint64_t load_bias;          /* runtime address - link-time address (PIE), with --pid */
    struct file_identity binary; /* the file opened */
    bool binary_known;
};

/* Opens the target. go_version is "auto" (or NULL) to detect, or a release such as "1.21" to override.
 * Errors start with the file or process they are about. */
int target_open(struct target *t, const char *path, int pid, const char *go_version, struct gmon_error *err);
void target_close(struct target *t);
/* False once process pid runs another file than the target's binary (an exec): true while it runs it, and
 * when that cannot be told (the process is gone: process_alive says so). */
bool target_runs_its_binary(const struct target *t, int pid);
/* True only when process pid is known to run the target's binary (for finding the processes of --path). */
bool target_process_runs_binary(const struct target *t, int pid);
/* Calls on_process for every process in /proc known to run the target's binary now (the processes of a
 * --path target). */
void target_for_each_process(const struct target *t, void (*on_process)(void *ctx, int pid), void *ctx);
/* How gmon names the process to people: "PID 4242", and when it runs in a container or another PID namespace
 * also its own view, "PID 4242 (PID 1 in container 96ee84ab2e05)", the ID cut to 12 characters as `docker ps`
 * shows it. "" without --pid. */
const char *target_process_text(const struct target *t, char *buf, size_t size);
/* The process as log fields: pid, and nspid and container_id when it runs in a container (none without
 * --pid). */
void target_log_process(struct log_writer *w, const struct target *t);
/* The same as JSON members: "pid", "nspid" and "container_id" (null outside containers; pid null without
 * --pid). */
void target_json_process(struct json_writer *w, const struct target *t);
/* Opens bin, an unstripped build of the target's program (--bin), for its symbols and DWARF: it must be built
 * by the same Go release and have main.main and runtime.main at the target's addresses. */
int target_open_symbols(const struct target *t, const char *bin, struct go_binary *out,
                        struct gmon_error *err);

#endif
