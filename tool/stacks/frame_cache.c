#include "frame_cache.h"

#include <stdlib.h>
#include <string.h>

bool frame_cache_init(struct frame_cache *c, const struct pclntab *t) {
    c->t = t;
    c->slots = calloc(FRAME_CACHE_SLOTS, sizeof(*c->slots));
    return c->slots != NULL;
}

void frame_cache_free(struct frame_cache *c) {
    free(c->slots);
    c->slots = NULL;
}

static struct frame_cache_entry *slot(struct frame_cache *c, uint64_t pc) {
    uint64_t h = pc * 0x9e3779b97f4a7c15ull;
    return &c->slots[(h >> 32) % FRAME_CACHE_SLOTS];
}

const struct frame_cache_entry *frame_cache_func(struct frame_cache *c, uint64_t pc) {
    struct frame_cache_entry *e = slot(c, pc);
    if (e->pc != pc || pc == 0) {
        memset(e, 0, sizeof(*e));
        e->pc = pc;
        e->found = pclntab_func_at(c->t, pc, &e->fn);
        e->sp_delta = e->found ? pclntab_sp_delta(c->t, &e->fn, pc) : -1;
    }
    return e->found ? e : NULL;
}

int frame_cache_frames(struct frame_cache *c, uint64_t pc, bool trap, struct go_frame *out, int max,
                       int32_t *live_index) {
    const struct frame_cache_entry *found = frame_cache_func(c, pc);
    if (!found)
        return 0;
    struct frame_cache_entry *e = slot(c, pc);
    uint64_t sym_pc = trap || pc == e->fn.entry ? pc : pc - 1;
    int v = trap ? 1 : 0;
    if (!e->expanded[v]) {
        struct go_frame all[64];
        int n = pclntab_frames(c->t, &e->fn, sym_pc, all, 64);
        e->live_index[v] = pclntab_pcdata(c->t, &e->fn, PCDATA_ARG_LIVE_INDEX, sym_pc);
        if (n > FRAME_CACHE_MAX_INLINED) { /* too deep to keep: answered without the cache */
            *live_index = e->live_index[v];
            int k = n < max ? n : max;
            memcpy(out, all, (size_t)k * sizeof(*out));
            return k;
        }
        memcpy(e->frames[v], all, (size_t)n * sizeof(*all));
        e->nframes[v] = n;
        e->expanded[v] = true;
    }
    *live_index = e->live_index[v];
    int k = e->nframes[v] < max ? e->nframes[v] : max;
    memcpy(out, e->frames[v], (size_t)k * sizeof(*out));
    return k;
}
