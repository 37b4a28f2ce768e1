/* gmon sched without --blocked: the scheduling latency from the runtime's own histogram, sched.timeToRun
 * (what runtime/metrics serves as /sched/latencies:seconds), read from the memory of one process, or of every
 * process running a binary (sched_latency_reader.h), every 250 ms and reported every --interval. No probe, no
 * eBPF, no stop: the target pays nothing. The runtime times about 1 scheduling in 8 of each goroutine
 * (proc.go casgstatus and newproc1, gTrackingPeriod, Go 1.17-1.27) and does not scale the counts up, so they
 * are a sample; the buckets are the runtime's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "goroutine_snapshot.h"
#include "log2_hist.h"
#include "runtime_metrics.h"
#include "sched_latency_reader.h"
#include "table_text.h"
#include "trace_loop.h"

enum { ROWS_MAX = 64 };

static uint64_t to_ns(double seconds) {
    return seconds >= 1.8e10 ? UINT64_MAX : (uint64_t)(seconds * 1e9 + 0.5);
}

/* floor(log2(v)) for v > 0. */
static int log2_floor(uint64_t v) {
    int r = -1;
    while (v) {
        v >>= 1;
        r++;
    }
    return r;
}

/* The runtime's buckets in ns, merged into rows of one power of two each ([2^k, 2^(k+1) - 1]; a bucket
 * that starts at 0 keeps its own bounds, the last one has no upper bound): every release's buckets divide
 * powers of two, so no bucket straddles two rows. From the first to the last non-empty row. The underflow
 * bucket (negative durations: a clock that went back) is counted apart in *negative. */
static size_t latency_rows(const struct go_time_histogram *h, struct hist_row *rows, uint64_t *negative) {
    size_t n = 0;
    int row_key = -2;
    *negative = 0;
    for (int i = 0; i < h->n; i++) {
        if (h->bounds[i] < 0) {
            *negative += h->counts[i];
            continue;
        }
        uint64_t low = to_ns(h->bounds[i]), high = to_ns(h->bounds[i + 1]);
        int key = low ? log2_floor(low) : -1;
        if (key != row_key) {
            if (n == ROWS_MAX)
                break;
            uint64_t row_high = key < 0 ? high - 1 : key >= 63 ? UINT64_MAX : (2ULL << key) - 1;
            rows[n++] = (struct hist_row){low, high == UINT64_MAX ? UINT64_MAX : row_high, 0};
            row_key = key;
        }
        rows[n - 1].count += h->counts[i];
    }
    size_t first = 0, last = n;
    while (first < n && !rows[first].count)
        first++;
    while (last > first && !rows[last - 1].count)
        last--;
    memmove(rows, rows + first, (last - first) * sizeof(*rows));
    return last - first;
}

static uint64_t rows_total(const struct hist_row *rows, size_t n) {
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += rows[i].count;
    return t;
}

/* The row holding the q-th quantile of the samples (n > 0, some counted). */
static const struct hist_row *quantile_row(const struct hist_row *rows, size_t n, double q) {
    uint64_t total = rows_total(rows, n), seen = 0;
    uint64_t rank = (uint64_t)((double)total * q + 0.999999);
    for (size_t i = 0; i < n; i++) {
        seen += rows[i].count;
        if (seen >= rank && rows[i].count)
            return &rows[i];
    }
    return &rows[n - 1];
}

/* "< 16.4µs" (below the row's upper bound), or ">= 140737s" for the row without one. */
static void quantile_text(const struct hist_row *r, char *out, size_t size) {
    char d[32];
    bool open = r->high == UINT64_MAX;
    duration_text((int64_t)(open ? r->low : r->high + 1), d, sizeof(d));
    snprintf(out, size, "%s %s", open ? ">=" : "<", d);
}

/* "p50_below": the row's upper bound (ns, exclusive); "p50_at_least" for the row without one. */
static void log_quantile(struct log_writer *w, const char *name, const struct hist_row *r) {
    char key[32];
    bool open = r->high == UINT64_MAX;
    snprintf(key, sizeof(key), "%s_%s", name, open ? "at_least" : "below");
    log_duration(w, key, open ? r->low : r->high + 1);
}

struct sched_read {
    const struct sched_read_options *o;
    struct log_writer *log;
    struct interval interval;
};

