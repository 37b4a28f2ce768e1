/* gmon [lifecycle] --path BIN | --pid PID: the live goroutine lifecycle monitor. Attaches the lifecycle
 * probes, prints one log line per goroutine creation and exit, serves /metrics, and prints a summary on
 * Ctrl-C. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "creation_sites.h"
#include "exit_options.h"
#include "goroutine_metrics.h"
#include "layout_select.h"
#include "lifecycle_probes.h"
#include "lifecycle_summary.h"
#include "log_writer.h"
#include "metrics_server.h"
#include "option_help.h"
#include "probe_plan.h"
#include "runtime_collectors.h"
#include "process_watch.h"
#include "trace_loop.h"
#include "trace_options.h"
#include "traced_program.h"

static const char USAGE[] =
    "Usage: gmon [lifecycle] --path BIN | --pid PID | --container NAME [OPTIONS]\n"
    "\n"
    "Traces goroutine creations and exits in a running Go program (Go 1.17-1.27, stripped or not, PIE or\n"
    "not) with eBPF uprobes, prints a log line for each, and serves Prometheus metrics by creation site.\n"
    "Needs root. Stops on Ctrl-C (or SIGTERM, or --duration) with a summary on stderr; with --pid or\n"
    "--container it also stops when the process exits (or its container stops).\n"
    "\n"
    "Target:\n" HELP_TRACE_TARGET HELP_GO_VERSION "Output:\n"
    "  --level L           DEBUG, INFO (default: a line per creation and exit), WARN (problems only), ERROR\n"
    "  --format F          logfmt (default, as Go's slog TextHandler) or json (one object per line)\n"
    "  --metrics PORT      serve /metrics on PORT (default 5500); 0 disables the server\n"
    "  --metrics-addr A    address to listen on (default 127.0.0.1; 0.0.0.0 exposes it)\n"
    "  --collect LIST      what /metrics holds besides the goroutine series, comma-separated: gc (cycles by\n"
    "                      trigger, stop-the-world pauses by reason), sched (the runtime's own scheduling-\n"
    "                      latency histogram, read at each scrape: no probe), malloc (allocations by size\n"
    "                      class), blocked (every scheduling and the time blocked by wait reason: a trap on\n"
    "                      every status change), runtime (gmon exporter's client_golang series, read: no\n"
    "                      probe); goroutines are always on. malloc traps on every allocation unless one\n"
    "                      process is traced unsampled (then the runtime's own counters are read)\n"
    "                      (bench/README.md)\n"
    "  --malloc-sample N   with --collect malloc: count 1 allocation in N at random, scaled (default "
    "1)\n" HELP_DURATION HELP_EXITS "Limits:\n"
    "  --max-goroutines N  live goroutines tracked at once, at most (default 65536; more are counted as\n"
    "                      untracked, their lifetimes unknown)\n"
    "  --max-series N      creation-site label sets in /metrics (default 500; more fold into \"other\")\n"
    "Diagnostics:\n" HELP_PERF_BUFFER HELP_RING_BUFFER
    "  --empty-probes      attach probes that do nothing (measures the cost of the traps alone)\n" HELP_HELP
    "\n" HELP_EXIT_STATUS "Reference: man gmon-lifecycle (docs/lifecycle.md).\n"
    "\n"
    "Examples:\n"
    "  gmon --pid 4242                             a log line per goroutine; /metrics on 127.0.0.1:5500\n"
    "  gmon --path /usr/bin/app --format json      every process running /usr/bin/app, now and later\n"
    "  gmon --pid 4242 --exits poll --level WARN   metrics only, at half the traps (exits read from memory)\n"
    "  gmon --container web --collect gc,sched --metrics 9100\n"
    "                                              goroutine, GC and scheduler series of container 'web'\n";

enum {
    OPT_LEVEL = 1000,
    OPT_FORMAT,
    OPT_METRICS,
    OPT_ADDR,
    OPT_MAX_LIVE,
    OPT_MAX_SERIES,
    OPT_EMPTY,
    OPT_COLLECT,
    OPT_MALLOC_SAMPLE
};

struct options {
    struct trace_options trace;
    const char *metrics_addr;
    enum log_level level;
    enum log_format format;
    uint64_t metrics_port, max_live, max_series, malloc_sample;
    struct exit_options exits;
    unsigned collect; /* COLLECT_* beyond the goroutine series */
    bool metrics_addr_given, malloc_sample_given;
    bool empty_probes;
};

