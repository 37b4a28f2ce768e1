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

#define ARGS(a) a, sizeof(a) / sizeof(a[0])

/* g: stack lo/hi, m, sched sp/pc/bp, status, goid, waitreason, parentGoid, gopc, startpc, labels, waitsince
 * (8 bytes before waitreason in every release) */
static const struct runtime_layout TABLE[] = {
    {17,
     17,
     {0, 8, 48, 56, 64, 104, 144, 152, 176, -1, 296, 312, 360, 168},
     {0, 72, 192, 208},
     {0},
     ARGS(ARGS_117)},
    {18,
     18,
     {0, 8, 48, 56, 64, 104, 144, 152, 176, -1, 296, 312, 360, 168},
     {0, 72, 192, 208},
     {0},
     ARGS(ARGS_118)},
    {19,
     20,
     {0, 8, 48, 56, 64, 104, 144, 152, 176, -1, 296, 312, 360, 168},
     {0, 72, 192, 208},
     {0},
     ARGS(ARGS_119_120)},
    {21,
     21,
     {0, 8, 48, 56, 64, 104, 144, 152, 176, 272, 280, 296, 344, 168},
     {0, 72, 192, 208},
     {0},
     ARGS(ARGS_121)},
    {22,
     22,
     {0, 8, 48, 56, 64, 104, 144, 152, 176, 272, 280, 296, 344, 168},
     {0, 72, 192, 208},
     {0},
     ARGS(ARGS_122)},
    {23,
     24,
     {0, 8, 48, 56, 64, 104, 152, 160, 184, 280, 288, 304, 352, 176},
     {0, 72, 192, 208},
     {0},
     ARGS(ARGS_123)},
    /* 1.25 drops gobuf.ret: everything after g.sched and m.morebuf moves back 8 bytes. */
    {25,
     25,
     {0, 8, 48, 56, 64, 96, 144, 152, 176, 272, 280, 296, 344, 168},
     {0, 64, 184, 200},
     {0},
     ARGS(ARGS_123)},
    /* 1.26 grows g before writebuf (parentGoid onwards +8), and m before p (+8: the DWARF of
     * go1.26.0, 1.26.1, 1.26.8, 1.26.10 and 1.27.3 binaries); observed unchanged in 1.27 binaries. */
    {26,
     27,
     {0, 8, 48, 56, 64, 96, 144, 152, 176, 280, 288, 304, 352, 168},
     {0, 64, 184, 208},
     {0},
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
