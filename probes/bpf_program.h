/* A BPF program compiled at run time by libbcc and the uprobes it is attached to. Owns every kernel object it
 * creates, so closing it leaves nothing behind on the system (no perf events, no uprobe_events entries). */
#ifndef GMON_BPF_PROGRAM_H
#define GMON_BPF_PROGRAM_H
#include <stddef.h>
#include <stdint.h>
#include "gmon_error.h"

struct attached_probe {
    int perf_fd;
    char event_name[64]; /* for the tracefs fallback of libbcc; unused with the perf uprobe PMU */
};

struct bpf_program {
    void *module; /* libbcc's ebpf::BPFModule */
    int prog_fds[8];
    const char *prog_names[8];
    size_t nprogs;
    struct attached_probe *probes;
    size_t nprobes, cap;
};

/* Checks what live tracing needs before compiling anything: privileges, kernel headers for BCC, tracefs
 * (mounted if missing). Each error says how to fix it. */
int bpf_preflight(struct gmon_error *err);

/* Compiles source with the given -D/-I flags. */
int bpf_program_compile(struct bpf_program *p, const char *source, const char *const *cflags, size_t ncflags,
                        struct gmon_error *err);
/* Loads the compiled function `name` into the kernel as a uprobe program; returns its fd or -1. */
int bpf_program_load(struct bpf_program *p, const char *name, struct gmon_error *err);
/* Attaches program fd to a uprobe at a file offset of binary; pid -1 for every process running it. */
int bpf_program_attach_uprobe(struct bpf_program *p, int prog_fd, const char *binary, uint64_t offset,
                              int pid, struct gmon_error *err);
/* The fd of a map (BPF_HASH, ...) declared in the source, or -1. */
int bpf_program_map_fd(struct bpf_program *p, const char *name);
/* Detaches every probe, unloads the programs and frees the module. Safe on a zeroed or half-built struct. */
void bpf_program_close(struct bpf_program *p);

#endif
