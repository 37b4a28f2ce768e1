/* A single error message carried up from the place that knows what went wrong to the command that prints it.
 */
#ifndef GMON_ERROR_H
#define GMON_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gmon_error {
    char msg[512];
};

/* Formats msg into err (when err is not NULL) and returns -1, so callers can write `return gmon_fail(err,
 * ...)`. */
int gmon_fail(struct gmon_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with "context: ", keeping the original cause. Returns -1. */
int gmon_fail_context(struct gmon_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif
