#include "runtime_layout.h"

#include <string.h>

// clang-format off
/* Arguments common to every register-ABI release (1.17+), §0.2. */
#define COMMON_ARGS \
    {"runtime.newproc1", "fn", X86_RAX, 8},          {"runtime.newproc1", "ret", X86_RAX, 8}, \
    {"runtime.goexit0", "gp", X86_RAX, 8},           {"runtime.casgstatus", "gp", X86_RAX, 8}, \
    {"runtime.casgstatus", "oldval", X86_RBX, 4},    {"runtime.casgstatus", "newval", X86_RCX, 4}, \
    {"runtime.mallocgc", "size", X86_RAX, 8},        {"runtime.mallocgc", "typ", X86_RBX, 8}, \
    {"runtime.mallocgc", "needzero", X86_RCX, 1},    {"runtime.mallocgc", "ret", X86_RAX, 8}, \
    {"runtime.newobject", "typ", X86_RAX, 8},        {"runtime.newobject", "ret", X86_RAX, 8}, \
    {"runtime.gcStart", "trigger.kind", X86_RAX, 8}, {"runtime.gcStart", "trigger.now", X86_RBX, 8}, \
    {"runtime.gcStart", "trigger.n", X86_RCX, 4},    {"runtime.gopark", "unlockf", X86_RAX, 8}, \
    {"runtime.gopark", "lock", X86_RBX, 8},          {"runtime.gopark", "reason", X86_RCX, 1}, \
    {"runtime.gopark", "traceskip", X86_RSI, 8},     {"runtime.sweepone", "ret", X86_RAX, 8}, \
    {"runtime.startTheWorldWithSema", "ret", X86_RAX, 8}, {"runtime.ready", "gp", X86_RAX, 8}

/* newproc1(fn, callergp, callerpc, ...) from 1.18: the creator in RBX, the go statement's PC in RCX. */
#define NEWPROC1_ARGS_118 \
    {"runtime.newproc1", "callergp", X86_RBX, 8}, {"runtime.newproc1", "callerpc", X86_RCX, 8}
// clang-format on

static const struct probe_arg ARGS_117[] = {
    COMMON_ARGS,
    {"runtime.newproc1", "argp", X86_RBX, 8},
    {"runtime.newproc1", "narg", X86_RCX, 4},
    {"runtime.newproc1", "callergp", X86_RDI, 8},
    {"runtime.newproc1", "callerpc", X86_RSI, 8},
    {"runtime.gcMarkTermination", "nextTriggerRatio", X86_XMM0, 8},
    {"runtime.startTheWorldWithSema", "emitTraceEvent", X86_RAX, 1},
    {"runtime.goready", "gp", X86_RAX, 8},
};
static const struct probe_arg ARGS_118[] = {
    COMMON_ARGS,
    NEWPROC1_ARGS_118,
    {"runtime.gcMarkTermination", "nextTriggerRatio", X86_XMM0, 8},
    {"runtime.startTheWorldWithSema", "emitTraceEvent", X86_RAX, 1},
    {"runtime.bgsweep", "c", X86_RAX, 8},
    {"runtime.goready", "gp", X86_RAX, 8},
};
static const struct probe_arg ARGS_119_120[] = {
    COMMON_ARGS,
    NEWPROC1_ARGS_118,
    {"runtime.startTheWorldWithSema", "emitTraceEvent", X86_RAX, 1},
    {"runtime.bgsweep", "c", X86_RAX, 8},
    {"runtime.goready", "gp", X86_RAX, 8},
};
static const struct probe_arg ARGS_121[] = {
    COMMON_ARGS,
    NEWPROC1_ARGS_118,
    {"runtime.stopTheWorldWithSema", "reason", X86_RAX, 1},
    {"runtime.bgsweep", "c", X86_RAX, 8},
};
static const struct probe_arg ARGS_122[] = {
    COMMON_ARGS,
    NEWPROC1_ARGS_118,
    {"runtime.gdestroy", "gp", X86_RAX, 8},
    {"runtime.stopTheWorldWithSema", "reason", X86_RAX, 1},
    {"runtime.gcMarkTermination", "stw.reason", X86_RAX, 1},
    {"runtime.gcMarkTermination", "stw.start", X86_RBX, 8},
    {"runtime.startTheWorldWithSema", "now", X86_RAX, 8},
    {"runtime.startTheWorldWithSema", "w.reason", X86_RBX, 1},
    {"runtime.bgsweep", "c", X86_RAX, 8},
};
static const struct probe_arg ARGS_123[] = {
    COMMON_ARGS,
    NEWPROC1_ARGS_118,
    {"runtime.newproc1", "parked", X86_RDI, 1},
    {"runtime.newproc1", "waitreason", X86_RSI, 1},
    {"runtime.gdestroy", "gp", X86_RAX, 8},
    {"runtime.stopTheWorldWithSema", "reason", X86_RAX, 1},
    {"runtime.gcMarkTermination", "stw.reason", X86_RAX, 1},
    {"runtime.gcMarkTermination", "stw.startedStopping", X86_RBX, 8},
    {"runtime.startTheWorldWithSema", "now", X86_RAX, 8},
    {"runtime.startTheWorldWithSema", "w.reason", X86_RBX, 1},
    {"runtime.gcBgMarkWorker", "ready", X86_RAX, 8},
    {"runtime.bgsweep", "c", X86_RAX, 8},
};

