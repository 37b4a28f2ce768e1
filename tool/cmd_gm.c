/* gmon gm --path BIN | --pid PID: allocations by Go size class (the target release's own class table), and
 * with --by site the stacks that allocate the most bytes. Counted in BPF (probes/malloc.bpf.c), optionally
 * sampled; printed every --interval and at exit. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "grow_array.h"
#include "log_writer.h"
#include "malloc_probes.h"
#include "process_watch.h"
#include "table_text.h"
#include "trace_loop.h"
#include "trace_options.h"
#include "traced_program.h"

static const char USAGE[] =
    "Usage: gmon gm --path BIN | --pid PID | --container NAME [OPTIONS]\n"
    "\n"
    "Counts the allocations of a running Go program (Go 1.17-1.27) by Go size class, with eBPF uprobes on\n"
    "the runtime's allocator: runtime.mallocgc, or from Go 1.24 the allocators it dispatches to (and the\n"
    "size-specialised ones Go 1.27 code calls directly). Size classes are the target's own\n"
    "(runtime.class_to_size, checked against gmon's table for the release); objects over 32 KiB are "
    "'large'.\n"
    "Sizes are the bytes asked for. Prints the allocations of each interval, and at the end (Ctrl-C,\n"
    "--duration, end of the --pid process) those since gmon attached. Needs root.\n"
    "Every allocation traps into the kernel: expect the target to slow down a lot while gmon gm runs (see\n"
    "README, Performance); --sample lowers gmon's own work, not the trap.\n"
    "\n"
    "  --path BIN          trace every process running BIN, including ones started later (merged)\n"
    "  --pid PID           trace one process (in a container too: give its host PID)\n"
    "  --container NAME    trace the main process of a Docker container (name or ID; asks the engine)\n"
    "  --sample N          count 1 allocation in N, chosen at random, and scale the counts by N (default 1)\n"
    "  --by site           also the allocating stacks with the most bytes since gmon attached\n"
    "  --top N             stacks shown with --by site (default 10)\n"
    "  --interval SECS     print every SECS seconds (default 5); 0 prints only at the end\n"
    "  --format F          table (default), logfmt or json\n"
    "  --go-version V      'auto' (default) or a release like 1.21 for binaries with damaged build info\n"
    "  --duration SECS     stop after SECS seconds\n";

enum { OPT_FORMAT = 1000, OPT_INTERVAL, OPT_SAMPLE, OPT_BY, OPT_TOP };

struct options {
    struct trace_options trace;
    bool table, by_site;
    enum log_format format;
    uint64_t interval_s, sample, top;
};

struct alloc_site {
    struct malloc_site_key key;
    struct malloc_class_stat stat;
};

struct gm_monitor {
    struct options opt;
    struct traced_program prog;
    struct go_size_classes classes;
    struct malloc_functions functions;
    struct malloc_probes probes;
    struct process_watch procs;
    struct log_writer log;
    struct malloc_class_stat reported[MALLOC_CLASSES];
    struct alloc_site *sites;
    size_t nsites, sites_cap;
    struct interval interval;
};

static int parse_own_option(int c, const char *arg, void *ctx) {
    struct options *o = ctx;
    switch (c) {
    case OPT_FORMAT:
        return trace_options_parse_format("gm", arg, &o->table, &o->format);
    case OPT_INTERVAL:
        return cli_parse_uint("gm", "--interval", arg, 0, 86400, &o->interval_s) ? 1 : -1;
    case OPT_SAMPLE:
        return cli_parse_uint("gm", "--sample", arg, 1, 1000000, &o->sample) ? 1 : -1;
    case OPT_TOP:
        return cli_parse_uint("gm", "--top", arg, 1, 10000, &o->top) ? 1 : -1;
    case OPT_BY:
        if (strcmp(arg, "site") == 0) {
            o->by_site = true;
            return 1;
        }
        cli_error("gm", "--by takes \"site\", not \"%s\"", arg);
        return -1;
    default:
        return 0;
    }
}

static int parse_options(int argc, char *argv[], struct options *o) {
    static const struct option opts[] = {TRACE_LONG_OPTIONS,
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"interval", required_argument, NULL, OPT_INTERVAL},
                                         {"sample", required_argument, NULL, OPT_SAMPLE},
                                         {"by", required_argument, NULL, OPT_BY},
                                         {"top", required_argument, NULL, OPT_TOP},
                                         {NULL, 0, NULL, 0}};
    *o = (struct options){.table = true, .interval_s = 5, .sample = 1, .top = 10};
    return trace_options_getopt("gm", argc, argv, opts, "", &o->trace, parse_own_option, o);
}

/* "8B" ... "32768B", and "large" for class 0 (over 32 KiB). */
static void class_name(const struct gm_monitor *m, int cls, char *out, size_t size) {
    if (cls == 0)
        snprintf(out, size, "large");
    else
        snprintf(out, size, "%uB", (unsigned)m->classes.size[cls]);
}

