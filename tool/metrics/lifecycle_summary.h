/* The one-screen summary gmon prints on stderr when a lifecycle trace ends: totals, the busiest creation
 * sites with their live counts and oldest live goroutine, and every loss. */
#ifndef GMON_LIFECYCLE_SUMMARY_H
#define GMON_LIFECYCLE_SUMMARY_H
#include <stdio.h>
#include "creation_sites.h"
#include "goroutine_metrics.h"

/* process: target_process_text of the --pid target, "" for --path. */
void lifecycle_summary_print(FILE *out, const struct creation_sites *sites,
                             const struct goroutine_stats *stats, const char *target, const char *process,
                             double seconds);

#endif
