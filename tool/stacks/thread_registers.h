/* The instruction and stack pointers of one thread of a stopped process (gmon stacks --freeze), read with
 * ptrace: PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_GETREGS, PTRACE_DETACH. The process stays stopped (SIGSTOP,
 * tool/target/freeze.c) throughout, and a detached thread goes back to that stop. */
#ifndef GMON_THREAD_REGISTERS_H
#define GMON_THREAD_REGISTERS_H
#include <stdbool.h>
#include <stdint.h>

struct thread_regs {
    uint64_t pc, sp;
    uint64_t arg3; /* rdx: at a signal handler's entry, its ucontext_t (the interrupted registers) */
};

/* False (with why) when the thread cannot be attached or its registers read. */
bool thread_registers(int tid, struct thread_regs *out, const char **why);
/* Where the registers of a signal's interrupted context lie in the ucontext_t a handler gets (x86-64 glibc
 * and kernel layout: uc_mcontext.gregs[REG_RSP], gregs[REG_RIP]). */
enum { UCONTEXT_RSP = 40 + 15 * 8, UCONTEXT_RIP = 40 + 16 * 8 };

#endif
