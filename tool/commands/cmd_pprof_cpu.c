/* gmon pprof cpu (--pid PID | --container NAME | --path BIN): a CPU profile of a running Go program from
 * outside, as its own /debug/pprof/profile would give it, without net/http/pprof. A perf event on every CPU
 * samples the target's threads SAMPLE_HZ times a second of CPU time (probes/cpu_profile.bpf.c); BPF
 * aggregates the samples by goroutine labels and stacks, and the host turns the map into a pprof profile at
 * the end (tool/pprof/cpu_pprof.h). The pprof labels of each label set are read from the target's memory
 * while the profile runs (the goroutines that carry them may be gone by the end). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "cpu_pprof.h"
#include "cpu_profile_probes.h"
#include "go_tls.h"
#include "goroutine_labels.h"
#include "grow_array.h"
#include "option_help.h"
#include "perf_events.h"
#include "proc_target.h"
#include "trace_loop.h"
#include "trace_options.h"
#include "traced_program.h"

static const char USAGE[] =
    "Usage: gmon pprof cpu (--pid PID | --container NAME | --path BIN) [--duration SECS] [--hz N]\n"
    "                      [--kernel] [--by goroutine] [-o FILE]\n"
    "\n"
    "Writes a CPU profile of a running Go program (Go 1.17-1.27, stripped or not; eBPF, needs root) as the\n"
    "program's own /debug/pprof/profile would, without net/http/pprof and without stopping it: where its\n"
    "threads spend CPU time, sampled --hz times per second of CPU time by a perf event on every CPU, each\n"
    "sample with the stack walked along frame pointers, the goroutine's pprof labels, and the cpu and\n"
    "samples values of Go's own profile, for `go tool pprof` (-top, -tags, -http). Frames of C code (cgo,\n"
    "libc) are named from ELF symbols; --kernel adds the kernel's frames of samples taken in the kernel.\n"
    "The profile ends after --duration, on Ctrl-C, or when the process exits, and holds what was sampled.\n"
    "With --path, every process running BIN is sampled from its start, each sample labelled with its pid.\n"
    "\n" HELP_TRACE_TARGET
    "  --duration SECS     profile for SECS seconds (default 30, as /debug/pprof/profile)\n"
    "  --hz N              samples per second of CPU time, 1 to 1000 (default 99; Go's profiler uses 100)\n"
    "  --kernel            add the kernel's stack to samples taken in the kernel (system calls, faults)\n"
    "  --by goroutine      label each sample with its goroutine's ID (goroutine=N)\n" HELP_PPROF_OUTPUT
        HELP_GO_VERSION HELP_HELP "\n" HELP_EXIT_STATUS "Reference: man gmon-pprof (docs/pprof.md).\n"
    "\n"
    "Examples:\n"
    "  gmon pprof cpu --pid 4242 --duration 10 -o cpu.pb.gz    then: go tool pprof -top cpu.pb.gz\n"
    "  gmon pprof cpu --container web --kernel > cpu.pb.gz     then: go tool pprof -http :8080 cpu.pb.gz\n"
    "  gmon pprof cpu --pid 4242 --by goroutine -o g.pb.gz     then: go tool pprof -tags g.pb.gz\n";

enum { OPT_OUTPUT = 'o', OPT_HZ = 1000, OPT_KERNEL, OPT_BY, DEFAULT_DURATION_S = 30, DEFAULT_HZ = 99 };

/* The labels of one label set (a g.labels pointer of process pid), read while the profile runs. */
struct label_set {
    int pid;
    uint64_t ptr;
    size_t n;
    char **keys, **values;
    bool unreadable;
};

/* A process sampled so far; foreign: under --path, it runs another file with the binary's inode number (BPF
 * matched the number only), and its samples are left out. */
struct sampled_process {
    int pid;
    bool foreign;
};

