/* A CPU profile in the form Go's own CPU profile has (runtime/pprof, proto.go): sample types samples/count
 * and cpu/nanoseconds, period cpu/nanoseconds, the profile's start and duration, the executable's mapping;
 * Go frames as Go writes them (stack_locations.h: one location per return address, its inlined frames as
 * lines), and what Go's profile cannot show: frames of C code (cgo, shared libraries, the vDSO) named from
 * ELF symbols, and kernel frames from /proc/kallsyms, each file its own mapping. One or more processes of one
 * binary (--path), each known by its PID: its load bias and mappings are learnt while it runs. */
#ifndef GMON_CPU_PPROF_H
#define GMON_CPU_PPROF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"
#include "native_symbols.h"
#include "pclntab.h"
#include "profile_builder.h"
#include "stack_locations.h"

struct cpu_process; /* one process's load bias and mappings, inside the .c */

struct cpu_pprof {
    struct profile_builder p;
    const struct pclntab *pcln;
    const struct elf_image *exe;
    int minor;
    int64_t period_ns;
    struct cpu_process *procs;
    size_t nprocs, procs_cap;
    struct native_symbols kernel;
    bool kernel_read;
    uint64_t kernel_mapping;
    /* Frames outside Go code, those of them without a name; frames of processes whose load bias was never
     * learnt (a PIE process gone before gmon read its mappings). */
    uint64_t native_frames, unnamed_frames, frames_without_bias, unnamed_kernel_frames;
    /* Return addresses that were not code (the frame-pointer chain broken by C code without frame pointers):
     * the stack ends before them. */
    uint64_t cut_stacks;
};

/* One aggregated sample of process pid: its stacks innermost first. user_leaf_exact: user[0] is the
 * interrupted instruction itself (the CPU was in user mode), not a return address. goroutine: the
 * goroutine's own stack (return addresses) when the thread ran C code for it on the system stack (cgo):
 * the C frames of user come first, then these. */
struct cpu_stack_sample {
    int pid;
    const uint64_t *user, *kernel, *goroutine;
    size_t nuser, nkernel, ngoroutine;
    bool user_leaf_exact;
    const struct profile_label *labels;
    size_t nlabels;
    int64_t count;
};

/* A profile of processes running exe (Go release 1.minor, its pclntab pcln), sampled hz times per second. */
bool cpu_pprof_init(struct cpu_pprof *c, const struct elf_image *exe, const struct pclntab *pcln, int minor,
                    int hz);
/* Learns (again: mappings added since) process pid's load bias and executable mappings, while it runs. */
void cpu_pprof_learn_process(struct cpu_pprof *c, int pid);
/* Reads the kernel's symbols (/proc/kallsyms) now: their addresses show only to a process with CAP_SYSLOG,
 * which tracing commands give up once attached. */
bool cpu_pprof_read_kernel_symbols(struct cpu_pprof *c); /* false: no addresses shown (kptr_restrict) */
bool cpu_pprof_add(struct cpu_pprof *c, const struct cpu_stack_sample *s);
/* The profile's window: its start (CLOCK_REALTIME) and length. */
void cpu_pprof_set_window(struct cpu_pprof *c, int64_t start_ns, int64_t duration_ns);
void cpu_pprof_free(struct cpu_pprof *c);

#endif
