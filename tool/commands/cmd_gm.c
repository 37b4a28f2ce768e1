/* gmon gm --path BIN | --pid PID: allocations by Go size class (the target release's own class table), and
 * with --by site the stacks that allocate the most bytes. For one process without --by site, read from the
 * runtime's own per-class counters (size_class_counts.h: no probe, exact); otherwise counted in BPF
 * (probes/malloc.bpf.c), optionally sampled. Printed every --interval and at exit. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "go_profile_globals.h"
#include "go_runtime_code.h"
#include "grow_array.h"
#include "heap_profile.h"
#include "log_writer.h"
#include "malloc_probes.h"
#include "option_help.h"
#include "process_watch.h"
#include "size_class_counts.h"
#include "table_text.h"
#include "trace_loop.h"
#include "trace_options.h"
#include "traced_program.h"

static const char USAGE[] =
    "Usage: gmon gm --path BIN | --pid PID | --container NAME [OPTIONS]\n"
    "\n"
    "Counts the allocations of a running Go program (Go 1.17-1.27) by Go size class. Size classes are the\n"
    "target's own (runtime.class_to_size, checked against gmon's table for the release); objects over 32\n"
    "KiB are 'large'. Prints the allocations of each interval, and at the end (Ctrl-C, --duration, end of\n"
    "the --pid process) those since gmon started.\n"
    "With --pid (or --container) and neither --by site, --sample nor --probes: read from the runtime's own\n"
    "per-class counters in the process's memory, exactly, at no cost to it (no probe, no eBPF); bytes are\n"
    "the count times the class's size, the memory handed out.\n"
    "Otherwise, with eBPF uprobes on the runtime's allocator (runtime.mallocgc, or from Go 1.24 the\n"
    "allocators it dispatches to): bytes are the bytes asked for; with --path the processes running BIN\n"
    "are merged. Every allocation then traps into the kernel: expect the target to slow down a lot\n"
    "(bench/README.md has the figures); --sample lowers gmon's own work, not the trap. Needs root.\n"
    "--by site of one process whose program profiles its memory (runtime.MemProfileRate > 0: it links\n"
    "runtime/pprof, e.g. through net/http/pprof, or sets runtime.MemProfileRate itself) probes the memory\n"
    "profiler's sampling point instead: one trap per 512 KiB allocated (by default), the counts and bytes\n"
    "estimated from the samples as pprof does; --probes, or --sample, probes every allocation.\n"
    "\n" HELP_TRACE_TARGET
    "  --sample N          count 1 allocation in N, chosen at random, and scale the counts by N (default 1)\n"
    "  --by site           also the allocating stacks with the most bytes since gmon attached\n"
    "  --top N             stacks shown with --by site (default 10)\n"
    "  --probes            count with uprobes on the allocator even for one process\n" HELP_INTERVAL
    "  --format F          table (default), logfmt or json\n" HELP_GO_VERSION HELP_DURATION HELP_PERF_BUFFER
        HELP_HELP "\n" HELP_EXIT_STATUS "Reference: man gmon-gm (docs/gm.md).\n"
    "\n"
    "Examples:\n"
    "  gmon gm --pid 4242                          allocations by size class, every 5 seconds (no probe)\n"
    "  gmon gm --pid 4242 --by site --top 5 --interval 0 --duration 10\n"
    "                                              the 5 stacks that allocated most in 10 seconds\n";

enum { OPT_FORMAT = 1000, OPT_INTERVAL, OPT_SAMPLE, OPT_BY, OPT_TOP, OPT_PROBES };

struct options {
    struct trace_options trace;
    bool table, by_site, probes, top_given;
    enum log_format format;
    uint64_t interval_s, sample, top;
};

struct alloc_site {
    struct malloc_site_key key;
    struct malloc_class_stat stat;
};

/* A row of --by site: the symbolized stack ("location\tframe0\tframe1..."), whatever process and load
 * address it was seen at, so that --path merges the processes of one binary. */
