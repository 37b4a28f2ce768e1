/* gmon gr seq (alias gmon lifetime) --path BIN | --pid PID: goroutine lifetimes as log2 histograms of
 * microseconds, counted in BPF (probes/lifecycle.bpf.c, lifetime_log2 map), printed every --interval and at
 * exit; --by site gives one histogram per creation site (the `go` statement). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "creation_sites.h"
#include "exit_options.h"
#include "grow_array.h"
#include "lifecycle_probes.h"
#include "log2_hist.h"
#include "log_writer.h"
#include "option_help.h"
#include "process_watch.h"
#include "table_text.h"
#include "trace_loop.h"
#include "trace_options.h"
#include "traced_program.h"

static const char USAGE[] =
    "Usage: gmon gr seq --path BIN | --pid PID | --container NAME [OPTIONS]      (also: gmon lifetime ...)\n"
    "\n"
    "Histogram of goroutine lifetimes in a running Go program (Go 1.17-1.27), in microseconds on a log2\n"
    "scale (the rows of bcc's tools: 4 -> 7 counts lifetimes of 4 to 7 us). Counted inside the kernel with\n"
    "eBPF uprobes on goroutine creation and exit, so no goroutine is missed whatever the rate; only\n"
    "goroutines created after gmon attached have a known lifetime. Needs root.\n"
    "Prints the goroutines that exited in each interval, and at the end (Ctrl-C, --duration or the end of\n"
    "the --pid process) the histogram of every goroutine that exited since gmon attached. With --path, the\n"
    "processes running BIN share one histogram.\n"
    "\n" HELP_TRACE_TARGET
    "  --by site           one histogram per creation site (the go statement, with its function and line),\n"
    "                      busiest first\n" HELP_INTERVAL
    "  --format F          table (default), logfmt or json: one record per histogram, slots as an object\n"
    "                      {\"low-high\": count}\n" HELP_GO_VERSION HELP_DURATION HELP_PERF_BUFFER
        HELP_RING_BUFFER HELP_EXITS
    "                      (here: a goroutine that ends before the scan after its creation is counted as\n"
    "                      living half the time from its creation to that scan, whatever it "
    "lived)\n" HELP_HELP "\n" HELP_EXIT_STATUS "Reference: man gmon-gr (docs/gr.md).\n"
    "\n"
    "Examples:\n"
    "  gmon gr seq --pid 4242                      lifetimes of the goroutines that exit, every 5 seconds\n"
    "  gmon gr seq --pid 4242 --by site --interval 0 --duration 30\n"
    "                                              one histogram per go statement, after 30 seconds\n";

enum { OPT_FORMAT = 1000, OPT_BY, OPT_INTERVAL };

struct options {
    struct trace_options trace;
    bool table, by_site;
    enum log_format format;
    uint64_t interval_s;
    struct exit_options exits;
};

/* The lifetimes of one histogram: every process, or one creation site (named after its go statement). */
struct lifetime_group {
    char name[320];
    struct log2_hist total, reported;
};

struct lifetime_monitor {
    struct options opt;
    struct traced_program prog;
    struct lifecycle_probes probes;
    struct creation_sites sites;
    struct process_watch procs;
    struct log_writer log;
    struct lifetime_group *groups;
    size_t ngroups, cap;
    struct interval interval;
};

static int parse_own_option(int c, const char *arg, void *ctx) {
    struct options *o = ctx;
    switch (c) {
    case OPT_FORMAT:
        return trace_options_parse_format("gr seq", arg, &o->table, &o->format);
    case OPT_BY:
        if (strcmp(arg, "site") == 0) {
            o->by_site = true;
            return 1;
        }
        cli_error("gr seq", "--by takes \"site\", not \"%s\"", arg);
        return -1;
    case OPT_INTERVAL:
        return cli_parse_uint("gr seq", "--interval", arg, 0, 86400, &o->interval_s) ? 1 : -1;
    default:
        return exit_options_parse("gr seq", c, arg, &o->exits);
    }
}

static int parse_options(int argc, char *argv[], struct options *o) {
    static const struct option opts[] = {TRACE_LONG_OPTIONS,
                                         TRACE_RING_BUFFER_OPTION,
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"by", required_argument, NULL, OPT_BY},
                                         {"interval", required_argument, NULL, OPT_INTERVAL},
                                         EXIT_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    *o = (struct options){.table = true, .interval_s = 5};
    exit_options_init(&o->exits);
    int rc = trace_options_getopt("gr seq", argc, argv, opts, "", &o->trace, parse_own_option, o);
    return rc == 0 ? exit_options_finish("gr seq", &o->exits) : rc;
}

static struct lifetime_group *group_named(struct lifetime_monitor *m, const char *name) {
    for (size_t i = 0; i < m->ngroups; i++)
        if (strcmp(m->groups[i].name, name) == 0)
            return &m->groups[i];
    struct lifetime_group *grown = grow_array(m->groups, &m->cap, m->ngroups, sizeof(*grown), 16);
    if (!grown)
        return NULL;
    m->groups = grown;
    struct lifetime_group *g = &m->groups[m->ngroups++];
    memset(g, 0, sizeof(*g));
    snprintf(g->name, sizeof(g->name), "%s", name);
    return g;
}

