/* --freeze: stops a process (SIGSTOP) for a consistent snapshot and resumes it (SIGCONT) whatever happens to
 * gmon: on return, on exit, and on SIGINT, SIGTERM, SIGHUP, SIGQUIT and crashes (SIGSEGV, SIGBUS, SIGABRT,
 * SIGFPE) while it reads. Only SIGKILL of gmon cannot be caught: the process then stays stopped until someone
 * sends it SIGCONT (say `kill -CONT PID`). A process that was already stopped is left stopped. */
#ifndef GMON_FREEZE_H
#define GMON_FREEZE_H
#include "gmon_error.h"

/* Stops pid and waits (up to 2 s) until every thread is stopped. */
int freeze_process(int pid, struct gmon_error *err);
/* Resumes the frozen process, if any. Idempotent; async-signal-safe. */
void thaw_process(void);

#endif
