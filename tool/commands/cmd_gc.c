/* gmon gc --path BIN | --pid PID: one line per GC cycle (trigger, sweep-termination pause, concurrent mark,
 * mark-termination pause, total stop-the-world) and one per other stop-the-world (ReadMemStats, GOMAXPROCS,
 * ...) with its reason. Probes: probes/gc.bpf.c; pairing: gc_cycles.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "gc_probes.h"
#include "gc_cycles.h"
#include "gc_heap.h"
#include "log_writer.h"
#include "option_help.h"
#include "proc_target.h"
#include "process_watch.h"
#include "table_text.h"
#include "trace_loop.h"
#include "trace_options.h"
#include "traced_program.h"

static const char USAGE[] =
    "Usage: gmon gc --path BIN | --pid PID | --container NAME [OPTIONS]\n"
    "\n"
    "Traces garbage collection in a running Go program (Go 1.17-1.27) with eBPF uprobes: one line per GC\n"
    "cycle with its number (counted from when gmon attached), trigger (heap, periodic, forced), the\n"
    "sweep-termination stop-the-world pause, the concurrent mark, the mark-termination pause, the total\n"
    "stop-the-world time and the live heap and goal after it; and one line per other stop-the-world\n"
    "(runtime.ReadMemStats, GOMAXPROCS, ...) with its reason (the runtime's own words from Go 1.21) and the\n"
    "function that asked for it. Needs root. Runs until Ctrl-C, --duration, or the end of the --pid "
    "process;\n"
    "prints a summary on stderr.\n"
    "\n" HELP_TRACE_TARGET
    "  --format F          table (default), logfmt or json (one object per line)\n" HELP_GO_VERSION
        HELP_DURATION HELP_PERF_BUFFER HELP_HELP "\n" HELP_EXIT_STATUS
    "Reference: man gmon-gc (docs/gc.md).\n"
    "\n"
    "Examples:\n"
    "  gmon gc --pid 4242                          a line per GC cycle until Ctrl-C\n"
    "  gmon gc --path /usr/bin/app --format json   every process running /usr/bin/app, as JSON lines\n"
    "  gmon gc --container web --duration 60       one minute of the main process of container 'web'\n";

enum { OPT_FORMAT = 1000 };

struct options {
    struct trace_options trace;
    bool table;
    enum log_format format;
};

struct gc_totals {
    uint64_t cycles, by_trigger[GC_TRIGGER_UNKNOWN + 1], pauses, other_pauses;
    uint64_t heap_unread, heap_unread_exited; /* cycles shown without their live heap, and why */
    int64_t stw_ns, max_pause_ns;
};

struct gc_monitor {
    struct options opt;
    struct traced_program prog;
    struct go_string_table reasons;
    struct gc_probes probes;
    struct gc_cycles cycles;
    struct gc_heap_reader heap;
    struct process_watch procs;
    struct log_writer log;
    struct gc_totals totals;
    int64_t mono_to_wall_ns;
    bool header_printed;
    uint64_t received; /* events delivered: all the probes sent, once they are detached */
};

static int parse_own_option(int c, const char *arg, void *ctx) {
    struct options *o = ctx;
    return c == OPT_FORMAT ? trace_options_parse_format("gc", arg, &o->table, &o->format) : 0;
}

static int parse_options(int argc, char *argv[], struct options *o) {
    static const struct option opts[] = {
        TRACE_LONG_OPTIONS, {"format", required_argument, NULL, OPT_FORMAT}, {NULL, 0, NULL, 0}};
    *o = (struct options){.table = true};
    return trace_options_getopt("gc", argc, argv, opts, "", &o->trace, parse_own_option, o);
}

