/* gmon sched: without --blocked, reads the runtime's own latency histogram (cmd_sched_runtime.c). With it,
 * probes (probes/sched.bpf.c): scheduling latency (runnable ->
 * running) as a log2 histogram, and time blocked per wait reason (gopark -> ready), with the reason strings
 * read from the target binary's runtime.waitReasonStrings. Printed every --interval and at exit. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "go_string_table.h"
#include "log2_hist.h"
#include "log_writer.h"
#include "option_help.h"
#include "process_watch.h"
#include "sched_probes.h"
#include "table_text.h"
#include "trace_loop.h"
#include "trace_options.h"
#include "traced_program.h"

static const char USAGE[] =
    "Usage: gmon sched --pid PID | --container NAME | --path BIN [OPTIONS]\n"
    "\n"
    "Measures the Go scheduler of a running program (Go 1.17-1.27).\n"
    "Without --blocked: the scheduling latency (how long goroutines stay runnable before they run) from the\n"
    "runtime's own histogram, read from the process's memory (with --path, of every process running BIN,\n"
    "summed): no probe, no cost to it. The runtime times about 1 scheduling in 8, in its own buckets (ns).\n"
    "With --blocked: an eBPF uprobe on every goroutine status change (runtime.casgstatus) times\n"
    "every scheduling (log2 histogram, us) and how long goroutines stay parked, per wait reason (chan\n"
    "receive, select, sleep, IO wait, sync.Mutex.Lock, ...: the target's own words), with counts and means.\n"
    "Only waits that begin after gmon attached are measured. Every status change traps into the kernel: on\n"
    "busy programs this costs far more than the reader (bench/README.md has the figures). Needs root.\n"
    "Prints what happened in each interval, and at the end (Ctrl-C, --duration, end of the --pid process)\n"
    "the totals since gmon attached. With --path, the processes running BIN are merged.\n"
    "\n" HELP_TRACE_TARGET HELP_INTERVAL
    "  --blocked           attach the probes: time blocked per wait reason, and every scheduling timed\n"
    "  -v, --verbose       with the probes, also a histogram of blocked time for each wait reason\n"
    "  --format F          table (default), logfmt or json: a record for the latency (and, with the probes,\n"
    "                      one per wait reason)\n" HELP_GO_VERSION HELP_DURATION HELP_PERF_BUFFER HELP_HELP
    "\n" HELP_EXIT_STATUS "Reference: man gmon-sched (docs/sched.md).\n"
    "\n"
    "Examples:\n"
    "  gmon sched --pid 4242                       the runtime's latency histogram, every 5 seconds\n"
    "  gmon sched --pid 4242 --blocked -v --interval 0 --duration 10\n"
    "                                              10 seconds of probes, with a histogram per wait reason\n";

enum { OPT_FORMAT = 1000, OPT_INTERVAL, OPT_VERBOSE, OPT_BLOCKED };

/* Index SCHED_REASONS - 1 holds the scheduling latency; 0..255 the wait reasons. */
enum { SCHED_REASONS = 257, LATENCY = SCHED_REASONS - 1 };

struct options {
    struct trace_options trace;
    bool table, verbose, blocked;
    enum log_format format;
    uint64_t interval_s;
};

struct reason_stats {
    struct log2_hist hist, hist_reported;
    struct sched_total total, total_reported;
};

struct sched_monitor {
    struct options opt;
    struct traced_program prog;
    struct go_string_table reasons;
    bool have_reasons;
    struct sched_probes probes;
    struct log_writer log;
    struct reason_stats stats[SCHED_REASONS];
    struct interval interval;
};

static int parse_own_option(int c, const char *arg, void *ctx) {
    struct options *o = ctx;
    switch (c) {
    case OPT_FORMAT:
        return trace_options_parse_format("sched", arg, &o->table, &o->format);
    case OPT_INTERVAL:
        return cli_parse_uint("sched", "--interval", arg, 0, 86400, &o->interval_s) ? 1 : -1;
    case OPT_BLOCKED:
        o->blocked = true;
        return 1;
    case OPT_VERBOSE:
    case 'v':
        o->verbose = true;
        return 1;
    default:
        return 0;
    }
}

