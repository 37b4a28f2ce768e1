#include "json_writer.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* A json_writer's stream is written by one thread at a time (a command's stdout, a record in memory, a
 * scrape's buffer): the unlocked stdio calls, whose locking cost a log line's JSON a third of its time. */

void json_init(struct json_writer *w, FILE *out) {
    w->out = out;
    w->buf = NULL;
    w->used = 0;
    w->depth = 0;
    w->need_comma[0] = false;
    w->after_key = false;
}

void json_init_buffer(struct json_writer *w, struct text_buf *buf) {
    json_init(w, NULL);
    w->buf = buf;
}

static void flush_chunk(struct json_writer *w) {
    if (w->used)
        fwrite_unlocked(w->chunk, 1, w->used, w->out);
    w->used = 0;
}

/* Where a writer's output goes: its buffer, else its chunk on the way to its stream. */
static void emit(struct json_writer *w, const void *p, size_t n) {
    if (w->buf) {
        text_buf_put(w->buf, p, n);
        return;
    }
    if (n > JSON_CHUNK - w->used) {
        flush_chunk(w);
        if (n > JSON_CHUNK) {
            fwrite_unlocked(p, 1, n, w->out);
            return;
        }
    }
    memcpy(w->chunk + w->used, p, n);
    w->used += n;
    if (w->depth == 0) /* the top level: a value ends here, or a document begins or ends */
        flush_chunk(w);
}

static void emit_c(struct json_writer *w, char c) {
    if (w->buf)
        text_buf_putc(w->buf, c);
    else
        emit(w, &c, 1);
}

static void emit_s(struct json_writer *w, const char *s) {
    emit(w, s, strlen(s));
}

/* Whether a new value at the current position needs a comma before it; notes that the value is there. */
static bool take_separator(struct json_writer *w) {
    if (w->after_key) {
        w->after_key = false;
        return false;
    }
    bool comma = w->need_comma[w->depth];
    w->need_comma[w->depth] = true;
    return comma;
}

/* Emits the separator a new value needs at the current position. */
static void before_value(struct json_writer *w) {
    if (take_separator(w))
        emit_c(w, ',');
}

