#include "log2_hist.h"

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

void log2_hist_print(FILE *out, const struct log2_hist *h, const char *unit) {
    int first, last;
    if (!used_range(h, &first, &last)) {
        fprintf(out, "     (no values)\n");
        return;
    }
    uint64_t max = 0;
    for (int i = first; i <= last; i++)
        max = h->slots[i] > max ? h->slots[i] : max;
    fprintf(out, "%24s : count     distribution\n", unit);
    for (int i = first; i <= last; i++) {
        int stars = (int)(h->slots[i] * BAR_WIDTH / max);
        char bar[BAR_WIDTH + 1];
        memset(bar, '*', (size_t)stars);
        bar[stars] = '\0';
        fprintf(out, "%11llu -> %-10llu : %-9llu |%-*s|\n", (unsigned long long)log2_hist_low(i),
                (unsigned long long)log2_hist_high(i), (unsigned long long)h->slots[i], BAR_WIDTH, bar);
    }
}

void log2_hist_log(struct log_writer *w, const char *key, const struct log2_hist *h) {
    char names[LOG2_HIST_SLOTS][48];
    const char *name_ptrs[LOG2_HIST_SLOTS];
    uint64_t values[LOG2_HIST_SLOTS];
    size_t n = 0;
    int first, last;
    if (used_range(h, &first, &last)) {
        for (int i = first; i <= last; i++) {
            snprintf(names[n], sizeof(names[n]), "%llu-%llu", (unsigned long long)log2_hist_low(i),
                     (unsigned long long)log2_hist_high(i));
            name_ptrs[n] = names[n];
            values[n++] = h->slots[i];
        }
    }
    log_uint_group(w, key, name_ptrs, values, n);
}
