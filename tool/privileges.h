/* Capabilities gmon gives up once it no longer needs them. gmon starts as root with every capability: it
 * needs them to load BPF programs and attach uprobes. Once attached, a tracing command keeps CAP_SYS_PTRACE
 * alone (to read /proc/PID/maps, exe and mem of the targets, which may run as root or be new processes of a
 * --path trace) and sets no_new_privs, so no exec could win them back. The metrics server's thread never has
 * any. */
#ifndef GMON_PRIVILEGES_H
#define GMON_PRIVILEGES_H
#include "gmon_error.h"

/* After attaching: every capability but CAP_SYS_PTRACE is dropped from the calling thread (the effective,
 * permitted and inheritable sets), then no_new_privs is set. Call it from a process whose other threads hold
 * none already (see privileges_drop_all_in_thread). */
int privileges_keep_only_ptrace(struct gmon_error *err);
/* Drops every capability of the calling thread and sets its no_new_privs; threads it then creates inherit
 * both. */
int privileges_drop_all_in_thread(struct gmon_error *err);

#endif