/* The options only the lifecycle monitor has: 1 handled, 0 unknown, -1 bad value (printed). */
static int parse_own_option(int c, const char *arg, void *ctx) {
    struct options *o = ctx;
    switch (c) {
    case OPT_LEVEL:
        if (log_level_parse(arg, &o->level))
            return 1;
        cli_error("lifecycle", "--level must be DEBUG, INFO, WARN or ERROR, not \"%s\"", arg);
        return -1;
    case OPT_FORMAT:
        if (log_format_parse(arg, &o->format))
            return 1;
        cli_error("lifecycle", "--format must be logfmt or json, not \"%s\"", arg);
        return -1;
    case OPT_METRICS:
        return cli_parse_uint("lifecycle", "--metrics", arg, 0, 65535, &o->metrics_port) ? 1 : -1;
    case OPT_ADDR:
        o->metrics_addr = arg;
        o->metrics_addr_given = true;
        return 1;
    case OPT_MAX_LIVE:
        return cli_parse_uint("lifecycle", "--max-goroutines", arg, 1024, 16777216, &o->max_live) ? 1 : -1;
    case OPT_MAX_SERIES:
        return cli_parse_uint("lifecycle", "--max-series", arg, 1, 100000, &o->max_series) ? 1 : -1;
    case OPT_EMPTY:
        o->empty_probes = true;
        return 1;
    case OPT_COLLECT:
        return runtime_collectors_parse(arg, &o->collect) == 0 ? 1 : -1;
    case OPT_MALLOC_SAMPLE:
        o->malloc_sample_given = true;
        return cli_parse_uint("lifecycle", "--malloc-sample", arg, 1, 1000000, &o->malloc_sample) ? 1 : -1;
    default:
        return exit_options_parse("lifecycle", c, arg, &o->exits);
    }
}

/* Options that do nothing without another are refused, not ignored: what --collect gathers is only served on
 * /metrics (and its probes would cost the target for nothing), and so on. 0, or -1 (said). */
static int options_agree(const struct options *o) {
    const char *needs = NULL;
    if (!o->metrics_port && o->collect)
        needs = "--collect is served on /metrics, which --metrics 0 turns off";
    else if (!o->metrics_port && o->metrics_addr_given)
        needs = "--metrics-addr is where /metrics listens, which --metrics 0 turns off";
    else if (o->malloc_sample_given && !(o->collect & COLLECT_MALLOC))
        needs = "--malloc-sample samples --collect malloc, which is not asked for";
    if (!needs)
        return 0;
    cli_error("lifecycle", "%s (see 'gmon lifecycle --help')", needs);
    return -1;
}

static int parse_options(int argc, char *argv[], struct options *o) {
    static const struct option opts[] = {TRACE_LONG_OPTIONS,
                                         TRACE_RING_BUFFER_OPTION,
                                         {"level", required_argument, NULL, OPT_LEVEL},
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"metrics", required_argument, NULL, OPT_METRICS},
                                         {"metrics-addr", required_argument, NULL, OPT_ADDR},
                                         {"max-goroutines", required_argument, NULL, OPT_MAX_LIVE},
                                         {"max-series", required_argument, NULL, OPT_MAX_SERIES},
                                         {"empty-probes", no_argument, NULL, OPT_EMPTY},
                                         {"collect", required_argument, NULL, OPT_COLLECT},
                                         {"malloc-sample", required_argument, NULL, OPT_MALLOC_SAMPLE},
                                         EXIT_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    *o = (struct options){.metrics_addr = "127.0.0.1",
                          .level = LOG_INFO,
                          .format = LOG_LOGFMT,
                          .metrics_port = 5500,
                          .max_live = 65536,
                          .max_series = 500,
                          .malloc_sample = 1};
    exit_options_init(&o->exits);
    int rc = trace_options_getopt("lifecycle", argc, argv, opts, "", &o->trace, parse_own_option, o);
    if (rc == 0)
        rc = exit_options_finish("lifecycle", &o->exits);
    return rc == 0 ? options_agree(o) : rc;
}

