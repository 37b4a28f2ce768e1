/* Log lines on stdout the way Go's log/slog prints them: logfmt (TextHandler: time=... level=INFO msg="..."
 * key=value, values quoted only when they need it) or JSON lines (JSONHandler). One record is assembled in
 * memory and written with a single write, so lines never interleave. */
#ifndef GMON_LOG_WRITER_H
#define GMON_LOG_WRITER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "json_writer.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_LOGFMT, LOG_JSON };

struct log_writer {
    FILE *out;
    enum log_format format;
    enum log_level min_level;
    FILE *mem; /* the record being built */
    char *buf;
    size_t len;
    struct json_writer json;
    bool recording; /* false when the current record is below min_level: attributes are ignored */
    bool held;      /* between log_hold and log_release: records pile up in mem */
    /* When it returns true (gmon is stopping), a write that has waited a second for room is abandoned with
     * every later one: a stdout nobody reads must not keep gmon from stopping. NULL: never. */
    bool (*give_up)(void);
    bool abandoned; /* out failed or was given up: nothing more is written */
};

/* Parses "DEBUG", "info", ... Returns false for anything else. */
bool log_level_parse(const char *text, enum log_level *level);
bool log_format_parse(const char *text, enum log_format *format);

int log_writer_init(struct log_writer *w, FILE *out, enum log_format format, enum log_level min_level);
void log_writer_close(struct log_writer *w);
bool log_enabled(const struct log_writer *w, enum log_level level);

/* A record: log_begin, any number of attributes, log_end. wall_ns is CLOCK_REALTIME in nanoseconds. */
void log_begin(struct log_writer *w, enum log_level level, int64_t wall_ns, const char *msg);
void log_str(struct log_writer *w, const char *key, const char *value);
void log_int(struct log_writer *w, const char *key, int64_t value);
void log_uint(struct log_writer *w, const char *key, uint64_t value);
/* A number with `decimals` digits after the point, the same in both formats. */
void log_fixed(struct log_writer *w, const char *key, double value, int decimals);
/* A time.Time (wall_ns: CLOCK_REALTIME), formatted as slog formats the record's own time. */
void log_time(struct log_writer *w, const char *key, int64_t wall_ns);
/* A time.Duration: "1.5s" in logfmt, integer nanoseconds in JSON (as slog prints it). */
void log_duration(struct log_writer *w, const char *key, uint64_t ns);
/* A group of strings: key.0=a key.1=b in logfmt (slog.Group), an array in JSON. */
void log_str_list(struct log_writer *w, const char *key, const char *const *values, size_t n);
/* A group of named counts: key.a=1 key.b=2 in logfmt, an object {"a":1,"b":2} in JSON. */
void log_uint_group(struct log_writer *w, const char *key, const char *const *names, const uint64_t *values,
                    size_t n);
void log_end(struct log_writer *w);

/* Records ended between log_hold and log_release are kept in memory and written by log_release. A caller
 * that builds records under a lock holds them and releases after unlocking: writing to a stdout that nobody
 * reads blocks, and must not block the threads waiting for that lock (the metrics server). */
void log_hold(struct log_writer *w);
void log_release(struct log_writer *w);

/* Go's time.Duration.String() for a non-negative duration, e.g. "1h2m3.5s", "100.2ms", "0s". */
void format_go_duration(uint64_t ns, char *out, size_t size);

#endif
