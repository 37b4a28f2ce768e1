/* gmon gr --path BIN | --pid PID [-v]: a live table of goroutine events, one row per creation and exit (and
 * with -v per run-queue event), with the goroutine's start function and lifetime. `gmon gr seq` is the
 * lifetime histogram (cmd_lifetime.c). Probes: probes/lifecycle.bpf.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "creation_sites.h"
#include "exit_options.h"
#include "lifecycle_probes.h"
#include "log_writer.h"
#include "option_help.h"
#include "process_watch.h"
#include "table_text.h"
#include "trace_loop.h"
#include "trace_options.h"
#include "traced_program.h"

static const char USAGE[] =
    "Usage: gmon gr --path BIN | --pid PID | --container NAME [OPTIONS]\n"
    "       gmon gr seq ...   (goroutine lifetime histogram: gmon gr seq --help)\n"
    "\n"
    "Shows goroutine events of a running Go program (Go 1.17-1.27) as they happen, with eBPF uprobes: one "
    "row\n"
    "per goroutine created and per goroutine exited, with the process, goroutine ID, the goroutine that\n"
    "created it, its start function and, on exit, how long it lived. Goroutines created before gmon "
    "attached\n"
    "show their exit with lifetime '?'. Needs root. Runs until Ctrl-C, --duration, or the end of the --pid\n"
    "process, then prints counts on stderr.\n"
    "\n" HELP_TRACE_TARGET "  -v, --verbose       also the scheduler's run-queue events: runq-put (a "
    "goroutine put on the global run\n"
    "                      queue), runq-get (taken from it to run) and steal (taken from another P's "
    "queue).\n"
    "                      These are frequent: expect a row per scheduling decision that uses them.\n"
    "  --format F          table (default), logfmt or json (one object per line)\n" HELP_GO_VERSION
        HELP_DURATION HELP_PERF_BUFFER HELP_RING_BUFFER HELP_EXITS
    "                      (here: exit rows come after each "
    "scan, in the order the scan found them)\n" HELP_HELP "\n" HELP_EXIT_STATUS
    "Reference: man gmon-gr (docs/gr.md).\n"
    "\n"
    "Examples:\n"
    "  gmon gr --pid 4242                          a row per goroutine created and exited\n"
    "  gmon gr --pid 4242 -v --duration 5          with the run-queue events, for 5 seconds\n"
    "  gmon gr --path ./server --format json       every process running ./server, as JSON lines\n";

enum { OPT_FORMAT = 1000, OPT_VERBOSE };

struct options {
    struct trace_options trace;
    bool table, verbose;
    enum log_format format;
    struct exit_options exits;
};

enum { EVENT_KINDS = LIFECYCLE_RUNQ_STEAL + 1 };

struct gr_monitor {
    struct options opt;
    struct traced_program prog;
    struct lifecycle_probes probes;
    struct creation_sites sites;
    struct process_watch procs;
    struct log_writer log;
    int64_t mono_to_wall_ns;
    bool header_printed;
    uint64_t seen[EVENT_KINDS];
    uint64_t received; /* every event, rows or not */
};

static const char *const EVENT_NAMES[EVENT_KINDS] = {
    [LIFECYCLE_CREATED] = "create",        [LIFECYCLE_EXITED] = "exit",
    [LIFECYCLE_EXITED_UNTRACKED] = "exit", [LIFECYCLE_RUNQ_PUT] = "runq-put",
    [LIFECYCLE_RUNQ_GET] = "runq-get",     [LIFECYCLE_RUNQ_STEAL] = "steal",
};

static const char *const EVENT_MESSAGES[EVENT_KINDS] = {
    [LIFECYCLE_CREATED] = "goroutine created",
    [LIFECYCLE_EXITED] = "goroutine exited",
    [LIFECYCLE_EXITED_UNTRACKED] = "goroutine exited",
    [LIFECYCLE_RUNQ_PUT] = "goroutine put on the global run queue",
    [LIFECYCLE_RUNQ_GET] = "goroutine taken from the global run queue",
    [LIFECYCLE_RUNQ_STEAL] = "goroutine stolen from another P",
};