struct cpu_run {
    struct trace_options trace;
    const char *output;
    struct pprof_output out; /* opened before the run */
    int hz;
    bool kernel, by_goroutine;
    struct traced_program prog;
    struct cpu_profile_probes probes;
    struct cpu_pprof pprof;
    struct label_set *sets;
    size_t nsets, sets_cap;
    size_t *index, index_cap;      /* of sets, by (pid, pointer) */
    struct sampled_process *procs; /* whose maps and labels gmon has read, or left out */
    size_t nprocs, procs_cap;
    int64_t start_wall_ns, start_ns, end_ns;
    int ticks;
    bool target_exited;
    uint64_t samples_written, unreadable_labels, unreadable_goroutine, foreign_samples;
    uint64_t on_system_stack,
        on_signal_stack; /* samples whose thread ran on g0 or gsignal, not a goroutine */
    int status;
};

static int parse_own_option(int c, const char *arg, void *ctx) {
    struct cpu_run *r = ctx;
    uint64_t hz;
    switch (c) {
    case OPT_OUTPUT:
        r->output = arg;
        return 1;
    case OPT_HZ:
        if (!cli_parse_uint("pprof cpu", "--hz", arg, CPU_PROFILE_MIN_HZ, CPU_PROFILE_MAX_HZ, &hz))
            return -1;
        r->hz = (int)hz;
        return 1;
    case OPT_KERNEL:
        r->kernel = true;
        return 1;
    case OPT_BY:
        if (strcmp(arg, "goroutine") != 0) {
            cli_error("pprof cpu", "--by takes goroutine, not \"%s\"", arg);
            return -1;
        }
        r->by_goroutine = true;
        return 1;
    default:
        return 0;
    }
}

/* The label sets by (pid, pointer): open addressing over indices into r->sets (+1; 0 empty), doubled when
 * half full. A service that labels each request has a label set per request. */
static size_t set_slot(const struct cpu_run *r, int pid, uint64_t ptr) {
    uint64_t h = (ptr ^ (uint64_t)pid * 0x9E3779B97F4A7C15ull) * 0xff51afd7ed558ccdull;
    size_t i = (size_t)(h >> 20) & (r->index_cap - 1);
    while (r->index[i] && (r->sets[r->index[i] - 1].ptr != ptr || r->sets[r->index[i] - 1].pid != pid))
        i = (i + 1) & (r->index_cap - 1);
    return i;
}

static struct label_set *find_set(struct cpu_run *r, int pid, uint64_t ptr) {
    if (!r->index_cap)
        return NULL;
    size_t i = set_slot(r, pid, ptr);
    return r->index[i] ? &r->sets[r->index[i] - 1] : NULL;
}

static bool index_sets(struct cpu_run *r) {
    if ((r->nsets + 1) * 2 <= r->index_cap)
        return true;
    size_t cap = r->index_cap ? r->index_cap * 2 : 256;
    size_t *index = calloc(cap, sizeof(*index));
    if (!index)
        return false;
    free(r->index);
    r->index = index;
    r->index_cap = cap;
    for (size_t k = 0; k < r->nsets; k++)
        r->index[set_slot(r, r->sets[k].pid, r->sets[k].ptr)] = k + 1;
    return true;
}

/* Reads the labels at ptr of process pid now, while the goroutines that carry them run. */
static void learn_set(struct cpu_run *r, int pid, uint64_t ptr) {
    if (find_set(r, pid, ptr) || !index_sets(r))
        return;
    struct label_set *sets = grow_array(r->sets, &r->sets_cap, r->nsets, sizeof(*sets), 16);
    if (!sets)
        return;
    r->sets = sets;
    r->index[set_slot(r, pid, ptr)] = r->nsets + 1;
    struct label_set *s = &r->sets[r->nsets++];
    memset(s, 0, sizeof(*s));
    s->pid = pid;
    s->ptr = ptr;
    static struct goroutine_labels l; /* 16 KB */
    goroutine_labels_read_process(ptr, r->prog.target.bin.version.minor, pid, &l);
    s->unreadable = l.problem != NULL;
    if (s->unreadable || l.n == 0)
        return;
    s->keys = calloc(l.n, sizeof(char *));
    s->values = calloc(l.n, sizeof(char *));
    if (!s->keys || !s->values)
        return;
    for (size_t i = 0; i < l.n; i++) {
        s->keys[i] = strdup(l.key[i]);
        s->values[i] = strdup(l.value[i]);
        if (!s->keys[i] || !s->values[i])
            return;
        s->n = i + 1;
    }
}

