/* gmon pprof creation|live (--path BIN | --pid PID | --container NAME): traces goroutine creations and exits
 * with the lifecycle probes (probes/lifecycle.bpf.c) for --duration, then writes a pprof profile of the
 * goroutines created meanwhile by full creation stack (tool/pprof/creation_profile.h): what no Go tool
 * records. The counts come from the probes' per-site map and live map, read after detaching, so they are
 * final and agree with each other. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "creation_profile.h"
#include "exit_options.h"
#include "grow_array.h"
#include "lifecycle_probes.h"
#include "option_help.h"
#include "process_watch.h"
#include "trace_loop.h"
#include "trace_options.h"
#include "traced_program.h"

static const char USAGE[] =
    "Usage: gmon pprof %s (--path BIN | --pid PID | --container NAME) [--duration SECS] [-o FILE]\n"
    "\n"
    "Traces goroutine creations and exits in a running Go program (Go 1.17-1.27; eBPF uprobes, needs root)\n"
    "until --duration ends, Ctrl-C, or the --pid process exits, then writes a pprof profile of the "
    "goroutines\n"
    "created meanwhile by their full creation stack (the go statement and every caller):\n"
    "  creation   created/count, exited/count, live/count, lifetime/nanoseconds (summed over the exited)\n"
    "  live       the leak profile: those still alive at the end, live/count and age/nanoseconds (summed)\n"
    "Goroutines created before gmon attached are not counted. With --path, the processes running BIN\n"
    "share one profile, each sample labelled with its pid.\n"
    "\n" HELP_TRACE_TARGET HELP_DURATION HELP_PPROF_OUTPUT HELP_GO_VERSION HELP_PERF_BUFFER HELP_RING_BUFFER
        HELP_EXITS
    "                      (here: a last scan when gmon stops keeps the live profile exact; the summed\n"
    "                      lifetimes of the exited are each within half the scan interval)\n" HELP_HELP
    "\n" HELP_EXIT_STATUS "Reference: man gmon-pprof (docs/pprof.md).\n"
    "\n"
    "Examples:\n"
    "  gmon pprof %s --pid 4242 --duration 30 -o p.pb.gz    then: go tool pprof -top p.pb.gz\n"
    "  gmon pprof %s --path ./server --duration 60 -o p.pb.gz\n"
    "  gmon pprof %s --pid 4242 --duration 60 --exits poll -o p.pb.gz    half the traps\n";

enum { OPT_OUTPUT = 'o', MAX_STACK = LIFECYCLE_STACK_DEPTH };

/* Live goroutines of one creation site: how many, and their ages summed. key comes first: site_order reads
 * an entry as its key. */
struct live_site {
    struct site_key key;
    int64_t live, age_ns;
};

struct creation_run {
    enum creation_profile_kind kind;
    const char *name;
    struct trace_options trace;
    const char *output;
    struct pprof_output out; /* opened before the run */
    struct exit_options exits;
    struct traced_program prog;
    struct lifecycle_probes probes;
    struct process_watch procs;
    struct live_site *live;
    size_t nlive, live_cap;
    int64_t end_ns;
    struct profile_builder p;
    uint64_t mapping;
    size_t sites, written;
    int status;
};

static int parse_own_option(int c, const char *arg, void *ctx) {
    struct creation_run *r = ctx;
    if (c != OPT_OUTPUT)
        return exit_options_parse(r->name, c, arg, &r->exits);
    r->output = arg;
    return 1;
}

