#include "goroutine_trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* _TracebackMaxFrames (runtime/runtime2.go, up to 1.20): the physical frames gentraceback walks for a dump.
 */
enum { TRACEBACK_MAX_FRAMES_OLD = 100 };
/* tracebackInnerFrames and tracebackOuterFrames (runtime/traceback.go, 1.21+). */
enum { INNER_FRAMES = 50, OUTER_FRAMES = 50 };
/* How deep gmon walks for releases that print the outermost frames too: a 1 GiB stack of minimal frames would
 * be deeper, a real one is not. */
enum { MAX_WALK_FRAMES = 100000 };
/* printArgs reads at most this many bytes of ArgInfo: (maxDepth*3+2)*limit+1 with maxDepth 5, limit 10. */
enum { ARG_INFO_MAX = 171 };

bool traceback_rules_for(int minor, struct traceback_rules *r) {
    if (minor < 17 || minor > 27)
        return false;
    *r = (struct traceback_rules){
        .minor = minor,
        .funcid_wrapper = pclntab_funcid_wrapper(minor),
        .exported_runtime_rcvr = minor >= 23,
        .collapse_generics = minor >= 21,
        .first_and_last_50 = minor >= 21,
        .arg_liveness = minor >= 18,
        .creator_wrapper_rule = minor >= 21,
        .trace_running_in_syscall = minor >= 26,
        .walk = {.async_preempt_is_trap = minor >= 21},
    };
    return true;
}

void trace_builder_init(struct trace_builder *b, const struct pclntab *t, uint64_t bias,
                        const struct traceback_rules *rules, int pid, uint64_t *bytes_read) {
    memset(b, 0, sizeof(*b));
    b->t = t;
    b->bias = bias;
    b->rules = *rules;
    stack_memory_init(&b->mem, pid, bytes_read);
    frame_cache_init(&b->cache, t);
    b->max_walk = rules->first_and_last_50 ? MAX_WALK_FRAMES : TRACEBACK_MAX_FRAMES_OLD;
}

void trace_builder_free(struct trace_builder *b) {
    stack_memory_free(&b->mem);
    frame_cache_free(&b->cache);
}

void goroutine_trace_free(struct goroutine_trace *tr) {
    free(tr->frames);
    free(tr->text);
    free(tr->raw);
    free(tr->all);
    free(tr->shown);
    memset(tr, 0, sizeof(*tr));
}

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* runtime/traceback.go isExportedRuntime: up to 1.22 the letter after "runtime." is A-Z; from 1.23 the method
 * name, and the receiver type when there is one, are exported. */
static bool exported_runtime(const char *name, const struct traceback_rules *r) {
    const char *rest = name + strlen("runtime.");
    if (!r->exported_runtime_rcvr)
        return rest[0] >= 'A' && rest[0] <= 'Z';
    const char *dot = strrchr(rest, '.');
    const char *method = dot ? dot + 1 : rest;
    char rcvr = 0;
    if (dot) {
        size_t len = (size_t)(dot - rest);
        rcvr = rest[0];
        if (len >= 3 && rest[0] == '(' && rest[1] == '*' && rest[len - 1] == ')')
            rcvr = rest[2];
    }
    return method[0] >= 'A' && method[0] <= 'Z' && (!dot || (rcvr >= 'A' && rcvr <= 'Z'));
}

/* elideWrapperCalling: a wrapper is hidden unless what it called is a panic. */
static bool panicky(const char *callee) {
    return callee && (strcmp(callee, "runtime.gopanic") == 0 || strcmp(callee, "runtime.sigpanic") == 0 ||
                      strcmp(callee, "runtime.panicwrap") == 0);
}

/* showfuncinfo at traceback level 1. callee: the logical frame just inside this one (NULL: none). */
bool trace_elides_wrapper(const struct traceback_rules *r, uint8_t funcid, const char *callee) {
    return funcid == r->funcid_wrapper && !panicky(callee);
}

static bool show_frame(const struct traceback_rules *r, const char *name, uint8_t funcid, const char *callee,
                       bool first_frame) {
    if (trace_elides_wrapper(r, funcid, callee))
        return false;
    if (strcmp(name, "runtime.gopanic") == 0 && !first_frame)
        return true;
    return strchr(name, '.') && (!starts_with(name, "runtime.") || exported_runtime(name, r));
}

