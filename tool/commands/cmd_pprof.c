/* gmon pprof goroutine|heap|allocs --pid PID: profiles of a running Go program, read from its memory without
 * stopping it and without net/http/pprof, in the format `go tool pprof` reads (gzipped profile.proto), as the
 * program's own /debug/pprof/goroutine, /heap and /allocs would give them; the dispatch to the other kinds
 * (block and mutex: cmd_pprof_contention.c; creation and live: cmd_pprof_creation.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "goroutine_labels.h"
#include "goroutine_profile.h"
#include "go_profile_globals.h"
#include "heap_profile.h"
#include "mem_buckets.h"
#include "option_help.h"
#include "profile_builder.h"
#include "snapshot_options.h"
#include "stack_dump.h"

static const char USAGE[] =
    "Usage: gmon pprof goroutine|heap|allocs|block|mutex (--pid PID | --container NAME) [-o FILE] ...\n"
    "       gmon pprof creation|live|cpu (--pid PID | --container NAME | --path BIN) [-o FILE] ...\n"
    "\n"
    "Writes a profile of a running Go program (Go 1.17-1.27, stripped or not) as the program's own\n"
    "/debug/pprof would, without net/http/pprof and without stopping it: a gzipped pprof profile for\n"
    "`go tool pprof`, every frame with its file:line and inlined frames. Two profiles no Go tool has come\n"
    "from live tracing: goroutine creation and leaks by full creation stack.\n"
    "\n"
    "  goroutine  every goroutine's stack (gmon pprof goroutine --help)\n"
    "  heap       the runtime's own heap profile: in-use and allocated objects and bytes by allocation\n"
    "             stack (gmon pprof heap --help)\n"
    "  allocs     the same data, alloc_space shown by default\n"
    "  block      where goroutines blocked and for how long, when the program set a rate\n"
    "             (gmon pprof block --help)\n"
    "  mutex      mutex contention by the stack that unlocked, when the program set a fraction\n"
    "  creation   goroutines created while gmon traces (eBPF), by full creation stack: created, exited,\n"
    "             live, lifetime (gmon pprof creation --help)\n"
    "  live       the leak profile: those of them still alive at the end, by creation stack, with ages\n"
    "  cpu        where the threads spend CPU time, sampled by a perf event (eBPF), with the goroutines'\n"
    "             pprof labels, as /debug/pprof/profile (gmon pprof cpu --help)\n"
    "\n"
    "Reference: man gmon-pprof (docs/pprof.md).\n"
    "\n"
    "Examples:\n"
    "  gmon pprof goroutine --pid 4242 -o g.pb.gz   then: go tool pprof -traces g.pb.gz\n"
    "  gmon pprof heap --pid 4242 -o heap.pb.gz     then: go tool pprof -top heap.pb.gz\n"
    "  gmon pprof live --pid 4242 --duration 60 -o leaks.pb.gz\n";

static const char USAGE_GOROUTINE[] =
    "Usage: gmon pprof goroutine (--pid PID | --container NAME) [--bin BIN] [-o FILE] [--system] [--freeze]\n"
    "\n"
    "Writes the goroutine profile of a running Go program (Go 1.17-1.27, stripped or not) as the program's\n"
    "own /debug/pprof/goroutine would, without net/http/pprof and without stopping it: a gzipped pprof\n"
    "profile (sample type goroutine/count), one sample per distinct stack and pprof label set, every frame\n"
    "with its file:line and inlined frames, for `go tool pprof`. Goroutines running on a thread at that\n"
    "moment have no stack to read without --freeze: they are left out and counted on stderr.\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER HELP_BIN HELP_PPROF_OUTPUT
    "  --system            the runtime's own goroutines too (Go's profile leaves them out)\n" HELP_FREEZE
        HELP_HELP "\n" HELP_EXIT_STATUS "Reference: man gmon-pprof (docs/pprof.md).\n"
    "\n"
    "Examples:\n"
    "  gmon pprof goroutine --pid 4242 -o g.pb.gz        then: go tool pprof -traces g.pb.gz\n"
    "  gmon pprof goroutine --container web > g.pb.gz  then: go tool pprof -top g.pb.gz\n";

/* heap and allocs: %s is the kind (three times, the examples last). */
static const char USAGE_HEAP[] =
    "Usage: gmon pprof %s (--pid PID | --container NAME) [--bin BIN] [-o FILE]\n"
    "\n"
    "Writes the heap profile the Go runtime keeps in a running program (Go 1.17-1.27, stripped or not) as\n"
    "the program's own /debug/pprof/heap would, without net/http/pprof and without stopping it: one\n"
    "allocation sampled per runtime.MemProfileRate bytes (512 KiB by default), its stack and object size;\n"
    "sample types alloc_objects, alloc_space, inuse_objects, inuse_space, scaled for the sampling as Go\n"
    "scales them (the heap profile shows inuse_space by default, the allocs profile alloc_space). In-use\n"
    "figures are as of the last GC, as Go's are. A program that never reads its memory profile has it\n"
    "turned off by the linker, and a program may set MemProfileRate to 0: gmon then says so and writes\n"
    "nothing (exit status 2).\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER HELP_BIN HELP_PPROF_OUTPUT HELP_HELP "\n" HELP_EXIT_STATUS
    "Reference: man gmon-pprof (docs/pprof.md).\n"
    "\n"
    "Examples:\n"
    "  gmon pprof %s --pid 4242 -o p.pb.gz        then: go tool pprof -top p.pb.gz\n"
    "  gmon pprof %s --container web -o - > p.pb.gz\n";