/* "main.spawnWorkers (main.go:55)": the function holding the go statement and the statement's line. */
static void site_name(struct lifetime_monitor *m, const struct site_key *key, char *out, size_t size) {
    const struct site *s = creation_sites_get(&m->sites, key);
    if (!s || !s->nframes)
        snprintf(out, size, "0x%llx", (unsigned long long)key->gopc);
    else
        snprintf(out, size, "%s (%s)", s->frames[0], s->location[0] ? s->location : "?");
}

static void add_slot(void *ctx, const struct lifetime_slot_key *key, uint64_t count) {
    struct lifetime_monitor *m = ctx;
    char name[320] = "all goroutines";
    if (m->opt.by_site)
        site_name(m, &key->site, name, sizeof(name));
    struct lifetime_group *g = group_named(m, name);
    if (g && key->slot < LOG2_HIST_SLOTS)
        g->total.slots[key->slot] += count;
}

/* Re-reads the kernel's counts (they only grow) into each group's total. */
static void read_totals(struct lifetime_monitor *m) {
    for (size_t i = 0; i < m->ngroups; i++)
        memset(&m->groups[i].total, 0, sizeof(m->groups[i].total));
    lifecycle_for_each_lifetime_slot(&m->probes, add_slot, m);
}

static int by_count_desc(const void *a, const void *b) {
    uint64_t x = log2_hist_total(&((const struct lifetime_group *)a)->total);
    uint64_t y = log2_hist_total(&((const struct lifetime_group *)b)->total);
    return x < y ? 1
           : x > y
               ? -1
               : strcmp(((const struct lifetime_group *)a)->name, ((const struct lifetime_group *)b)->name);
}

static void print_histogram(struct lifetime_monitor *m, const struct report_span *span, const char *group,
                            const struct log2_hist *h) {
    if (m->opt.table) {
        char title[128];
        report_span_text(span, "goroutines that exited", title, sizeof(title));
        printf("%s%s%s\n", title, m->opt.by_site ? ": " : "", m->opt.by_site ? group : "");
        log2_hist_print(stdout, h, "lifetime (us)");
        return;
    }
    log_begin(&m->log, LOG_INFO, span->end_wall_ns, "goroutine lifetimes");
    log_report_span(&m->log, span);
    if (m->opt.by_site)
        log_str(&m->log, "site", group);
    log_uint(&m->log, "goroutines", log2_hist_total(h));
    log2_hist_log(&m->log, "lifetime_us", h);
    log_end(&m->log);
}

/* Prints each group's histogram: of the last interval (final false) or since gmon attached (final true). */
static void print_all(struct lifetime_monitor *m, bool final) {
    read_totals(m);
    if (m->ngroups > 1) /* none yet: groups is NULL, which qsort must not be given */
        qsort(m->groups, m->ngroups, sizeof(*m->groups), by_count_desc);
    struct report_span span = interval_report(&m->interval, final);
    bool any = false;
    for (size_t i = 0; i < m->ngroups; i++) {
        struct lifetime_group *g = &m->groups[i];
        struct log2_hist shown;
        if (final)
            shown = g->total;
        else
            log2_hist_diff(&g->total, &g->reported, &shown);
        g->reported = g->total;
        if (!log2_hist_total(&shown))
            continue;
        print_histogram(m, &span, g->name, &shown);
        any = true;
    }
    if (!any && m->opt.table) {
        char title[128];
        report_span_text(&span, "goroutines that exited", title, sizeof(title));
        printf("%s: none\n", title);
    }
    if (m->opt.table)
        printf("\n");
    fflush(stdout);
}

static bool load_bias_of(void *ctx, uint32_t tgid, uint32_t image, uint64_t *bias) {
    struct lifetime_monitor *m = ctx;
    return image == SITE_IMAGE_CURRENT ? process_watch_load_bias(&m->procs, tgid, bias)
                                       : process_watch_image_bias(&m->procs, tgid, image, bias);
}

static int poll_events(void *ctx, int timeout_ms) {
    struct lifetime_monitor *m = ctx;
    return lifecycle_poll(&m->probes, timeout_ms);
}

static void on_event(void *ctx, const struct lifecycle_event *ev) {
    struct lifetime_monitor *m = ctx;
    if (ev->kind == LIFECYCLE_RUNTIME_STARTED) /* its load bias names a short-lived PIE process's sites */
        process_watch_runtime_event(&m->procs, &m->probes, ev);
}

/* --path: the goroutines a process left running when it ended never exit, and would stay in the live map
 * until it was full (programs started over and over); they are forgotten, its histograms and sites kept. */
static bool tick(void *ctx) {
    struct lifetime_monitor *m = ctx;
    if (interval_due(&m->interval))
        print_all(m, false);
    if (!m->prog.target.pid)
        process_watch_forget_ended(&m->procs, &m->probes);
    return trace_target_running("gr seq", &m->prog.target);
}

