#include "stack_walk.h"

#include <stdlib.h>
#include <string.h>

#include "proc_target.h"

/* The used part of a parked goroutine's stack is a few hundred bytes to a few KiB (the stack itself 8 KiB
 * and more, mostly unused): read 4 KiB from the innermost frame up, then the next 4 KiB when a frame lies
 * beyond. One read for most goroutines, without copying their unused stack (bench/stacks.sh). */
enum { STACK_WINDOW = 4 * 1024 };

void stack_memory_init(struct stack_memory *m, int pid, uint64_t *bytes_read) {
    memset(m, 0, sizeof(*m));
    m->pid = pid;
    m->bytes_read = bytes_read;
    m->read = proc_read;
}

void stack_memory_free(struct stack_memory *m) {
    free(m->buf);
    m->buf = NULL;
    m->cap = m->len = 0;
}

void stack_memory_reset(struct stack_memory *m, uint64_t lo, uint64_t hi) {
    m->lo = lo;
    m->hi = hi;
    m->base = m->len = 0;
}

/* Loads the window that starts at addr (frames and arguments are read upwards). */
static bool load_window(struct stack_memory *m, uint64_t addr) {
    uint64_t want = m->hi - addr < STACK_WINDOW ? m->hi - addr : STACK_WINDOW;
    if (m->cap < want) {
        uint8_t *b = realloc(m->buf, STACK_WINDOW);
        if (!b)
            return false;
        m->buf = b;
        m->cap = STACK_WINDOW;
    }
    m->len = 0;
    if (m->bytes_read)
        *m->bytes_read += want;
    if (!m->read(m->pid, addr, m->buf, want))
        return false;
    m->base = addr;
    m->len = want;
    return true;
}

bool stack_memory_read(struct stack_memory *m, uint64_t addr, void *out, size_t len) {
    if (len > 8 || addr < m->lo || addr >= m->hi || m->hi - addr < len)
        return false;
    if (addr < m->base || addr - m->base + len > m->len) {
        if (!load_window(m, addr))
            return false;
    }
    memcpy(out, m->buf + (addr - m->base), len);
    return true;
}

const char *stack_end_text(enum stack_end end) {
    switch (end) {
    case STACK_END_TOP:
        return "complete";
    case STACK_END_SPWRITE:
        return "ends at a function that switches stacks";
    case STACK_END_ZERO_RETURN:
        return "ends at a zero return address";
    case STACK_END_DEPTH:
        return "deeper than the walk limit";
    case STACK_END_UNKNOWN_PC:
        return "a return address outside every Go function";
    case STACK_END_UNREADABLE:
        return "stack memory that cannot be read";
    case STACK_END_BAD_FRAME:
        return "a frame outside the goroutine's stack";
    }
    return "?";
}

/* Functions after which the caller's PC is where a signal hit, not a return address (runtime/traceback.go:
 * waspanic up to 1.20; unwinder.next's injectedCall / unwindTrap from 1.21). */
static bool is_trap(const struct go_func *fn, const struct stack_walk_rules *rules) {
    if (strcmp(fn->name, "runtime.sigpanic") == 0)
        return true;
    return rules->async_preempt_is_trap &&
           (strcmp(fn->name, "runtime.asyncPreempt") == 0 || strcmp(fn->name, "runtime.debugCallV2") == 0);
}

static struct stack_walk_result stop(struct stack_walk_result r, enum stack_end end, uint64_t at) {
    r.end = end;
    r.bad_pc = at;
    return r;
}

struct stack_walk_result stack_walk(const struct pclntab *t, struct frame_cache *cache, uint64_t bias,
                                    const struct stack_walk_rules *rules, struct stack_memory *m,
                                    const struct stack_bounds *b, struct stack_frame_raw *out, size_t max) {
    struct stack_walk_result r = {0, STACK_END_TOP, 0};
    uint64_t pc = b->pc, sp = b->sp;
    bool trap = b->from_registers;
    stack_memory_reset(m, b->lo, b->hi);
    for (;;) {
        if (r.n == max)
            return stop(r, STACK_END_DEPTH, pc);
        if (sp < b->lo || sp >= b->hi)
            return stop(r, STACK_END_BAD_FRAME, sp);
        struct stack_frame_raw *f = &out[r.n];
        const struct frame_cache_entry *e = cache && pc >= bias ? frame_cache_func(cache, pc - bias) : NULL;
        if (e)
            f->fn = e->fn;
        else if (cache || pc < bias || !pclntab_func_at(t, pc - bias, &f->fn))
            return stop(r, STACK_END_UNKNOWN_PC, pc);
        int32_t delta = e ? e->sp_delta : pclntab_sp_delta(t, &f->fn, pc - bias);
        if (delta < 0)
            return stop(r, STACK_END_BAD_FRAME, pc);
        f->pc = pc;
        f->sp = sp;
        f->fp = sp + (uint64_t)delta + 8; /* the CALL pushed the return address above the frame */
        f->trap = trap;
        r.n++;
        uint8_t flag = f->fn.flag;
        if (r.n == 1 && b->in_syscall)
            flag &= (uint8_t)~FUNCFLAG_SPWRITE; /* Syscall functions move SP only after entersyscall */
        if (flag & FUNCFLAG_TOPFRAME)
            return r;
        if (flag & FUNCFLAG_SPWRITE)
            return stop(r, STACK_END_SPWRITE, pc);
        uint64_t lr;
        if (!stack_memory_read(m, f->fp - 8, &lr, 8))
            return stop(r, STACK_END_UNREADABLE, f->fp - 8);
        if (lr == 0)
            return stop(r, STACK_END_ZERO_RETURN, f->fp - 8);
        if (f->fp <= sp)
            return stop(r, STACK_END_BAD_FRAME, f->fp);
        trap = is_trap(&f->fn, rules);
        pc = lr;
        sp = f->fp;
    }
}