/* Everything one run of the monitor owns. Large: static storage. */
struct monitor {
    struct options opt;
    struct traced_program prog;
    struct lifecycle_probes probes;
    struct creation_sites sites;
    struct goroutine_monitor shared;
    struct runtime_collectors collectors;
    bool collectors_ready; /* under shared.lock: the metrics thread may render them */
    struct metrics_server server;
    struct process_watch procs;
    struct log_writer log;
    int64_t mono_to_wall_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
    uint64_t reported[LIFECYCLE_COUNTERS];
    int64_t started_ns; /* CLOCK_MONOTONIC */
};

static void log_site_attrs(struct log_writer *log, const struct site *s) {
    log_str(log, "location", s->location[0] ? s->location : "?");
    log_str_list(log, "stack", (const char *const *)s->frames, s->nframes);
}

/* A site's location and stack, the same in every line of its goroutines: rendered at its first line, then
 * copied. */
static void log_site(struct log_writer *log, struct site *s) {
    if (!s->log_attrs) {
        struct log_fragment f;
        log_fragment_begin(log);
        log_site_attrs(log, s);
        log_fragment_end(log, &f);
        s->log_attrs = f.text;
        s->log_attrs_len = f.len;
    }
    if (s->log_attrs_len)
        log_fragment_append(log, &(struct log_fragment){s->log_attrs, s->log_attrs_len});
    else
        log_site_attrs(log, s); /* no memory for the fragment */
}

static void log_pid_and_function(struct log_writer *log, uint32_t pid, const char *function) {
    log_uint(log, "pid", pid);
    log_str(log, "function", function);
}

/* A goroutine's process and start function: the same for nearly every goroutine of a site (it has one start
 * function), rendered once per start PC, then copied. A site whose goroutines start in different functions
 * (`go handlers[i]()`) is written attribute by attribute: its fragment is rendered again only for a start PC
 * that its last goroutine had too, not at every change. */
static void log_goroutine_ident(struct monitor *m, struct site *s, const struct lifecycle_event *ev) {
    bool rendered = s->ident_attrs_len && s->ident_startpc == ev->startpc;
    if (!rendered && s->startpc_name[0] && s->named_startpc == ev->startpc) {
        free(s->ident_attrs);
        struct log_fragment f;
        log_fragment_begin(&m->log);
        log_pid_and_function(&m->log, ev->tgid, s->startpc_name);
        log_fragment_end(&m->log, &f);
        s->ident_attrs = f.text;
        s->ident_attrs_len = f.len;
        s->ident_startpc = ev->startpc;
        rendered = f.len != 0; /* else no memory for it */
    }
    if (rendered)
        log_fragment_append(&m->log, &(struct log_fragment){s->ident_attrs, s->ident_attrs_len});
    else
        log_pid_and_function(&m->log, ev->tgid,
                             creation_sites_start_name(&m->sites, s, ev->tgid, ev->startpc));
}

/* The event thread takes the lock it shares with the metrics thread through these two: the lines it logs
 * meanwhile are written after unlocking, so a stdout nobody reads blocks the event thread alone and /metrics
 * still answers. */
static void lock_for_logging(struct monitor *m) {
    pthread_mutex_lock(&m->shared.lock);
    log_hold(&m->log);
}

