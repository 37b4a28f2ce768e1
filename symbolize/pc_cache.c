#include "pc_cache.h"

#include <stdlib.h>
#include <string.h>

#include "go_runtime_code.h"

void pc_cache_init(struct pc_cache *c, const struct pclntab *t, enum pc_lookup lookup) {
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->lookup = lookup;
}

void pc_cache_free(struct pc_cache *c) {
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i].text), free(c->slots[i].json);
    free(c->uncached.text), free(c->uncached.json);
    c->uncached.text = c->uncached.json = NULL;
    free(c->slots);
    c->slots = NULL;
    c->cap = c->used = 0;
}

static size_t slot_of(uint64_t pc, size_t cap) {
    return (size_t)((pc * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static struct pc_symbol *find_slot(struct pc_symbol *slots, size_t cap, uint64_t pc) {
    size_t i = slot_of(pc, cap);
    while (slots[i].pc && slots[i].pc != pc)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* Doubles the table (from 256 slots); false when out of memory. */
static bool grow(struct pc_cache *c) {
    size_t cap = c->cap ? c->cap * 2 : 256;
    struct pc_symbol *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return false;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].pc)
            *find_slot(slots, cap, c->slots[i].pc) = c->slots[i];
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return true;
}

static void find_frames(const struct pc_cache *c, uint64_t pc, struct pc_symbol *out) {
    if (c->lookup == PC_FUNC) {
        struct go_func fn;
        if (pclntab_func_at(c->t, pc, &fn)) {
            out->n = 1;
            out->inner = out->outer = (struct go_frame){.function = fn.name, .file = "?"};
        }
        return;
    }
    struct go_frame f[16];
    out->n = pclntab_frames_at_return(c->t, pc, f, 16);
    if (out->n > 0) {
        out->inner = f[0];
        out->outer = f[out->n - 1];
    }
}

static void look_up(const struct pc_cache *c, uint64_t pc, struct pc_symbol *out) {
    *out = (struct pc_symbol){.pc = pc};
    find_frames(c, pc, out);
    if (out->n > 0) {
        /* asked of every frame of every goroutine a snapshot walks: answered once per PC */
        out->inner_in_runtime = go_is_runtime_function(out->inner.function);
        out->outer_is_goexit = strcmp(out->outer.function, "runtime.goexit") == 0;
    }
}

const struct pc_symbol *pc_cache_get(struct pc_cache *c, uint64_t pc) {
    static const struct pc_symbol none; /* immutable: shared by every cache and thread */
    if (!pc)
        return &none;
    if (c->cap) {
        struct pc_symbol *s = find_slot(c->slots, c->cap, pc);
        if (s->pc == pc)
            return s;
    }
    c->misses++;
    if ((c->used + 1) * 2 > c->cap && !grow(c)) {
        free(c->uncached.text), free(c->uncached.json);
        look_up(c, pc, &c->uncached); /* answered, not kept: valid until the next call on this cache */
        return &c->uncached;
    }
    struct pc_symbol *s = find_slot(c->slots, c->cap, pc);
    look_up(c, pc, s);
    c->used++;
    return s;
}

/* Replaces a rendering kept in a cache's own slot (handed out read-only) with a copy of text. */
static const char *keep(char **field, const char *text) {
    free(*field);
    *field = strdup(text);
    return *field;
}

const char *pc_cache_keep_text(const struct pc_symbol *sym, const char *text) {
    return keep(&((struct pc_symbol *)sym)->text, text);
}

const char *pc_cache_keep_json(const struct pc_symbol *sym, const char *json) {
    return keep(&((struct pc_symbol *)sym)->json, json);
}