static int parse_options(int argc, char *argv[], struct options *o) {
    static const struct option opts[] = {TRACE_LONG_OPTIONS,
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"interval", required_argument, NULL, OPT_INTERVAL},
                                         {"verbose", no_argument, NULL, OPT_VERBOSE},
                                         {"blocked", no_argument, NULL, OPT_BLOCKED},
                                         {NULL, 0, NULL, 0}};
    *o = (struct options){.table = true, .interval_s = 5};
    return trace_options_getopt("sched", argc, argv, opts, "v", &o->trace, parse_own_option, o);
}

static int stats_index(uint16_t reason) {
    return reason == SCHED_RUN_LATENCY ? LATENCY : reason < 256 ? reason : -1;
}

static void add_slot(void *ctx, const struct sched_slot_key *key, uint64_t count) {
    struct sched_monitor *m = ctx;
    int i = stats_index(key->reason);
    if (i >= 0 && key->slot < LOG2_HIST_SLOTS)
        m->stats[i].hist.slots[key->slot] += count;
}

static void add_total(void *ctx, const struct sched_slot_key *key, const struct sched_total *t) {
    struct sched_monitor *m = ctx;
    int i = stats_index(key->reason);
    if (i < 0)
        return;
    m->stats[i].total.count += t->count;
    m->stats[i].total.sum_ns += t->sum_ns;
}

/* Re-reads the kernel's counts (they only grow; processes are merged). */
static void read_stats(struct sched_monitor *m) {
    for (int i = 0; i < SCHED_REASONS; i++) {
        memset(&m->stats[i].hist, 0, sizeof(m->stats[i].hist));
        memset(&m->stats[i].total, 0, sizeof(m->stats[i].total));
    }
    sched_probes_for_each(&m->probes, add_slot, add_total, m);
}

/* The runtime's name of a wait reason, "wait reason N" when the table was not found or is shorter. */
static void reason_name(const struct sched_monitor *m, int reason, char *out, size_t size) {
    const char *name = m->have_reasons ? go_string_table_get(&m->reasons, (size_t)reason) : NULL;
    if (name && name[0])
        snprintf(out, size, "%s", name);
    else if (reason == 0)
        snprintf(out, size, "no reason");
    else
        snprintf(out, size, "wait reason %d", reason);
}

/* What to show for one interval: the change since the last print, or everything (final). */
struct shown {
    struct log2_hist hist;
    struct sched_total total;
};

static void take(struct reason_stats *s, bool final, struct shown *out) {
    if (final) {
        out->hist = s->hist;
        out->total = s->total;
    } else {
        log2_hist_diff(&s->hist, &s->hist_reported, &out->hist);
        out->total.count = s->total.count - s->total_reported.count;
        out->total.sum_ns = s->total.sum_ns - s->total_reported.sum_ns;
    }
    s->hist_reported = s->hist;
    s->total_reported = s->total;
}

static int64_t mean_ns(const struct sched_total *t) {
    return t->count ? (int64_t)(t->sum_ns / t->count) : 0;
}

static void log_reason(struct sched_monitor *m, const struct report_span *span, const char *msg,
                       const char *reason, const struct shown *s) {
    struct log_writer *w = &m->log;
    log_begin(w, LOG_INFO, span->end_wall_ns, msg);
    log_report_span(w, span);
    if (reason)
        log_str(w, "reason", reason);
    log_uint(w, "count", s->total.count);
    log_duration(w, "total", s->total.sum_ns);
    log_duration(w, "mean", (uint64_t)mean_ns(&s->total));
    log2_hist_log(w, reason ? "blocked_us" : "latency_us", &s->hist);
    log_end(w);
}