static int parse_own_option(int c, const char *arg, void *ctx) {
    struct options *o = ctx;
    if (c == OPT_FORMAT)
        return trace_options_parse_format("gr", arg, &o->table, &o->format);
    if (c == OPT_VERBOSE || c == 'v') {
        o->verbose = true;
        return 1;
    }
    return exit_options_parse("gr", c, arg, &o->exits);
}

static int parse_options(int argc, char *argv[], struct options *o) {
    static const struct option opts[] = {TRACE_LONG_OPTIONS,
                                         TRACE_RING_BUFFER_OPTION,
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"verbose", no_argument, NULL, OPT_VERBOSE},
                                         EXIT_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    *o = (struct options){.table = true};
    exit_options_init(&o->exits);
    int rc = trace_options_getopt("gr", argc, argv, opts, "v", &o->trace, parse_own_option, o);
    return rc == 0 ? exit_options_finish("gr", &o->exits) : rc;
}

static void print_header(struct gr_monitor *m) {
    if (m->header_printed)
        return;
    m->header_printed = true;
    /* The function last: Go names can be of any length, and a column after them would not stay aligned. */
    printf("%-12s %-7s %-8s %-8s %-8s %-10s %s\n", "TIME", "PID", "GOID", "PARENT", "EVENT", "LIFETIME",
           "FUNCTION");
}

/* What is known of the parent: nothing for a goroutine created before gmon attached (before Go 1.21 the
 * runtime does not record it). */
static void parent_text(const struct lifecycle_event *ev, char *out, size_t size) {
    if (ev->kind == LIFECYCLE_EXITED_UNTRACKED || (!ev->parent_goid && ev->kind >= LIFECYCLE_RUNQ_PUT))
        snprintf(out, size, "?");
    else
        snprintf(out, size, "%llu", (unsigned long long)ev->parent_goid);
}

static void table_row(struct gr_monitor *m, const struct lifecycle_event *ev, const char *function) {
    char when[32], parent[24], lifetime[32] = "-";
    clock_text((int64_t)ev->time_ns + m->mono_to_wall_ns, when, sizeof(when));
    parent_text(ev, parent, sizeof(parent));
    if (ev->kind == LIFECYCLE_EXITED)
        duration_text((int64_t)ev->lifetime_ns, lifetime, sizeof(lifetime));
    else if (ev->kind == LIFECYCLE_EXITED_UNTRACKED)
        snprintf(lifetime, sizeof(lifetime), "?");
    print_header(m);
    printf("%-12s %-7u %-8llu %-8s %-8s ", when, ev->tgid, (unsigned long long)ev->goid, parent,
           EVENT_NAMES[ev->kind]);
    print_cell(lifetime, 10);
    printf("%s\n", function);
}

/* A row as a log line, held with the rest of its poll's (poll_events) and written in LOG_BATCH_BYTES: one
 * write per line was a system call per event, and in a storm gr fell behind the ring buffer and lost events.
 */
static void log_row(struct gr_monitor *m, const struct lifecycle_event *ev, const char *function) {
    struct log_writer *w = &m->log;
    log_begin(w, LOG_INFO, (int64_t)ev->time_ns + m->mono_to_wall_ns, EVENT_MESSAGES[ev->kind]);
    log_uint(w, "pid", ev->tgid);
    log_uint(w, "goroutine_id", ev->goid);
    if (ev->kind != LIFECYCLE_EXITED_UNTRACKED && (ev->parent_goid || ev->kind < LIFECYCLE_RUNQ_PUT))
        log_uint(w, "parent_goroutine_id", ev->parent_goid);
    log_str(w, "event", EVENT_NAMES[ev->kind]);
    log_str(w, "function", function);
    if (ev->kind == LIFECYCLE_EXITED)
        log_duration(w, "lifetime", ev->lifetime_ns);
    if (ev->kind == LIFECYCLE_EXITED_UNTRACKED)
        log_str(w, "created", "before gmon attached");
    log_end(w);
    log_write_if_over(w, LOG_BATCH_BYTES);
}