static int start(void *ctx) {
    struct lifetime_monitor *m = ctx;
    struct gmon_error err;
    const struct options *o = &m->opt;
    if (traced_program_start(&m->prog, "gr seq", o->trace.path, o->trace.pid, o->trace.go_version) != 0)
        return GMON_EXIT_BAD_INPUT;
    if (exit_options_check_target("gr seq", &o->exits, m->prog.target.pid) != 0)
        return GMON_EXIT_BAD_INPUT;
    process_watch_init(&m->procs, &m->prog.target);
    creation_sites_init(&m->sites, &m->prog.target.bin, &m->probes, load_bias_of, m, 100000);
    struct lifecycle_options lo = {.layout = m->prog.layout.layout,
                                   .attach_path = traced_program_attach_path(&m->prog),
                                   .pid = traced_program_attach_pid(&m->prog),
                                   .lifetime_log2 = o->by_site ? 2 : 1,
                                   .force_perf_buffer = o->trace.perf_buffer,
                                   .force_ring_buffer = o->trace.ring_buffer,
                                   .max_live = 65536,
                                   .max_sites = 16384,
                                   .max_stacks = 16384,
                                   .exit_scan_ms = exit_options_scan_ms(&o->exits)};
    int64_t t0 = monotonic_ns();
    if (lifecycle_open(&m->probes, &lo, &m->prog.plan, on_event, m, &err) != 0) {
        cli_error("gr seq", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    traced_program_report_attached(&m->prog, m->probes.prog.nprobes, t0);
    interval_start(&m->interval, o->interval_s);
    return GMON_EXIT_OK;
}

static void print_losses(struct lifetime_monitor *m) {
    uint64_t c[LIFECYCLE_COUNTERS];
    lifecycle_counters(&m->probes, c);
    fprintf(stderr, "goroutines: %llu created, %llu exited ", (unsigned long long)c[COUNTER_CREATE_HITS],
            (unsigned long long)c[COUNTER_EXIT_HITS]);
    if (m->opt.exits.poll)
        fprintf(
            stderr,
            "(read from memory in %llu scans, every %llu ms or more: lifetimes within half that; exits of "
            "goroutines created before gmon attached are not seen)\n",
            (unsigned long long)c[COUNTER_EXIT_SCANS], (unsigned long long)m->opt.exits.scan_ms);
    else
        fprintf(stderr, "(%llu created before gmon attached: lifetime unknown)\n",
                (unsigned long long)c[COUNTER_EXIT_UNTRACKED]);
    fprintf(stderr,
            "losses: %llu not tracked (live map full), %llu not counted (histogram map full), %llu failed "
            "reads\n",
            (unsigned long long)c[COUNTER_LIVE_MAP_FULL], (unsigned long long)c[COUNTER_LOG2_MAP_FULL],
            (unsigned long long)c[COUNTER_READ_FAILED]);
    if (c[COUNTER_EXIT_SCAN_UNREADABLE])
        fprintf(
            stderr,
            "gmon gr seq: %llu tracked goroutines could not be read from memory: their exits are not seen\n",
            (unsigned long long)c[COUNTER_EXIT_SCAN_UNREADABLE]);
    /* Read after detaching: every exit is in a histogram, or one of the losses. */
    uint64_t in_histograms = 0;
    for (size_t i = 0; i < m->ngroups; i++)
        in_histograms += log2_hist_total(&m->groups[i].total);
    uint64_t lost = c[COUNTER_EXIT_UNTRACKED] + c[COUNTER_LOG2_MAP_FULL] + c[COUNTER_EXIT_UNREADABLE];
    if (in_histograms + lost != c[COUNTER_EXIT_HITS])
        fprintf(stderr,
                "gmon gr seq: %llu exits, but %llu in the histograms and %llu lost (please report this)\n",
                (unsigned long long)c[COUNTER_EXIT_HITS], (unsigned long long)in_histograms,
                (unsigned long long)lost);
}

static void stop(void *ctx, bool attached) {
    struct lifetime_monitor *m = ctx;
    if (attached) {
        lifecycle_detach(&m->probes); /* the histograms and counters read next are final */
        print_all(m, true);
        print_losses(m);
    }
    lifecycle_close(&m->probes);
    creation_sites_free(&m->sites);
    process_watch_free(&m->procs);
    traced_program_close(&m->prog);
    log_writer_close(&m->log);
    free(m->groups);
}

int cmd_lifetime(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static struct lifetime_monitor m;
    memset(&m, 0, sizeof(m));
    int parsed = parse_options(argc, argv, &m.opt);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    if (trace_log_writer_init(&m.log, m.opt.format, LOG_INFO) != 0)
        return GMON_EXIT_FAILED;
    struct trace_command run = {.start = start,
                                .stop = stop,
                                .loop = {.poll = poll_events,
                                         .tick = tick,
                                         .ctx = &m,
                                         .tick_ms = 250,
                                         .duration_s = m.opt.trace.duration_s}};
    return trace_command_run(&run);
}