static void print_header(struct gc_monitor *m) {
    if (m->header_printed)
        return;
    m->header_printed = true;
    printf("%-12s %-7s %-5s %-5s %-8s %-10s %-10s %-10s %-10s %-9s %-9s %s\n", "TIME", "PID", "EVENT", "GC",
           "TRIGGER", "SWEEP-TERM", "MARK", "MARK-TERM", "STW", "LIVE", "GOAL", "REASON (CALLER)");
}

static int64_t pause_ns(const struct stw_pause *p) {
    return p->end_ns - p->begin_ns;
}

/* The heap a cycle left (live) and the goal of the next, read from the process when its event arrives; false
 * when the binary does not let gmon find them, or the read failed: a process that exits right after a cycle
 * is gone before gmon can read it, and the summary counts those cycles. */
static bool heap_of(struct gc_monitor *m, uint32_t tgid, uint64_t *live, uint64_t *goal, bool *have_goal) {
    uint64_t bias = 0;
    if (!m->heap.live_usable)
        return false;
    if (process_watch_load_bias(&m->procs, tgid, &bias) &&
        gc_heap_read(&m->heap, tgid, bias, live, goal, have_goal))
        return true;
    m->totals.heap_unread++;
    if (proc_memory_gone((int)tgid))
        m->totals.heap_unread_exited++;
    return false;
}

static void table_cycle(struct gc_monitor *m, const struct gc_cycle *c) {
    char when[32], sweep[32], mark[32], markterm[32], stw[32], live_text[32] = "-", goal_text[32] = "-";
    uint64_t live, goal;
    bool have_goal;
    if (heap_of(m, c->tgid, &live, &goal, &have_goal)) {
        bytes_text(live, live_text, sizeof(live_text));
        if (have_goal && goal == UINT64_MAX) /* GOGC=off and no memory limit: no goal */
            snprintf(goal_text, sizeof(goal_text), "off");
        else if (have_goal)
            bytes_text(goal, goal_text, sizeof(goal_text));
    }
    clock_text(c->mark_termination.end_ns + m->mono_to_wall_ns, when, sizeof(when));
    duration_text(pause_ns(&c->sweep_termination), sweep, sizeof(sweep));
    duration_text(c->mark_ns, mark, sizeof(mark));
    duration_text(pause_ns(&c->mark_termination), markterm, sizeof(markterm));
    duration_text(pause_ns(&c->sweep_termination) + pause_ns(&c->mark_termination), stw, sizeof(stw));
    print_header(m);
    printf("%-12s %-7u %-5s %-5llu %-8s ", when, c->tgid, "gc", (unsigned long long)c->number,
           gc_trigger_name(c->trigger));
    const char *cells[] = {sweep, mark, markterm, stw};
    for (int i = 0; i < 4; i++)
        print_cell(cells[i], 10);
    printf("%-9s %-9s (%s)\n", live_text, goal_text, c->sweep_termination.caller);
    fflush(stdout);
}

static void table_pause(struct gc_monitor *m, const struct stw_pause *p) {
    char when[32], stw[32];
    clock_text(p->end_ns + m->mono_to_wall_ns, when, sizeof(when));
    duration_text(pause_ns(p), stw, sizeof(stw));
    print_header(m);
    printf("%-12s %-7u %-5s %-5s %-8s %-10s %-10s %-10s ", when, p->tgid, "stw", "-", "-", "-", "-", "-");
    print_cell(stw, 10);
    printf("%-9s %-9s %s (%s)\n", "-", "-", p->reason, p->caller);
    fflush(stdout);
}