struct profile_run {
    struct profile_builder p;
    uint64_t mapping;
    size_t goroutines, running, moving, incomplete;
};

static void begin(struct stack_dump *d, struct goroutine_snapshot *s) {
    struct profile_run *r = d->ctx;
    r->mapping = profile_process_mapping(&r->p, s->t.pid);
}

static void each(struct stack_dump *d, struct goroutine_snapshot *s) {
    struct profile_run *r = d->ctx;
    if (d->tr.kind != TRACE_FRAMES) {
        r->running += d->tr.kind == TRACE_RUNNING;
        r->moving += d->tr.kind == TRACE_CHANGED;
        return;
    }
    r->incomplete += !d->tr.walk_complete;
    struct goroutine_labels labels;
    goroutine_labels_read_process(d->tr.st.labels, d->rules.minor, s->t.pid, &labels);
    if (!goroutine_profile_add(&r->p, r->mapping, &d->tr, &d->rules, &labels))
        d->failed = true;
    r->goroutines++;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int pprof_output_open(struct pprof_output *out, const char *output, const char *cmd, const char *kind,
                      int pid) {
    *out = (struct pprof_output){0};
    if (output && strcmp(output, "-") != 0) {
        snprintf(out->path, sizeof(out->path), "%s", output);
    } else if (!output && isatty(STDOUT_FILENO)) {
        char when[32];
        time_t t = time(NULL);
        strftime(when, sizeof(when), "%Y%m%dT%H%M%S", localtime(&t));
        snprintf(out->path, sizeof(out->path), "%s-%d-%s.pb.gz", kind, pid, when);
        out->named = true;
    }
    if (!out->path[0]) {
        out->file = stdout;
        return GMON_EXIT_OK;
    }
    /* Not truncated yet: a file that is there keeps its contents until a profile replaces them. */
    int fd = open(out->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    out->created = fd >= 0;
    if (fd < 0 && errno == EEXIST)
        fd = open(out->path, O_WRONLY | O_CLOEXEC);
    struct stat st;
    out->file = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out->file || fstat(fd, &st) != 0) {
        cli_error(cmd, "cannot write %s: %m", out->path);
        if (out->file)
            fclose(out->file);
        else if (fd >= 0)
            close(fd);
        return GMON_EXIT_BAD_INPUT;
    }
    out->regular = S_ISREG(st.st_mode);
    return GMON_EXIT_OK;
}

int pprof_output_write(struct pprof_output *out, struct profile_builder *p, const char *cmd) {
    struct gmon_error err;
    int rc = out->regular && ftruncate(fileno(out->file), 0) != 0
                 ? gmon_fail(&err, "cannot write %s: %s", out->path, strerror(errno))
                 : profile_write(p, out->file, now_ns(), &err);
    if (out->file == stdout) {
        if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0)
            rc = gmon_fail(&err, "cannot write the profile to standard output");
    } else if (fclose(out->file) != 0 && rc == 0) {
        rc = gmon_fail(&err, "cannot write %s", out->path);
    }
    out->file = NULL;
    if (rc != 0) {
        if (out->created)
            unlink(out->path); /* not half a profile */
        cli_error(cmd, "%s", err.msg);
        return GMON_EXIT_FAILED;
    }
    if (out->named)
        fprintf(stderr, "gmon %s: wrote %s\n", cmd, out->path);
    return GMON_EXIT_OK;
}