static void unlock_and_write(struct monitor *m) {
    pthread_mutex_unlock(&m->shared.lock);
    log_release(&m->log);
    log_write_if_over(&m->log, LOG_BATCH_BYTES);
}

/* An exit of a goroutine missing from the live map: nothing is known of it but its ID and function, so no
 * lifetime is given. Once the map has been full it may be one whose creation was logged: INFO then. */
static void log_untracked_exit(struct monitor *m, const struct lifecycle_event *ev, int64_t wall) {
    bool maybe_dropped = ev->flags & LIFECYCLE_MAYBE_DROPPED;
    char function[256];
    lock_for_logging(m);
    creation_sites_function_name(&m->sites, ev->tgid, ev->startpc, function, sizeof(function));
    log_begin(&m->log, maybe_dropped ? LOG_INFO : LOG_DEBUG, wall, "goroutine exited");
    log_uint(&m->log, "goroutine_id", ev->goid);
    log_uint(&m->log, "pid", ev->tgid);
    log_str(&m->log, "function", function);
    /* No lifetime attribute at all rather than a made-up or non-numeric one: filters on lifetime skip it. */
    log_str(&m->log, "created",
            maybe_dropped ? "unknown: before gmon attached, or untracked (live-goroutine map full)"
                          : "before gmon attached");
    log_end(&m->log);
    unlock_and_write(m);
}

/* A Go runtime started in a process: a new one, or the same binary again after an exec, whose previous
 * program is then retired like an exited process. */
static void on_runtime_start(struct monitor *m, const struct lifecycle_event *ev, int64_t wall) {
    lock_for_logging(m);
    if (!m->prog.target.pid && !process_watch_knows(&m->procs, ev->tgid)) {
        /* --path: a new process of the binary (its exit is logged too, once it is retired) */
        log_begin(&m->log, LOG_INFO, wall, "process started");
        log_uint(&m->log, "pid", ev->tgid);
        log_end(&m->log);
    }
    /* Retire first: old sites not symbolized yet still need the old program's load bias. */
    size_t retired = goroutine_stats_retire_image(&m->shared, ev->tgid, ev->site.image, ev->time_ns);
    if (!process_watch_runtime_started(&m->procs, ev->tgid, ev->site.image, ev->startpc))
        retired = 0; /* a late event of an older image: nothing of it was left to retire */
    if (retired) {
        log_begin(&m->log, LOG_INFO, wall, "process replaced its program (exec of the same binary)");
        log_uint(&m->log, "pid", ev->tgid);
        log_uint(&m->log, "image", ev->site.image);
        log_end(&m->log);
    }
    unlock_and_write(m);
}

static void on_event(void *ctx, const struct lifecycle_event *ev) {
    struct monitor *m = ctx;
    int64_t wall = (int64_t)ev->time_ns + m->mono_to_wall_ns;
    if (ev->kind == LIFECYCLE_RUNTIME_STARTED) {
        on_runtime_start(m, ev, wall);
        return;
    }
    if (ev->kind == LIFECYCLE_EXITED_UNTRACKED) {
        log_untracked_exit(m, ev, wall);
        return;
    }
    if (!log_enabled(&m->log, LOG_INFO))
        return;
    lock_for_logging(m); /* the metrics thread resolves sites too */
    struct site *s = creation_sites_get(&m->sites, &ev->site);
    bool exited = ev->kind == LIFECYCLE_EXITED;
    log_begin(&m->log, LOG_INFO, wall, exited ? "goroutine exited" : "goroutine is created");
    log_uint(&m->log, "goroutine_id", ev->goid);
    log_uint(&m->log, "parent_goroutine_id", ev->parent_goid);
    if (s) {
        log_goroutine_ident(m, s, ev);
    } else {
        char function[256];
        creation_sites_function_name(&m->sites, ev->tgid, ev->startpc, function, sizeof(function));
        log_pid_and_function(&m->log, ev->tgid, function);
    }
    if (exited)
        log_duration(&m->log, "lifetime", ev->lifetime_ns);
    if (ev->flags & LIFECYCLE_NOT_TRACKED)
        log_str(&m->log, "untracked",
                "live-goroutine map full: its exit will have no lifetime (--max-goroutines)");
    if (s)
        log_site(&m->log, s);
    log_end(&m->log);
    unlock_and_write(m);
}

