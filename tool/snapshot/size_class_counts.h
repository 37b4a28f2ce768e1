/* The allocations a Go program has made, by size class, from the runtime's own counters (no probe): the sum
 * of memstats.heapStats' per-class counts, corrected by what the spans the Ps' mcaches hold put between
 * those and the allocations made (runtime_metrics_cached_adjust); large objects (class 0) by count and
 * bytes. What gmon gm shows without --by site. */
#ifndef GMON_SIZE_CLASS_COUNTS_H
#define GMON_SIZE_CLASS_COUNTS_H
#include <stdbool.h>
#include <stdint.h>

#include "goroutine_snapshot.h"
#include "runtime_metrics.h"

struct size_class_counts {
    uint64_t count[GO_SIZE_CLASSES_MAX]; /* objects allocated; [0]: large objects */
    uint64_t bytes[GO_SIZE_CLASSES_MAX]; /* count x the class's size; [0]: the large objects' bytes */
    uint64_t tiny; /* tiny allocations, combined into 16-byte blocks counted in their class */
    int retries;   /* reads taken again because a span was cached or uncached meanwhile */
};

struct size_class_reader {
    struct goroutine_snapshot *snap;
    struct go_size_classes classes;
    char why_not[192];
};

/* Opens process pid (bin: an unstripped build of it, or NULL). */
int size_class_reader_open(struct size_class_reader *r, int pid, const char *bin, struct gmon_error *err);
/* The counts now; false (why_not says why) when they cannot be read, or the process is gone. */
bool size_class_reader_read(struct size_class_reader *r, struct size_class_counts *out);
void size_class_reader_close(struct size_class_reader *r);

#endif
