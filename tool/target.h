/* The Go program a command works on, from --path and/or --pid: the binary (opened through /proc/PID/exe for a
 * process, so containers work), the process, and its load bias. */
#ifndef GMON_TARGET_H
#define GMON_TARGET_H

#include "../symbolize/go_binary.h"
#include "../symbolize/proc_target.h"

struct target {
    const char *path; /* --path as given, or NULL */
    int pid;          /* --pid, or 0 */
    struct proc_target proc;
    struct go_binary bin;
    uint64_t load_bias; /* runtime address - link-time address (PIE), with --pid */
};

/* Opens the target. go_version is "auto" (or NULL) to detect, or a release such as "1.21" to override.
 * Errors start with the file or process they are about. */
int target_open(struct target *t, const char *path, int pid, const char *go_version, struct gmon_error *err);
void target_close(struct target *t);
/* Opens bin, an unstripped build of the target's program (--bin), for its symbols and DWARF: it must be built
 * by the same Go release and have main.main and runtime.main at the target's addresses. */
int target_open_symbols(const struct target *t, const char *bin, struct go_binary *out,
                        struct gmon_error *err);

#endif