#define ARGS(a) .args = a, .nargs = sizeof(a) / sizeof(a[0])

/* One row per range of releases. waitsince lies 8 bytes before waitreason in every release; parent_goid is -1
 * before Go 1.21, which added g.parentGoid (runtime/runtime2.go). syscallsp/pc move -8 in 1.25 (gobuf.ret
 * removed); lockedm moves -24 in 1.21 (the trace fields removed) and +8 in 1.23-1.24 (syscallbp added). */
static const struct runtime_layout TABLE[] = {
    {.first_minor = 17,
     .last_minor = 17,
     .g = {.stack_lo = 0,
           .stack_hi = 8,
           .m = 48,
           .sched_sp = 56,
           .sched_pc = 64,
           .sched_bp = 104,
           .atomicstatus = 144,
           .goid = 152,
           .waitreason = 176,
           .parent_goid = -1,
           .gopc = 296,
           .startpc = 312,
           .labels = 360,
           .waitsince = 168,
           .syscallsp = 112,
           .syscallpc = 120,
           .lockedm = 232},
     .m = {.g0 = 0, .procid = 72, .curg = 192, .p = 208},
     .p = {.id = 0},
     ARGS(ARGS_117)},
    {.first_minor = 18,
     .last_minor = 18,
     .g = {.stack_lo = 0,
           .stack_hi = 8,
           .m = 48,
           .sched_sp = 56,
           .sched_pc = 64,
           .sched_bp = 104,
           .atomicstatus = 144,
           .goid = 152,
           .waitreason = 176,
           .parent_goid = -1,
           .gopc = 296,
           .startpc = 312,
           .labels = 360,
           .waitsince = 168,
           .syscallsp = 112,
           .syscallpc = 120,
           .lockedm = 232},
     .m = {.g0 = 0, .procid = 72, .curg = 192, .p = 208},
     .p = {.id = 0},
     ARGS(ARGS_118)},
    {.first_minor = 19,
     .last_minor = 20,
     .g = {.stack_lo = 0,
           .stack_hi = 8,
           .m = 48,
           .sched_sp = 56,
           .sched_pc = 64,
           .sched_bp = 104,
           .atomicstatus = 144,
           .goid = 152,
           .waitreason = 176,
           .parent_goid = -1,
           .gopc = 296,
           .startpc = 312,
           .labels = 360,
           .waitsince = 168,
           .syscallsp = 112,
           .syscallpc = 120,
           .lockedm = 232},
     .m = {.g0 = 0, .procid = 72, .curg = 192, .p = 208},
     .p = {.id = 0},
     ARGS(ARGS_119_120)},
    {.first_minor = 21,
     .last_minor = 21,
     .g = {.stack_lo = 0,
           .stack_hi = 8,
           .m = 48,
           .sched_sp = 56,
           .sched_pc = 64,
           .sched_bp = 104,
           .atomicstatus = 144,
           .goid = 152,
           .waitreason = 176,
           .parent_goid = 272,
           .gopc = 280,
           .startpc = 296,
           .labels = 344,
           .waitsince = 168,
           .syscallsp = 112,
           .syscallpc = 120,
           .lockedm = 208},
     .m = {.g0 = 0, .procid = 72, .curg = 192, .p = 208},
     .p = {.id = 0},
     ARGS(ARGS_121)},
    {.first_minor = 22,
     .last_minor = 22,
     .g = {.stack_lo = 0,
           .stack_hi = 8,
           .m = 48,
           .sched_sp = 56,
           .sched_pc = 64,
           .sched_bp = 104,
           .atomicstatus = 144,
           .goid = 152,
           .waitreason = 176,
           .parent_goid = 272,
           .gopc = 280,
           .startpc = 296,
           .labels = 344,
           .waitsince = 168,
           .syscallsp = 112,
           .syscallpc = 120,
           .lockedm = 208},
     .m = {.g0 = 0, .procid = 72, .curg = 192, .p = 208},
     .p = {.id = 0},
     ARGS(ARGS_122)},
    {.first_minor = 23,
     .last_minor = 24,
     .g = {.stack_lo = 0,
           .stack_hi = 8,
           .m = 48,
           .sched_sp = 56,
           .sched_pc = 64,
           .sched_bp = 104,
           .atomicstatus = 152,
           .goid = 160,
           .waitreason = 184,
           .parent_goid = 280,
           .gopc = 288,
           .startpc = 304,
           .labels = 352,
           .waitsince = 176,
           .syscallsp = 112,
           .syscallpc = 120,
           .lockedm = 216},
     .m = {.g0 = 0, .procid = 72, .curg = 192, .p = 208},
     .p = {.id = 0},
     ARGS(ARGS_123)},
    {.first_minor = 25,
     .last_minor = 25,
     .g = {.stack_lo = 0,
           .stack_hi = 8,
           .m = 48,
           .sched_sp = 56,
           .sched_pc = 64,
           .sched_bp = 96,
           .atomicstatus = 144,
           .goid = 152,
           .waitreason = 176,
           .parent_goid = 272,
           .gopc = 280,
           .startpc = 296,
           .labels = 344,
           .waitsince = 168,
           .syscallsp = 104,
           .syscallpc = 112,
           .lockedm = 208},
     .m = {.g0 = 0, .procid = 64, .curg = 184, .p = 200},
     .p = {.id = 0},
     ARGS(ARGS_123)},
    {.first_minor = 26,
     .last_minor = 27,
     .g = {.stack_lo = 0,
           .stack_hi = 8,
           .m = 48,
           .sched_sp = 56,
           .sched_pc = 64,
           .sched_bp = 96,
           .atomicstatus = 144,
           .goid = 152,
           .waitreason = 176,
           .parent_goid = 280,
           .gopc = 288,
           .startpc = 304,
           .labels = 352,
           .waitsince = 168,
           .syscallsp = 104,
           .syscallpc = 112,
           .lockedm = 208},
     .m = {.g0 = 0, .procid = 64, .curg = 184, .p = 208},
     .p = {.id = 0},
     ARGS(ARGS_123)},
};