static bool load_bias_of(void *ctx, uint32_t tgid, uint32_t image, uint64_t *bias) {
    struct monitor *m = ctx;
    return image == SITE_IMAGE_CURRENT ? process_watch_load_bias(&m->procs, tgid, bias)
                                       : process_watch_image_bias(&m->procs, tgid, image, bias);
}

static int attach(struct monitor *m, struct gmon_error *err) {
    const struct options *o = &m->opt;
    struct lifecycle_options lo = {
        .layout = m->prog.layout.layout,
        .attach_path = traced_program_attach_path(&m->prog),
        .pid = traced_program_attach_pid(&m->prog),
        .emit_created = o->level <= LOG_INFO,
        .emit_exited = o->level <= LOG_INFO,
        .emit_untracked = o->level <= LOG_DEBUG,
        .force_perf_buffer = o->trace.perf_buffer,
        .force_ring_buffer = o->trace.ring_buffer,
        .empty_probes = o->empty_probes,
        .max_live = (unsigned)o->max_live,
        .max_sites = 16384,
        .max_stacks = 16384,
        .exit_scan_ms = exit_options_scan_ms(&o->exits),
    };
    if (lifecycle_open(&m->probes, &lo, &m->prog.plan, on_event, m, err) != 0)
        return -1;
    if (o->collect && runtime_collectors_open(&m->collectors, o->collect, (unsigned)o->malloc_sample,
                                              &m->prog, &m->procs, o->trace.perf_buffer, err) != 0) {
        lifecycle_close(&m->probes);
        return -1;
    }
    pthread_mutex_lock(&m->shared.lock);
    m->shared.probes = &m->probes;
    m->shared.attached_probes = m->probes.prog.nprobes + runtime_collectors_probes(&m->collectors);
    m->collectors_ready = o->collect != 0;
    pthread_mutex_unlock(&m->shared.lock);
    return 0;
}

static void log_attached(struct monitor *m) {
    double ms = (double)(monotonic_ns() - m->started_ns) / 1e6;
    /* Feedback for people on stderr whatever the level: stdout may be a pipe of log lines. */
    char banner[4400];
    fprintf(stderr, "%s; Ctrl-C stops and prints a summary\n",
            traced_program_banner(&m->prog, m->shared.attached_probes, ms, banner, sizeof(banner)));
    log_begin(&m->log, LOG_INFO, wall_ns(), "probes attached");
    target_log_process(&m->log, &m->prog.target);
    log_str(&m->log, "binary", traced_program_name(&m->prog));
    log_str(&m->log, "go_version", m->prog.target.bin.version_string);
    log_uint(&m->log, "probes", m->shared.attached_probes);
    log_str(&m->log, "events", event_reader_transport(&m->probes.reader));
    if (m->opt.exits.poll)
        log_uint(&m->log, "exit_scan_ms", m->opt.exits.scan_ms);
    log_uint(&m->log, "startup_ms", (uint64_t)ms);
    if (m->opt.metrics_port) {
        char url[128];
        metrics_server_url(m->opt.metrics_addr, (int)m->opt.metrics_port, url, sizeof(url));
        log_str(&m->log, "metrics", url);
    }
    log_end(&m->log);
}

