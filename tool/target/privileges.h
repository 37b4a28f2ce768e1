/* Capabilities gmon gives up once it no longer needs them. gmon starts as root with every capability: it
 * needs them to load BPF programs and attach uprobes. Once attached, a tracing command keeps CAP_SYS_PTRACE
 * alone (to read /proc/PID/maps, exe and mem of the targets, which may run as root or be new processes of a
 * --path trace; the metrics thread reads them too), plus CAP_BPF on kernels before 5.19 whose
 * unprivileged_bpf_disabled makes reading BPF maps take it, and sets no_new_privs, so no exec could win them
 * back. The metrics server's thread holds the same from its start. */
#ifndef GMON_PRIVILEGES_H
#define GMON_PRIVILEGES_H
#include "gmon_error.h"

/* Drops from the calling thread (effective, permitted and inheritable sets) every capability but those
 * above, among those it has, then sets its no_new_privs. Threads it creates afterwards inherit both. */
int privileges_keep_only_what_tracing_needs(struct gmon_error *err);

#endif
