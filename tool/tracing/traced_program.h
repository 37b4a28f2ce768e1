/* The Go program a live-tracing command attaches to: the target (--path/--pid), its runtime layout for the
 * Go release, and the probe plan (file offsets of the runtime functions). Shared by every tracing command so
 * that they refuse the same things with the same words. */
#ifndef GMON_TRACED_PROGRAM_H
#define GMON_TRACED_PROGRAM_H

#include "layout_select.h"
#include "probe_plan.h"
#include "target.h"

struct traced_program {
    struct target target;
    struct layout_choice layout;
    struct probe_plan plan;
};

/* Opens the target and checks it can be traced: a known layout, the register ABI, the probe points. */
int traced_program_open(struct traced_program *p, const char *path, int pid, const char *go_version,
                        struct gmon_error *err);
void traced_program_close(struct traced_program *p);
/* What a tracing command does first: traced_program_open from its options, then the BPF pre-flight checks.
 * On failure prints the one error line of command cmd and returns -1. */
int traced_program_start(struct traced_program *p, const char *cmd, const char *path, int pid,
                         const char *go_version);
/* The line that tells a person on stderr that tracing has begun: binary, Go version, uprobes, start-up time
 * since started_ns (CLOCK_MONOTONIC). */
/* That line's text without the advice on stopping: "gmon: probes attached to BIN, PID 42: go1.22.1, 2
 * uprobes, in 600 ms (BPF program from the cache)", with the container's view of the PID when it runs in one.
 */
const char *traced_program_banner(const struct traced_program *p, size_t nprobes, double ms, char *buf,
                                  size_t size);
void traced_program_report_attached(const struct traced_program *p, size_t nprobes, int64_t started_ns);
/* The binary as the user knows it: /proc/PID/exe's target with --pid, --path otherwise. */
const char *traced_program_name(const struct traced_program *p);
/* Where uprobes attach (/proc/PID/exe's open path for a process) and which pid they filter (-1: all). */
const char *traced_program_attach_path(const struct traced_program *p);
int traced_program_attach_pid(const struct traced_program *p);

#endif
