#include "stack_groups.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fnv1a.h"

void stack_groups_init(struct stack_groups *g) {
    memset(g, 0, sizeof(*g));
}

void stack_groups_free(struct stack_groups *g) {
    for (size_t i = 0; i < g->n; i++) {
        free(g->groups[i].key);
        free(g->groups[i].goids);
    }
    free(g->groups);
    free(g->slots);
    memset(g, 0, sizeof(*g));
}

static bool rehash(struct stack_groups *g) {
    size_t nslots = g->nslots ? g->nslots * 2 : 64;
    size_t *slots = calloc(nslots, sizeof(*slots));
    if (!slots)
        return false;
    for (size_t i = 0; i < g->n; i++) {
        size_t at = fnv1a_text(g->groups[i].key) & (nslots - 1);
        while (slots[at])
            at = (at + 1) & (nslots - 1);
        slots[at] = i + 1;
    }
    free(g->slots);
    g->slots = slots;
    g->nslots = nslots;
    return true;
}

static struct stack_group *find_or_add(struct stack_groups *g, const char *key) {
    if ((g->n + 1) * 2 > g->nslots && !rehash(g))
        return NULL;
    size_t at = fnv1a_text(key) & (g->nslots - 1);
    for (; g->slots[at]; at = (at + 1) & (g->nslots - 1))
        if (strcmp(g->groups[g->slots[at] - 1].key, key) == 0)
            return &g->groups[g->slots[at] - 1];
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        struct stack_group *groups = realloc(g->groups, cap * sizeof(*groups));
        if (!groups)
            return NULL;
        g->groups = groups;
        g->cap = cap;
    }
    struct stack_group *grp = &g->groups[g->n];
    *grp = (struct stack_group){.key = strdup(key), .order = g->n};
    if (!grp->key)
        return NULL;
    g->slots[at] = ++g->n;
    return grp;
}

bool stack_groups_add(struct stack_groups *g, const char *key, uint64_t goid) {
    struct stack_group *grp = find_or_add(g, key);
    if (!grp)
        return false;
    if (grp->ngoids == grp->goids_cap) {
        size_t cap = grp->goids_cap ? grp->goids_cap * 2 : 4;
        uint64_t *ids = realloc(grp->goids, cap * sizeof(*ids));
        if (!ids)
            return false;
        grp->goids = ids;
        grp->goids_cap = cap;
    }
    grp->goids[grp->ngoids++] = goid;
    grp->count++;
    return true;
}

static int by_count(const void *a, const void *b) {
    const struct stack_group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->order < y->order ? -1 : 1;
}

void stack_groups_print(struct stack_groups *g, FILE *out) {
    if (g->n > 1) /* none: groups may be NULL, which qsort must not be given */
        qsort(g->groups, g->n, sizeof(*g->groups), by_count);
    free(g->slots); /* the order changed: lookups are over */
    g->slots = NULL;
    g->nslots = 0;
    for (size_t i = 0; i < g->n; i++) {
        const struct stack_group *grp = &g->groups[i];
        const char *body = strchr(grp->key, '\n');
        int status_len = body ? (int)(body - grp->key) : (int)strlen(grp->key);
        fprintf(out, "%s%zu goroutine%s [%.*s]:", i ? "\n" : "", grp->count, grp->count == 1 ? "" : "s",
                status_len, grp->key);
        for (size_t j = 0; j < grp->ngoids; j++)
            fprintf(out, " %" PRIu64, grp->goids[j]);
        fprintf(out, "\n%s", body ? body + 1 : "");
    }
}
