/* The running kernel's release, for the choices that depend on it: which NOPs its uprobes step over
 * (x86_calls.c), whether the live slots' BPF compare-and-swap exists (live_slots.c), whether reading a map
 * needs a capability (privileges.c). */
#ifndef GMON_KERNEL_RELEASE_H
#define GMON_KERNEL_RELEASE_H
#include <stdbool.h>

/* major.minor of the running kernel, from uname; false (both left as they were) when it cannot be read. */
bool kernel_release(int *major, int *minor);

/* Whether release major.minor is want_major.want_minor or later. */
static inline bool release_at_least(int major, int minor, int want_major, int want_minor) {
    return major > want_major || (major == want_major && minor >= want_minor);
}

#endif