static struct sampled_process *find_process(const struct cpu_run *r, int pid) {
    for (size_t i = 0; i < r->nprocs; i++)
        if (r->procs[i].pid == pid)
            return &r->procs[i];
    return NULL;
}

/* What the host must read while a sampled process runs: its load bias and mappings, once it is first
 * sampled. */
static void learn_process(void *ctx, uint32_t tgid) {
    struct cpu_run *r = ctx;
    int pid = (int)tgid;
    if (find_process(r, pid))
        return;
    struct sampled_process *procs = grow_array(r->procs, &r->procs_cap, r->nprocs, sizeof(*procs), 8);
    if (!procs)
        return;
    r->procs = procs;
    struct sampled_process *p = &r->procs[r->nprocs++];
    *p = (struct sampled_process){pid, r->trace.path && !target_runs_its_binary(&r->prog.target, pid)};
    if (!p->foreign)
        cpu_pprof_learn_process(&r->pprof, pid);
}

/* And the labels of each label set, once it is first seen. */
static void learn_labels(void *ctx, uint32_t tgid, uint64_t labels) {
    learn_set(ctx, (int)tgid, labels);
}

static bool tick(void *ctx) {
    struct cpu_run *r = ctx;
    cpu_profile_for_each_new(&r->probes, learn_process, learn_labels, r);
    if (++r->ticks % 4 == 0) /* libraries loaded since: their frames are named too */
        for (size_t i = 0; i < r->nprocs; i++)
            if (!r->procs[i].foreign && !proc_memory_gone(r->procs[i].pid))
                cpu_pprof_learn_process(&r->pprof, r->procs[i].pid);
    if (r->trace.pid > 0 && !trace_target_running("pprof cpu", &r->prog.target)) {
        r->target_exited = true;
        return false;
    }
    return true;
}