static void on_event(void *ctx, const struct lifecycle_event *ev) {
    struct gr_monitor *m = ctx;
    m->received++;
    if (ev->kind == LIFECYCLE_RUNTIME_STARTED) /* no row; its load bias names a short-lived PIE process's */
        process_watch_runtime_event(&m->procs, &m->probes, ev);
    if (ev->kind < LIFECYCLE_CREATED || ev->kind >= EVENT_KINDS)
        return;
    m->seen[ev->kind]++;
    char function[256] = "?";
    if (ev->startpc)
        creation_sites_function_name(&m->sites, ev->tgid, ev->startpc, function, sizeof(function));
    if (m->opt.table)
        table_row(m, ev, function);
    else
        log_row(m, ev, function);
}

static bool load_bias_of(void *ctx, uint32_t tgid, uint32_t image, uint64_t *bias) {
    struct gr_monitor *m = ctx;
    return image == SITE_IMAGE_CURRENT ? process_watch_load_bias(&m->procs, tgid, bias)
                                       : process_watch_image_bias(&m->procs, tgid, image, bias);
}

/* The rows of one poll are written together: when it returns, or every LOG_BATCH_BYTES. */
static int poll_events(void *ctx, int timeout_ms) {
    struct gr_monitor *m = ctx;
    log_hold(&m->log);
    int rc = lifecycle_poll(&m->probes, timeout_ms);
    log_release(&m->log);
    fflush(stdout);
    return rc;
}

static void forget_process(void *ctx, uint32_t tgid, bool execed) {
    struct gr_monitor *m = ctx;
    (void)execed;
    lifecycle_forget_process(&m->probes, tgid);
    creation_sites_forget_process(&m->sites, tgid);
}

/* Every 500 ms: --pid stops when its process has ended; --path forgets each process that has, once its last
 * events are shown (they all came before its exit, and are named with its load bias, still known then).
 * Goroutines still running when a process ended used to stay in the live map: a program started over and
 * over filled it (65,536 entries), and later goroutines went untracked. */
static bool target_still_runs(void *ctx) {
    struct gr_monitor *m = ctx;
    if (m->prog.target.pid)
        return trace_target_running("gr", &m->prog.target);
    process_watch_scan(&m->procs, &m->probes);
    poll_events(m, 0);
    process_watch_reap(&m->procs, forget_process, m);
    return true;
}

