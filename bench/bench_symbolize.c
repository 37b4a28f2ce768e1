/* Symbolizer benchmark: time to open and index a Go binary, then PC lookups per second on one core, for
 * function only and for function + file:line (+ inlined frames). PCs are random within the text.
 *   bench_symbolize BIN [LOOKUPS]         prints one "key value" line per figure
 *   bench_symbolize BIN --pcs N > FILE    writes N random text PCs (for go tool addr2line) and exits */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "go_binary.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* xorshift64*: a fixed, cheap sequence so every run looks up the same PCs */
static uint64_t next_random(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_symbolize BIN [LOOKUPS] | BIN --pcs N\n");
        return 2;
    }
    double t0 = now_ms();
    struct go_binary b;
    struct gmon_error err;
    if (go_binary_open(&b, argv[1], &err) != 0) {
        fprintf(stderr, "bench_symbolize: %s: %s\n", argv[1], err.msg);
        return 2;
    }
    double open_ms = now_ms() - t0;
    uint64_t lo = b.pcln.text_start, span = b.md.etext - b.md.text, seed = 0x9e3779b97f4a7c15ull;
    if (argc >= 4 && strcmp(argv[2], "--pcs") == 0) {
        long n = atol(argv[3]);
        for (long i = 0; i < n; i++)
            printf("0x%" PRIx64 "\n", lo + next_random(&seed) % span);
        return 0;
    }
    long lookups = argc >= 3 ? atol(argv[2]) : 10000000;
    uint64_t found = 0, checksum = 0;
    double t1 = now_ms();
    for (long i = 0; i < lookups; i++) {
        struct go_func fn;
        if (pclntab_func_at(&b.pcln, lo + next_random(&seed) % span, &fn)) {
            found++;
            checksum += (uintptr_t)fn.name;
        }
    }
    double func_ms = now_ms() - t1;
    long line_lookups = lookups / 10;
    double t2 = now_ms();
    for (long i = 0; i < line_lookups; i++) {
        struct go_func fn;
        struct go_frame frames[8];
        uint64_t pc = lo + next_random(&seed) % span;
        if (pclntab_func_at(&b.pcln, pc, &fn))
            checksum += (uint64_t)pclntab_frames(&b.pcln, &fn, pc, frames, 8) + (uint64_t)frames[0].line;
    }
    double line_ms = now_ms() - t2;
    printf("binary %s\n", argv[1]);
    printf("functions %" PRIu64 "\n", b.pcln.nfunc);
    printf("open_index_ms %.2f\n", open_ms);
    printf("func_lookups %ld\n", lookups);
    printf("func_lookups_per_sec %.0f\n", lookups / (func_ms / 1e3));
    printf("frame_lookups %ld\n", line_lookups);
    printf("frame_lookups_per_sec %.0f\n", line_lookups / (line_ms / 1e3));
    printf("found_fraction %.4f\n", (double)found / lookups);
    fprintf(stderr, "(checksum %" PRIu64 ")\n", checksum);
    go_binary_close(&b);
    return 0;
}
