#include "stack_locations.h"

#include <stdlib.h>
#include <string.h>

/* One PC as runtime.CallersFrames sees it on its own: the innermost function at pc - 1 (pc itself at a
 * function's entry), with the entry of its physical function. */
struct pc_frame {
    bool found;
    struct go_frame f;
    uint64_t entry;
    uint64_t frame_pc; /* runtime.Frame.PC: the address looked up (runtime address) */
};

struct pc_memo_slot {
    uint64_t pc; /* 0: empty */
    struct pc_frame frame;
    bool runtime;
};

static struct pc_frame frame_of(const struct pclntab *pcln, uint64_t load_bias, uint64_t pc) {
    struct pc_frame r = {0};
    struct go_func fn;
    struct go_frame frames[STACK_MAX_INLINE];
    uint64_t at = pc - load_bias;
    if (!pclntab_func_at(pcln, at, &fn))
        return r;
    if (at > fn.entry)
        at--;
    if (pclntab_frames(pcln, &fn, at, frames, STACK_MAX_INLINE) < 1)
        return r;
    r.found = true;
    r.f = frames[0];
    r.entry = fn.entry;
    r.frame_pc = at + load_bias;
    return r;
}

/* The innermost function at pc itself (FuncForPC): the runtime's? "internal/runtime/" from Go 1.24
 * (protomem.go, "hide map runtime frames from heap profiles", d0c9142ce3, in the tree before the 1.25
 * version bump; seen in go1.26 code, absent from go1.23's). */
static bool is_runtime_pc(const struct pclntab *pcln, uint64_t load_bias, uint64_t pc, int minor) {
    struct go_func fn;
    struct go_frame frames[STACK_MAX_INLINE];
    if (!pclntab_func_at(pcln, pc - load_bias, &fn) ||
        pclntab_frames(pcln, &fn, pc - load_bias, frames, STACK_MAX_INLINE) < 1)
        return false;
    const char *name = frames[0].function;
    return strncmp(name, "runtime.", 8) == 0 || (minor >= 24 && strncmp(name, "internal/runtime/", 17) == 0);
}

void stack_symbols_init(struct stack_symbols *s, const struct pclntab *pcln, uint64_t load_bias, int minor) {
    *s = (struct stack_symbols){.pcln = pcln, .load_bias = load_bias, .minor = minor};
}

void stack_symbols_free(struct stack_symbols *s) {
    free(s->slots);
    s->slots = NULL;
    s->cap = s->used = 0;
}

