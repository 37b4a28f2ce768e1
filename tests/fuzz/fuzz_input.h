/* What the fuzz targets share: the input as a file, for the readers that open a path (ELF, DWARF) as gmon
 * does (a memfd keeps it off the disk; /proc/self/fd/N is a path libelf and libdw open like any other), and
 * as a C string, for the readers of text. */
#ifndef GMON_FUZZ_INPUT_H
#define GMON_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data to a fresh memfd; *fd must be closed by the caller. Aborts on failure: a broken harness must
 * not pass for a clean run. */
static inline const char *fuzz_input_file(const uint8_t *data, size_t size, int *fd, char path[64]) {
    *fd = memfd_create("gmon-fuzz", MFD_CLOEXEC);
    if (*fd < 0 || (size && write(*fd, data, size) != (ssize_t)size)) {
        perror("fuzz_input_file");
        abort();
    }
    snprintf(path, 64, "/proc/self/fd/%d", *fd);
    return path;
}

/* The input as a NUL-terminated string the caller frees (a NUL inside ends it early, as it would in gmon). */
static inline char *fuzz_input_string(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) {
        perror("fuzz_input_string");
        abort();
    }
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
