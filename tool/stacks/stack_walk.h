/* One goroutine's stack read from the process's memory and unwound the way Go's own traceback unwinds it
 * (runtime/traceback.go: gentraceback up to Go 1.20, type unwinder from 1.21): start at g.sched (or at
 * g.syscallpc/syscallsp inside a system call), take each frame's size from its function's pcsp table, read
 * the return address just below the caller's SP, and go on until a TOPFRAME function (runtime.goexit), a
 * function that writes SP (runtime.mcall and the like), or a zero return address. Bounded: every frame must
 * move up inside [stack.lo, stack.hi), at most max frames, and garbage stops the walk with a reason. */
#ifndef GMON_STACK_WALK_H
#define GMON_STACK_WALK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_cache.h"
#include "pclntab.h"

/* Where a walk starts and what it may read. */
struct stack_bounds {
    uint64_t lo, hi;     /* the goroutine's stack */
    uint64_t pc, sp;     /* the innermost frame */
    bool in_syscall;     /* pc/sp are g.syscallpc/sp: that frame's SP writes come after them */
    bool from_registers; /* pc/sp are a stopped thread's: pc is where it is, not a return address */
};

/* The bytes of one stack, read a window at a time (one system call for most goroutines). */
struct stack_memory {
    int pid;
    uint64_t lo, hi;
    uint64_t base; /* [base, base + len) is in buf */
    size_t len, cap;
    uint8_t *buf;
    uint64_t *bytes_read;                                        /* a counter to add to, or NULL */
    bool (*read)(int pid, uint64_t addr, void *buf, size_t len); /* proc_read; fuzzing feeds its own */
};

/* A physical frame: its PC (a return address, except the innermost one and a frame after a trap), its SP,
 * and its FP (the caller's SP, where its arguments start on amd64). */
struct stack_frame_raw {
    uint64_t pc, sp, fp;
    bool trap; /* the frame below it is sigpanic or asyncPreempt: pc is where the fault or the preemption hit
                */
    struct go_func fn;
};

enum stack_end {
    STACK_END_TOP,         /* reached runtime.goexit (or another TOPFRAME function): the whole stack */
    STACK_END_SPWRITE,     /* reached a function that moves SP its own way (Go's unwinder stops there too) */
    STACK_END_ZERO_RETURN, /* a zero return address (Go's unwinder stops there too) */
    STACK_END_DEPTH,       /* max frames walked: more above */
    STACK_END_UNKNOWN_PC,  /* a PC outside every Go function */
    STACK_END_UNREADABLE,  /* stack memory that could not be read */
    STACK_END_BAD_FRAME,   /* a frame outside the stack, or one that does not move up */
};

struct stack_walk_result {
    size_t n;
    enum stack_end end;
    uint64_t bad_pc; /* the PC or address the walk stopped at, for the message */
};

/* Release details the unwinder needs: which functions are traps (their caller's PC is not a return address).
 */
struct stack_walk_rules {
    bool async_preempt_is_trap; /* Go 1.21+: asyncPreempt and debugCallV2 too, not only sigpanic */
};

void stack_memory_init(struct stack_memory *m, int pid, uint64_t *bytes_read);
void stack_memory_free(struct stack_memory *m);
/* Points m at the stack [lo, hi), dropping what it held. */
void stack_memory_reset(struct stack_memory *m, uint64_t lo, uint64_t hi);
/* Reads len bytes (<= 8) at addr inside the stack; false when outside it or unreadable. */
bool stack_memory_read(struct stack_memory *m, uint64_t addr, void *out, size_t len);

/* Walks from b into out[0..max). bias: runtime minus link-time addresses (PIE). cache: NULL, or where the
 * functions and frame sizes of PCs are kept (of the same table t). */
struct stack_walk_result stack_walk(const struct pclntab *t, struct frame_cache *cache, uint64_t bias,
                                    const struct stack_walk_rules *rules, struct stack_memory *m,
                                    const struct stack_bounds *b, struct stack_frame_raw *out, size_t max);

const char *stack_end_text(enum stack_end end);

#endif