static void table_latency(const struct report_span *span, const struct shown *s) {
    char mean[32], period[96];
    report_span_text(span, "", period, sizeof(period));
    duration_text(mean_ns(&s->total), mean, sizeof(mean));
    printf("%s\nscheduling latency (runnable -> running): %llu goroutines scheduled, mean %s\n", period,
           (unsigned long long)s->total.count, mean);
    log2_hist_print(stdout, &s->hist, "latency (us)");
}

struct reason_row {
    int reason;
    struct shown s;
};

static int by_total_desc(const void *a, const void *b) {
    uint64_t x = ((const struct reason_row *)a)->s.total.sum_ns,
             y = ((const struct reason_row *)b)->s.total.sum_ns;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void table_reasons(struct sched_monitor *m, struct reason_row *rows, size_t n) {
    printf("blocked goroutines by wait reason (waits that ended):\n");
    if (!n) {
        printf("  none\n");
        return;
    }
    printf("  %-32s %-10s %-10s %s\n", "WAIT REASON", "WAITS", "TOTAL", "MEAN");
    for (size_t i = 0; i < n; i++) {
        char name[96], total[32], mean[32], waits[24];
        reason_name(m, rows[i].reason, name, sizeof(name));
        duration_text((int64_t)rows[i].s.total.sum_ns, total, sizeof(total));
        duration_text(mean_ns(&rows[i].s.total), mean, sizeof(mean));
        snprintf(waits, sizeof(waits), "%llu", (unsigned long long)rows[i].s.total.count);
        printf("  %-32s %-10s ", name, waits);
        print_cell(total, 10);
        printf("%s\n", mean);
    }
    for (size_t i = 0; m->opt.verbose && i < n; i++) {
        char name[96];
        reason_name(m, rows[i].reason, name, sizeof(name));
        printf("blocked in %s:\n", name);
        log2_hist_print(stdout, &rows[i].s.hist, "blocked (us)");
    }
}

static void print_all(struct sched_monitor *m, bool final) {
    read_stats(m);
    struct report_span span = interval_report(&m->interval, final);
    struct shown latency;
    take(&m->stats[LATENCY], final, &latency);
    struct reason_row *rows = calloc(LATENCY, sizeof(*rows)); /* one per wait reason */
    if (!rows) {
        fprintf(stderr, "gmon sched: out of memory: the wait reasons of this interval are not shown\n");
        return;
    }
    size_t n = 0;
    for (int r = 0; r < 256; r++) {
        take(&m->stats[r], final, &rows[n].s);
        if (rows[n].s.total.count) {
            rows[n].reason = r;
            n++;
        }
    }
    qsort(rows, n, sizeof(rows[0]), by_total_desc);
    if (m->opt.table) {
        table_latency(&span, &latency);
        table_reasons(m, rows, n);
        printf("\n");
    } else {
        log_reason(m, &span, "scheduling latency", NULL, &latency);
        for (size_t i = 0; i < n; i++) {
            char name[96];
            reason_name(m, rows[i].reason, name, sizeof(name));
            log_reason(m, &span, "blocked", name, &rows[i].s);
        }
    }
    free(rows);
    fflush(stdout);
}

static bool tick(void *ctx) {
    struct sched_monitor *m = ctx;
    if (interval_due(&m->interval))
        print_all(m, false);
    return trace_target_running("sched", &m->prog.target);
}

static void find_reasons(struct sched_monitor *m) {
    m->have_reasons = go_wait_reasons_find(&m->prog.target.bin.elf, &m->reasons) == 0;
    if (!m->have_reasons)
        fprintf(stderr, "gmon sched: runtime.waitReasonStrings not found in %s: wait reasons are numbers\n",
                traced_program_name(&m->prog));
}

static int start(void *ctx) {
    struct sched_monitor *m = ctx;
    struct gmon_error err;
    const struct options *o = &m->opt;
    if (traced_program_start(&m->prog, "sched", o->trace.path, o->trace.pid, o->trace.go_version) != 0)
        return GMON_EXIT_BAD_INPUT;
    find_reasons(m);
    struct sched_probe_options so = {.layout = m->prog.layout.layout,
                                     .attach_path = traced_program_attach_path(&m->prog),
                                     .pid = traced_program_attach_pid(&m->prog),
                                     .max_goroutines = 131072};
    int64_t t0 = monotonic_ns();
    if (sched_probes_open(&m->probes, &so, &m->prog.plan, &err) != 0) {
        cli_error("sched", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    traced_program_report_attached(&m->prog, m->probes.prog.nprobes, t0);
    interval_start(&m->interval, o->interval_s);
    return GMON_EXIT_OK;
}

/* Read after detaching: what the histograms and totals hold adds up to what the probes recorded. */
static void print_accounting(struct sched_monitor *m) {
    uint64_t c[SCHED_COUNTERS], in_totals = 0, in_histograms = 0;
    sched_probes_counters(&m->probes, c);
    for (int i = 0; i < SCHED_REASONS; i++) {
        in_totals += m->stats[i].total.count;
        in_histograms += log2_hist_total(&m->stats[i].hist);
    }
    fprintf(stderr,
            "status changes seen: %llu; durations recorded: %llu; losses: %llu map full, %llu failed reads\n",
            (unsigned long long)c[SCHED_COUNTER_HITS], (unsigned long long)c[SCHED_COUNTER_RECORDED],
            (unsigned long long)c[SCHED_COUNTER_MAP_FULL], (unsigned long long)c[SCHED_COUNTER_READ_FAILED]);
    if (in_totals != c[SCHED_COUNTER_RECORDED] || in_histograms != c[SCHED_COUNTER_RECORDED])
        fprintf(
            stderr,
            "gmon sched: %llu durations recorded, but %llu in the totals and %llu in the histograms (please "
            "report this)\n",
            (unsigned long long)c[SCHED_COUNTER_RECORDED], (unsigned long long)in_totals,
            (unsigned long long)in_histograms);
}

static void stop(void *ctx, bool attached) {
    struct sched_monitor *m = ctx;
    if (attached) {
        sched_probes_detach(&m->probes); /* the maps and counters read next are final */
        print_all(m, true);
        print_accounting(m);
    }
    sched_probes_close(&m->probes);
    go_string_table_free(&m->reasons);
    traced_program_close(&m->prog);
    log_writer_close(&m->log);
}

/* Without --blocked: the runtime's own histogram (cmd_sched_runtime.c); the options only the probes use are
 * refused rather than ignored. */
static int read_from_runtime(struct sched_monitor *m) {
    const struct options *o = &m->opt;
    const char *probe_only = o->verbose                                 ? "-v (a histogram per wait reason)"
                             : strcmp(o->trace.go_version, "auto") != 0 ? "--go-version"
                             : o->trace.perf_buffer                     ? "--perf-buffer"
                                                                        : NULL;
    if (probe_only) {
        cli_error("sched",
                  "%s is for the probes: add --blocked (without it gmon reads the runtime's own "
                  "histogram, and takes the release from the binary)",
                  probe_only);
        log_writer_close(&m->log);
        return GMON_EXIT_BAD_INPUT;
    }
    struct sched_read_options r = {.pid = o->trace.path ? 0 : o->trace.pid,
                                   .path = o->trace.path,
                                   .interval_s = o->interval_s,
                                   .duration_s = o->trace.duration_s,
                                   .table = o->table};
    int rc = sched_from_runtime(&r, &m->log);
    log_writer_close(&m->log);
    return rc;
}

int cmd_sched(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static struct sched_monitor m;
    memset(&m, 0, sizeof(m));
    int parsed = parse_options(argc, argv, &m.opt);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    if (trace_log_writer_init(&m.log, m.opt.format, LOG_INFO) != 0)
        return GMON_EXIT_FAILED;
    if (!m.opt.blocked)
        return read_from_runtime(&m);
    struct trace_command run = {
        .start = start,
        .stop = stop,
        .loop = {
            .poll = NULL, .tick = tick, .ctx = &m, .tick_ms = 250, .duration_s = m.opt.trace.duration_s}};
    return trace_command_run(&run);
}