static void log_cycle(struct gc_monitor *m, const struct gc_cycle *c) {
    struct log_writer *w = &m->log;
    log_begin(w, LOG_INFO, c->mark_termination.end_ns + m->mono_to_wall_ns, "gc cycle");
    log_uint(w, "pid", c->tgid);
    log_uint(w, "gc", c->number);
    log_str(w, "trigger", gc_trigger_name(c->trigger));
    log_str(w, "caller", c->sweep_termination.caller);
    log_duration(w, "sweep_termination", (uint64_t)pause_ns(&c->sweep_termination));
    log_duration(w, "mark", (uint64_t)(c->mark_ns > 0 ? c->mark_ns : 0));
    log_duration(w, "mark_termination", (uint64_t)pause_ns(&c->mark_termination));
    log_duration(w, "stw", (uint64_t)(pause_ns(&c->sweep_termination) + pause_ns(&c->mark_termination)));
    uint64_t live, goal;
    bool have_goal;
    if (heap_of(m, c->tgid, &live, &goal, &have_goal)) {
        log_uint(w, "heap_live", live);
        if (have_goal && goal != UINT64_MAX) /* GOGC=off and no memory limit: no goal */
            log_uint(w, "heap_goal", goal);
    }
    log_end(w);
}

static void log_pause(struct gc_monitor *m, const struct stw_pause *p) {
    struct log_writer *w = &m->log;
    log_begin(w, LOG_INFO, p->end_ns + m->mono_to_wall_ns, "stop the world");
    log_uint(w, "pid", p->tgid);
    log_str(w, "reason", p->reason);
    log_str(w, "caller", p->caller);
    log_uint(w, "goroutine_id", p->goid);
    log_duration(w, "stopping", (uint64_t)(p->stopped_ns - p->begin_ns));
    log_duration(w, "pause", (uint64_t)pause_ns(p));
    log_end(w);
}

static void on_pause(void *ctx, const struct stw_pause *p) {
    struct gc_monitor *m = ctx;
    m->totals.pauses++;
    m->totals.stw_ns += pause_ns(p);
    if (pause_ns(p) > m->totals.max_pause_ns)
        m->totals.max_pause_ns = pause_ns(p);
    if (p->kind != STW_OTHER)
        return; /* shown with its cycle */
    m->totals.other_pauses++;
    if (m->opt.table)
        table_pause(m, p);
    else
        log_pause(m, p);
}

static void on_cycle(void *ctx, const struct gc_cycle *c) {
    struct gc_monitor *m = ctx;
    m->totals.cycles++;
    m->totals.by_trigger[c->trigger]++;
    if (m->opt.table)
        table_cycle(m, c);
    else
        log_cycle(m, c);
}

static void on_event(void *ctx, const struct gc_event *ev) {
    struct gc_monitor *m = ctx;
    m->received++;
    gc_cycles_event(&m->cycles, ev);
}

static bool load_bias_of(void *ctx, uint32_t tgid, uint64_t *bias) {
    struct gc_monitor *m = ctx;
    return process_watch_load_bias(&m->procs, tgid, bias);
}

static int poll_events(void *ctx, int timeout_ms) {
    struct gc_monitor *m = ctx;
    return gc_probes_poll(&m->probes, timeout_ms);
}

static bool target_still_runs(void *ctx) {
    struct gc_monitor *m = ctx;
    return trace_target_running("gc", &m->prog.target);
}

/* Go 1.21+ passes stopTheWorldWithSema a reason; its names are read from the binary. */
static bool find_reasons(struct gc_monitor *m) {
    if (m->prog.target.bin.version.minor < 21)
        return false;
    if (go_stw_reasons_find(&m->prog.target.bin.elf, &m->reasons) == 0)
        return true;
    fprintf(stderr, "gmon gc: runtime.stwReasonStrings not found in %s: reasons are named after the caller\n",
            traced_program_name(&m->prog));
    return false;
}

