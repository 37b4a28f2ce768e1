#include "thread_registers.h"

#include <errno.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

bool thread_registers(int tid, struct thread_regs *out, const char **why) {
    if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0) {
        *why = errno == EPERM ? "ptrace is not permitted" : "the thread cannot be attached";
        return false;
    }
    bool ok = false;
    int status;
    /* A thread already in group-stop reports that stop to its new tracer; the interrupt covers the others. */
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) == 0 && waitpid(tid, &status, __WALL) == tid &&
        WIFSTOPPED(status)) {
        struct user_regs_struct regs;
        ok = ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0;
        if (ok)
            *out = (struct thread_regs){regs.rip, regs.rsp, regs.rdx};
    }
    if (!ok)
        *why = "the thread's registers cannot be read";
    ptrace(PTRACE_DETACH, tid, 0, 0);
    return ok;
}
