/* Host side of the scheduler probes (sched.bpf.c): compiles the program for one Go runtime layout, attaches
 * it to runtime.casgstatus, and reads the histograms and totals it aggregates per process: scheduling latency
 * (runnable -> running) and time blocked per wait reason. */
#ifndef GMON_SCHED_PROBES_H
#define GMON_SCHED_PROBES_H
#include <stdbool.h>
#include <stdint.h>
#include "bpf_program.h"
#include "probe_plan.h"
#include "runtime_layout.h"
#include "sched_event.h"

struct sched_probe_options {
    const struct runtime_layout *layout;
    const char *attach_path;
    int pid; /* one process, or -1 for every process running attach_path */
    unsigned max_goroutines;
};

struct sched_probes {
    struct bpf_program prog;
    int slots_fd, totals_fd, counters_fd;
    int ncpus;
};

int sched_probes_open(struct sched_probes *sp, const struct sched_probe_options *o,
                      const struct probe_plan *plan, struct gmon_error *err);
/* Every non-empty histogram slot and every total (key.slot 0), per process and reason; counts only grow. */
typedef void (*sched_slot_fn)(void *ctx, const struct sched_slot_key *key, uint64_t count);
typedef void (*sched_total_fn)(void *ctx, const struct sched_slot_key *key, const struct sched_total *total);
void sched_probes_for_each(struct sched_probes *sp, sched_slot_fn on_slot, sched_total_fn on_total,
                           void *ctx);
void sched_probes_counters(struct sched_probes *sp, uint64_t out[SCHED_COUNTERS]);
/* Detaches the probes: the maps read afterwards are final. */
void sched_probes_detach(struct sched_probes *sp);
void sched_probes_close(struct sched_probes *sp);

#endif
