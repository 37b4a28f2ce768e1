/* Log lines on stdout the way Go's log/slog prints them: logfmt (TextHandler: time=... level=INFO msg="..."
 * key=value, values quoted only when they need it) or JSON lines (JSONHandler). Records are assembled in
 * memory and written whole (one write, or a batch of them in a few large writes), so lines never interleave.
 */
#ifndef GMON_LOG_WRITER_H
#define GMON_LOG_WRITER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "json_writer.h"
#include "text_buf.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_LOGFMT, LOG_JSON };
enum { LOG_HEADS = 4, LOG_HEAD_MSG_MAX = 64, LOG_HEAD_TEXT_MAX = 128 };

struct log_writer {
    FILE *out;
    bool out_never_blocks; /* out is a regular file or /dev/null: a batch is written in one call */
    enum log_format format;
    enum log_level min_level;
    struct text_buf records; /* the record being built, after those held (log_hold) */
    struct text_buf *cur;    /* where attributes go: records, or the fragment being built */
    struct json_writer json; /* JSON records, written into cur */
    bool recording;          /* false when the current record is below min_level: attributes are ignored */
    unsigned holds;          /* log_hold calls not yet released: records pile up in `records` */
    /* The record time's date, time of day and zone for one second: localtime_r and strftime run once per
     * second of records, not once per record. */
    int64_t second;
    char second_text[32], zone[8];
    size_t second_len, zone_len;
    /* logfmt: "time=..." for one millisecond, the resolution it is written at (a storm logs hundreds of
     * records in one). */
    int64_t time_ms;
    char time_text[64];
    size_t time_len;
    /* What follows the time for a few level and message pairs, as last written: a command logs a few
     * messages over and over. */
    struct log_head {
        enum log_level level;
        char msg[LOG_HEAD_MSG_MAX]; /* not NUL-terminated: msg_len bytes */
        size_t msg_len;
        char text[LOG_HEAD_TEXT_MAX];
        size_t len; /* 0: empty */
    } heads[LOG_HEADS];
    unsigned next_head; /* the one replaced next */
    /* Between log_fragment_begin and _end: the fragment the attributes go to, and whether the record they
     * were going to was recording. */
    struct text_buf fragment;
    bool record_recording;
    /* When it returns true (gmon is stopping), a write that has waited a second for room is abandoned with
     * every later one: a stdout nobody reads must not keep gmon from stopping. NULL: never. */
    bool (*give_up)(void);
    bool abandoned; /* out failed or was given up: nothing more is written */
};

/* The errno of the write that made a log writer of this process stop writing its lines (not the stop
 * request's giving up), or 0: the output is then lost, and the command fails. */
int log_writer_lost_errno(void);

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

/* Attributes rendered once and appended to many records: what a goroutine's creation site contributes to
 * each of its log lines (location and stack) is the same for all of them. Between log_fragment_begin and
 * log_fragment_end, inside a record (after log_begin), the attribute calls write to a new fragment instead
 * of the record; log_fragment_append then writes those bytes into any later record of the same writer,
 * where the calls would have written them. f->text is malloc'd (free it); empty when out of memory. */
struct log_fragment {
    char *text;
    size_t len;
};
void log_fragment_begin(struct log_writer *w);
void log_fragment_end(struct log_writer *w, struct log_fragment *f);
void log_fragment_append(struct log_writer *w, const struct log_fragment *f);

/* Records ended between log_hold and log_release are kept in memory and written by the last log_release
 * (holds nest). A caller that builds records under a lock holds them and releases after unlocking: writing
 * to a stdout that nobody reads blocks, and must not block the threads waiting for that lock (the metrics
 * server). A caller that handles events in batches holds around the batch, so that a batch's lines go out in
 * a few large writes instead of one write per line. */
void log_hold(struct log_writer *w);
void log_release(struct log_writer *w);
/* A batch of log lines goes out in writes of about this size: large enough that writing costs little per
 * line, small enough that a storm's lines do not pile up in memory. */
enum { LOG_BATCH_BYTES = 64 * 1024 };
/* While held: writes what is pending once it reaches bytes (a long batch must not pile up in memory). Call
 * it where no lock is held. */
void log_write_if_over(struct log_writer *w, size_t bytes);

/* Go's time.Duration.String() for a non-negative duration, e.g. "1h2m3.5s", "100.2ms", "0s". */
void format_go_duration(uint64_t ns, char *out, size_t size);

#endif
