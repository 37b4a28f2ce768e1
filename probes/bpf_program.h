/* A BPF program compiled at run time by libbcc (in a child process, or taken from the cache of programs
 * compiled before) and the uprobes it is attached to. Owns every kernel object it creates, so closing it
 * leaves nothing behind on the system (no perf events, no uprobe_events entries). */
#ifndef GMON_BPF_PROGRAM_H
#define GMON_BPF_PROGRAM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "bpf_object.h"
#include "gmon_error.h"
#include "probe_plan.h"

struct attached_probe {
    int perf_fd;
    char event_name[64]; /* for the tracefs fallback of libbcc (unused with the perf uprobe PMU); "" for a
                            sampler */
};

struct bpf_program {
    struct bpf_object object; /* what the compiler child made (or the cache kept) */
    int *map_fds;             /* the object's maps, created in this process */
    int prog_fds[8];
    const char *prog_names[8];
    size_t nprogs;
    struct attached_probe *probes;
    size_t nprobes, cap;
};

/* The -D flags that template a BPF source (runtime offsets, map sizes, switches). */
enum { BPF_MAX_DEFINES = 32 };
struct bpf_defines {
    char text[BPF_MAX_DEFINES][64];
    const char *argv[BPF_MAX_DEFINES];
    size_t n;
};
void bpf_define(struct bpf_defines *d, const char *name, long long value);

/* How many CPUs the kernel may bring up (per-CPU map values have one slot each). */
int bpf_possible_cpus(void);

/* Checks what live tracing needs before compiling anything: privileges, kernel headers for BCC, tracefs
 * (mounted if missing). Each error says how to fix it. */
int bpf_preflight(struct gmon_error *err);

/* The program of source with the given -D flags: from the cache (bpf_cache.h) when it was compiled before,
 * else compiled by libbcc in a child process (bpf_compiler.h) and stored in the cache; then its maps are
 * created. */
int bpf_program_compile(struct bpf_program *p, const char *source, const struct bpf_defines *defines,
                        struct gmon_error *err);
/* How this process's programs were obtained, for the start-up line: "BPF program from the cache", "BPF
 * program compiled and cached", "BPF program compiled; not cached: <why>" (the last reason seen). */
const char *bpf_compile_summary(char *buf, size_t size);

/* Loads the compiled function `name` into the kernel as a uprobe program; returns its fd or -1. */
int bpf_program_load(struct bpf_program *p, const char *name, struct gmon_error *err);
/* The same as a program of another type (BPF_PROG_TYPE_PERF_EVENT: a sampler's). */
int bpf_program_load_as(struct bpf_program *p, const char *name, enum bpf_prog_type type,
                        struct gmon_error *err);
/* Attaches program fd to a sampling perf event on cpu for every process, hz samples per second of CPU time
 * (perf_events.h); detached with the uprobes. */
int bpf_program_attach_sampler(struct bpf_program *p, int prog_fd, int cpu, int hz, struct gmon_error *err);
/* Attaches program fd to a uprobe at a file offset of binary; pid -1 for every process running it. */
int bpf_program_attach_uprobe(struct bpf_program *p, int prog_fd, const char *binary, uint64_t offset,
                              int pid, struct gmon_error *err);
/* Attaches program fd to a uprobe on every RET of a function of the probe plan: how results are read
 * without a uretprobe (which would crash a Go program: docs/design.md). Refuses a function with no RET or
 * more than PROBE_MAX_RETS. */
int bpf_program_attach_rets(struct bpf_program *p, int prog_fd, const char *binary,
                            const struct probe_site *site, int pid, struct gmon_error *err);
/* Sums a BPF_PERCPU_ARRAY of u64 counters (slots 0..n-1) over the CPUs. Slots that cannot be read are 0. */
void bpf_sum_percpu_counters(int map_fd, int ncpus, uint64_t *out, int n);
/* The first bytes of the values of a BPF_F_MMAPABLE array map (fd) mapped into gmon's memory, read and write,
 * whole pages (*mapped_bytes, for munmap). NULL with errno when the kernel refuses. */
void *bpf_map_values(int fd, size_t bytes, size_t *mapped_bytes);
/* The fd of a map (BPF_HASH, ...) declared in the source, or -1. */
int bpf_program_map_fd(struct bpf_program *p, const char *name);
/* Turns the program's probes on, all at once, once every one is attached (gmon_tracing in
 * probe_common.bpf.h): until then they return at once. */
int bpf_program_start_tracing(struct bpf_program *p, struct gmon_error *err);
/* Turns every probe off at once, waits for the programs already running to finish, and detaches them; the
 * maps stay readable. After it nothing changes the maps or writes events, so final figures read then agree
 * with each other. */
void bpf_program_detach(struct bpf_program *p);
/* Detaches every probe, unloads the programs and frees the module. Safe on a zeroed or half-built struct. */
void bpf_program_close(struct bpf_program *p);

#endif
