/* Log2 histograms as bcc's tools print them ("  4 -> 7   : 12   |*****   |"): slot s counts values in
 * [2^(s-1), 2^s - 1] and slot 1 also counts 0. Used for goroutine lifetimes (gr seq) and scheduling
 * latency and blocked time (sched), in microseconds. */
#ifndef GMON_LOG2_HIST_H
#define GMON_LOG2_HIST_H
#include <stdint.h>
#include <stdio.h>

#include "log_writer.h"

enum { LOG2_HIST_SLOTS = 48 };

struct log2_hist {
    uint64_t slots[LOG2_HIST_SLOTS];
};

/* The slot a value falls in (the same function as the BPF programs' log2_slot). */
int log2_hist_slot(uint64_t value);
/* Lowest and highest value of a slot. */
uint64_t log2_hist_low(int slot);
uint64_t log2_hist_high(int slot);
uint64_t log2_hist_total(const struct log2_hist *h);
/* after - before, slot by slot (counts only grow). */
void log2_hist_diff(const struct log2_hist *after, const struct log2_hist *before, struct log2_hist *out);
/* Prints the rows from the first to the last non-empty slot, with a header naming the unit ("usecs"). Prints
 * nothing but a line saying so when the histogram is empty. */
void log2_hist_print(FILE *out, const struct log2_hist *h, const char *unit);
/* The same histogram as one log record field: buckets as an array of {"low","high","count"} (JSON) or
 * "low-high:count ..." (logfmt). */
void log2_hist_log(struct log_writer *w, const char *key, const struct log2_hist *h);

/* A row of a histogram whose bounds are given rather than powers of two (the Go runtime's own histograms):
 * count values in [low, high]; high UINT64_MAX: no upper bound ("inf"). */
struct hist_row {
    uint64_t low, high, count;
};
/* The rows as log2_hist_print prints its slots; a line saying so when n is 0. */
void hist_rows_print(FILE *out, const struct hist_row *rows, size_t n, const char *unit);
/* The rows as log2_hist_log writes its slots ("low-high": count). */
void hist_rows_log(struct log_writer *w, const char *key, const struct hist_row *rows, size_t n);

#endif
