/* Offsets of runtime.g / runtime.m / runtime.p fields and the registers holding the arguments of the runtime
 * functions gmon probes, per Go release (amd64). Source: runtime/runtime2.go (types g, m, p) of
 * each release and each probed function's signature under the register ABI (cmd/compile/abi-internal.md);
 * every entry that DWARF can confirm is checked against it when the binary has DWARF (dwarf_layout.h). */
#ifndef GMON_RUNTIME_LAYOUT_H
#define GMON_RUNTIME_LAYOUT_H

#include <stddef.h>

#include "go_version.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { GMON_GO_MIN_MINOR = 17, GMON_GO_MAX_MINOR = 27 };

enum x86_reg { X86_NONE = 0, X86_RAX, X86_RBX, X86_RCX, X86_RDI, X86_RSI, X86_R8, X86_R9, X86_R14, X86_XMM0 };

/* One argument (or return value) of a probed function: the register and how many of its low bytes. */
struct probe_arg {
    const char *function; /* e.g. "runtime.newproc1" */
    const char *arg;      /* parameter name in the Go source, "ret" for the result */
    enum x86_reg reg;
    unsigned char bytes;
};

struct g_offsets {
    int stack_lo, stack_hi, m, sched_sp, sched_pc, sched_bp, atomicstatus, goid, waitreason, parent_goid,
        gopc, startpc, labels, waitsince, syscallsp, syscallpc, lockedm;
};
struct m_offsets {
    int g0, procid, curg, p;
};
struct p_offsets {
    int id;
};

struct runtime_layout {
    int first_minor, last_minor; /* the releases 1.first..1.last this row describes */
    struct g_offsets g;          /* -1: the field does not exist in these releases */
    struct m_offsets m;
    struct p_offsets p;
    const struct probe_arg *args;
    size_t nargs;
};

/* The row for a version, or NULL when the version is outside 1.17-1.27. */
const struct runtime_layout *runtime_layout_for(const struct go_version *v);

/* All rows, oldest first, for tests and documentation. */
const struct runtime_layout *runtime_layout_table(size_t *count);

/* The register of a probed function's argument in this layout, X86_NONE when it has no such argument. */
const struct probe_arg *runtime_layout_arg(const struct runtime_layout *l, const char *function,
                                           const char *arg);

const char *x86_reg_name(enum x86_reg reg, unsigned bytes);

#ifdef __cplusplus
}
#endif

#endif
