/* The collectors the lifecycle monitor can add to its /metrics next to the goroutine series
 * (--collect gc,sched,malloc,blocked,runtime): GC cycles and stop-the-world pauses (gc probes, paired by
 * gc_cycles), the runtime's own scheduling-latency histogram (read at each scrape, no probe), every
 * scheduling and blocked time per wait reason (sched probes), allocations by size class (the runtime's
 * counters for one process unsampled, else malloc probes), gmon exporter's families (read). Each owns its
 * probes or readers; the metrics thread renders them while the main loop feeds the GC pairing. */
#ifndef GMON_RUNTIME_COLLECTORS_H
#define GMON_RUNTIME_COLLECTORS_H
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "gc_probes.h"
#include "gc_cycles.h"
#include "go_size_classes.h"
#include "go_string_table.h"
#include "malloc_probes.h"
#include "process_watch.h"
#include "sched_probes.h"
#include "traced_program.h"

struct exporter_targets;
struct size_class_reader;
struct size_class_counts;

enum { COLLECT_GC = 1, COLLECT_SCHED = 2, COLLECT_MALLOC = 4, COLLECT_RUNTIME = 8, COLLECT_BLOCKED = 16 };

/* Stop-the-world pause histogram bounds (seconds): 10 us to 1 s. */
enum { PAUSE_BUCKETS = 12 };

struct pause_series {
    char reason[64];
    uint64_t buckets[PAUSE_BUCKETS]; /* not cumulative; the last is +Inf */
    double sum_s;
};

struct runtime_collectors {
    unsigned which; /* COLLECT_* */
    unsigned malloc_sample;
    pthread_mutex_t lock; /* guards the GC totals: fed by the main loop, read by the metrics thread */
    const struct traced_program *prog;
    struct process_watch *procs;
    /* gc */
    struct gc_probes gc;
    struct gc_cycles cycles;
    struct go_string_table stw_reasons;
    uint64_t cycles_by_trigger[GC_TRIGGER_UNKNOWN + 1];
    double mark_s;
    struct pause_series pauses[32];
    size_t npauses;
    /* sched: the runtime's sched.timeToRun, read at each scrape by an exporter reader of its own (when
     * runtime, which serves the same family, is not on); blocked: the probes */
    struct exporter_targets *sched_reader;
    struct sched_probes sched;
    struct go_string_table wait_reasons;
    bool have_wait_reasons;
    /* malloc */
    struct go_size_classes classes;
    struct malloc_functions functions;
    struct malloc_probes malloc;
    /* malloc of one process, unsampled: the runtime's own per-class counters instead of probes (the metrics
     * thread reads them at each scrape, less those when gmon attached) */
    struct size_class_reader *malloc_counters;
    struct size_class_counts *malloc_start;
    /* runtime: gmon exporter's families, read from the processes' memory at each scrape (no probe); touched
     * by the metrics thread alone once open */
    struct exporter_targets *runtime;
    bool opened;
};

/* Parses "goroutines,gc,sched,malloc,blocked,runtime" (goroutines are always collected). Returns 0, or -1
 * after printing what is wrong. */
int runtime_collectors_parse(const char *list, unsigned *which);
/* Compiles and attaches the chosen collectors' probes (sched, malloc of one process unsampled, and runtime
 * need none: they read). procs gives load biases (PIE) to the GC caller names.
 */
int runtime_collectors_open(struct runtime_collectors *c, unsigned which, unsigned malloc_sample,
                            const struct traced_program *prog, struct process_watch *procs, bool perf_buffer,
                            struct gmon_error *err);
/* Delivers pending GC events (main loop). */
int runtime_collectors_poll(struct runtime_collectors *c);
/* Appends the collectors' families to a /metrics response (metrics thread). */
void runtime_collectors_render(struct runtime_collectors *c, FILE *out);
/* Uprobes the collectors attached. */
size_t runtime_collectors_probes(const struct runtime_collectors *c);
/* Detaches every collector's probes and feeds the GC pairing what was still buffered: what is rendered
 * afterwards is final. */
void runtime_collectors_detach(struct runtime_collectors *c);
void runtime_collectors_close(struct runtime_collectors *c);

#endif