static const struct {
    int counter;
    const char *what;
} WARNINGS[] = {
    {COUNTER_EVENTS_LOST,
     "events lost: the event buffer was full, some log lines are missing (metrics are complete)"},
    {COUNTER_LIVE_MAP_FULL,
     "live-goroutine map full: new goroutines are not tracked (raise --max-goroutines)"},
    {COUNTER_SITE_MAP_FULL, "creation-site map full: some creations are not counted"},
    {COUNTER_EXIT_SITE_MAP_FULL, "creation-site map full: some exits are not counted"},
    {COUNTER_STACK_FAILED,
     "creation stacks could not be walked: those sites are named by the go statement alone"},
    {COUNTER_READ_FAILED, "reads of runtime.g fields failed"},
    {COUNTER_EXIT_SCAN_UNREADABLE,
     "tracked goroutines could not be read from the target's memory: their exits are not seen (--exits poll "
     "needs CAP_SYS_PTRACE)"},
};

/* Turns every increase of a problem counter into one WARN line. */
static void warn_on_problems(struct monitor *m) {
    uint64_t now[LIFECYCLE_COUNTERS];
    pthread_mutex_lock(&m->shared.lock);
    lifecycle_counters(&m->probes, now);
    pthread_mutex_unlock(&m->shared.lock);
    for (size_t i = 0; i < sizeof(WARNINGS) / sizeof(WARNINGS[0]); i++) {
        int c = WARNINGS[i].counter;
        if (now[c] <= m->reported[c])
            continue;
        log_begin(&m->log, LOG_WARN, wall_ns(), WARNINGS[i].what);
        log_uint(&m->log, "count", now[c] - m->reported[c]);
        log_uint(&m->log, "total", now[c]);
        log_end(&m->log);
        m->reported[c] = now[c];
    }
}

/* Called with the shared lock held. */
static void on_process_exit(void *ctx, uint32_t tgid, bool execed) {
    struct monitor *m = ctx;
    goroutine_stats_retire_process(&m->shared, tgid);
    log_begin(&m->log, LOG_INFO, wall_ns(),
              execed ? "process replaced its program (exec of another binary)" : "process exited");
    log_uint(&m->log, "pid", tgid);
    log_end(&m->log);
}

/* --path: the processes that ran the binary before gmon attached, now traced. Called with the lock held. */
static void on_found_running(void *ctx, uint32_t tgid) {
    struct monitor *m = ctx;
    log_begin(&m->log, LOG_INFO, wall_ns(), "process found running");
    log_uint(&m->log, "pid", tgid);
    log_end(&m->log);
}

/* Retires the --path processes that exited since the last call. Called with the shared lock held. */
static void retire_exited_processes(struct monitor *m) {
    process_watch_scan(&m->procs, &m->probes);
    process_watch_reap(&m->procs, on_process_exit, m);
}

/* Every 500 ms: problems to report, processes that exited. Returns false when the monitor should stop. */
static bool housekeeping(void *ctx) {
    struct monitor *m = ctx;
    warn_on_problems(m);
    if (m->prog.target.pid) {
        bool alive = process_alive(m->prog.target.pid);
        if (!alive || !target_runs_its_binary(&m->prog.target, m->prog.target.pid)) {
            log_begin(&m->log, LOG_INFO, wall_ns(),
                      alive ? "target process replaced its program (exec of another binary)"
                            : "target process exited");
            target_log_process(&m->log, &m->prog.target);
            log_end(&m->log);
            return false;
        }
        return true;
    }
    lock_for_logging(m);
    retire_exited_processes(m);
    unlock_and_write(m);
    return true;
}

/* The events of one poll are logged as a batch: written when the poll returns (or every LOG_BATCH_BYTES). */
static int poll_events(void *ctx, int timeout_ms) {
    struct monitor *m = ctx;
    log_hold(&m->log);
    int rc = lifecycle_poll(&m->probes, timeout_ms);
    log_release(&m->log);
    return rc != 0 ? rc : runtime_collectors_poll(&m->collectors);
}

/* /metrics: the goroutine series, then the --collect ones once they are attached. */
static void render_metrics(void *ctx, FILE *out) {
    struct monitor *m = ctx;
    goroutine_metrics_render(&m->shared, out);
    pthread_mutex_lock(&m->shared.lock);
    bool ready = m->collectors_ready;
    pthread_mutex_unlock(&m->shared.lock);
    if (ready)
        runtime_collectors_render(&m->collectors, out);
}