static void open_container(struct json_writer *w, char c) {
    before_value(w);
    emit_c(w, c);
    if (w->depth < JSON_MAX_DEPTH - 1)
        w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_container(struct json_writer *w, char c) {
    if (w->depth > 0)
        w->depth--;
    emit_c(w, c);
    if (w->depth == 0)
        emit_c(w, '\n');
}

void json_begin_object(struct json_writer *w) {
    open_container(w, '{');
}
void json_end_object(struct json_writer *w) {
    close_container(w, '}');
}
void json_begin_array(struct json_writer *w) {
    open_container(w, '[');
}
void json_end_array(struct json_writer *w) {
    close_container(w, ']');
}

/* PLAIN[c]: the ASCII a JSON string keeps as it is: not '"', '\\', a control below 0x20 or a non-ASCII byte.
 * DEL is kept, as Go's encoding/json and slog's JSONHandler keep it (their safeSet). */
#define PLAIN_16(c)                                                                                          \
    PLAIN_1(c), PLAIN_1(c + 1), PLAIN_1(c + 2), PLAIN_1(c + 3), PLAIN_1(c + 4), PLAIN_1(c + 5),              \
        PLAIN_1(c + 6), PLAIN_1(c + 7), PLAIN_1(c + 8), PLAIN_1(c + 9), PLAIN_1(c + 10), PLAIN_1(c + 11),    \
        PLAIN_1(c + 12), PLAIN_1(c + 13), PLAIN_1(c + 14), PLAIN_1(c + 15)
#define PLAIN_1(c) ((c) >= 0x20 && (c) <= 0x7f && (c) != '"' && (c) != '\\')
static const bool PLAIN[256] = {PLAIN_16(0),   PLAIN_16(16),  PLAIN_16(32),  PLAIN_16(48),
                                PLAIN_16(64),  PLAIN_16(80),  PLAIN_16(96),  PLAIN_16(112),
                                PLAIN_16(128), PLAIN_16(144), PLAIN_16(160), PLAIN_16(176),
                                PLAIN_16(192), PLAIN_16(208), PLAIN_16(224), PLAIN_16(240)};

/* Length of the run of printable ASCII at s that needs no escaping (a table lookup per byte: a snapshot
 * escapes a few hundred megabytes of names). */
static size_t plain_run(const unsigned char *s) {
    size_t n = 0;
    while (PLAIN[s[n]])
        n++;
    return n;
}

static void write_escaped(struct json_writer *w, const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    emit_c(w, '"');
    while (*s) {
        size_t run = plain_run(s); /* written at once: a snapshot writes a few hundred thousand strings */
        if (run) {
            emit(w, s, run);
            s += run;
            continue;
        }
        unsigned char c = *s;
        if (c == '"' || c == '\\') {
            emit_c(w, '\\');
            emit_c(w, (char)c);
        } else if (c == '\n') {
            emit_s(w, "\\n");
        } else if (c == '\t') {
            emit_s(w, "\\t");
        } else if (c == '\r') {
            emit_s(w, "\\r");
        } else if (c < 0x20) {
            char u[8];
            snprintf(u, sizeof(u), "\\u%04x", c);
            emit_s(w, u);
        } else if (c >= 0x80) {
            int n;
            int32_t r = utf8_decode(s, &n);
            if (r < 0)
                emit_s(w, "\\ufffd"); /* not UTF-8: replaced, like Go's encoding/json */
            else if (r == 0x2028 || r == 0x2029)
                emit_s(w, r == 0x2028 ? "\\u2028" : "\\u2029"); /* as encoding/json and slog escape them */
            else
                emit(w, s, (size_t)n);
            s += n;
            continue;
        } else {
            emit_c(w, (char)c);
        }
        s++;
    }
    emit_c(w, '"');
}

void json_write_escaped(FILE *out, const char *s) {
    struct json_writer w;
    json_init(&w, out);
    write_escaped(&w, s);
}

/* A key is nearly always a short identifier that needs no escaping: its separator, quotes and colon go out
 * with it in one call (a snapshot of a million goroutines writes eight million keys; four stdio calls each
 * were a twentieth of its time). */
void json_key(struct json_writer *w, const char *key) {
    char quoted[64];
    size_t n = plain_run((const unsigned char *)key);
    if (key[n] != '\0' || n + 4 > sizeof(quoted)) {
        before_value(w);
        write_escaped(w, key);
        emit_c(w, ':');
        w->after_key = true;
        return;
    }
    size_t at = 0;
    if (take_separator(w))
        quoted[at++] = ',';
    quoted[at++] = '"';
    memcpy(quoted + at, key, n);
    at += n;
    quoted[at++] = '"';
    quoted[at++] = ':';
    emit(w, quoted, at);
    w->after_key = true;
}

void json_string(struct json_writer *w, const char *s) {
    before_value(w);
    write_escaped(w, s ? s : "");
}
void json_raw(struct json_writer *w, const char *json) {
    before_value(w);
    emit_s(w, json);
}

void json_raw_len(struct json_writer *w, const char *json, size_t len) {
    before_value(w);
    emit(w, json, len);
}

char *json_quote(const char *s) {
    struct text_buf buf = {0};
    struct json_writer w;
    json_init_buffer(&w, &buf);
    write_escaped(&w, s ? s : "");
    size_t len;
    return text_buf_take(&buf, &len);
}

static void write_uint(struct json_writer *w, uint64_t v) {
    char digits[20];
    emit(w, digits, decimal_text(digits, v));
}

static void write_int(struct json_writer *w, int64_t v) {
    if (v < 0)
        emit_c(w, '-');
    write_uint(w, v < 0 ? -(uint64_t)v : (uint64_t)v);
}

void json_write_uint(FILE *out, uint64_t v) {
    struct json_writer w;
    json_init(&w, out);
    write_uint(&w, v);
}

void json_write_int(FILE *out, int64_t v) {
    struct json_writer w;
    json_init(&w, out);
    write_int(&w, v);
}

void json_uint(struct json_writer *w, uint64_t v) {
    before_value(w);
    write_uint(w, v);
}
void json_member_uint(struct json_writer *w, const char *key, uint64_t v) {
    json_key(w, key);
    json_uint(w, v);
}
void json_fixed(struct json_writer *w, double v, int decimals) {
    before_value(w);
    if (w->buf) {
        text_buf_printf(w->buf, "%.*f", decimals, v); /* up to 309 digits before the point */
    } else {
        flush_chunk(w); /* what came before goes first */
        fprintf(w->out, "%.*f", decimals, v);
    }
}
void json_int(struct json_writer *w, int64_t v) {
    before_value(w);
    write_int(w, v);
}
void json_bool(struct json_writer *w, bool v) {
    before_value(w);
    emit_s(w, v ? "true" : "false");
}
void json_null(struct json_writer *w) {
    before_value(w);
    emit_s(w, "null");
}
void json_hex(struct json_writer *w, uint64_t v) {
    before_value(w);
    char text[32];
    snprintf(text, sizeof(text), "\"0x%" PRIx64 "\"", v);
    emit_s(w, text);
}