static bool text_reserve(struct goroutine_trace *tr, size_t more) {
    if (tr->text_len + more <= tr->text_cap)
        return true;
    size_t cap = tr->text_cap ? tr->text_cap : 1024;
    while (cap < tr->text_len + more)
        cap *= 2;
    char *p = realloc(tr->text, cap);
    if (!p)
        return false;
    tr->text = p;
    tr->text_cap = cap;
    return true;
}

static void text_add(struct goroutine_trace *tr, const char *s) {
    size_t n = strlen(s);
    if (text_reserve(tr, n + 1)) {
        memcpy(tr->text + tr->text_len, s, n + 1);
        tr->text_len += n; /* the NUL stays, to be overwritten by what follows */
    }
}

static void text_end(struct goroutine_trace *tr) {
    if (text_reserve(tr, 1))
        tr->text[tr->text_len++] = '\0';
}

/* One byte of ArgInfo; false when it cannot be read. */
static bool arg_info_byte(const struct pclntab *t, uint64_t at, uint8_t *out) {
    const uint8_t *p = t->read_vaddr ? t->read_vaddr(t->read_ctx, at, 1) : NULL;
    if (p)
        *out = *p;
    return p != NULL;
}

struct arg_liveness {
    uint64_t info; /* link-time address of the ArgLiveInfo funcdata, 0: none */
    int32_t index; /* PCDATA_ArgLiveIndex at the frame's symbol PC */
    uint8_t start; /* slots at or above this offset have liveness bits */
};

/* printArgs' isLive. */
static bool arg_live(const struct pclntab *t, const struct arg_liveness *l, uint8_t off, uint8_t slot) {
    if (!l->info || l->index <= 0 || off < l->start)
        return true;
    uint8_t bits;
    if (!arg_info_byte(t, l->info + (uint64_t)l->index + slot / 8, &bits))
        return true;
    return (bits & (1u << (slot % 8))) != 0;
}

/* runtime/traceback.go printArgs: the words of the arguments as the ArgInfo funcdata lays them out, read from
 * the stack at argp (the caller's SP: spill slots under the register ABI), "?" after the ones that may be
 * stale (1.18+). */
static void format_args(struct trace_builder *b, struct goroutine_trace *tr, const struct go_func *fn,
                        uint64_t argp, int32_t live_index) {
    enum { END_SEQ = 0xff, START_AGG = 0xfe, END_AGG = 0xfd, DOTDOTDOT = 0xfc, OFFSET_TOO_LARGE = 0xfb };
    uint64_t info = pclntab_funcdata(b->t, fn, FUNCDATA_ARG_INFO);
    if (!info)
        return;
    struct arg_liveness live = {0, 0, 0xff};
    if (b->rules.arg_liveness) {
        live.info = pclntab_funcdata(b->t, fn, FUNCDATA_ARG_LIVE_INFO);
        live.index = live_index;
        if (live.info && !arg_info_byte(b->t, live.info, &live.start))
            live.info = 0;
    }
    bool start = true;
    uint8_t slot = 0;
    for (int i = 0; i < ARG_INFO_MAX;) {
        uint8_t o, size;
        if (!arg_info_byte(b->t, info + (uint64_t)i++, &o) || o == END_SEQ)
            return;
        switch (o) {
        case START_AGG:
            text_add(tr, start ? "{" : ", {");
            start = true;
            continue;
        case END_AGG:
            text_add(tr, "}");
            break;
        case DOTDOTDOT:
            text_add(tr, start ? "..." : ", ...");
            break;
        case OFFSET_TOO_LARGE:
            text_add(tr, start ? "_" : ", _");
            break;
        default: {
            if (!start)
                text_add(tr, ", ");
            if (i >= ARG_INFO_MAX || !arg_info_byte(b->t, info + (uint64_t)i++, &size))
                return;
            uint64_t x = 0;
            char word[32];
            if (size > 8 || !stack_memory_read(&b->mem, argp + o, &x, 8)) {
                text_add(tr, "?");
            } else {
                if (size < 8)
                    x = size ? x << (64 - size * 8) >> (64 - size * 8) : 0;
                snprintf(word, sizeof(word), "0x%" PRIx64 "%s", x, arg_live(b->t, &live, o, slot) ? "" : "?");
                text_add(tr, word);
            }
            if (o >= live.start)
                slot++;
        }
        }
        start = false; /* not after "{": the continue above skips this */
    }
}

