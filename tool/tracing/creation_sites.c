#include "creation_sites.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow_array.h"

static const char OTHER[] = "other";
static const char NONE[] = "none"; /* the seed gmon's filler for stacks shorter than five frames */

void creation_sites_init(struct creation_sites *cs, const struct go_binary *bin,
                         struct lifecycle_probes *probes, site_bias_fn bias, void *bias_ctx,
                         size_t max_label_sets) {
    memset(cs, 0, sizeof(*cs));
    cs->bin = bin;
    cs->probes = probes;
    cs->bias = bias;
    cs->bias_ctx = bias_ctx;
    cs->max_label_sets = max_label_sets ? max_label_sets : 1;
    cs->other = SIZE_MAX;
    pc_cache_init(&cs->names, &bin->pcln, PC_FUNC);
}

static void free_site(struct site *s) {
    for (size_t f = 0; f < s->nframes; f++)
        free(s->frames[f]);
    free(s->log_attrs);
    free(s->ident_attrs);
}

void creation_sites_free(struct creation_sites *cs) {
    for (size_t i = 0; i < cs->capacity; i++)
        free_site(&cs->table[i]);
    for (size_t i = 0; i < cs->nsets; i++)
        for (int l = 0; l < SITE_LABELS; l++)
            free(cs->sets[i].labels[l]);
    free(cs->table);
    free(cs->sets);
    pc_cache_free(&cs->names);
    memset(cs, 0, sizeof(*cs));
}

static uint64_t hash_key(const struct site_key *k) {
    uint64_t h = k->gopc * 0x9E3779B97F4A7C15ULL;
    h ^= (k->stack + k->tgid + ((uint64_t)k->image << 32)) * 0xC2B2AE3D27D4EB4FULL;
    return h ^ (h >> 29);
}

static bool same_key(const struct site_key *a, const struct site_key *b) {
    return a->tgid == b->tgid && a->image == b->image && a->stack == b->stack && a->gopc == b->gopc;
}

static struct site *slot_for(struct site *table, size_t capacity, const struct site_key *key) {
    for (size_t i = hash_key(key) & (capacity - 1);; i = (i + 1) & (capacity - 1))
        if (!table[i].used || same_key(&table[i].key, key))
            return &table[i];
}

/* Moves the sites into a new table of the given capacity, leaving out (and freeing) those of process
 * drop_tgid (0: none). */
static int rehash(struct creation_sites *cs, size_t capacity, uint32_t drop_tgid) {
    struct site *table = calloc(capacity, sizeof(*table));
    if (!table)
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < cs->capacity; i++) {
        struct site *s = &cs->table[i];
        if (!s->used)
            continue;
        if (drop_tgid && s->key.tgid == drop_tgid) {
            free_site(s);
            continue;
        }
        *slot_for(table, capacity, &s->key) = *s;
        kept++;
    }
    free(cs->table);
    cs->table = table;
    cs->capacity = capacity;
    cs->nsites = kept;
    return 0;
}

static int grow_table(struct creation_sites *cs) {
    return rehash(cs, cs->capacity ? cs->capacity * 2 : 256, 0);
}

void creation_sites_forget_process(struct creation_sites *cs, uint32_t tgid) {
    if (cs->capacity)
        rehash(cs, cs->capacity, tgid); /* out of memory: the sites stay, which is only a waste */
}

static void add_frame(struct site *s, const char *name) {
    if (s->nframes < SITE_MAX_FRAMES)
        s->frames[s->nframes++] = strdup(name);
}

static void add_hex_frame(struct site *s, uint64_t pc) {
    char hex[32];
    snprintf(hex, sizeof(hex), "%#" PRIx64, pc);
    add_frame(s, hex);
}

/* Appends the logical frames at a return address (inlined ones first). */
static void add_frames_at(struct creation_sites *cs, struct site *s, uint64_t return_pc, uint64_t bias) {
    struct go_frame frames[16];
    int n = pclntab_frames_at_return(&cs->bin->pcln, return_pc - bias, frames, 16);
    if (n == 0) {
        add_hex_frame(s, return_pc);
        return;
    }
    for (int i = 0; i < n; i++)
        add_frame(s, frames[i].function);
    if (s->location[0] == 0 && n > 0)
        snprintf(s->location, sizeof(s->location), "%s:%d", frames[0].file, frames[0].line);
}

