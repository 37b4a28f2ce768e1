/* One goroutine's traceback as the target's Go release prints it for runtime.Stack(buf, true) and
 * /debug/pprof/goroutine?debug=2 (traceback level 1): which logical frames show (runtime/traceback.go
 * showframe, elideWrapperCalling, isExportedRuntime), inlined frames, argument words (printArgs), the +0x
 * offsets, the release's truncation (100 frames up to 1.20; the first and last 50 from 1.21) and the
 * "created by" line. Readers build it; goroutine_trace_print.c prints it. */
#ifndef GMON_GOROUTINE_TRACE_H
#define GMON_GOROUTINE_TRACE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goroutine_snapshot.h"
#include "stack_walk.h"

/* What changes between releases (runtime/traceback.go and internal/abi/symtab.go of each). */
struct traceback_rules {
    int minor;
    uint8_t funcid_wrapper;     /* abi.FuncIDWrapper: 22 (1.17), 21 (1.18-1.21), 22 (1.22-1.24), 23 (1.25+) */
    bool exported_runtime_rcvr; /* 1.23+: runtime.(*Func).Name counts as exported */
    bool collapse_generics;     /* 1.21+: printFuncName prints pkg.F[...] */
    bool first_and_last_50;     /* 1.21+; before: at most 100 physical frames walked */
    bool arg_liveness;          /* 1.18+: a '?' after arguments that may be stale */
    bool creator_wrapper_rule;  /* 1.21+: a wrapper creator is not shown */
    bool trace_running_in_syscall; /* 1.26+: a running goroutine with g.syscallsp set is traced */
    struct stack_walk_rules walk;
};
/* False for a release outside 1.17-1.27. */
bool traceback_rules_for(int minor, struct traceback_rules *r);

struct trace_frame {
    const char *function, *file; /* names as the binary's pclntab holds them */
    int line;
    uint64_t offset; /* the +0x printed after file:line; 0: none (inlined frames, or a PC at the entry) */
    bool inlined;
    size_t args;     /* offset of the argument text in the trace's text (physical frames) */
    uint64_t pc;     /* the physical frame's PC */
    uint64_t sym_pc; /* where it is looked up: pc - 1 for a return address */
    uint8_t funcid;  /* the release's abi.FuncID */
    int start_line;  /* of the function's declaration (Go 1.20+), 0: not recorded */
};

enum trace_kind {
    TRACE_FRAMES,
    TRACE_RUNNING, /* running on a thread now: its saved registers are stale */
    TRACE_CHANGED, /* it kept moving while its stack was read (gmon stacks without --freeze) */
};

struct goroutine_trace {
    const struct goroutine *g;
    struct goroutine_stack_state st;
    enum trace_kind kind;
    struct trace_frame *frames; /* shown frames, innermost first */
    size_t n, cap;
    size_t elide_after;     /* 1.21+: "...N frames elided..." follows frames[elide_after - 1] when elided */
    uint64_t elided;        /* frames left out there */
    bool additional_elided; /* up to 1.20: "...additional frames elided..." after the frames */
    struct stack_walk_result walk;
    bool walk_complete; /* the walk reached the top (or the release's own limit) */
    /* created by */
    bool has_creator;
    const char *creator, *creator_file;
    int creator_line;
    uint64_t creator_offset, creator_parent;
    /* storage, reused from one goroutine to the next */
    char *text;
    size_t text_len, text_cap;
    struct stack_frame_raw *raw;
    size_t raw_cap;
    struct trace_frame *all; /* every logical frame walked, runtime ones included, before selection */
    size_t nall, all_cap;
    bool *shown;
};

struct trace_builder {
    const struct pclntab *t;
    uint64_t bias;
    struct traceback_rules rules;
    struct stack_memory mem;
    struct frame_cache cache; /* slots NULL when it could not be allocated: no cache */
    bool no_args;             /* leave argument words out (profiles do not show them): "" for every frame */
    size_t max_walk;          /* physical frames walked at most (the release's limit up to 1.20) */
};

/* max_walk 0: the release's own. */
void trace_builder_init(struct trace_builder *b, const struct pclntab *t, uint64_t bias,
                        const struct traceback_rules *rules, int pid, uint64_t *bytes_read);
void trace_builder_free(struct trace_builder *b);
/* Builds g's trace into tr (whose storage is reused); false when out of memory. A goroutine whose
 * registers are given (regs_pc/regs_sp != 0: read from its stopped thread) is walked from them. */
bool goroutine_trace_build(struct trace_builder *b, const struct goroutine *g,
                           const struct goroutine_stack_state *st, uint64_t regs_pc, uint64_t regs_sp,
                           struct goroutine_trace *tr);
void goroutine_trace_free(struct goroutine_trace *tr);
/* A frame's argument text, "0x1, {0x2, 0x3}" (without parentheses). */
static inline const char *trace_frame_args(const struct goroutine_trace *tr, const struct trace_frame *f) {
    return tr->text + f->args;
}

/* elideWrapperCalling: whether Go leaves a wrapper frame out, given the frame it called (NULL: none). */
bool trace_elides_wrapper(const struct traceback_rules *r, uint8_t funcid, const char *callee);

/* True for what Go hides from tracebacks at level 1 (runtime/traceback.go isSystemGoroutine): goroutines that
 * the runtime started, except runtime.main, and the finalizer goroutine while it runs no finalizer. */
bool goroutine_is_system(const struct pclntab *t, uint64_t bias, const struct goroutine *g,
                         const struct goroutine_trace *tr);

#endif
