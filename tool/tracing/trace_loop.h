/* The main loop of a live-tracing command: deliver events, run periodic work, and stop on Ctrl-C/SIGTERM,
 * after --duration, or when the traced process (--pid) exits. */
#ifndef GMON_TRACE_LOOP_H
#define GMON_TRACE_LOOP_H

#include "clocks.h" /* monotonic_ns, wall_ns: every tracing command times with them */
#include <stdbool.h>
#include <stdint.h>
#include "log_writer.h"
#include "target.h"

struct trace_loop {
    /* Delivers pending events, waiting up to timeout_ms; non-zero on failure (EINTR is not one). NULL for
     * probes that send no events: the loop then only sleeps between ticks. */
    int (*poll)(void *ctx, int timeout_ms);
    /* Periodic work every tick_ms; returns false to stop (e.g. the target exited). May be NULL. */
    bool (*tick)(void *ctx);
    void *ctx;
    int tick_ms;
    uint64_t duration_s; /* 0: until a signal */
};

/* SIGINT and SIGTERM request a stop; SIGPIPE is ignored (stdout may be a closed pipe). */
void trace_loop_install_signals(void);
bool trace_loop_stop_requested(void);
/* True from a stop request, --duration's end or the end of trace_loop_run on: the log writer then stops
 * waiting for stdout. */
bool trace_loop_stopping(void);
/* The log writer of a tracing command: stdout, given up on after a stop request if stdout does not drain. */
/* Once the probes are attached: every capability tracing no longer needs goes (tool/privileges.h). A
 * failure is printed; the command must then stop (GMON_EXIT_FAILED). */
int trace_drop_privileges(void);
int trace_log_writer_init(struct log_writer *w, enum log_format format, enum log_level min_level);
/* Runs until a stop. Returns a GMON_EXIT_* status. */
int trace_loop_run(const struct trace_loop *l);
/* The life of a tracing command once its options are parsed: install the signal handlers, start (attach;
 * a GMON_EXIT_* status, having printed any error), run the loop, stop (detach and report; attached says
 * whether start succeeded). Returns the command's exit status. */
struct trace_command {
    int (*start)(void *ctx);
    void (*stop)(void *ctx, bool attached);
    struct trace_loop loop; /* its ctx is the commands' too */
};
int trace_command_run(const struct trace_command *c);

/* Printing every --interval seconds from a tick. */
struct interval {
    int64_t every_ns, next_ns;   /* every_ns 0: never due */
    int64_t started_ns, last_ns; /* CLOCK_MONOTONIC: interval_start (the attach), the last report */
};
/* Called once the probes are attached: the start of the first report and of the final one. */
void interval_start(struct interval *i, uint64_t seconds);
/* True once per elapsed interval. */
bool interval_due(struct interval *i);

/* The loop of a command that reads the runtime's own counters instead of attaching probes (gm and sched of
 * one process): read every 250 ms, report every interval, until Ctrl-C, duration_s (0: none) or the end of
 * process pid. read returns false when it could not read this time; report prints what the reads gathered
 * since the last report (the final report is the caller's). Returns true when the process exited (the
 * caller's last read then stands for its end). */
struct read_loop {
    bool (*read)(void *ctx);
    void (*report)(void *ctx);
    void *ctx;
    int pid;
    uint64_t duration_s;
    struct interval *interval;
};
bool read_loop_run(const struct read_loop *l);

/* The time a report covers, as measured (ticks are not exactly --interval apart): from the previous report
 * (or the attach) to now for an interval report, from the attach to now for the final one. */
struct report_span {
    int64_t start_wall_ns, end_wall_ns; /* CLOCK_REALTIME */
    bool since_attach;
};
/* The span of the report being printed now; an interval report starts the next span. */
struct report_span interval_report(struct interval *i, bool final);
/* "10:14:21.486 WHAT in the last 1.02s" / "10:14:21.486 WHAT since gmon attached (12.3s)" (WHAT may be "").
 */
void report_span_text(const struct report_span *s, const char *what, char *out, size_t size);
/* The span as log attributes: start and end (times), seconds, span ("interval" or "since_attach"). */
void log_report_span(struct log_writer *w, const struct report_span *s);
/* For ticks: true while the --pid target runs the binary gmon opened (always for --path); once it has
 * exited or replaced its program by exec, says so on stderr ("gmon CMD: process PID exited") and returns
 * false, which ends the loop. */
bool trace_target_running(const char *cmd, const struct target *t);

#endif