/* A site's frames are named with the bias of the program that created it: after an exec of the same binary
 * the process's sites of the earlier program are still named (gr seq, the lifecycle monitor's retired ones).
 */
static uint64_t load_bias(struct creation_sites *cs, uint32_t tgid, uint32_t image) {
    uint64_t bias = 0;
    if (cs->bias)
        cs->bias(cs->bias_ctx, tgid, image, &bias);
    return bias;
}

static void symbolize(struct creation_sites *cs, struct site *s) {
    uint64_t bias = load_bias(cs, s->key.tgid, s->key.image);
    uint64_t pcs[LIFECYCLE_STACK_DEPTH];
    int depth = lifecycle_stack(cs->probes, s->key.stack, pcs, LIFECYCLE_STACK_DEPTH);
    if (depth == 0) { /* no stack (the walk failed): g.gopc alone names the site */
        add_frames_at(cs, s, s->key.gopc, bias);
        return;
    }
    for (int i = 0; i < depth; i++) /* pcs[0] is g.gopc: the BPF walk skipped the runtime's frames */
        add_frames_at(cs, s, pcs[i], bias);
}

static bool same_labels(const struct label_set *set, char *const *labels) {
    for (int l = 0; l < SITE_LABELS; l++)
        if (strcmp(set->labels[l], labels[l]) != 0)
            return false;
    return true;
}

static size_t append_set(struct creation_sites *cs, const char *const *labels) {
    struct label_set *sets = grow_array(cs->sets, &cs->sets_cap, cs->nsets, sizeof(*sets), 64);
    if (!sets)
        return SIZE_MAX;
    cs->sets = sets;
    struct label_set *set = &cs->sets[cs->nsets];
    memset(set, 0, sizeof(*set));
    for (int l = 0; l < SITE_LABELS; l++)
        set->labels[l] = strdup(labels[l]);
    return cs->nsets++;
}

static size_t label_set_for(struct creation_sites *cs, const struct site *s) {
    char *labels[SITE_LABELS];
    for (int l = 0; l < SITE_LABELS; l++)
        labels[l] = (size_t)l < s->nframes ? s->frames[l] : (char *)NONE;
    for (size_t i = 0; i < cs->nsets; i++)
        if (i != cs->other && same_labels(&cs->sets[i], labels))
            return i;
    size_t real_sets = cs->nsets - (cs->other != SIZE_MAX);
    if (real_sets < cs->max_label_sets)
        return append_set(cs, (const char *const *)labels);
    cs->folded_sites++;
    if (cs->other == SIZE_MAX) {
        const char *other[SITE_LABELS] = {OTHER, OTHER, OTHER, OTHER, OTHER};
        cs->other = append_set(cs, other);
    }
    return cs->other;
}

struct site *creation_sites_get(struct creation_sites *cs, const struct site_key *key) {
    if (cs->capacity == 0 || (cs->nsites + 1) * 2 > cs->capacity)
        if (grow_table(cs) != 0)
            return NULL;
    struct site *s = slot_for(cs->table, cs->capacity, key);
    if (s->used)
        return s;
    s->used = true;
    s->key = *key;
    cs->nsites++;
    symbolize(cs, s);
    s->label_set = label_set_for(cs, s);
    if (s->label_set == SIZE_MAX)
        s->label_set = 0;
    return s;
}

void creation_sites_function_name(struct creation_sites *cs, uint32_t tgid, uint64_t pc, char *out,
                                  size_t size) {
    const struct pc_symbol *sym =
        pc ? pc_cache_get(&cs->names, pc - load_bias(cs, tgid, SITE_IMAGE_CURRENT)) : NULL;
    if (sym && sym->n > 0)
        snprintf(out, size, "%s", sym->inner.function);
    else
        snprintf(out, size, "%#" PRIx64, pc);
}

const char *creation_sites_start_name(struct creation_sites *cs, struct site *s, uint32_t tgid,
                                      uint64_t startpc) {
    if (!s->startpc_name[0] || s->named_startpc != startpc) {
        creation_sites_function_name(cs, tgid, startpc, s->startpc_name, sizeof(s->startpc_name));
        s->named_startpc = startpc;
    }
    return s->startpc_name;
}