const struct runtime_layout *runtime_layout_for(const struct go_version *v) {
    if (v->major != 1)
        return NULL;
    for (size_t i = 0; i < sizeof(TABLE) / sizeof(TABLE[0]); i++)
        if (v->minor >= TABLE[i].first_minor && v->minor <= TABLE[i].last_minor)
            return &TABLE[i];
    return NULL;
}

const struct runtime_layout *runtime_layout_table(size_t *count) {
    *count = sizeof(TABLE) / sizeof(TABLE[0]);
    return TABLE;
}

const struct probe_arg *runtime_layout_arg(const struct runtime_layout *l, const char *function,
                                           const char *arg) {
    for (size_t i = 0; i < l->nargs; i++)
        if (strcmp(l->args[i].function, function) == 0 && strcmp(l->args[i].arg, arg) == 0)
            return &l->args[i];
    return NULL;
}

const char *x86_reg_name(enum x86_reg reg, unsigned bytes) {
    static const char *names[][4] = {
        [X86_NONE] = {"-", "-", "-", "-"},           [X86_RAX] = {"al", "ax", "eax", "rax"},
        [X86_RBX] = {"bl", "bx", "ebx", "rbx"},      [X86_RCX] = {"cl", "cx", "ecx", "rcx"},
        [X86_RDI] = {"dil", "di", "edi", "rdi"},     [X86_RSI] = {"sil", "si", "esi", "rsi"},
        [X86_R8] = {"r8b", "r8w", "r8d", "r8"},      [X86_R9] = {"r9b", "r9w", "r9d", "r9"},
        [X86_R14] = {"r14b", "r14w", "r14d", "r14"}, [X86_XMM0] = {"xmm0", "xmm0", "xmm0", "xmm0"},
    };
    int width = bytes >= 8 ? 3 : bytes >= 4 ? 2 : bytes >= 2 ? 1 : 0;
    return names[reg][width];
}
