#include "cpu_profile_probes.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <bcc/libbpf.h>

#include "event_reader.h"
#include "kernel_btf.h"
#include "perf_events.h"

extern const char
    cpu_profile_bpf_source[]; /* cpu_profile_event.h + cpu_profile.bpf.c, embedded by the build */

/* Distinct stacks and distinct samples kept: a minute at 1,000 Hz on 8 CPUs is under 500,000 samples, and a
 * service's distinct stacks are a few thousand. Full maps are counted (CPU_COUNTER_MAP_FULL, ..._STACK_LOST),
 * never silently dropped. */
enum {
    MAX_STACKS = 16384, /* preallocated: 16,384 x 520 bytes */
    MAX_SAMPLES = 65536,
    MAX_PROCESSES = 4096,
    MAX_LABEL_SETS = 16384,
    MAX_CPUS = 4096
};

/* The running kernel's field offsets the program reads (their names as -D flags), from its BTF. */
static const struct {
    const char *define, *type, *path;
} KERNEL_FIELDS[] = {
    {"TASK_FSBASE", "task_struct", "thread.fsbase"},
    {"TASK_MM", "task_struct", "mm"},
    {"MM_EXE_FILE", "mm_struct", "exe_file"},
    {"FILE_INODE", "file", "f_inode"},
    {"INODE_INO", "inode", "i_ino"},
};
enum { NKERNEL_FIELDS = sizeof(KERNEL_FIELDS) / sizeof(KERNEL_FIELDS[0]) };

static int kernel_offsets(struct bpf_defines *d, struct gmon_error *err) {
    for (size_t i = 0; i < NKERNEL_FIELDS; i++) {
        long off = kernel_btf_offset(KERNEL_FIELDS[i].type, KERNEL_FIELDS[i].path, err);
        if (off < 0)
            return -1;
        bpf_define(d, KERNEL_FIELDS[i].define, off);
    }
    return 0;
}

/* The binary's inode number, which BPF compares with the task's executable's. Not its device: stat's
 * st_dev is not the superblock's s_dev on btrfs subvolumes or overlayfs; the host checks each process's
 * /proc/PID/exe instead (a file of another file system may have the same number). */
static int binary_inode(struct bpf_defines *d, const char *path, struct gmon_error *err) {
    struct stat st;
    if (stat(path, &st) != 0)
        return gmon_fail(err, "cannot stat %s: %s", path, strerror(errno));
    bpf_define(d, "TARGET_INO", (long long)st.st_ino);
    return 0;
}

static int build_defines(struct bpf_defines *d, const struct cpu_profile_options *o, struct gmon_error *err) {
    memset(d, 0, sizeof(*d));
    if (kernel_offsets(d, err) != 0 || (o->pid <= 0 && binary_inode(d, o->path, err) != 0))
        return -1;
    bpf_define(d, "G_M", o->layout->g.m);
    bpf_define(d, "G_GOID", o->layout->g.goid);
    bpf_define(d, "G_LABELS", o->layout->g.labels);
    bpf_define(d, "G_SYSCALLSP", o->layout->g.syscallsp);
    bpf_define(d, "G_SCHED_SP", o->layout->g.sched_sp);
    bpf_define(d, "G_SCHED_BP", o->layout->g.sched_bp);
    bpf_define(d, "M_G0", o->layout->m.g0);
    bpf_define(d, "M_CURG", o->layout->m.curg);
    bpf_define(d, "TLS_G", o->tls_g);
    bpf_define(d, "TARGET_TGID", o->pid > 0 ? o->pid : 0);
    bpf_define(d, "BY_GOROUTINE", o->by_goroutine);
    bpf_define(d, "BY_THREAD", o->by_thread);
    bpf_define(d, "KERNEL_STACKS", o->kernel_stacks);
    bpf_define(d, "MAX_STACKS", MAX_STACKS);
    bpf_define(d, "MAX_SAMPLES", MAX_SAMPLES);
    bpf_define(d, "MAX_PROCESSES", MAX_PROCESSES);
    bpf_define(d, "MAX_LABEL_SETS", MAX_LABEL_SETS);
    bpf_define(d, "USE_RINGBUF", event_reader_kernel_has_ringbuf()); /* declared, never used: no events */
    bpf_define(d, "RINGBUF_PAGES", 1);
    return 0;
}

static int attach_every_cpu(struct cpu_profile_probes *cp, int prog_fd, int hz, struct gmon_error *err) {
    int cpus[MAX_CPUS];
    size_t n = perf_online_cpus(cpus, MAX_CPUS);
    if (n == 0)
        return gmon_fail(err, "cannot read the online CPUs (/sys/devices/system/cpu/online)");
    for (size_t i = 0; i < n; i++) {
        if (bpf_program_attach_sampler(&cp->prog, prog_fd, cpus[i], hz, err) != 0)
            return -1;
        cp->attached++;
    }
    return 0;
}