void pprof_output_discard(struct pprof_output *out) {
    if (!out->file || out->file == stdout)
        return;
    fclose(out->file);
    out->file = NULL;
    if (out->created)
        unlink(out->path);
}

int pprof_write(struct profile_builder *p, const char *output, const char *cmd, const char *kind, int pid) {
    struct pprof_output out;
    int rc = pprof_output_open(&out, output, cmd, kind, pid);
    return rc == GMON_EXIT_OK ? pprof_output_write(&out, p, cmd) : rc;
}

static int profile_goroutines(const struct snapshot_options *o) {
    static struct goroutine_snapshot s;
    struct profile_run r = {0};
    static const char *const TYPES[][2] = {{"goroutine", "count"}};
    if (!profile_builder_init(&r.p, 1, TYPES, "goroutine", "count", 1)) {
        cli_error("pprof", "out of memory");
        return GMON_EXIT_FAILED;
    }
    struct stack_dump d = {.o = o, .no_args = true, .begin = begin, .each = each, .ctx = &r};
    int rc = stack_dump_run(&d, &s, "pprof");
    if (rc == GMON_EXIT_OK)
        rc = pprof_write(&r.p, o->output, "pprof goroutine", "goroutine", s.t.pid);
    if (rc == GMON_EXIT_OK) {
        fprintf(stderr, "gmon pprof goroutine: %zu goroutines of process %d (%s) in %zu samples",
                r.goroutines, s.t.pid, s.t.bin.version_string, r.p.nsamples);
        if (d.system_hidden)
            fprintf(stderr, ", %zu of the runtime left out (--system adds them)", d.system_hidden);
        if (r.running)
            fprintf(stderr, ", %zu running on a thread left out (no stack without --freeze)", r.running);
        if (r.moving)
            fprintf(stderr, ", %zu that kept moving while read left out (--freeze reads them)", r.moving);
        if (r.incomplete)
            fprintf(stderr, ", %zu stacks not readable to their end", r.incomplete);
        fputc('\n', stderr);
    }
    stack_dump_free(&d);
    profile_builder_free(&r.p);
    snapshot_close(&s);
    return rc;
}

/* Why the target's memory profile is empty for good, or NULL: the linker's flag (set when the program never
 * calls runtime.MemProfile), or a rate of 0. */
static const char *memory_profiling_off(const struct go_profile_globals *g, int pid, uint64_t bias,
                                        int64_t rate) {
    uint8_t flag = 0;
    if (g->flag_in_file == 1 || (g->disable_flag && proc_read(pid, g->disable_flag + bias, &flag, 1) && flag))
        return "the linker turned memory profiling off: the program never reads its memory profile "
               "(runtime.MemProfile is not in the binary), so the runtime records nothing";
    if (rate == 0)
        return "runtime.MemProfileRate is 0: the program turned memory profiling off";
    return NULL;
}

struct heap_run {
    struct goroutine_snapshot *s;
    struct go_profile_globals g;
    int64_t rate;
    struct mem_buckets m;
};