static int run_loop(struct monitor *m) {
    struct trace_loop loop = {.poll = poll_events,
                              .tick = housekeeping,
                              .ctx = m,
                              .tick_ms = 500,
                              .duration_s = m->opt.trace.duration_s};
    return trace_loop_run(&loop);
}

static int start(struct monitor *m) {
    struct gmon_error err;
    if (traced_program_open(&m->prog, m->opt.trace.path, m->opt.trace.pid, m->opt.trace.go_version, &err) !=
            0 ||
        bpf_preflight(&err) != 0) {
        cli_error(NULL, "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    if (exit_options_check_target(NULL, &m->opt.exits, m->prog.target.pid) != 0)
        return GMON_EXIT_BAD_INPUT;
    pthread_mutex_init(&m->shared.lock, NULL);
    m->shared.sites = &m->sites;
    m->shared.go_version = m->prog.target.bin.version_string;
    process_watch_init(&m->procs, &m->prog.target);
    creation_sites_init(&m->sites, &m->prog.target.bin, &m->probes, load_bias_of, m, m->opt.max_series);
    if (m->opt.metrics_port && metrics_server_start(&m->server, m->opt.metrics_addr, (int)m->opt.metrics_port,
                                                    ", or --metrics 0 to run without the metrics server",
                                                    render_metrics, m, &err) != 0) {
        cli_error(NULL, "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    if (attach(m, &err) != 0) {
        metrics_server_stop(&m->server);
        cli_error(NULL, "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    return GMON_EXIT_OK;
}

static void stop(struct monitor *m, bool attached) {
    if (attached) {
        /* Detach, then log what was still buffered: the summary, the last log lines and the probe counters
         * are then read from the same final state, and the target runs at full speed again at once. */
        lifecycle_detach(&m->probes);
        runtime_collectors_detach(&m->collectors);
        warn_on_problems(m); /* one last time, with the final counters */
    }
    metrics_server_stop(&m->server);
    struct goroutine_stats stats = {0};
    if (attached) {
        lock_for_logging(m);
        if (!m->prog.target.pid)
            retire_exited_processes(m);
        goroutine_stats_collect(&m->shared, &stats);
        unlock_and_write(m);
    }
    lifecycle_close(&m->probes);
    runtime_collectors_close(&m->collectors);
    if (attached) {
        double secs = (double)(monotonic_ns() - m->started_ns) / 1e9;
        char process[128];
        lifecycle_summary_print(stderr, &m->sites, &stats, traced_program_name(&m->prog),
                                target_process_text(&m->prog.target, process, sizeof(process)), secs);
    }
    goroutine_stats_free(&stats);
    creation_sites_free(&m->sites);
    process_watch_free(&m->procs);
    traced_program_close(&m->prog);
    log_writer_close(&m->log);
}

int cmd_lifecycle(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static struct monitor m;
    memset(&m, 0, sizeof(m));
    int parsed = parse_options(argc, argv, &m.opt);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    m.started_ns = monotonic_ns();
    m.mono_to_wall_ns = wall_ns() - monotonic_ns();
    if (trace_log_writer_init(&m.log, m.opt.format, m.opt.level) != 0)
        return GMON_EXIT_FAILED;
    trace_loop_install_signals();
    int rc = start(&m);
    if (rc != GMON_EXIT_OK) {
        stop(&m, false);
        return rc;
    }
    if ((rc = trace_drop_privileges()) != GMON_EXIT_OK) {
        stop(&m, true);
        return rc;
    }
    log_attached(&m);
    if (!m.prog.target.pid) {
        lock_for_logging(&m);
        process_watch_find_running(&m.procs, on_found_running, &m);
        unlock_and_write(&m);
    }
    rc = run_loop(&m);
    stop(&m, true);
    return rc;
}
