/* Host side of the allocation probes (malloc.bpf.c): finds the allocator functions of the target's Go
 * release, compiles the program with the release's size classes, attaches it, and reads the per-class counts
 * and (with
 * --by site) the allocating stacks. */
#ifndef GMON_MALLOC_PROBES_H
#define GMON_MALLOC_PROBES_H
#include <stdbool.h>
#include <stdint.h>
#include "bpf_program.h"
#include "go_binary.h"
#include "go_size_classes.h"
#include "malloc_event.h"
#include "probe_plan.h"
#include "runtime_layout.h"

enum { MALLOC_MAX_FUNCTIONS = 48 };

/* The functions an allocation passes through exactly once: runtime.mallocgc before Go 1.24; from 1.24 the
 * allocators it dispatches to (every runtime.mallocgc<Kind>, including 1.27's size-specialised *SC<n>, but
 * not their *SlowPath helpers), found by name in the binary. */
struct malloc_functions {
    size_t n;
    char *names[MALLOC_MAX_FUNCTIONS];
    struct probe_site sites[MALLOC_MAX_FUNCTIONS];
};
int malloc_functions_find(const struct go_binary *b, struct malloc_functions *out, struct gmon_error *err);
/* The memory profiler's sampling point instead: runtime.profilealloc(mp, x, size) (malloc.go, Go 1.17-1.27),
 * which the allocator calls for the allocations it samples, one per runtime.MemProfileRate bytes on
 * average. Refused (err says why) when the binary has no such function. */
int malloc_sampling_point_find(const struct go_binary *b, struct malloc_functions *out,
                               struct gmon_error *err);
void malloc_functions_free(struct malloc_functions *f);

struct malloc_probe_options {
    const struct runtime_layout *layout;
    const char *attach_path;
    int pid; /* one process, or -1 for every process running attach_path */
    const struct go_size_classes *classes;
    unsigned sample; /* 1: every allocation */
    bool by_site;
    bool sampling_point; /* the functions are malloc_sampling_point_find's: the size is their 3rd argument */
};

struct malloc_probes {
    struct bpf_program prog;
    int classes_fd, sites_fd, stacks_fd, counters_fd, ip_fd;
    const struct malloc_functions *functions;
    int ncpus;
};

int malloc_probes_open(struct malloc_probes *mp, const struct malloc_probe_options *o,
                       const struct malloc_functions *fns, struct gmon_error *err);
/* Sampled counts and bytes per size class (index 0: large), summed over CPUs. */
void malloc_probes_classes(struct malloc_probes *mp, struct malloc_class_stat out[MALLOC_CLASSES]);
typedef void (*malloc_site_fn)(void *ctx, const struct malloc_site_key *key,
                               const struct malloc_class_stat *stat);
void malloc_probes_for_each_site(struct malloc_probes *mp, malloc_site_fn fn, void *ctx);
/* The return addresses of a stored stack (the allocator's caller first); the depth, 0 when unknown. */
int malloc_probes_stack(struct malloc_probes *mp, uint64_t stack, uint64_t *pcs, int max);
/* The load bias of the binary in process tgid (0 when not PIE), from where a probe fired in it (--by site);
 * works after the process exited. False when no probe fired there. */
bool malloc_probes_load_bias(struct malloc_probes *mp, uint32_t tgid, uint64_t *bias);
void malloc_probes_counters(struct malloc_probes *mp, uint64_t out[MALLOC_COUNTERS]);
/* Detaches the probes: the maps and counters read afterwards are final. */
void malloc_probes_detach(struct malloc_probes *mp);
void malloc_probes_close(struct malloc_probes *mp);

#endif