struct alloc_row {
    char *text;
    uint64_t count, bytes;
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
    uint64_t site_count; /* allocations counted by the sites, unscaled (the final reconciliation) */
    int64_t rate;        /* > 0: the probe is the memory profiler's sampling point, at this MemProfileRate */
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
        o->top_given = true;
        return cli_parse_uint("gm", "--top", arg, 1, 10000, &o->top) ? 1 : -1;
    case OPT_PROBES:
        o->probes = true;
        return 1;
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
                                         {"probes", no_argument, NULL, OPT_PROBES},
                                         {NULL, 0, NULL, 0}};
    *o = (struct options){.table = true, .interval_s = 5, .sample = 1, .top = 10};
    int rc = trace_options_getopt("gm", argc, argv, opts, "", &o->trace, parse_own_option, o);
    if (rc == 0 && o->top_given && !o->by_site) {
        cli_error("gm", "--top is the number of stacks --by site shows, which is not asked for (see 'gmon gm "
                        "--help')");
        return -1;
    }
    return rc;
}

/* "8B" ... "32768B", and "large" for class 0 (over 32 KiB). */
static void class_name(const struct gm_monitor *m, int cls, char *out, size_t size) {
    if (cls == 0)
        snprintf(out, size, "large");
    else
        snprintf(out, size, "%uB", (unsigned)m->classes.size[cls]);
}

enum { BAR_WIDTH = 30 };