static bool reserve_frames(struct goroutine_trace *tr, size_t n) {
    if (n <= tr->all_cap)
        return true;
    size_t cap = tr->all_cap ? tr->all_cap * 2 : 256;
    while (cap < n)
        cap *= 2;
    struct trace_frame *all = realloc(tr->all, cap * sizeof(*all));
    if (all)
        tr->all = all;
    bool *shown = realloc(tr->shown, cap * sizeof(*shown));
    if (shown)
        tr->shown = shown;
    struct trace_frame *frames = realloc(tr->frames, cap * sizeof(*frames));
    if (frames)
        tr->frames = frames;
    if (!all || !shown || !frames)
        return false;
    tr->all_cap = tr->cap = cap;
    return true;
}

/* Every logical frame of the walked physical frames, each marked shown or not; returns the count, or -1 when
 * out of memory. */
static long expand_frames(struct trace_builder *b, struct goroutine_trace *tr) {
    enum { MAX_INLINED = 64 };
    struct go_frame lf[MAX_INLINED];
    const char *callee = NULL;
    size_t n = 0, nshown = 0;
    for (size_t i = 0; i < tr->walk.n; i++) {
        const struct stack_frame_raw *f = &tr->raw[i];
        uint64_t entry = f->fn.entry + b->bias;
        /* the CALL before a return address; the PC itself at the entry and after a trap */
        uint64_t sym_pc = f->trap || f->pc == entry ? f->pc : f->pc - 1;
        int32_t live_index = -1;
        int nl = b->cache.slots
                     ? frame_cache_frames(&b->cache, f->pc - b->bias, f->trap, lf, MAX_INLINED, &live_index)
                     : pclntab_frames(b->t, &f->fn, sym_pc - b->bias, lf, MAX_INLINED);
        if (!b->cache.slots)
            live_index = pclntab_pcdata(b->t, &f->fn, PCDATA_ARG_LIVE_INDEX, sym_pc - b->bias);
        if (!reserve_frames(tr, n + (size_t)nl))
            return -1;
        for (int j = 0; j < nl; j++) {
            bool inlined = j < nl - 1;
            struct trace_frame *out = &tr->all[n];
            *out = (struct trace_frame){.function = lf[j].function,
                                        .file = lf[j].file,
                                        .line = lf[j].line,
                                        .offset = !inlined && f->pc > entry ? f->pc - entry : 0,
                                        .inlined = inlined,
                                        .args = tr->text_len,
                                        .pc = f->pc,
                                        .sym_pc = sym_pc,
                                        .funcid = lf[j].funcid,
                                        .start_line = lf[j].start_line};
            if (!inlined && !b->no_args)
                format_args(b, tr, &f->fn, f->fp, live_index);
            text_end(tr);
            tr->shown[n] = show_frame(&b->rules, lf[j].function, lf[j].funcid, callee, nshown == 0);
            nshown += tr->shown[n];
            callee = lf[j].function;
            n++;
        }
    }
    return (long)n;
}

/* Which frames print, as traceback1 (up to 1.20) or tracebackWithRuntime (1.21+) picks them. */
static void select_frames(struct trace_builder *b, struct goroutine_trace *tr, size_t all) {
    size_t nshown = 0;
    for (size_t i = 0; i < all; i++)
        nshown += tr->shown[i];
    bool every = nshown == 0; /* nothing but runtime frames: Go prints them all */
    tr->n = 0;
    for (size_t i = 0; i < all; i++)
        if (every || tr->shown[i])
            tr->frames[tr->n++] = tr->all[i];
    tr->elided = 0;
    tr->elide_after = 0;
    tr->additional_elided = false;
    if (!b->rules.first_and_last_50) {
        tr->additional_elided = tr->n == TRACEBACK_MAX_FRAMES_OLD;
        return;
    }
    if (tr->n > INNER_FRAMES + OUTER_FRAMES) {
        tr->elided = tr->n - INNER_FRAMES - OUTER_FRAMES;
        tr->elide_after = INNER_FRAMES;
        memmove(tr->frames + INNER_FRAMES, tr->frames + tr->n - OUTER_FRAMES,
                OUTER_FRAMES * sizeof(*tr->frames));
        tr->n = INNER_FRAMES + OUTER_FRAMES;
    }
}

