/* The series of gmon exporter: what client_golang's Go and process collectors report of a program (the names,
 * types, help texts and values of client_golang 1.14's default registry), then what the runtime keeps beyond
 * that set, under the names client_golang gives runtime/metrics, computed from the figures runtime_metrics.h
 * and process_stats.h read from outside. One or several processes: with several, every series has a pid
 * label. A figure that could not be read is left out, never written as zero. */
#ifndef GMON_GO_EXPORTER_H
#define GMON_GO_EXPORTER_H
#include <stdbool.h>
#include <stdio.h>

#include "process_stats.h"
#include "runtime_metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything one scrape read of one process. */
struct exporter_target {
    int pid;
    char go_version[64]; /* runtime.Version(), for go_info */
    int gomaxprocs;      /* len(allp); <= 0: unknown */
    int minor;           /* Go 1.x: the runtime/metrics descriptions changed between releases */
    bool have_runtime;   /* the runtime's figures were read (m), else only the process's */
    struct runtime_metrics m;
    struct go_memstats memstats; /* computed from m */
    struct go_rm_figures rm;     /* runtime/metrics' /gc/heap/... and /memory/classes/..., computed from m */
    struct process_stats process;
};

/* Fills t->memstats from t->m. */
void exporter_target_compute(struct exporter_target *t);

/* Writes the families, sorted by name as client_golang's registry sorts them, with the samples of the n
 * targets (a pid label on each when pid_label); only the family named only when it is not NULL. */
void go_exporter_render(FILE *out, const struct exporter_target *targets, int n, bool pid_label,
                        const char *only);

/* The families go_exporter_render writes, in order, for tests: name and type. */
struct exporter_family_info {
    const char *name, *type, *help;
};
int go_exporter_families(const struct exporter_family_info **out);

#ifdef __cplusplus
}
#endif

#endif