/* Finds and reads what a heap profile needs; GMON_EXIT_OK, or the exit status after saying why not. */
static int read_heap(struct heap_run *h, const char *cmd) {
    struct goroutine_snapshot *s = h->s;
    uint64_t bias = s->t.load_bias;
    struct gmon_error err;
    go_profile_globals_find(s->symbols, s->symbols->version.minor, &h->g);
    if (!h->g.mem_profile_rate || !proc_read(s->t.pid, h->g.mem_profile_rate + bias, &h->rate, 8)) {
        cli_error(cmd, "runtime.MemProfileRate not found (no symbol table, and neither runtime.schedinit nor "
                       "runtime.init shows it): without the sampling rate the samples cannot be scaled; "
                       "give --bin");
        return GMON_EXIT_BAD_INPUT;
    }
    const char *off = memory_profiling_off(&h->g, s->t.pid, bias, h->rate);
    if (off) {
        cli_error(cmd, "process %d: %s", s->t.pid, off);
        return GMON_EXIT_BAD_INPUT;
    }
    uint64_t heads[MBUCKETS_CANDIDATES];
    for (int i = 0; i < h->g.nmbuckets; i++)
        heads[i] = h->g.mbuckets[i] + bias;
    int head = mem_buckets_pick_head(proc_read_callback, &s->t.pid, heads, h->g.nmbuckets);
    if (head < 0) {
        cli_error(cmd,
                  "runtime.mbuckets not found (no symbol table, and no load of runtime.mProf_FlushLocked "
                  "leads to a memory-profile bucket); give --bin");
        return GMON_EXIT_BAD_INPUT;
    }
    /* mProf_NextCycle runs once per GC cycle, with the cycle count: cycle % 3 is numgc % 3. One field, not a
     * whole snapshot of the scheduler and the Ps. */
    uint64_t cycle = 0, bytes = 0;
    if (!runtime_state_global(&s->state, &s->t, GC_NUMGC, &cycle, &bytes))
        cycle = 0;
    if (mem_buckets_read(proc_read_callback, &s->t.pid, heads[head], s->symbols->version.minor, cycle, &h->m,
                         &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        return GMON_EXIT_FAILED;
    }
    return GMON_EXIT_OK;
}

static void report_heap(const struct heap_run *h, const char *kind, size_t samples) {
    uint64_t inuse = 0; /* uintptr sums, as the runtime's */
    for (size_t i = 0; i < h->m.n; i++)
        inuse += (uint64_t)h->m.b[i].r.alloc_bytes - (uint64_t)h->m.b[i].r.free_bytes;
    fprintf(stderr,
            "gmon pprof %s: %zu buckets of process %d (%s) in %zu samples; one allocation sampled per %lld "
            "bytes; %lld bytes in use by the sampled objects as of the last GC (before scaling)",
            kind, h->m.n, h->s->t.pid, h->s->t.bin.version_string, samples, (long long)h->rate,
            (long long)inuse);
    if (h->m.stopped[0])
        fprintf(stderr, "; the list was read up to a bucket that did not read as one (%s)", h->m.stopped);
    fputc('\n', stderr);
}

static int profile_heap(const struct snapshot_options *o, const char *kind) {
    static struct goroutine_snapshot s;
    struct heap_run h = {.s = &s};
    struct gmon_error err;
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "pprof %s", kind);
    if (snapshot_open(&s, o->pid, o->bin, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        snapshot_close(&s);
        return GMON_EXIT_BAD_INPUT;
    }
    int rc = read_heap(&h, cmd);
    struct profile_builder p;
    if (rc == GMON_EXIT_OK) {
        bool built = heap_profile_init(&p, h.rate, strcmp(kind, "allocs") == 0 ? "alloc_space" : NULL) &&
                     heap_profile_add(&p, profile_process_mapping(&p, s.t.pid), &s.symbols->pcln,
                                      s.t.load_bias, s.symbols->version.minor, &h.m, h.rate);
        rc = built ? pprof_write(&p, o->output, cmd, kind, s.t.pid) : GMON_EXIT_FAILED;
        if (!built)
            cli_error(cmd, "out of memory while building the profile");
        if (rc == GMON_EXIT_OK)
            report_heap(&h, kind, p.nsamples);
        profile_builder_free(&p);
    }
    mem_buckets_free(&h.m);
    snapshot_close(&s);
    return rc;
}

/* Which code writes a kind: this file (goroutine, heap), cmd_pprof_contention.c, cmd_pprof_creation.c (live
 * tracing, which parses its own options). */
enum kind_writer { GOROUTINES, HEAP, CONTENTION, TRACED, CPU };

static const struct {
    const char *name;
    enum kind_writer writer;
    unsigned options;
} KINDS[] = {
    {"goroutine", GOROUTINES, SNAP_BIN | SNAP_FREEZE | SNAP_OUTPUT | SNAP_SYSTEM},
    {"heap", HEAP, SNAP_BIN | SNAP_OUTPUT},
    {"allocs", HEAP, SNAP_BIN | SNAP_OUTPUT},
    {"block", CONTENTION, SNAP_BIN | SNAP_OUTPUT},
    {"mutex", CONTENTION, SNAP_BIN | SNAP_OUTPUT},
    {"creation", TRACED, 0},
    {"live", TRACED, 0},
    {"cpu", CPU, 0},
};

int cmd_pprof(int argc, char *argv[]) {
    if (cli_wants_command_list(argc, argv)) {
        for (size_t k = 0; k < sizeof(KINDS) / sizeof(KINDS[0]); k++)
            puts(KINDS[k].name);
        return GMON_EXIT_OK;
    }
    if (argc < 2 || argv[1][0] == '-') {
        if (cli_wants_help(argc, argv)) {
            fputs(USAGE, stdout);
            return GMON_EXIT_OK;
        }
        if (cli_wants_option_list(argc, argv))
            return GMON_EXIT_OK; /* the options are each profile's: gmon pprof KIND --list-options */
        cli_error(
            "pprof",
            "name the profile: gmon pprof goroutine|heap|allocs|block|mutex|creation|live|cpu --pid PID "
            "(see 'gmon pprof --help')");
        return GMON_EXIT_BAD_INPUT;
    }
    size_t k = 0;
    while (k < sizeof(KINDS) / sizeof(KINDS[0]) && strcmp(argv[1], KINDS[k].name) != 0)
        k++;
    if (k == sizeof(KINDS) / sizeof(KINDS[0])) {
        cli_error("pprof",
                  "\"%s\" is not a profile gmon writes; it writes: goroutine, heap, allocs, block, mutex, "
                  "creation, live, cpu (see 'gmon pprof --help')",
                  argv[1]);
        return GMON_EXIT_BAD_INPUT;
    }
    argc--;
    argv++;
    if (KINDS[k].writer == TRACED)
        return cmd_pprof_creation(argc, argv, KINDS[k].name);
    if (KINDS[k].writer == CPU)
        return cmd_pprof_cpu(argc, argv);
    if (cli_wants_help(argc, argv)) {
        if (KINDS[k].writer == GOROUTINES)
            fputs(USAGE_GOROUTINE, stdout);
        else if (KINDS[k].writer == CONTENTION)
            pprof_contention_usage(KINDS[k].name);
        else
            printf(USAGE_HEAP, KINDS[k].name, KINDS[k].name, KINDS[k].name);
        return GMON_EXIT_OK;
    }
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "pprof %s", KINDS[k].name);
    struct snapshot_options o;
    int parsed = snapshot_parse_options(cmd, KINDS[k].options, argc, argv, &o);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    if (KINDS[k].writer == GOROUTINES)
        return profile_goroutines(&o);
    if (KINDS[k].writer == CONTENTION)
        return pprof_contention(&o, KINDS[k].name);
    return profile_heap(&o, KINDS[k].name);
}
