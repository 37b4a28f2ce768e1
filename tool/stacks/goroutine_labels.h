/* The pprof labels of a goroutine (runtime/pprof.Do, SetGoroutineLabels), read from its g.labels: a
 * *labelMap, which is a map[string]string up to Go 1.23 (runtime/pprof/label.go) and a struct holding a
 * []label{key, value string} from 1.24. Bounded: at most GOROUTINE_LABELS_MAX labels of
 * GOROUTINE_LABEL_MAX_TEXT bytes; anything else is reported unreadable, never guessed. */
#ifndef GMON_GOROUTINE_LABELS_H
#define GMON_GOROUTINE_LABELS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { GOROUTINE_LABELS_MAX = 32, GOROUTINE_LABEL_MAX_TEXT = 256 };

struct goroutine_labels {
    size_t n;
    char key[GOROUTINE_LABELS_MAX][GOROUTINE_LABEL_MAX_TEXT];
    char value[GOROUTINE_LABELS_MAX][GOROUTINE_LABEL_MAX_TEXT];
    const char *problem; /* why they could not be read; NULL when n labels were read (n may be 0) */
};

typedef bool (*labels_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Reads the labels at labels_ptr (g.labels; 0: none) for release 1.minor, sorted by key. */
void goroutine_labels_read(uint64_t labels_ptr, int minor, labels_read_fn read, void *ctx,
                           struct goroutine_labels *out);

/* The same from process pid's memory (process_vm_readv). */
void goroutine_labels_read_process(uint64_t labels_ptr, int minor, int pid, struct goroutine_labels *out);

#endif