/* printcreatedby: the function holding the go statement, unless it is hidden, and never for goroutine 1. */
static void find_creator(struct trace_builder *b, const struct goroutine *g, struct goroutine_trace *tr) {
    struct go_func fn;
    tr->has_creator = false;
    if (g->goid == 1 || g->gopc < b->bias || !pclntab_func_at(b->t, g->gopc - b->bias, &fn))
        return;
    uint8_t funcid = b->rules.creator_wrapper_rule ? fn.funcid : 0;
    if (!show_frame(&b->rules, fn.name, funcid, NULL, false))
        return;
    uint64_t entry = fn.entry + b->bias;
    uint64_t pc = g->gopc > entry ? g->gopc - 1 : g->gopc;
    tr->has_creator = true;
    tr->creator = fn.name;
    if (!pclntab_line(b->t, &fn, pc - b->bias, &tr->creator_file, &tr->creator_line)) {
        tr->creator_file = "?";
        tr->creator_line = 0;
    }
    tr->creator_offset = g->gopc > entry ? g->gopc - entry : 0;
    tr->creator_parent = g->parent; /* g.parentGoid, 0 before Go 1.21 (no such field): no " in goroutine N" */
}

bool goroutine_trace_build(struct trace_builder *b, const struct goroutine *g,
                           const struct goroutine_stack_state *st, uint64_t regs_pc, uint64_t regs_sp,
                           struct goroutine_trace *tr) {
    tr->g = g;
    tr->st = *st;
    tr->n = tr->nall = 0;
    tr->text_len = 0;
    tr->walk = (struct stack_walk_result){0, STACK_END_TOP, 0};
    tr->walk_complete = true;
    find_creator(b, g, tr);
    bool running =
        g->status == GOROUTINE_RUNNING && !(b->rules.trace_running_in_syscall && st->syscall_sp != 0);
    if (running && !regs_pc) {
        tr->kind = TRACE_RUNNING;
        return true;
    }
    tr->kind = TRACE_FRAMES;
    if (tr->raw_cap < b->max_walk) {
        struct stack_frame_raw *raw = realloc(tr->raw, b->max_walk * sizeof(*raw));
        if (!raw)
            return false;
        tr->raw = raw;
        tr->raw_cap = b->max_walk;
    }
    struct stack_bounds bounds = {st->stack_lo, st->stack_hi, st->sched_pc, st->sched_sp, false, false};
    if (regs_pc) {
        bounds.pc = regs_pc;
        bounds.sp = regs_sp;
        bounds.from_registers = true;
    } else if (st->syscall_sp) {
        bounds.pc = st->syscall_pc;
        bounds.sp = st->syscall_sp;
        bounds.in_syscall = true;
    }
    tr->walk = stack_walk(b->t, b->cache.slots ? &b->cache : NULL, b->bias, &b->rules.walk, &b->mem, &bounds,
                          tr->raw, b->max_walk);
    /* Up to 1.20 Go itself stops after 100 physical frames. */
    tr->walk_complete =
        tr->walk.end == STACK_END_TOP || (tr->walk.end == STACK_END_DEPTH && !b->rules.first_and_last_50);
    long all = expand_frames(b, tr);
    if (all < 0)
        return false;
    tr->nall = (size_t)all;
    select_frames(b, tr, (size_t)all);
    return true;
}

bool goroutine_is_system(const struct pclntab *t, uint64_t bias, const struct goroutine *g,
                         const struct goroutine_trace *tr) {
    struct go_func fn;
    if (g->startpc < bias || !pclntab_func_at(t, g->startpc - bias, &fn))
        return false;
    if (strcmp(fn.name, "runtime.main") == 0 || strcmp(fn.name, "runtime.corostart") == 0)
        return false;
    /* The finalizer and cleanup goroutines count as the program's while they run its code (fingStatus's
     * fingRunningFinalizer, g.runningCleanups): while a frame outside the runtime is on their stack. */
    if (strcmp(fn.name, "runtime.runfinq") == 0 || strcmp(fn.name, "runtime.runFinalizers") == 0 ||
        strcmp(fn.name, "runtime.runCleanups") == 0) {
        for (size_t i = 0; tr && tr->kind == TRACE_FRAMES && i < tr->n; i++)
            if (!starts_with(tr->frames[i].function, "runtime."))
                return false;
        return true;
    }
    return starts_with(fn.name, "runtime.");
}