enum { BAR_WIDTH = 30 };

static void table_classes(struct gm_monitor *m, const char *period, const struct malloc_class_stat *shown) {
    uint64_t count = 0, bytes = 0, max = 0;
    int first = -1, last = -1;
    for (size_t c = 1; c < m->classes.n; c++) {
        if (!shown[c].count)
            continue;
        first = first < 0 ? (int)c : first;
        last = (int)c;
    }
    for (size_t c = 0; c < m->classes.n; c++) {
        count += shown[c].count;
        bytes += shown[c].bytes;
        max = shown[c].count > max ? shown[c].count : max;
    }
    char total[32];
    bytes_text(bytes, total, sizeof(total));
    printf("%s: %llu allocations, %s", period, (unsigned long long)count, total);
    if (m->opt.sample > 1)
        printf(" (1 in %llu sampled, counts scaled)", (unsigned long long)m->opt.sample);
    printf("\n");
    if (!count)
        return;
    printf("  %10s : %-10s %-10s distribution\n", "size class", "count", "bytes");
    for (int c = first; c >= 0 && c <= last + 1; c++) {
        int cls = c <= last ? c : 0; /* large objects last */
        if (c > last && !shown[0].count)
            break;
        char name[24], b[32], bar[BAR_WIDTH + 1];
        class_name(m, cls, name, sizeof(name));
        bytes_text(shown[cls].bytes, b, sizeof(b));
        int stars = (int)(shown[cls].count * BAR_WIDTH / max);
        memset(bar, '*', (size_t)stars);
        bar[stars] = '\0';
        printf("  %10s : %-10llu %-10s |%-*s|\n", name, (unsigned long long)shown[cls].count, b, BAR_WIDTH,
               bar);
    }
}

static void log_classes(struct gm_monitor *m, const char *period, const struct malloc_class_stat *shown) {
    char names[MALLOC_CLASSES][24];
    const char *name_ptrs[MALLOC_CLASSES];
    uint64_t counts[MALLOC_CLASSES], bytes[MALLOC_CLASSES], total_count = 0, total_bytes = 0;
    size_t n = 0;
    for (size_t c = 0; c < m->classes.n; c++) {
        total_count += shown[c].count;
        total_bytes += shown[c].bytes;
        if (!shown[c].count)
            continue;
        class_name(m, (int)c, names[n], sizeof(names[n]));
        name_ptrs[n] = names[n];
        counts[n] = shown[c].count;
        bytes[n++] = shown[c].bytes;
    }
    struct log_writer *w = &m->log;
    log_begin(w, LOG_INFO, wall_ns(), "allocations");
    log_str(w, "period", period);
    log_uint(w, "sample", m->opt.sample);
    log_uint(w, "count", total_count);
    log_uint(w, "bytes", total_bytes);
    log_uint_group(w, "count_by_class", name_ptrs, counts, n);
    log_uint_group(w, "bytes_by_class", name_ptrs, bytes, n);
    log_end(w);
}

/* The counts since gmon attached, scaled by the sampling rate. */
static void read_classes(struct gm_monitor *m, struct malloc_class_stat *out) {
    malloc_probes_classes(&m->probes, out);
    for (int c = 0; c < MALLOC_CLASSES; c++) {
        out[c].count *= m->opt.sample;
        out[c].bytes *= m->opt.sample;
    }
}

static void add_site(void *ctx, const struct malloc_site_key *key, const struct malloc_class_stat *stat) {
    struct gm_monitor *m = ctx;
    struct alloc_site *grown = grow_array(m->sites, &m->sites_cap, m->nsites, sizeof(*grown), 256);
    if (!grown)
        return;
    m->sites = grown;
    m->sites[m->nsites++] = (struct alloc_site){.key = *key, .stat = *stat};
}