/* Open addressing keyed by runtime PC, doubled when half full. */
static size_t memo_index(uint64_t pc, size_t cap) {
    return (size_t)((pc * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static bool memo_grow(struct stack_symbols *m) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    struct pc_memo_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].pc)
            continue;
        size_t k = memo_index(m->slots[i].pc, cap);
        while (slots[k].pc)
            k = (k + 1) & (cap - 1);
        slots[k] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

static struct pc_memo_slot memo_lookup(const struct stack_symbols *m, uint64_t pc) {
    return (struct pc_memo_slot){pc, frame_of(m->pcln, m->load_bias, pc),
                                 is_runtime_pc(m->pcln, m->load_bias, pc, m->minor)};
}

/* The answer for pc, from the memo (or computed into *spare when the table cannot grow). */
static const struct pc_memo_slot *memo_get(struct stack_symbols *m, uint64_t pc, struct pc_memo_slot *spare) {
    if (pc == 0 || ((m->used + 1) * 2 > m->cap && !memo_grow(m))) {
        *spare = memo_lookup(m, pc);
        return spare;
    }
    size_t k = memo_index(pc, m->cap);
    while (m->slots[k].pc && m->slots[k].pc != pc)
        k = (k + 1) & (m->cap - 1);
    if (!m->slots[k].pc) {
        m->slots[k] = memo_lookup(m, pc);
        m->used++;
    }
    return &m->slots[k];
}

bool stack_pc_is_runtime(struct stack_symbols *s, uint64_t pc) {
    struct pc_memo_slot spare;
    return memo_get(s, pc, &spare)->runtime;
}

/* elideWrapperCalling: a wrapper is left out unless what it called is a panic. */
static bool elides_wrapper(int minor, uint8_t funcid, const char *callee) {
    return funcid == pclntab_funcid_wrapper(minor) &&
           !(callee && (strcmp(callee, "runtime.gopanic") == 0 || strcmp(callee, "runtime.sigpanic") == 0 ||
                        strcmp(callee, "runtime.panicwrap") == 0));
}

/* runtime_expandFinalInlineFrame (symtab.go): when the last PC is inside inlined code (a stack cut at the
 * depth limit), its outer inlined frames are added, each as the PC after its call site. The PCs that stand
 * for the last one in tail (itself alone in the common case); returns how many. */
static size_t final_inline_frames(struct stack_symbols *s, uint64_t last, uint64_t tail[STACK_MAX_INLINE]) {
    struct pc_memo_slot spare;
    struct go_func fn;
    struct go_frame frames[STACK_MAX_INLINE];
    tail[0] = last;
    if (!memo_get(s, last, &spare)->frame.f.inlined)
        return 1; /* the common case, answered by the memo: the last frame is a physical one */
    if (!pclntab_func_at(s->pcln, last - 1 - s->load_bias, &fn))
        return 1;
    int nf = pclntab_frames(s->pcln, &fn, last - 1 - s->load_bias, frames, STACK_MAX_INLINE);
    if (nf < 2)
        return 1; /* nothing inlined there */
    size_t len = 0;
    const char *callee = NULL; /* abi.FuncIDNormal */
    for (int i = 0; i < nf; i++) {
        bool physical_before_121 = i == nf - 1 && s->minor < 21; /* added unchecked before inlineUnwinder */
        if (physical_before_121 || !elides_wrapper(s->minor, frames[i].funcid, callee))
            tail[len++] = frames[i].pc + s->load_bias + 1;
        callee = frames[i].function;
    }
    return len;
}

/* The PCs of one physical frame, gathered as runtime/pprof's pcDeck gathers them (proto.go tryAdd): a PC
 * joins when the frame before it is inlined into the same function and is not the same function (recursion).
 */
struct deck {
    struct profile_line lines[STACK_MAX_INLINE];
    size_t n;
    uint64_t address;
    bool last_inlined;
    uint64_t last_entry;
    const char *last_function;
};

static bool deck_joins(const struct deck *d, const struct pc_frame *f) {
    return d->n == 0 || (d->n < STACK_MAX_INLINE && d->last_inlined && d->last_entry == f->entry &&
                         strcmp(d->last_function, f->f.function) != 0);
}

static void deck_add(struct deck *d, const struct pc_frame *f) {
    if (d->n == 0)
        d->address = f->frame_pc;
    d->lines[d->n++] = (struct profile_line){f->f.function, f->f.file, f->f.line, f->f.start_line};
    d->last_inlined = f->f.inlined;
    d->last_entry = f->entry;
    d->last_function = f->f.function;
}

/* Emits the deck as one location; appends its ID to locs. */
static void deck_emit(struct deck *d, struct profile_builder *p, uint64_t mapping, uint64_t *locs, size_t *n,
                      size_t max) {
    if (d->n == 0)
        return;
    uint64_t id = profile_location(p, mapping, d->address, d->lines, d->n);
    if (id && *n < max)
        locs[(*n)++] = id;
    d->n = 0;
}

size_t stack_locations(struct profile_builder *p, uint64_t mapping, struct stack_symbols *s,
                       const uint64_t *stk, size_t n, uint64_t *locs, size_t max) {
    uint64_t tail[STACK_MAX_INLINE];
    size_t ntail = n ? final_inline_frames(s, stk[n - 1], tail) : 0, total = n ? n - 1 + ntail : 0;
    struct deck d = {0};
    size_t nlocs = 0;
    for (size_t i = 0; i < total; i++) {
        struct pc_memo_slot spare;
        struct pc_frame f = memo_get(s, i < n - 1 ? stk[i] : tail[i - (n - 1)], &spare)->frame;
        if (!f.found || strcmp(f.f.function, "runtime.goexit") == 0) {
            deck_emit(&d, p, mapping, locs, &nlocs, max);
            continue;
        }
        if (!deck_joins(&d, &f))
            deck_emit(&d, p, mapping, locs, &nlocs, max);
        deck_add(&d, &f);
    }
    deck_emit(&d, p, mapping, locs, &nlocs, max);
    return nlocs;
}

/* runtime.(*Frames).Next (symtab.go, 1.23+): a PC is looked up at itself, then backed up into its CALL; when
 * the innermost frame there is inlined and PCs follow, the PC after the call site of the next outer frame
 * is inserted unless it is already the next PC (a stack whose PCs were partly expanded), wrappers left out
 * as Callers leaves them. The last PC is never expanded: Next only looks while PCs remain. */
size_t stack_expand_inlined(struct stack_symbols *s, const uint64_t *stk, size_t n, uint64_t *out,
                            size_t max) {
    size_t got = 0, i = 0;
    uint64_t next_pc = 0;
    while (got < max && i < n) {
        uint64_t pc;
        if (next_pc) {
            pc = next_pc;
            next_pc = 0;
        } else {
            pc = stk[i++];
        }
        struct go_func fn;
        struct go_frame frames[STACK_MAX_INLINE];
        uint64_t at = pc - s->load_bias;
        if (!pclntab_func_at(s->pcln, at, &fn))
            continue;
        if (at > fn.entry)
            at--;
        int nf = pclntab_frames(s->pcln, &fn, at, frames, STACK_MAX_INLINE);
        if (nf < 1)
            continue;
        out[got++] = at + s->load_bias + 1; /* Frame.PC + 1 */
        for (int k = 1; k < nf && frames[0].inlined && i < n; k++) {
            uint64_t outer = frames[k].pc + s->load_bias + 1;
            if (stk[i] == outer)
                break;
            if (elides_wrapper(s->minor, frames[k].funcid, frames[0].function))
                continue;
            next_pc = outer;
            break;
        }
    }
    return got;
}