static void report(struct sched_read *s, const struct go_time_histogram *from,
                   const struct go_time_histogram *to, bool final) {
    static struct go_time_histogram shown;
    struct hist_row rows[ROWS_MAX];
    uint64_t negative;
    shown.n = 0;
    go_time_histogram_add_difference(&shown, to, from);
    size_t n = latency_rows(&shown, rows, &negative);
    uint64_t samples = rows_total(rows, n);
    struct report_span span = interval_report(&s->interval, final);
    char p50[48] = "", p99[48] = "";
    if (samples) {
        quantile_text(quantile_row(rows, n, 0.5), p50, sizeof(p50));
        quantile_text(quantile_row(rows, n, 0.99), p99, sizeof(p99));
    }
    if (s->o->table) {
        char period[96];
        report_span_text(&span, "", period, sizeof(period));
        printf("%s\nscheduling latency (runnable -> running), the runtime's own sample: %llu timed", period,
               (unsigned long long)samples);
        if (samples)
            printf(", median %s, 99th percentile %s", p50, p99);
        if (negative)
            printf(", %llu negative (a clock that went back)", (unsigned long long)negative);
        printf("\n");
        hist_rows_print(stdout, rows, n, "latency (ns)");
        printf("\n");
    } else {
        struct log_writer *w = s->log;
        log_begin(w, LOG_INFO, span.end_wall_ns, "scheduling latency");
        log_report_span(w, &span);
        log_str(w, "source", "runtime");
        log_uint(w, "samples", samples);
        if (samples) {
            log_quantile(w, "p50", quantile_row(rows, n, 0.5));
            log_quantile(w, "p99", quantile_row(rows, n, 0.99));
        }
        if (negative)
            log_uint(w, "negative", negative);
        hist_rows_log(w, "latency_ns", rows, n);
        log_end(w);
    }
    fflush(stdout);
}

struct reads {
    struct sched_read *s;
    struct sched_latency_reader *r;
    struct go_time_histogram reported, last, now;
};

static bool read_now(void *ctx) {
    struct reads *x = ctx;
    char why[192];
    if (!sched_latency_reader_read(x->r, &x->now, why, sizeof(why)))
        return false;
    x->last = x->now;
    return true;
}

static void report_interval(void *ctx) {
    struct reads *x = ctx;
    report(x->s, &x->reported, &x->last, false);
    x->reported = x->last;
}

static void say_reading(const struct sched_latency_reader *r) {
    char who[256];
    const char *version = r->path ? r->binary.bin.version_string : r->sources[0].snap->t.bin.version_string;
    if (r->path)
        snprintf(who, sizeof(who), "the processes running %s", r->path);
    else
        target_process_text(&r->sources[0].snap->t, who, sizeof(who));
    fprintf(
        stderr,
        "gmon sched: reading the scheduling-latency histogram of %s (%s) from memory: no probe; the runtime "
        "times about 1 scheduling in 8 (--blocked adds time blocked per wait reason, with a uprobe on every "
        "status change)\n",
        who, version);
}

static int run(struct sched_read *s, struct sched_latency_reader *r) {
    static struct reads x;
    static const struct go_time_histogram none;
    char why[192];
    memset(&x, 0, sizeof(x));
    x.s = s;
    x.r = r;
    if (!sched_latency_reader_read(r, &x.last, why, sizeof(why))) {
        cli_error("sched", "PID %d: %s", s->o->pid, why);
        return GMON_EXIT_BAD_INPUT;
    }
    say_reading(r);
    trace_loop_install_signals();
    interval_start(&s->interval, s->o->interval_s);
    struct read_loop loop = {read_now, report_interval, &x, s->o->pid, s->o->duration_s, &s->interval};
    if (read_loop_run(&loop))
        fprintf(stderr,
                "gmon sched: process %d exited; the counts below are those of gmon's last read, at most "
                "250 ms before\n",
                s->o->pid);
    report(s, &none, &x.last, true);
    fprintf(stderr, "histogram reads: %llu, %llu bytes\n", (unsigned long long)r->reads,
            (unsigned long long)r->bytes);
    return GMON_EXIT_OK;
}

int sched_from_runtime(const struct sched_read_options *o, struct log_writer *log) {
    static struct sched_latency_reader r;
    struct sched_read s = {.o = o, .log = log};
    struct gmon_error err;
    if (sched_latency_reader_open(&r, "gmon sched", o->pid, o->path, &err) != 0) {
        cli_error("sched", "%s", err.msg);
        sched_latency_reader_close(&r);
        return GMON_EXIT_BAD_INPUT;
    }
    int rc = run(&s, &r);
    sched_latency_reader_close(&r);
    return rc;
}