static int start(void *ctx) {
    struct gc_monitor *m = ctx;
    struct gmon_error err;
    const struct options *o = &m->opt;
    if (traced_program_start(&m->prog, "gc", o->trace.path, o->trace.pid, o->trace.go_version) != 0)
        return GMON_EXIT_BAD_INPUT;
    bool reasons = find_reasons(m);
    gc_heap_reader_init(&m->heap, &m->prog.target, m->prog.layout.layout);
    if (!m->heap.live_usable)
        fprintf(stderr, "gmon gc: live heap and heap goal not shown: %s\n", m->heap.why_no_live);
    else if (!m->heap.goal_usable)
        fprintf(stderr, "gmon gc: heap goal not shown: %s\n", m->heap.why_no_goal);
    process_watch_init(&m->procs, &m->prog.target);
    gc_cycles_init(&m->cycles, &m->prog.target.bin, &m->reasons, load_bias_of, m, on_pause, on_cycle, m);
    struct gc_probe_options po = {.layout = m->prog.layout.layout,
                                  .attach_path = traced_program_attach_path(&m->prog),
                                  .pid = traced_program_attach_pid(&m->prog),
                                  .stw_reason_in_al = reasons,
                                  .force_perf_buffer = o->trace.perf_buffer};
    int64_t t0 = monotonic_ns();
    if (gc_probes_open(&m->probes, &po, &m->prog.plan, on_event, m, &err) != 0) {
        cli_error("gc", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    traced_program_report_attached(&m->prog, m->probes.prog.nprobes, t0);
    return GMON_EXIT_OK;
}

static void print_summary(struct gc_monitor *m) {
    uint64_t c[GC_COUNTERS];
    gc_probes_counters(&m->probes, c);
    const struct gc_totals *t = &m->totals;
    char total[32], max[32];
    duration_text(t->stw_ns, total, sizeof(total));
    duration_text(t->max_pause_ns, max, sizeof(max));
    fprintf(stderr,
            "gc cycles: %llu (heap %llu, periodic %llu, forced %llu, unknown trigger %llu); stop-the-world "
            "pauses: "
            "%llu (%llu outside GC), total %s, longest %s\n",
            (unsigned long long)t->cycles, (unsigned long long)t->by_trigger[GC_TRIGGER_HEAP],
            (unsigned long long)t->by_trigger[GC_TRIGGER_PERIODIC],
            (unsigned long long)t->by_trigger[GC_TRIGGER_FORCED],
            (unsigned long long)t->by_trigger[GC_TRIGGER_UNKNOWN], (unsigned long long)t->pauses,
            (unsigned long long)t->other_pauses, total, max);
    fprintf(
        stderr,
        "losses: %llu events lost, %llu events out of order (gmon attached mid-cycle), %llu failed reads\n",
        (unsigned long long)c[GC_COUNTER_EVENTS_LOST], (unsigned long long)m->cycles.unpaired,
        (unsigned long long)c[GC_COUNTER_READ_FAILED]);
    if (t->heap_unread)
        fprintf(stderr,
                "live heap not read for %llu cycles (%llu of them: the process was exiting or gone)\n",
                (unsigned long long)t->heap_unread, (unsigned long long)t->heap_unread_exited);
    fprintf(stderr, "probe hits: %llu; events: %llu sent, %llu received\n",
            (unsigned long long)c[GC_COUNTER_HITS], (unsigned long long)c[GC_COUNTER_EVENTS_SENT],
            (unsigned long long)m->received);
    if (m->received + m->probes.malformed_events != c[GC_COUNTER_EVENTS_SENT])
        fprintf(stderr, "gmon gc: %llu events sent by the probes but %llu received (please report this)\n",
                (unsigned long long)c[GC_COUNTER_EVENTS_SENT], (unsigned long long)m->received);
}

static void stop(void *ctx, bool attached) {
    struct gc_monitor *m = ctx;
    if (attached) {
        /* Detach, then deliver what was still buffered: the final figures agree with the probe counters. */
        gc_probes_detach(&m->probes);
        print_summary(m);
    }
    gc_probes_close(&m->probes);
    gc_cycles_free(&m->cycles);
    go_string_table_free(&m->reasons);
    process_watch_free(&m->procs);
    traced_program_close(&m->prog);
    log_writer_close(&m->log);
}

int cmd_gc(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static struct gc_monitor m;
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