static void table_classes(struct gm_monitor *m, const struct report_span *span,
                          const struct malloc_class_stat *shown) {
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
    char total[32], period[96];
    bytes_text(bytes, total, sizeof(total));
    report_span_text(span, "", period, sizeof(period));
    printf("%s: %llu allocations, %s", period, (unsigned long long)count, total);
    if (m->opt.sample > 1)
        printf(" (1 in %llu sampled, counts scaled)", (unsigned long long)m->opt.sample);
    if (m->rate > 0)
        printf(" (estimated from the memory profiler's samples, 1 per %lld bytes on average)",
               (long long)m->rate);
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

static void log_classes(struct gm_monitor *m, const struct report_span *span,
                        const struct malloc_class_stat *shown) {
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
    log_begin(w, LOG_INFO, span->end_wall_ns, "allocations");
    log_report_span(w, span);
    log_uint(w, "sample", m->opt.sample);
    if (m->rate > 0)
        log_int(w, "memprofilerate", m->rate);
    log_uint(w, "count", total_count);
    log_uint(w, "bytes", total_bytes);
    log_uint_group(w, "count_by_class", name_ptrs, counts, n);
    log_uint_group(w, "bytes_by_class", name_ptrs, bytes, n);
    log_end(w);
}

/* What counted samples stand for: times --sample, or for the memory profiler's samples the allocations they
 * stand for as pprof estimates them (runtime/pprof protomem.go scaleHeapSample, by their average size). */
static void scale(const struct gm_monitor *m, uint64_t count, uint64_t bytes, uint64_t *scaled_count,
                  uint64_t *scaled_bytes) {
    if (m->rate > 0) {
        int64_t c, b;
        heap_profile_scale((int64_t)count, (int64_t)bytes, m->rate, &c, &b);
        *scaled_count = (uint64_t)c;
        *scaled_bytes = (uint64_t)b;
    } else {
        *scaled_count = count * m->opt.sample;
        *scaled_bytes = bytes * m->opt.sample;
    }
}

/* The counts since gmon attached, scaled. */
static void read_classes(struct gm_monitor *m, struct malloc_class_stat *out) {
    malloc_probes_classes(&m->probes, out);
    for (int c = 0; c < MALLOC_CLASSES; c++) {
        uint64_t count, bytes;
        scale(m, out[c].count, out[c].bytes, &count, &bytes);
        out[c].count = count;
        out[c].bytes = bytes;
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
    uint64_t x = ((const struct alloc_row *)a)->bytes, y = ((const struct alloc_row *)b)->bytes;
    return x < y   ? 1
           : x > y ? -1
                   : strcmp(((const struct alloc_row *)a)->text, ((const struct alloc_row *)b)->text);
}

static int by_text(const void *a, const void *b) {
    return strcmp(((const struct alloc_row *)a)->text, ((const struct alloc_row *)b)->text);
}

enum { SITE_FRAMES = 6 };

/* An allocating stack as gm shows it. */
struct site_symbols {
    char via[256]; /* the runtime function that called the allocator, when frames were skipped to reach the
                      program's own (runtime.makeslice, or runtime.malg for a goroutine the GC started) */
    char location[320];
    char frames[SITE_FRAMES][256];
    size_t n;
};

/* The allocator's own frames (mallocgc, and from Go 1.24 the mallocgc<Kind> it dispatches to; the memory
 * profiler's sampling point is called from them): not what "via" names. */
static bool allocator_frame(const char *function) {
    return strncmp(function, "runtime.mallocgc", 16) == 0 || strcmp(function, "runtime.profilealloc") == 0;
}

/* The frames of a stack from its first one outside the runtime (the allocator's entry points such as
 * runtime.newobject or runtime.makeslice, or the map code of internal/runtime/maps, say nothing about who
 * allocates), or from the top when the runtime allocates for itself. */
static void stack_frames(struct gm_monitor *m, const uint64_t *pcs, int depth, uint64_t bias,
                         bool skip_runtime, struct site_symbols *out) {
    out->n = 0;
    out->via[0] = '\0';
    snprintf(out->location, sizeof(out->location), "?");
    for (int i = 0; i < depth && out->n < SITE_FRAMES; i++) {
        struct go_frame f[8];
        int nf = pclntab_frames_at_return(&m->prog.target.bin.pcln, pcs[i] - bias, f, 8);
        for (int j = 0; j < nf && out->n < SITE_FRAMES; j++) {
            if (out->n == 0 && skip_runtime && go_is_runtime_function(f[j].function)) {
                if (!out->via[0] && !allocator_frame(f[j].function))
                    snprintf(out->via, sizeof(out->via), "%s", f[j].function);
                continue;
            }
            if (out->n == 0)
                snprintf(out->location, sizeof(out->location), "%s:%d", f[j].file, f[j].line);
            snprintf(out->frames[out->n++], sizeof(out->frames[0]), "%s", f[j].function);
        }
    }
}

static void site_symbols(struct gm_monitor *m, const struct alloc_site *s, struct site_symbols *out) {
    uint64_t pcs[MALLOC_STACK_DEPTH], bias = 0;
    int depth = malloc_probes_stack(&m->probes, s->key.stack, pcs, MALLOC_STACK_DEPTH);
    if (!malloc_probes_load_bias(&m->probes, s->key.tgid, &bias))
        process_watch_load_bias(&m->procs, s->key.tgid, &bias);
    stack_frames(m, pcs, depth, bias, true, out);
    if (!out->n)
        stack_frames(m, pcs, depth, bias, false, out);
}

/* "via\tlocation\tframe0\tframe1...", allocated: the key rows are merged by, and what they print. */
static char *site_text(struct gm_monitor *m, const struct alloc_site *s) {
    struct site_symbols sym;
    site_symbols(m, s, &sym);
    size_t len = strlen(sym.via) + strlen(sym.location) + 2;
    for (size_t f = 0; f < sym.n; f++)
        len += strlen(sym.frames[f]) + 1;
    char *text = malloc(len), *at = text;
    if (!text)
        return NULL;
    at += sprintf(at, "%s\t%s", sym.via, sym.location);
    for (size_t f = 0; f < sym.n; f++)
        at += sprintf(at, "\t%s", sym.frames[f]);
    return text;
}

/* The sites as rows, those with the same symbolized stack merged, most bytes first. Returns how many. */
static size_t site_rows(struct gm_monitor *m, struct alloc_row **out) {
    m->nsites = 0;
    m->site_count = 0;
    malloc_probes_for_each_site(&m->probes, add_site, m);
    struct alloc_row *rows = calloc(m->nsites ? m->nsites : 1, sizeof(*rows));
    size_t n = 0;
    for (size_t i = 0; rows && i < m->nsites; i++) {
        m->site_count += m->sites[i].stat.count;
        char *text = site_text(m, &m->sites[i]);
        if (!text)
            continue;
        rows[n] = (struct alloc_row){.text = text};
        scale(m, m->sites[i].stat.count, m->sites[i].stat.bytes, &rows[n].count, &rows[n].bytes);
        n++;
    }
    qsort(rows, n, sizeof(*rows), by_text);
    size_t merged = 0;
    for (size_t i = 0; i < n; i++) {
        if (merged && strcmp(rows[merged - 1].text, rows[i].text) == 0) {
            rows[merged - 1].count += rows[i].count;
            rows[merged - 1].bytes += rows[i].bytes;
            free(rows[i].text);
            continue;
        }
        rows[merged++] = rows[i];
    }
    qsort(rows, merged, sizeof(*rows), by_bytes_desc);
    *out = rows;
    return merged;
}

/* Splits a row's text into its via, location and frames (in place). Returns the number of frames. */
static size_t split_row(char *text, const char **via, const char **location,
                        const char *frames[SITE_FRAMES]) {
    const char *fields[SITE_FRAMES + 2];
    size_t n = 0;
    fields[n++] = text;
    for (char *tab = strchr(text, '\t'); tab && n < SITE_FRAMES + 2; tab = strchr(tab + 1, '\t')) {
        *tab = '\0';
        fields[n++] = tab + 1;
    }
    *via = fields[0];
    *location = n > 1 ? fields[1] : "?";
    for (size_t i = 2; i < n; i++)
        frames[i - 2] = fields[i];
    return n > 2 ? n - 2 : 0;
}

static void print_site(struct gm_monitor *m, size_t rank, const struct alloc_row *r) {
    const char *via, *location, *frames[SITE_FRAMES];
    size_t n = split_row(r->text, &via, &location, frames);
    uint64_t count = r->count, bytes = r->bytes; /* scaled already (site_rows) */
    if (!m->opt.table) {
        log_begin(&m->log, LOG_INFO, wall_ns(), "allocation site");
        log_uint(&m->log, "rank", rank);
        log_uint(&m->log, "bytes", bytes);
        log_uint(&m->log, "count", count);
        log_str(&m->log, "function", n ? frames[0] : "?");
        log_str(&m->log, "location", location);
        if (via[0])
            log_str(&m->log, "via", via);
        log_str_list(&m->log, "stack", frames, n);
        log_end(&m->log);
        return;
    }
    char b[32];
    bytes_text(bytes, b, sizeof(b));
    printf("  %-10s %-10llu %s (%s)", b, (unsigned long long)count, n ? frames[0] : "?", location);
    for (size_t f = 1; f < n; f++)
        printf(" <- %s", frames[f]);
    if (via[0])
        printf("  [via %s]", via);
    printf("\n");
}

static void print_sites(struct gm_monitor *m) {
    struct alloc_row *rows = NULL;
    size_t n = site_rows(m, &rows);
    size_t shown = n < m->opt.top ? n : m->opt.top;
    if (m->opt.table)
        printf("top %zu allocating stacks since gmon attached (of %zu):\n  %-10s %-10s %s\n", shown, n,
               "BYTES", "COUNT", "FUNCTION (LOCATION) <- CALLERS");
    for (size_t i = 0; i < shown; i++)
        print_site(m, i + 1, &rows[i]);
    for (size_t i = 0; i < n; i++)
        free(rows[i].text);
    free(rows);
}

/* One report: the classes of the interval (or since gmon started, final), then the stacks with --by site. */
static void print_report(struct gm_monitor *m, const struct malloc_class_stat *shown, bool final) {
    struct report_span span = interval_report(&m->interval, final);
    if (m->opt.table)
        table_classes(m, &span, shown);
    else
        log_classes(m, &span, shown);
    if (m->opt.by_site)
        print_sites(m);
    if (m->opt.table)
        printf("\n");
    fflush(stdout);
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
    print_report(m, shown, final);
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

/* runtime.MemProfileRate of the --pid process, or 0 (why says why) when it is off or cannot be read. */
static int64_t memory_profile_rate(struct gm_monitor *m, char *why, size_t size) {
    const struct target *t = &m->prog.target;
    struct go_profile_globals g;
    int64_t rate = 0;
    go_profile_globals_find(&t->bin, t->bin.version.minor, &g);
    if (!g.mem_profile_rate || !proc_read(t->pid, g.mem_profile_rate + t->load_bias, &rate, 8))
        snprintf(why, size, "runtime.MemProfileRate not found");
    else if (rate <= 0)
        snprintf(why, size, "runtime.MemProfileRate is %lld: the program does not profile its memory",
                 (long long)rate);
    return rate > 0 ? rate : 0;
}

/* --by site of one process, every allocation meant (no --sample, no --probes): the memory profiler's
 * sampling point when the program profiles its memory (one trap per 512 KiB allocated by default, not one
 * per allocation); else, and otherwise, the allocators themselves. */
static int choose_functions(struct gm_monitor *m, struct gmon_error *err) {
    const struct options *o = &m->opt;
    if (o->by_site && o->trace.pid && !o->trace.path && !o->probes && o->sample == 1) {
        char why[160] = "";
        m->rate = memory_profile_rate(m, why, sizeof(why));
        if (m->rate > 0 && malloc_sampling_point_find(&m->prog.target.bin, &m->functions, err) != 0) {
            snprintf(why, sizeof(why), "%s", err->msg);
            malloc_functions_free(&m->functions);
            m->rate = 0;
        }
        if (m->rate > 0)
            return 0;
        fprintf(stderr, "gmon gm: %s: probing every allocation\n", why);
    }
    return malloc_functions_find(&m->prog.target.bin, &m->functions, err);
}

static int start(void *ctx) {
    struct gm_monitor *m = ctx;
    struct gmon_error err;
    const struct options *o = &m->opt;
    if (traced_program_start(&m->prog, "gm", o->trace.path, o->trace.pid, o->trace.go_version) != 0)
        return GMON_EXIT_BAD_INPUT;
    if (choose_classes(m, &err) != 0 || choose_functions(m, &err) != 0) {
        cli_error("gm", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    process_watch_init(&m->procs, &m->prog.target);
    struct malloc_probe_options mo = {.layout = m->prog.layout.layout,
                                      .attach_path = traced_program_attach_path(&m->prog),
                                      .pid = traced_program_attach_pid(&m->prog),
                                      .classes = &m->classes,
                                      .sample = (unsigned)o->sample,
                                      .by_site = o->by_site,
                                      .sampling_point = m->rate > 0};
    int64_t t0 = monotonic_ns();
    if (malloc_probes_open(&m->probes, &mo, &m->functions, &err) != 0) {
        cli_error("gm", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    /* What is probed comes before the attach line, whose "Ctrl-C stops" ends the start-up messages. */
    if (m->rate > 0)
        fprintf(stderr,
                "gmon gm: probing the memory profiler's sampling point (runtime.profilealloc): 1 allocation "
                "per %lld bytes on average (runtime.MemProfileRate), counts and bytes estimated as pprof "
                "scales them (--probes probes every allocation)\n",
                (long long)m->rate);
    else
        fprintf(stderr, "gmon gm: probing %s%s (%zu functions)\n", m->functions.names[0],
                m->functions.n > 1 ? " and the other allocators" : "", m->functions.n);
    traced_program_report_attached(&m->prog, m->probes.prog.nprobes, t0);
    interval_start(&m->interval, o->interval_s);
    return GMON_EXIT_OK;
}

/* Where every probe hit went, read after detaching so that the figures add up exactly. */
static void print_accounting(struct gm_monitor *m) {
    uint64_t c[MALLOC_COUNTERS];
    malloc_probes_counters(&m->probes, c);
    uint64_t counted = c[MALLOC_COUNTER_SAMPLED], zero = c[MALLOC_COUNTER_ZERO_SIZE];
    uint64_t skipped = c[MALLOC_COUNTER_HITS] - zero - counted;
    fprintf(stderr, "%s: %llu = %llu counted above + %llu of size 0 (nothing allocated)",
            m->rate > 0 ? "memory profiler samples (sampling-point hits)" : "allocator probe hits",
            (unsigned long long)c[MALLOC_COUNTER_HITS], (unsigned long long)counted,
            (unsigned long long)zero);
    if (m->opt.sample > 1)
        fprintf(stderr, " + %llu not sampled", (unsigned long long)skipped);
    fprintf(stderr, "\n");
    if (m->opt.sample == 1 && skipped)
        fprintf(stderr, "gmon gm: %lld probe hits not accounted for (please report this)\n",
                (long long)skipped);
    if (!m->opt.by_site)
        return;
    fprintf(stderr, "sites: %llu %s in %zu stacks; losses: %llu stacks not stored\n",
            (unsigned long long)m->site_count, m->rate > 0 ? "samples" : "allocations", m->nsites,
            (unsigned long long)c[MALLOC_COUNTER_MAP_FULL]);
    if (m->site_count + c[MALLOC_COUNTER_MAP_FULL] != counted)
        fprintf(stderr,
                "gmon gm: the sites count %llu allocations and %llu losses of %llu (please report this)\n",
                (unsigned long long)m->site_count, (unsigned long long)c[MALLOC_COUNTER_MAP_FULL],
                (unsigned long long)counted);
}

static void stop(void *ctx, bool attached) {
    struct gm_monitor *m = ctx;
    if (attached) {
        malloc_probes_detach(&m->probes); /* the classes, sites and counters read next are final */
        print_all(m, true);
        print_accounting(m);
    }
    malloc_probes_close(&m->probes);
    malloc_functions_free(&m->functions);
    process_watch_free(&m->procs);
    traced_program_close(&m->prog);
    log_writer_close(&m->log);
    free(m->sites);
}

/* The counts between two reads of the runtime's counters, as the probes' rows. */
static void counts_between(const struct size_class_counts *from, const struct size_class_counts *to, size_t n,
                           struct malloc_class_stat *out) {
    memset(out, 0, sizeof(*out) * MALLOC_CLASSES);
    for (size_t c = 0; c < n && c < MALLOC_CLASSES; c++) {
        out[c].count = to->count[c] >= from->count[c] ? to->count[c] - from->count[c] : 0;
        out[c].bytes = to->bytes[c] >= from->bytes[c] ? to->bytes[c] - from->bytes[c] : 0;
    }
}

static void print_counts(struct gm_monitor *m, const struct size_class_counts *from,
                         const struct size_class_counts *to, bool final) {
    struct malloc_class_stat shown[MALLOC_CLASSES];
    counts_between(from, to, m->classes.n, shown);
    print_report(m, shown, final); /* never --by site: that needs the probes */
}

/* Without probes: the runtime's counters, read every 250 ms (the last read is what the final report shows
 * when the process exits), reported every --interval. */
struct counters_run {
    struct gm_monitor *m;
    struct size_class_reader r;
    struct size_class_counts start, last, reported, now;
    int retries;
};

static bool read_counts(void *ctx) {
    struct counters_run *c = ctx;
    bool read = size_class_reader_read(&c->r, &c->now);
    c->retries += c->now.retries;
    if (read)
        c->last = c->now;
    return read;
}

static void report_counts(void *ctx) {
    struct counters_run *c = ctx;
    print_counts(c->m, &c->reported, &c->last, false);
    c->reported = c->last;
}

static int run_counters(struct gm_monitor *m) {
    static struct counters_run c;
    struct gmon_error err;
    memset(&c, 0, sizeof(c));
    c.m = m;
    if (size_class_reader_open(&c.r, m->opt.trace.pid, NULL, &err) != 0 ||
        !size_class_reader_read(&c.r, &c.start)) {
        cli_error("gm", "%s", c.r.why_not[0] ? c.r.why_not : err.msg);
        size_class_reader_close(&c.r);
        return GMON_EXIT_BAD_INPUT;
    }
    m->classes = c.r.classes;
    char who[256];
    fprintf(stderr,
            "gmon gm: reading the runtime's per-size-class counters of %s (%s): no probe, exact counts "
            "(--probes counts with uprobes, by the bytes asked for)\n",
            target_process_text(&c.r.snap->t, who, sizeof(who)), c.r.snap->t.bin.version_string);
    trace_loop_install_signals();
    interval_start(&m->interval, m->opt.interval_s);
    c.last = c.reported = c.start;
    struct read_loop loop = {read_counts,      report_counts,           &c,
                             m->opt.trace.pid, m->opt.trace.duration_s, &m->interval};
    if (read_loop_run(&loop))
        fprintf(stderr, "gmon gm: process %d exited; the counts below are those of gmon's last read\n",
                m->opt.trace.pid);
    print_counts(m, &c.start, &c.last, true);
    fprintf(stderr, "counter reads: %d taken again because a P cached or released a span meanwhile\n",
            c.retries);
    size_class_reader_close(&c.r);
    log_writer_close(&m->log);
    return GMON_EXIT_OK;
}

int cmd_gm(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static struct gm_monitor m;
    memset(&m, 0, sizeof(m));
    int parsed = parse_options(argc, argv, &m.opt);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    if (trace_log_writer_init(&m.log, m.opt.format, LOG_INFO) != 0)
        return GMON_EXIT_FAILED;
    if (m.opt.trace.pid && !m.opt.trace.path && !m.opt.by_site && !m.opt.probes && m.opt.sample == 1)
        return run_counters(&m);
    struct trace_command run = {
        .start = start,
        .stop = stop,
        .loop = {
            .poll = NULL, .tick = tick, .ctx = &m, .tick_ms = 250, .duration_s = m.opt.trace.duration_s}};
    return trace_command_run(&run);
}
