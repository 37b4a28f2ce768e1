#include "log2_hist.h"

#include <stdlib.h>
#include <string.h>

int log2_hist_slot(uint64_t value) {
    int r = 0;
    for (int shift = 32; shift > 0; shift /= 2) {
        if (value >> shift) {
            value >>= shift;
            r += shift;
        }
    }
    return r + 1;
}

uint64_t log2_hist_low(int slot) {
    return slot <= 1 ? 0 : 1ULL << (slot - 1);
}

uint64_t log2_hist_high(int slot) {
    return slot < 1 ? 0 : slot >= 64 ? UINT64_MAX : (1ULL << slot) - 1;
}

uint64_t log2_hist_total(const struct log2_hist *h) {
    uint64_t n = 0;
    for (int i = 0; i < LOG2_HIST_SLOTS; i++)
        n += h->slots[i];
    return n;
}

void log2_hist_diff(const struct log2_hist *after, const struct log2_hist *before, struct log2_hist *out) {
    for (int i = 0; i < LOG2_HIST_SLOTS; i++)
        out->slots[i] = after->slots[i] >= before->slots[i] ? after->slots[i] - before->slots[i] : 0;
}

/* The first and last non-empty slots; false when there are none. Rows start at slot 1 (0 -> 1), as bcc's. */
static bool used_range(const struct log2_hist *h, int *first, int *last) {
    *first = -1;
    *last = -1;
    for (int i = 0; i < LOG2_HIST_SLOTS; i++) {
        if (!h->slots[i])
            continue;
        if (*first < 0)
            *first = i;
        *last = i;
    }
    if (*first > 1)
        *first = 1;
    return *last >= 0;
}

enum { BAR_WIDTH = 40 };

/* A bound as a row shows it: "inf" for a row without an upper bound. */
static void bound_text(uint64_t v, char *out, size_t size) {
    if (v == UINT64_MAX)
        snprintf(out, size, "inf");
    else
        snprintf(out, size, "%llu", (unsigned long long)v);
}

void hist_rows_print(FILE *out, const struct hist_row *rows, size_t n, const char *unit) {
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = rows[i].count > max ? rows[i].count : max;
    if (!n) {
        fprintf(out, "     (no values)\n");
        return;
    }
    fprintf(out, "%24s : count     distribution\n", unit);
    for (size_t i = 0; i < n; i++) {
        int stars = max ? (int)(rows[i].count * BAR_WIDTH / max) : 0;
        char bar[BAR_WIDTH + 1], low[24], high[24];
        memset(bar, '*', (size_t)stars);
        bar[stars] = '\0';
        bound_text(rows[i].low, low, sizeof(low));
        bound_text(rows[i].high, high, sizeof(high));
        fprintf(out, "%11s -> %-10s : %-9llu |%-*s|\n", low, high, (unsigned long long)rows[i].count,
                BAR_WIDTH, bar);
    }
}

void hist_rows_log(struct log_writer *w, const char *key, const struct hist_row *rows, size_t n) {
    char(*names)[48] = calloc(n ? n : 1, sizeof(*names));
    const char **name_ptrs = calloc(n ? n : 1, sizeof(*name_ptrs));
    uint64_t *values = calloc(n ? n : 1, sizeof(*values));
    if (names && name_ptrs && values) {
        for (size_t i = 0; i < n; i++) {
            char low[24], high[24];
            bound_text(rows[i].low, low, sizeof(low));
            bound_text(rows[i].high, high, sizeof(high));
            snprintf(names[i], sizeof(names[i]), "%s-%s", low, high);
            name_ptrs[i] = names[i];
            values[i] = rows[i].count;
        }
        log_uint_group(w, key, name_ptrs, values, n);
    } else {
        log_uint_group(w, key, NULL, NULL, 0);
    }
    free(names);
    free(name_ptrs);
    free(values);
}

/* The rows of the used range of h (bcc's: from slot 1 to the last non-empty one); the number of rows. */
static size_t log2_rows(const struct log2_hist *h, struct hist_row *rows) {
    int first, last;
    size_t n = 0;
    if (used_range(h, &first, &last))
        for (int i = first; i <= last; i++)
            rows[n++] = (struct hist_row){log2_hist_low(i), log2_hist_high(i), h->slots[i]};
    return n;
}

void log2_hist_print(FILE *out, const struct log2_hist *h, const char *unit) {
    struct hist_row rows[LOG2_HIST_SLOTS];
    hist_rows_print(out, rows, log2_rows(h, rows), unit);
}

void log2_hist_log(struct log_writer *w, const char *key, const struct log2_hist *h) {
    struct hist_row rows[LOG2_HIST_SLOTS];
    hist_rows_log(w, key, rows, log2_rows(h, rows));
}