int cpu_profile_open(struct cpu_profile_probes *cp, const struct cpu_profile_options *o,
                     struct gmon_error *err) {
    memset(cp, 0, sizeof(*cp));
    cp->samples_fd = cp->stacks_fd = cp->processes_fd = cp->label_sets_fd = cp->counters_fd = -1;
    cp->ncpus = bpf_possible_cpus();
    if (o->hz < CPU_PROFILE_MIN_HZ || o->hz > CPU_PROFILE_MAX_HZ)
        return gmon_fail(err, "the sampling rate must be %d to %d Hz", CPU_PROFILE_MIN_HZ,
                         CPU_PROFILE_MAX_HZ);
    if (perf_events_permitted(err) != 0)
        return -1;
    struct bpf_defines defines;
    if (build_defines(&defines, o, err) != 0)
        return -1;
    if (bpf_program_compile(&cp->prog, cpu_profile_bpf_source, &defines, err) != 0)
        return -1;
    cp->samples_fd = bpf_program_map_fd(&cp->prog, "samples");
    cp->stacks_fd = bpf_program_map_fd(&cp->prog, "stacks");
    cp->processes_fd = bpf_program_map_fd(&cp->prog, "processes");
    cp->label_sets_fd = bpf_program_map_fd(&cp->prog, "label_sets");
    cp->counters_fd = bpf_program_map_fd(&cp->prog, "counters");
    if (cp->samples_fd < 0 || cp->stacks_fd < 0 || cp->processes_fd < 0 || cp->label_sets_fd < 0 ||
        cp->counters_fd < 0) {
        cpu_profile_close(cp);
        return gmon_fail(err, "the compiled CPU profiler lacks one of its maps");
    }
    int prog_fd = bpf_program_load_as(&cp->prog, "on_cpu_sample", BPF_PROG_TYPE_PERF_EVENT, err);
    if (prog_fd < 0 || attach_every_cpu(cp, prog_fd, o->hz, err) != 0 ||
        bpf_program_start_tracing(&cp->prog, err) != 0) {
        cpu_profile_close(cp);
        return -1;
    }
    return 0;
}

void cpu_profile_detach(struct cpu_profile_probes *cp) {
    bpf_program_detach(&cp->prog);
}

void cpu_profile_for_each_sample(struct cpu_profile_probes *cp, cpu_sample_fn fn, void *ctx) {
    struct cpu_sample_key key, next;
    uint64_t count;
    void *prev = NULL;
    while (bpf_get_next_key(cp->samples_fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (bpf_lookup_elem(cp->samples_fd, &key, &count) == 0)
            fn(ctx, &key, count);
    }
}

/* The entries of a map of new things (value 0: not told yet) handed to fn, each marked told (1). */
static void tell_new(int fd, void *key, void *next, size_t key_size, void (*fn)(void *ctx, const void *key),
                     void *ctx) {
    uint8_t told;
    void *prev = NULL;
    while (bpf_get_next_key(fd, prev, next) == 0) {
        memcpy(key, next, key_size);
        prev = key;
        if (bpf_lookup_elem(fd, key, &told) == 0 && !told) {
            fn(ctx, key);
            told = 1;
            bpf_update_elem(fd, key, &told, BPF_EXIST);
        }
    }
}

struct new_callbacks {
    cpu_new_process_fn on_process;
    cpu_new_label_set_fn on_label_set;
    void *ctx;
};

static void tell_process(void *ctx, const void *key) {
    const struct new_callbacks *cb = ctx;
    cb->on_process(cb->ctx, *(const uint32_t *)key);
}

static void tell_label_set(void *ctx, const void *key) {
    const struct new_callbacks *cb = ctx;
    const struct cpu_label_set_key *set = key;
    cb->on_label_set(cb->ctx, set->tgid, set->labels);
}

void cpu_profile_for_each_new(struct cpu_profile_probes *cp, cpu_new_process_fn on_process,
                              cpu_new_label_set_fn on_label_set, void *ctx) {
    struct new_callbacks cb = {on_process, on_label_set, ctx};
    uint32_t tgid, next_tgid;
    tell_new(cp->processes_fd, &tgid, &next_tgid, sizeof(tgid), tell_process, &cb);
    struct cpu_label_set_key set, next_set;
    tell_new(cp->label_sets_fd, &set, &next_set, sizeof(set), tell_label_set, &cb);
}

int cpu_profile_stack(struct cpu_profile_probes *cp, uint64_t id, uint64_t *pcs, int max) {
    struct cpu_stack found;
    if (id == 0 || bpf_lookup_elem(cp->stacks_fd, &id, &found) != 0)
        return 0;
    int n = 0;
    while (n < max && (uint64_t)n < found.depth && n < CPU_STACK_DEPTH)
        pcs[n] = found.pcs[n], n++;
    return n;
}

void cpu_profile_counters(struct cpu_profile_probes *cp, uint64_t out[CPU_COUNTERS]) {
    bpf_sum_percpu_counters(cp->counters_fd, cp->ncpus, out, CPU_COUNTERS);
}

void cpu_profile_close(struct cpu_profile_probes *cp) {
    bpf_program_close(&cp->prog);
}