static int start(void *ctx) {
    struct gr_monitor *m = ctx;
    struct gmon_error err;
    const struct options *o = &m->opt;
    if (traced_program_start(&m->prog, "gr", o->trace.path, o->trace.pid, o->trace.go_version) != 0)
        return GMON_EXIT_BAD_INPUT;
    if (exit_options_check_target("gr", &o->exits, m->prog.target.pid) != 0)
        return GMON_EXIT_BAD_INPUT;
    process_watch_init(&m->procs, &m->prog.target);
    creation_sites_init(&m->sites, &m->prog.target.bin, &m->probes, load_bias_of, m, 100000);
    struct lifecycle_options lo = {.layout = m->prog.layout.layout,
                                   .attach_path = traced_program_attach_path(&m->prog),
                                   .pid = traced_program_attach_pid(&m->prog),
                                   .emit_created = true,
                                   .emit_exited = true,
                                   .emit_untracked = true,
                                   .emit_runq = o->verbose,
                                   .force_perf_buffer = o->trace.perf_buffer,
                                   .force_ring_buffer = o->trace.ring_buffer,
                                   .max_live = 65536,
                                   .max_sites = 16384,
                                   .max_stacks = 16384,
                                   .exit_scan_ms = exit_options_scan_ms(&o->exits)};
    int64_t t0 = monotonic_ns();
    if (lifecycle_open(&m->probes, &lo, &m->prog.plan, on_event, m, &err) != 0) {
        cli_error("gr", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    if (o->verbose && m->probes.runq_missing[0])
        fprintf(stderr, "gmon gr: %s %s inlined in this Go release: their run-queue events are not shown\n",
                m->probes.runq_missing, strchr(m->probes.runq_missing, ',') ? "are" : "is");
    /* Last of the start-up messages: it ends with "Ctrl-C stops", and tests wait for it. */
    traced_program_report_attached(&m->prog, m->probes.prog.nprobes, t0);
    return GMON_EXIT_OK;
}

static void print_summary(struct gr_monitor *m) {
    uint64_t c[LIFECYCLE_COUNTERS];
    lifecycle_counters(&m->probes, c);
    const uint64_t *n = m->seen;
    fprintf(stderr, "goroutines: %llu created, %llu exited ", (unsigned long long)n[LIFECYCLE_CREATED],
            (unsigned long long)(n[LIFECYCLE_EXITED] + n[LIFECYCLE_EXITED_UNTRACKED]));
    if (m->opt.exits.poll)
        fprintf(stderr,
                "(found by %llu scans of memory; those of goroutines created before gmon attached are "
                "not seen)",
                (unsigned long long)c[COUNTER_EXIT_SCANS]);
    else
        fprintf(stderr, "(%llu of them created before gmon attached)",
                (unsigned long long)n[LIFECYCLE_EXITED_UNTRACKED]);
    if (m->opt.verbose)
        fprintf(stderr, "; run queue: %llu put, %llu got, %llu stolen",
                (unsigned long long)n[LIFECYCLE_RUNQ_PUT], (unsigned long long)n[LIFECYCLE_RUNQ_GET],
                (unsigned long long)n[LIFECYCLE_RUNQ_STEAL]);
    fprintf(stderr, "\nprobe hits: newproc1 %llu", (unsigned long long)c[COUNTER_CREATE_HITS]);
    if (!m->opt.exits.poll)
        fprintf(stderr, ", goexit1 %llu", (unsigned long long)c[COUNTER_EXIT_HITS]);
    if (m->opt.verbose)
        fprintf(stderr, ", run queue %llu", (unsigned long long)c[COUNTER_RUNQ_HITS]);
    fprintf(stderr,
            "\nlosses: %llu events lost, %llu goroutines not tracked (live map full), %llu goroutines "
            "unreadable, %llu failed reads\n",
            (unsigned long long)c[COUNTER_EVENTS_LOST], (unsigned long long)c[COUNTER_LIVE_MAP_FULL],
            (unsigned long long)(c[COUNTER_CREATE_UNREADABLE] + c[COUNTER_EXIT_UNREADABLE] +
                                 c[COUNTER_EXIT_SCAN_UNREADABLE]),
            (unsigned long long)c[COUNTER_READ_FAILED]);
    /* Read after detaching: every event sent was delivered, so a difference is a gmon bug. */
    if (m->received + m->probes.malformed_events != c[COUNTER_EVENTS_SENT])
        fprintf(stderr, "gmon gr: %llu events sent by the probes but %llu received (please report this)\n",
                (unsigned long long)c[COUNTER_EVENTS_SENT], (unsigned long long)m->received);
}

static void stop(void *ctx, bool attached) {
    struct gr_monitor *m = ctx;
    if (attached) {
        /* Detach, then deliver what was still buffered: the final figures agree with the probe counters. */
        lifecycle_detach(&m->probes);
        fflush(stdout);
        print_summary(m);
    }
    lifecycle_close(&m->probes);
    creation_sites_free(&m->sites);
    process_watch_free(&m->procs);
    traced_program_close(&m->prog);
    log_writer_close(&m->log);
}

int cmd_gr(int argc, char *argv[]) {
    if (cli_wants_command_list(argc, argv)) {
        puts("seq");
        return GMON_EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "seq") == 0)
        return cmd_lifetime(argc - 1, argv + 1);
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static struct gr_monitor m;
    memset(&m, 0, sizeof(m));
    int parsed = parse_options(argc, argv, &m.opt);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    m.mono_to_wall_ns = wall_ns() - monotonic_ns();
    if (trace_log_writer_init(&m.log, m.opt.format, LOG_INFO) != 0)
        return GMON_EXIT_FAILED;
    struct trace_command run = {.start = start,
                                .stop = stop,
                                .loop = {.poll = poll_events,
                                         .tick = target_still_runs,
                                         .ctx = &m,
                                         .tick_ms = 500,
                                         .duration_s = m.opt.trace.duration_s}};
    return trace_command_run(&run);
}
