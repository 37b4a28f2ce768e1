/* Host side of the CPU profiler (cpu_profile.bpf.c): compiles the program for one Go runtime layout,
 * attaches it to a sampling perf event on every online CPU, and reads what it aggregated: each distinct
 * {process, goroutine, labels, thread, user stack, kernel stack} with how many samples saw it. No event per
 * sample reaches user space. */
#ifndef GMON_CPU_PROFILE_PROBES_H
#define GMON_CPU_PROFILE_PROBES_H
#include <stdbool.h>
#include <stdint.h>

#include "bpf_program.h"
#include "cpu_profile_event.h"
#include "runtime_layout.h"

enum { CPU_PROFILE_MIN_HZ = 1, CPU_PROFILE_MAX_HZ = 1000 };

struct cpu_profile_options {
    const struct runtime_layout *layout;
    int pid;          /* one process; 0: every process running the binary at path */
    const char *path; /* with pid 0 */
    int hz;
    long tls_g; /* where g is from FS_base (symbolize/go_tls.h) */
    bool by_goroutine, by_thread, kernel_stacks;
};

struct cpu_profile_probes {
    struct bpf_program prog;
    int samples_fd, stacks_fd, processes_fd, label_sets_fd, counters_fd;
    int ncpus;    /* possible CPUs (per-CPU counters) */
    int attached; /* CPUs sampled */
};

/* Checks that perf events may be opened, compiles, attaches to every online CPU and starts sampling. */
int cpu_profile_open(struct cpu_profile_probes *cp, const struct cpu_profile_options *o,
                     struct gmon_error *err);
/* Stops sampling and detaches: what the maps hold afterwards is final. */
void cpu_profile_detach(struct cpu_profile_probes *cp);

typedef void (*cpu_sample_fn)(void *ctx, const struct cpu_sample_key *key, uint64_t count);
typedef void (*cpu_new_process_fn)(void *ctx, uint32_t tgid);
typedef void (*cpu_new_label_set_fn)(void *ctx, uint32_t tgid, uint64_t labels);
/* The processes and label sets sampled since the last call (each told once): what the host must read while
 * the process runs. */
void cpu_profile_for_each_new(struct cpu_profile_probes *cp, cpu_new_process_fn on_process,
                              cpu_new_label_set_fn on_label_set, void *ctx);
void cpu_profile_for_each_sample(struct cpu_profile_probes *cp, cpu_sample_fn fn, void *ctx);
/* The addresses of a sample's stack (cpu_sample_key's user_stack, kernel_stack, go_stack), innermost first,
 * at most max; 0 when it is not in the map. */
int cpu_profile_stack(struct cpu_profile_probes *cp, uint64_t id, uint64_t *pcs, int max);
/* Sums the per-CPU counters (enum cpu_counter). */
void cpu_profile_counters(struct cpu_profile_probes *cp, uint64_t out[CPU_COUNTERS]);
void cpu_profile_close(struct cpu_profile_probes *cp);

#endif