static int start(void *ctx) {
    struct cpu_run *r = ctx;
    struct gmon_error err;
    if (perf_events_permitted(&err) != 0) { /* first: the other checks would blame something else */
        cli_error("pprof cpu", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    if (traced_program_start(&r->prog, "pprof cpu", r->trace.path, r->trace.pid, r->trace.go_version) != 0)
        return GMON_EXIT_BAD_INPUT;
    const struct target *t = &r->prog.target;
    if (!cpu_pprof_init(&r->pprof, &t->bin.elf, &t->bin.pcln, t->bin.version.minor, r->hz)) {
        cli_error("pprof cpu", "out of memory");
        return GMON_EXIT_FAILED;
    }
    if (r->kernel && !cpu_pprof_read_kernel_symbols(&r->pprof))
        fprintf(stderr,
                "gmon pprof cpu: /proc/kallsyms shows no addresses (kernel.kptr_restrict): kernel frames "
                "will be addresses\n");
    bool tls_certain; /* a guess is checked in BPF: g.m.g0.m must be g.m (else no labels, and said so) */
    struct cpu_profile_options o = {.layout = r->prog.layout.layout,
                                    .pid = r->trace.pid,
                                    .path = r->trace.path,
                                    .hz = r->hz,
                                    .tls_g = go_tls_g_offset(&t->bin.elf, &tls_certain),
                                    .by_goroutine = r->by_goroutine,
                                    .kernel_stacks = r->kernel};
    int64_t t0 = monotonic_ns();
    if (cpu_profile_open(&r->probes, &o, &err) != 0) {
        cli_error("pprof cpu", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    r->start_ns = monotonic_ns();
    r->start_wall_ns = wall_ns();
    char process[128], how[800];
    fprintf(stderr,
            "gmon: probes attached to %s%s%s: %s, a %d Hz perf event on each of %d CPUs, in %.0f ms (%s); "
            "profiling for %" PRIu64 " s, Ctrl-C stops early\n",
            traced_program_name(&r->prog), t->pid ? ", " : "",
            target_process_text(t, process, sizeof(process)), t->bin.version_string, r->hz,
            r->probes.attached, (double)(r->start_ns - t0) / 1e6, bpf_compile_summary(how, sizeof(how)),
            r->trace.duration_s);
    return GMON_EXIT_OK;
}

/* One aggregated sample into the profile: its stacks from the stack map, its labels from the sets read. */
static void add_sample(void *ctx, const struct cpu_sample_key *key, uint64_t count) {
    struct cpu_run *r = ctx;
    uint64_t user[CPU_STACK_DEPTH], kernel[CPU_STACK_DEPTH], go[CPU_STACK_DEPTH];
    struct cpu_stack_sample s = {
        .pid = (int)key->tgid, .user = user, .kernel = kernel, .goroutine = go, .count = (int64_t)count};
    s.ngoroutine = (size_t)cpu_profile_stack(&r->probes, key->go_stack, go, CPU_STACK_DEPTH);
    s.nuser = (size_t)cpu_profile_stack(&r->probes, key->user_stack, user, CPU_STACK_DEPTH);
    s.nkernel = (size_t)cpu_profile_stack(&r->probes, key->kernel_stack, kernel, CPU_STACK_DEPTH);
    s.user_leaf_exact = !(key->flags & CPU_SAMPLE_IN_KERNEL);
    struct profile_label labels[GOROUTINE_LABELS_MAX + 2];
    learn_process(r, key->tgid); /* a process or label set first seen after the last tick: read now */
    const struct sampled_process *p = find_process(r, s.pid);
    if (p && p->foreign) {
        r->foreign_samples += count;
        return;
    }
    if (key->flags & CPU_SAMPLE_G_UNREADABLE)
        r->unreadable_goroutine += count;
    r->on_system_stack += key->flags & CPU_SAMPLE_SYSTEM_STACK ? count : 0;
    r->on_signal_stack += key->flags & CPU_SAMPLE_SIGNAL_STACK ? count : 0;
    if (key->labels)
        learn_set(r, s.pid, key->labels);
    const struct label_set *set = key->labels ? find_set(r, s.pid, key->labels) : NULL;
    if (set && set->unreadable)
        r->unreadable_labels += count;
    for (size_t i = 0; set && i < set->n; i++)
        labels[s.nlabels++] = (struct profile_label){set->keys[i], set->values[i], 0};
    char goid[24];
    if (r->by_goroutine && key->goid) {
        snprintf(goid, sizeof(goid), "%" PRIu64, (uint64_t)key->goid);
        labels[s.nlabels++] = (struct profile_label){"goroutine", goid, 0};
    }
    char pid[16];
    if (r->trace.path) {
        snprintf(pid, sizeof(pid), "%d", s.pid);
        labels[s.nlabels++] = (struct profile_label){"pid", pid, 0};
    }
    s.labels = labels;
    if (!cpu_pprof_add(&r->pprof, &s))
        r->status = GMON_EXIT_FAILED;
    r->samples_written += count;
}

/* "; N what" on stderr when N is not 0: the report names only what happened. */
static void report_nonzero(uint64_t n, const char *what) {
    if (n)
        fprintf(stderr, "; %" PRIu64 " %s", n, what);
}

static void report(struct cpu_run *r) {
    uint64_t c[CPU_COUNTERS];
    cpu_profile_counters(&r->probes, c);
    double seconds = (double)(r->end_ns - r->start_ns) / 1e9;
    fprintf(stderr, "gmon pprof cpu: %" PRIu64 " samples in %.1f s (%.2f CPU seconds) of %zu process%s%s",
            r->samples_written, seconds, (double)r->samples_written / r->hz, r->nprocs,
            r->nprocs == 1 ? "" : "es", r->target_exited ? ", until it exited" : "");
    /* Which stacks the samples were taken on (their frames say it too: the scheduler's, the GC's, C code's).
     */
    report_nonzero(r->on_system_stack, "on system stacks (the scheduler, the GC, C code of cgo calls)");
    report_nonzero(r->on_signal_stack, "in signal handlers");
    report_nonzero(c[CPU_COUNTER_MAP_FULL], "samples not counted (the samples map was full)");
    report_nonzero(c[CPU_COUNTER_USER_STACK_LOST], "samples without a user stack (the walk failed)");
    report_nonzero(c[CPU_COUNTER_KERNEL_STACK_LOST], "samples without their kernel stack");
    report_nonzero(c[CPU_COUNTER_GO_STACK_LOST], "samples in cgo calls without their goroutine's stack");
    report_nonzero(c[CPU_COUNTER_NEW_LOST], "processes or label sets gmon was not told of (maps full)");
    report_nonzero(r->unreadable_labels, "samples whose labels could not be read");
    report_nonzero(r->unreadable_goroutine, "samples whose goroutine could not be read (no labels)");
    report_nonzero(r->foreign_samples,
                   "samples of other programs whose file has the binary's inode number, left out");
    report_nonzero(c[CPU_COUNTER_STACKS_FULL], "stacks not stored (the stacks map was full)");
    report_nonzero(r->pprof.cut_stacks, "stacks cut where C code broke the frame-pointer chain");
    report_nonzero(r->pprof.unnamed_kernel_frames, "kernel frames without a symbol");
    report_nonzero(r->pprof.frames_without_bias,
                   "frames of processes gone before gmon read where they were loaded (PIE)");
    if (r->pprof.unnamed_frames)
        fprintf(stderr, "; %" PRIu64 " of %" PRIu64 " frames outside Go code have no symbol",
                r->pprof.unnamed_frames, r->pprof.native_frames);
    fputc('\n', stderr);
}

static void stop(void *ctx, bool attached) {
    struct cpu_run *r = ctx;
    if (attached) {
        cpu_profile_detach(&r->probes); /* the maps read next are final */
        r->end_ns = monotonic_ns();
        cpu_pprof_set_window(&r->pprof, r->start_wall_ns, r->end_ns - r->start_ns);
        cpu_profile_for_each_sample(&r->probes, add_sample, r);
        if (r->status == GMON_EXIT_OK)
            r->status = pprof_output_write(&r->out, &r->pprof.p, "pprof cpu");
        if (r->status == GMON_EXIT_OK)
            report(r);
    }
    cpu_pprof_free(&r->pprof);
    cpu_profile_close(&r->probes);
    traced_program_close(&r->prog);
    for (size_t i = 0; i < r->nsets; i++) {
        for (size_t k = 0; k < r->sets[i].n; k++) {
            free(r->sets[i].keys[k]);
            free(r->sets[i].values[k]);
        }
        free(r->sets[i].keys);
        free(r->sets[i].values);
    }
    free(r->sets);
    free(r->index);
    free(r->procs);
}

int cmd_pprof_cpu(int argc, char *argv[]) {
    static struct cpu_run r;
    memset(&r, 0, sizeof(r));
    r.hz = DEFAULT_HZ;
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static const struct option opts[] = {{"path", required_argument, NULL, TRACE_OPT_PATH},
                                         {"pid", required_argument, NULL, TRACE_OPT_PID},
                                         {"container", required_argument, NULL, TRACE_OPT_CONTAINER},
                                         {"go-version", required_argument, NULL, TRACE_OPT_GOVER},
                                         {"duration", required_argument, NULL, TRACE_OPT_DURATION},
                                         {"output", required_argument, NULL, OPT_OUTPUT},
                                         {"hz", required_argument, NULL, OPT_HZ},
                                         {"kernel", no_argument, NULL, OPT_KERNEL},
                                         {"by", required_argument, NULL, OPT_BY},
                                         {NULL, 0, NULL, 0}};
    int parsed = trace_options_getopt("pprof cpu", argc, argv, opts, "o:", &r.trace, parse_own_option, &r);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    if (!r.trace.duration_s)
        r.trace.duration_s = DEFAULT_DURATION_S;
    int rc = pprof_output_open(&r.out, r.output, "pprof cpu", "cpu", r.trace.pid);
    if (rc != GMON_EXIT_OK)
        return rc;
    struct trace_command run = {
        .start = start,
        .stop = stop,
        .loop = {.poll = NULL, .tick = tick, .ctx = &r, .tick_ms = 250, .duration_s = r.trace.duration_s}};
    rc = trace_command_run(&run);
    pprof_output_discard(&r.out); /* when no profile was written */
    return rc != GMON_EXIT_OK ? rc : r.status;
}