static int by_bytes_desc(const void *a, const void *b) {
    uint64_t x = ((const struct alloc_site *)a)->stat.bytes, y = ((const struct alloc_site *)b)->stat.bytes;
    return x < y ? 1 : x > y ? -1 : 0;
}

enum { SITE_FRAMES = 6 };

/* The frames of a stack from its first one outside the runtime (the allocator's entry points such as
 * runtime.newobject or runtime.makeslice say nothing about who allocates), or from the top when the runtime
 * allocates for itself. */
static size_t stack_frames(struct gm_monitor *m, const uint64_t *pcs, int depth, uint64_t bias,
                           bool skip_runtime, char frames[][256], char *location, size_t location_size) {
    size_t n = 0;
    snprintf(location, location_size, "?");
    for (int i = 0; i < depth && n < SITE_FRAMES; i++) {
        struct go_frame f[8];
        int nf = pclntab_frames_at_return(&m->prog.target.bin.pcln, pcs[i] - bias, f, 8);
        for (int j = 0; j < nf && n < SITE_FRAMES; j++) {
            if (n == 0 && skip_runtime && strncmp(f[j].function, "runtime.", 8) == 0)
                continue;
            if (n == 0)
                snprintf(location, location_size, "%s:%d", f[j].file, f[j].line);
            snprintf(frames[n++], 256, "%s", f[j].function);
        }
    }
    return n;
}

static size_t site_frames(struct gm_monitor *m, const struct alloc_site *s, char frames[][256],
                          char *location, size_t location_size) {
    uint64_t pcs[MALLOC_STACK_DEPTH], bias = 0;
    int depth = malloc_probes_stack(&m->probes, s->key.stack, pcs, MALLOC_STACK_DEPTH);
    if (!malloc_probes_load_bias(&m->probes, s->key.tgid, &bias))
        process_watch_load_bias(&m->procs, s->key.tgid, &bias);
    size_t n = stack_frames(m, pcs, depth, bias, true, frames, location, location_size);
    return n ? n : stack_frames(m, pcs, depth, bias, false, frames, location, location_size);
}

static void print_sites(struct gm_monitor *m) {
    m->nsites = 0;
    malloc_probes_for_each_site(&m->probes, add_site, m);
    qsort(m->sites, m->nsites, sizeof(*m->sites), by_bytes_desc);
    size_t shown = m->nsites < m->opt.top ? m->nsites : m->opt.top;
    if (m->opt.table)
        printf("top %zu allocating stacks since gmon attached (of %zu):\n  %-10s %-10s %s\n", shown,
               m->nsites, "BYTES", "COUNT", "FUNCTION (LOCATION) <- CALLERS");
    for (size_t i = 0; i < shown; i++) {
        const struct alloc_site *s = &m->sites[i];
        char frames[SITE_FRAMES][256], location[320], b[32];
        size_t n = site_frames(m, s, frames, location, sizeof(location));
        uint64_t count = s->stat.count * m->opt.sample, bytes = s->stat.bytes * m->opt.sample;
        if (!m->opt.table) {
            const char *ptrs[SITE_FRAMES];
            for (size_t f = 0; f < n; f++)
                ptrs[f] = frames[f];
            log_begin(&m->log, LOG_INFO, wall_ns(), "allocation site");
            log_uint(&m->log, "rank", i + 1);
            log_uint(&m->log, "bytes", bytes);
            log_uint(&m->log, "count", count);
            log_str(&m->log, "function", n ? frames[0] : "?");
            log_str(&m->log, "location", location);
            log_str_list(&m->log, "stack", ptrs, n);
            log_end(&m->log);
            continue;
        }
        bytes_text(bytes, b, sizeof(b));
        printf("  %-10s %-10llu %s (%s)", b, (unsigned long long)count, n ? frames[0] : "?", location);
        for (size_t f = 1; f < n; f++)
            printf(" <- %s", frames[f]);
        printf("\n");
    }
}

