#include "gmon_error.h"

#include <stdio.h>
#include <string.h>

int gmon_fail(struct gmon_error *err, const char *fmt, ...) {
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int gmon_fail_context(struct gmon_error *err, const char *fmt, ...) {
    if (err == NULL)
        return -1;
    char prefix[256];
    char cause[sizeof(err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(cause, err->msg, sizeof(cause));
    snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, cause);
    return -1;
}
