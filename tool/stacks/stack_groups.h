/* gmon stacks --group: goroutines whose state and stack (without argument words) are the same, merged, the
 * most numerous first, as pprof's debug=1 and panicparse merge them: the view that shows a leak. */
#ifndef GMON_STACK_GROUPS_H
#define GMON_STACK_GROUPS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct stack_group {
    char *key; /* "status\n" then the traceback lines without arguments */
    size_t count, order;
    uint64_t *goids;
    size_t ngoids, goids_cap;
};

struct stack_groups {
    struct stack_group *groups;
    size_t n, cap;
    size_t *slots; /* open addressing over groups, by hash of key: index + 1, 0 empty */
    size_t nslots;
};

void stack_groups_init(struct stack_groups *g);
void stack_groups_free(struct stack_groups *g);
/* Adds goroutine goid under key (copied); false when out of memory. */
bool stack_groups_add(struct stack_groups *g, const char *key, uint64_t goid);
/* Sorts by count (most first), then by first appearance, and prints each group:
 *   3 goroutines [chan receive]: 18 24 25
 *   main.worker(...)
 *   	/src/app/main.go:42 +0x1d
 * with a blank line between groups. */
void stack_groups_print(struct stack_groups *g, FILE *out);

#endif