/* Orders site keys field by field (qsort, bsearch). */
static int site_order(const void *a, const void *b) {
    const struct site_key *x = a, *y = b;
    if (x->tgid != y->tgid)
        return x->tgid < y->tgid ? -1 : 1;
    if (x->image != y->image)
        return x->image < y->image ? -1 : 1;
    if (x->gopc != y->gopc)
        return x->gopc < y->gopc ? -1 : 1;
    return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* One entry per live goroutine; merged by site once all are read (merge_live_sites). */
static void count_live(void *ctx, const struct goroutine_key *key, const struct goroutine_info *info) {
    (void)key;
    struct creation_run *r = ctx;
    struct live_site *grown = grow_array(r->live, &r->live_cap, r->nlive, sizeof(*grown), 64);
    if (!grown) {
        r->status = GMON_EXIT_FAILED;
        return;
    }
    r->live = grown;
    r->live[r->nlive++] = (struct live_site){info->site, 1, r->end_ns - (int64_t)info->created_ns};
}

/* Sorts the live goroutines by site and sums each site's into one entry: n log n for 65,536 goroutines over
 * 16,384 sites, where a search per goroutine would be their product. */
static void merge_live_sites(struct creation_run *r) {
    if (r->nlive == 0)
        return;
    qsort(r->live, r->nlive, sizeof(*r->live), site_order);
    size_t kept = 0;
    for (size_t i = 1; i < r->nlive; i++) {
        if (site_order(&r->live[kept].key, &r->live[i].key) == 0) {
            r->live[kept].live += r->live[i].live;
            r->live[kept].age_ns += r->live[i].age_ns;
        } else {
            r->live[++kept] = r->live[i];
        }
    }
    r->nlive = kept + 1;
}

static void add_site(void *ctx, const struct site_key *key, const struct site_stats *stats) {
    struct creation_run *r = ctx;
    uint64_t pcs[MAX_STACK], bias = 0;
    int depth = key->stack ? lifecycle_stack(&r->probes, key->stack, pcs, MAX_STACK) : 0;
    if (depth <= 0) {
        pcs[0] = key->gopc;
        depth = 1;
    }
    process_watch_image_bias(&r->procs, key->tgid, key->image, &bias);
    static const struct live_site none;
    const struct live_site *l =
        r->nlive ? bsearch(key, r->live, r->nlive, sizeof(*r->live), site_order) : NULL;
    if (!l)
        l = &none;
    int64_t values[4];
    if (r->kind == CREATION_PROFILE) {
        values[0] = (int64_t)stats->created;
        values[1] = (int64_t)stats->exited;
        values[2] = l->live;
        values[3] = (int64_t)stats->lifetime_sum_ns;
    } else {
        if (l->live == 0)
            return;
        values[0] = l->live;
        values[1] = l->age_ns;
    }
    r->sites++;
    int pid = r->trace.path ? (int)key->tgid : 0;
    if (!creation_profile_add(&r->p, r->mapping, &r->prog.target.bin.pcln, bias, pcs, (size_t)depth, values,
                              pid))
        r->status = GMON_EXIT_FAILED;
    r->written++;
}

static int poll_events(void *ctx, int timeout_ms) {
    struct creation_run *r = ctx;
    return lifecycle_poll(&r->probes, timeout_ms);
}

/* A runtime start: its load bias names the sites of a PIE process that ends before a tick could read it from
 * /proc; an exec of the same binary ends the goroutines the old program had live. */
static void on_event(void *ctx, const struct lifecycle_event *ev) {
    struct creation_run *r = ctx;
    if (ev->kind == LIFECYCLE_RUNTIME_STARTED)
        process_watch_runtime_event(&r->procs, &r->probes, ev);
}

/* Learns each process seen creating goroutines and its load bias while it runs (a PIE process that exits
 * before the end would otherwise leave its stacks unsymbolized). --path: the goroutines a process left
 * running when it ended are not live, and would stay in the live map until it was full; they are forgotten,
 * its sites kept. */
static bool tick(void *ctx) {
    struct creation_run *r = ctx;
    if (r->prog.target.pid)
        process_watch_scan(&r->procs, &r->probes);
    else
        process_watch_forget_ended(&r->procs, &r->probes);
    return trace_target_running(r->name, &r->prog.target);
}

static int start(void *ctx) {
    struct creation_run *r = ctx;
    struct gmon_error err;
    if (traced_program_start(&r->prog, r->name, r->trace.path, r->trace.pid, r->trace.go_version) != 0)
        return GMON_EXIT_BAD_INPUT;
    if (exit_options_check_target(r->name, &r->exits, r->prog.target.pid) != 0)
        return GMON_EXIT_BAD_INPUT;
    process_watch_init(&r->procs, &r->prog.target);
    struct lifecycle_options lo = {.layout = r->prog.layout.layout,
                                   .attach_path = traced_program_attach_path(&r->prog),
                                   .pid = traced_program_attach_pid(&r->prog),
                                   .force_perf_buffer = r->trace.perf_buffer,
                                   .force_ring_buffer = r->trace.ring_buffer,
                                   .max_live = 65536,
                                   .max_sites = 16384,
                                   .max_stacks = 16384,
                                   .exit_scan_ms = exit_options_scan_ms(&r->exits)};
    int64_t t0 = monotonic_ns();
    if (lifecycle_open(&r->probes, &lo, &r->prog.plan, on_event, r, &err) != 0) {
        cli_error(r->name, "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    traced_program_report_attached(&r->prog, r->probes.prog.nprobes, t0);
    return GMON_EXIT_OK;
}

static void report(struct creation_run *r) {
    uint64_t c[LIFECYCLE_COUNTERS];
    lifecycle_counters(&r->probes, c);
    fprintf(stderr,
            "gmon %s: %zu creation stacks in the profile; %llu goroutines created, %llu exited while traced ",
            r->name, r->written, (unsigned long long)c[COUNTER_CREATE_HITS],
            (unsigned long long)c[COUNTER_EXIT_HITS]);
    if (r->exits.poll)
        fprintf(stderr, "(found by %llu scans of memory)", (unsigned long long)c[COUNTER_EXIT_SCANS]);
    else
        fprintf(stderr, "(%llu of them created before gmon attached: not counted)",
                (unsigned long long)c[COUNTER_EXIT_UNTRACKED]);
    if (c[COUNTER_EXIT_SCAN_UNREADABLE])
        fprintf(stderr, "; %llu tracked goroutines could not be read from memory: counted live",
                (unsigned long long)c[COUNTER_EXIT_SCAN_UNREADABLE]);
    if (c[COUNTER_LIVE_MAP_FULL] || c[COUNTER_SITE_MAP_FULL] || c[COUNTER_READ_FAILED])
        fprintf(stderr,
                "; losses: %llu not tracked (live map full), %llu sites not counted (map full), %llu failed "
                "reads",
                (unsigned long long)c[COUNTER_LIVE_MAP_FULL], (unsigned long long)c[COUNTER_SITE_MAP_FULL],
                (unsigned long long)c[COUNTER_READ_FAILED]);
    fputc('\n', stderr);
}

static void stop(void *ctx, bool attached) {
    struct creation_run *r = ctx;
    if (attached) {
        lifecycle_detach(&r->probes); /* the maps read next are final */
        r->end_ns = monotonic_ns();
        if (!creation_profile_init(&r->p, r->kind)) {
            cli_error(r->name, "out of memory");
            r->status = GMON_EXIT_FAILED;
        } else {
            if (r->trace.pid > 0)
                r->mapping = profile_process_mapping(&r->p, r->trace.pid);
            if (!r->prog.target.pid) /* --path: not those of a process that ended since the last tick */
                process_watch_forget_ended(&r->procs, &r->probes);
            lifecycle_for_each_live(&r->probes, count_live, r);
            merge_live_sites(r);
            lifecycle_for_each_site(&r->probes, add_site, r);
            if (r->status == GMON_EXIT_OK)
                r->status = pprof_output_write(&r->out, &r->p, r->name);
            if (r->status == GMON_EXIT_OK)
                report(r);
        }
        profile_builder_free(&r->p);
    }
    lifecycle_close(&r->probes);
    process_watch_free(&r->procs);
    traced_program_close(&r->prog);
    free(r->live);
}

int cmd_pprof_creation(int argc, char *argv[], const char *kind) {
    static struct creation_run r;
    memset(&r, 0, sizeof(r));
    r.kind = strcmp(kind, "live") == 0 ? LIVE_PROFILE : CREATION_PROFILE;
    r.name = r.kind == LIVE_PROFILE ? "pprof live" : "pprof creation";
    if (cli_wants_help(argc, argv)) {
        printf(USAGE, kind, kind, kind, kind);
        return GMON_EXIT_OK;
    }
    static const struct option opts[] = {TRACE_LONG_OPTIONS,
                                         TRACE_RING_BUFFER_OPTION,
                                         {"output", required_argument, NULL, OPT_OUTPUT},
                                         EXIT_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    exit_options_init(&r.exits);
    int parsed = trace_options_getopt(r.name, argc, argv, opts, "o:", &r.trace, parse_own_option, &r);
    if (parsed == 0)
        parsed = exit_options_finish(r.name, &r.exits);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    int rc = pprof_output_open(&r.out, r.output, r.name, kind, r.trace.pid > 0 ? r.trace.pid : getpid());
    if (rc != GMON_EXIT_OK)
        return rc;
    struct trace_command run = {
        .start = start,
        .stop = stop,
        .loop = {
            .poll = poll_events, .tick = tick, .ctx = &r, .tick_ms = 250, .duration_s = r.trace.duration_s}};
    rc = trace_command_run(&run);
    pprof_output_discard(&r.out); /* when no profile was written */
    return rc != GMON_EXIT_OK ? rc : r.status;
}