static void print_all(struct gm_monitor *m, bool final) {
    struct malloc_class_stat now[MALLOC_CLASSES], shown[MALLOC_CLASSES];
    read_classes(m, now);
    for (int c = 0; c < MALLOC_CLASSES; c++) {
        shown[c] = now[c];
        if (!final) {
            shown[c].count -= m->reported[c].count;
            shown[c].bytes -= m->reported[c].bytes;
        }
        m->reported[c] = now[c];
    }
    char when[32], period[96];
    clock_text(wall_ns(), when, sizeof(when));
    if (final)
        snprintf(period, sizeof(period), "%s allocations since gmon attached", when);
    else
        snprintf(period, sizeof(period), "%s allocations in the last %llus", when,
                 (unsigned long long)m->opt.interval_s);
    if (m->opt.table)
        table_classes(m, period, shown);
    else
        log_classes(m, period, shown);
    if (m->opt.by_site)
        print_sites(m);
    if (m->opt.table)
        printf("\n");
    fflush(stdout);
}

static bool tick(void *ctx) {
    struct gm_monitor *m = ctx;
    if (interval_due(&m->interval))
        print_all(m, false);
    return trace_target_running("gm", &m->prog.target);
}

/* The target's own class table, checked against gmon's for its release. */
static int choose_classes(struct gm_monitor *m, struct gmon_error *err) {
    const struct go_binary *b = &m->prog.target.bin;
    bool disagree = false;
    if (go_size_classes_choose(&b->elf, &b->version, &m->classes, &disagree) != 0)
        return gmon_fail(err, "no size class table for %s, and none found in the binary", b->version_string);
    if (disagree)
        fprintf(stderr,
                "gmon gm: the binary's runtime.class_to_size differs from gmon's table for %s: using the "
                "binary's\n",
                b->version_string);
    if (m->classes.n > MALLOC_CLASSES)
        return gmon_fail(err, "%zu size classes: more than gmon counts (%d)", m->classes.n, MALLOC_CLASSES);
    return 0;
}

static int start(void *ctx) {
    struct gm_monitor *m = ctx;
    struct gmon_error err;
    const struct options *o = &m->opt;
    if (traced_program_start(&m->prog, "gm", o->trace.path, o->trace.pid, o->trace.go_version) != 0)
        return GMON_EXIT_BAD_INPUT;
    if (choose_classes(m, &err) != 0 ||
        malloc_functions_find(&m->prog.target.bin, &m->functions, &err) != 0) {
        cli_error("gm", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    process_watch_init(&m->procs, &m->prog.target);
    struct malloc_probe_options mo = {.layout = m->prog.layout.layout,
                                      .attach_path = traced_program_attach_path(&m->prog),
                                      .pid = traced_program_attach_pid(&m->prog),
                                      .classes = &m->classes,
                                      .sample = (unsigned)o->sample,
                                      .by_site = o->by_site};
    int64_t t0 = monotonic_ns();
    if (malloc_probes_open(&m->probes, &mo, &m->functions, &err) != 0) {
        cli_error("gm", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    traced_program_report_attached(&m->prog, m->probes.prog.nprobes, t0);
    fprintf(stderr, "gmon gm: probing %s%s (%zu functions)\n", m->functions.names[0],
            m->functions.n > 1 ? " and the other allocators" : "", m->functions.n);
    interval_start(&m->interval, o->interval_s);
    return GMON_EXIT_OK;
}

static void stop(void *ctx, bool attached) {
    struct gm_monitor *m = ctx;
    if (attached) {
        print_all(m, true);
        uint64_t c[MALLOC_COUNTERS];
        malloc_probes_counters(&m->probes, c);
        fprintf(stderr, "allocator probe hits: %llu, counted: %llu; losses: %llu stacks not stored\n",
                (unsigned long long)c[MALLOC_COUNTER_HITS], (unsigned long long)c[MALLOC_COUNTER_SAMPLED],
                (unsigned long long)c[MALLOC_COUNTER_MAP_FULL]);
    }
    malloc_probes_close(&m->probes);
    malloc_functions_free(&m->functions);
    process_watch_free(&m->procs);
    traced_program_close(&m->prog);
    log_writer_close(&m->log);
    free(m->sites);
}

int cmd_gm(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static struct gm_monitor m;
    memset(&m, 0, sizeof(m));
    if (parse_options(argc, argv, &m.opt) != 0)
        return GMON_EXIT_BAD_INPUT;
    if (trace_log_writer_init(&m.log, m.opt.format, LOG_INFO) != 0)
        return GMON_EXIT_FAILED;
    struct trace_command run = {
        .start = start,
        .stop = stop,
        .loop = {
            .poll = NULL, .tick = tick, .ctx = &m, .tick_ms = 250, .duration_s = m.opt.trace.duration_s}};
    return trace_command_run(&run);
}
