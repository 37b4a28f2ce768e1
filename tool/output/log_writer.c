#include "log_writer.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"

static const char *const LEVEL_NAMES[] = {"DEBUG", "INFO", "WARN", "ERROR"};

bool log_level_parse(const char *text, enum log_level *level) {
    for (int i = 0; i <= LOG_ERROR; i++)
        if (strcasecmp(text, LEVEL_NAMES[i]) == 0) {
            *level = (enum log_level)i;
            return true;
        }
    return false;
}

bool log_format_parse(const char *text, enum log_format *format) {
    if (strcasecmp(text, "logfmt") == 0 || strcasecmp(text, "text") == 0)
        *format = LOG_LOGFMT;
    else if (strcasecmp(text, "json") == 0)
        *format = LOG_JSON;
    else
        return false;
    return true;
}

/* A regular file or /dev/null: a write there never waits for a reader, so a batch goes out in one call. */
static bool never_blocks(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0)
        return false;
    return S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
}

int log_writer_init(struct log_writer *w, FILE *out, enum log_format format, enum log_level min_level) {
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->out_never_blocks = fileno(out) >= 0 && never_blocks(fileno(out));
    w->format = format;
    w->min_level = min_level;
    w->cur = &w->records;
    return 0;
}

void log_writer_close(struct log_writer *w) {
    text_buf_free(&w->records);
    text_buf_free(&w->fragment);
}

bool log_enabled(const struct log_writer *w, enum log_level level) {
    return level >= w->min_level;
}

/* The length of logfmt value s when slog's TextHandler writes it as it is, or SIZE_MAX when it quotes it:
 * when it is empty or has a space, '=', '"', an ASCII control other than DEL, a byte that is not UTF-8 or a
 * rune Go does not print (log/slog, text_handler.go: needsQuoting, Go 1.21; DEL is in its safeSet). One pass:
 * the value is copied with the length this finds. */
static size_t unquoted_length(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    for (;;) {
        unsigned char c = p[n];
        if (c > ' ' && c < 0x80 && c != '=' && c != '"') {
            n++;
            continue;
        }
        if (c == 0)
            return n ? n : SIZE_MAX;
        if (c < 0x80)
            return SIZE_MAX;
        int len;
        int32_t r = utf8_decode(p + n, &len);
        if (r < 0 || r == 0xfffd || !utf8_printable(r))
            return SIZE_MAX;
        n += (size_t)len;
    }
}

/* " key=" before a logfmt value. */
static void put_key(struct text_buf *b, const char *key) {
    text_buf_putc(b, ' ');
    text_buf_puts(b, key);
    text_buf_putc(b, '=');
}

/* The run of bytes at p that a quoted logfmt value keeps as they are. */
static size_t verbatim_run(const unsigned char *p) {
    size_t n = 0;
    while (p[n] >= ' ' && p[n] < 0x7f && p[n] != '"' && p[n] != '\\')
        n++;
    return n;
}

static const char HEX_DIGITS[] = "0123456789abcdef";

/* Backslash, letter and hex digits: v in `digits` digits. */
static void put_hex_escape(struct text_buf *b, char letter, uint32_t v, int digits) {
    char text[10] = {'\\', letter};
    for (int i = 0; i < digits; i++)
        text[2 + i] = HEX_DIGITS[(v >> (4 * (digits - 1 - i))) & 0xf];
    text_buf_put(b, text, (size_t)(2 + digits));
}

/* The escape strconv.Quote writes for ASCII byte c, which it does not keep as it is. */
static void put_ascii_escape(struct text_buf *b, unsigned char c) {
    static const char NAMED[] = "\\a\\b\\t\\n\\v\\f\\r"; /* 0x07 to 0x0d */
    if (c == '"' || c == '\\') {
        char text[2] = {'\\', (char)c};
        text_buf_put(b, text, 2);
    } else if (c >= 0x07 && c <= 0x0d) {
        text_buf_put(b, NAMED + 2 * (c - 0x07), 2);
    } else {
        put_hex_escape(b, 'x', c, 2);
    }
}

/* s quoted as slog's TextHandler quotes a value: strconv.Quote (Go 1.21, strconv/quote.go: appendQuotedWith)
 * keeps printable runes, escapes the others as \u or \U and each byte that is not UTF-8 as \x. */
static void write_quoted(struct text_buf *b, const char *s) {
    text_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t run = verbatim_run(p);
        if (run) {
            text_buf_put(b, p, run);
            p += run;
            continue;
        }
        if (*p < 0x80) {
            put_ascii_escape(b, *p++);
            continue;
        }
        int len;
        int32_t r = utf8_decode(p, &len);
        if (r < 0)
            put_hex_escape(b, 'x', *p, 2);
        else if (!utf8_printable(r))
            put_hex_escape(b, r < 0x10000 ? 'u' : 'U', (uint32_t)r, r < 0x10000 ? 4 : 8);
        else
            text_buf_put(b, p, (size_t)len);
        p += len;
    }
    text_buf_putc(b, '"');
}

static void write_logfmt_value(struct text_buf *b, const char *s) {
    size_t n = unquoted_length(s);
    if (n == SIZE_MAX)
        write_quoted(b, s);
    else
        text_buf_put(b, s, n);
}

/* RFC 3339 in local time as slog writes it: three decimals for logfmt (TextHandler), and for JSON up to nine,
 * trailing zeros dropped (JSONHandler: time.RFC3339Nano). */
static void format_time(struct log_writer *w, int64_t wall_ns, char *out, size_t size) {
    int64_t secs = wall_ns / 1000000000;
    long frac = (long)(wall_ns % 1000000000);
    if (secs != w->second || !w->second_text[0]) {
        time_t t = (time_t)secs;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(w->second_text, sizeof(w->second_text), "%Y-%m-%dT%H:%M:%S", &tm);
        if (tm.tm_gmtoff == 0)
            snprintf(w->zone, sizeof(w->zone), "Z");
        else
            snprintf(w->zone, sizeof(w->zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+',
                     labs(tm.tm_gmtoff) / 3600, labs(tm.tm_gmtoff) / 60 % 60);
        w->second = secs;
        w->second_len = strlen(w->second_text);
        w->zone_len = strlen(w->zone);
    }
    /* "<second>.<fraction><zone>", assembled without printf: it starts every record. */
    int digits = w->format == LOG_JSON ? 9 : 3;
    size_t date = w->second_len, zone = w->zone_len;
    if (date + 1 + (size_t)digits + zone + 1 > size) {
        out[0] = '\0';
        return;
    }
    memcpy(out, w->second_text, date);
    out[date] = '.';
    long part = w->format == LOG_JSON ? frac : frac / 1000000;
    for (int i = digits; i > 0; i--, part /= 10)
        out[date + (size_t)i] = (char)('0' + part % 10);
    if (w->format == LOG_JSON) /* RFC3339Nano drops trailing zeros, and the point with them */
        while (digits > 0 && out[date + (size_t)digits] == '0')
            digits--;
    size_t at = date + (digits ? 1 + (size_t)digits : 0);
    memcpy(out + at, w->zone, zone + 1);
}

/* logfmt's "time=...", formatted once per millisecond. */
static void put_logfmt_time(struct log_writer *w, int64_t wall_ns) {
    int64_t ms = wall_ns / 1000000;
    if (ms != w->time_ms || !w->time_len) {
        memcpy(w->time_text, "time=", 5);
        format_time(w, wall_ns, w->time_text + 5, sizeof(w->time_text) - 5);
        w->time_len = 5 + strlen(w->time_text + 5);
        w->time_ms = ms;
    }
    text_buf_put(w->cur, w->time_text, w->time_len);
}

static struct log_head *find_head(struct log_writer *w, enum log_level level, const char *msg,
                                  size_t msg_len) {
    for (int i = 0; i < LOG_HEADS; i++) {
        struct log_head *h = &w->heads[i];
        if (h->len && h->level == level && h->msg_len == msg_len && memcmp(h->msg, msg, msg_len) == 0)
            return h;
    }
    return NULL;
}

static void remember_head(struct log_writer *w, enum log_level level, const char *msg, size_t msg_len,
                          size_t from) {
    size_t len = w->cur->len - from;
    if (w->cur->failed || msg_len > LOG_HEAD_MSG_MAX || len > LOG_HEAD_TEXT_MAX)
        return;
    const char *text = w->cur->data + from;
    struct log_head *h = &w->heads[w->next_head++ % LOG_HEADS];
    h->level = level;
    memcpy(h->msg, msg, msg_len);
    h->msg_len = msg_len;
    memcpy(h->text, text, len);
    h->len = len;
}

/* The level and message after the time: as the attributes are written the first time, then copied. */
static void put_head(struct log_writer *w, enum log_level level, const char *msg) {
    size_t msg_len = strlen(msg);
    const struct log_head *known = find_head(w, level, msg, msg_len);
    if (known) {
        text_buf_put(w->cur, known->text, known->len);
        return;
    }
    size_t from = w->cur->len;
    if (w->format == LOG_JSON) {
        log_str(w, "level", LEVEL_NAMES[level]);
        log_str(w, "msg", msg);
    } else {
        text_buf_put(w->cur, " level=", 7);
        text_buf_puts(w->cur, LEVEL_NAMES[level]);
        text_buf_put(w->cur, " msg=", 5);
        write_logfmt_value(w->cur, msg);
    }
    remember_head(w, level, msg, msg_len, from);
}

void log_begin(struct log_writer *w, enum log_level level, int64_t wall_ns, const char *msg) {
    w->recording = log_enabled(w, level);
    if (!w->recording)
        return;
    if (!w->holds)
        w->records.len = 0;
    if (w->format == LOG_JSON) {
        /* The time quoted as it is: format_time writes digits and punctuation only, nothing to escape. */
        char when[64] = "\"";
        format_time(w, wall_ns, when + 1, sizeof(when) - 2);
        size_t len = strlen(when);
        when[len++] = '"';
        json_init_buffer(&w->json, w->cur);
        json_begin_object(&w->json);
        json_key(&w->json, "time"); /* each JSON attribute after it starts with a comma */
        json_raw_len(&w->json, when, len);
    } else {
        put_logfmt_time(w, wall_ns);
    }
    put_head(w, level, msg);
}

void log_str(struct log_writer *w, const char *key, const char *value) {
    if (!w->recording)
        return;
    if (w->format == LOG_JSON) {
        json_key(&w->json, key);
        json_string(&w->json, value);
        return;
    }
    put_key(w->cur, key);
    write_logfmt_value(w->cur, value);
}

void log_fixed(struct log_writer *w, const char *key, double value, int decimals) {
    if (!w->recording)
        return;
    if (w->format == LOG_JSON) {
        json_key(&w->json, key);
        json_fixed(&w->json, value, decimals);
    } else {
        text_buf_printf(w->cur, " %s=%.*f", key, decimals, value);
    }
}

void log_time(struct log_writer *w, const char *key, int64_t wall_ns) {
    if (!w->recording)
        return;
    char when[64];
    format_time(w, wall_ns, when, sizeof(when));
    log_str(w, key, when);
}

void log_int(struct log_writer *w, const char *key, int64_t value) {
    if (!w->recording)
        return;
    if (w->format == LOG_JSON) {
        json_key(&w->json, key);
        json_int(&w->json, value);
    } else {
        put_key(w->cur, key);
        if (value < 0)
            text_buf_putc(w->cur, '-');
        text_buf_uint(w->cur, value < 0 ? -(uint64_t)value : (uint64_t)value);
    }
}

void log_uint(struct log_writer *w, const char *key, uint64_t value) {
    if (!w->recording)
        return;
    if (w->format == LOG_JSON) {
        json_key(&w->json, key);
        json_uint(&w->json, value);
    } else {
        put_key(w->cur, key);
        text_buf_uint(w->cur, value);
    }
}

void log_duration(struct log_writer *w, const char *key, uint64_t ns) {
    if (!w->recording)
        return;
    if (w->format == LOG_JSON) {
        log_uint(w, key, ns);
        return;
    }
    char text[64];
    format_go_duration(ns, text, sizeof(text));
    log_str(w, key, text);
}

void log_str_list(struct log_writer *w, const char *key, const char *const *values, size_t n) {
    if (!w->recording)
        return;
    if (w->format == LOG_JSON) {
        json_key(&w->json, key);
        json_begin_array(&w->json);
        for (size_t i = 0; i < n; i++)
            json_string(&w->json, values[i]);
        json_end_array(&w->json);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        text_buf_putc(w->cur, ' ');
        text_buf_puts(w->cur, key);
        text_buf_putc(w->cur, '.');
        text_buf_uint(w->cur, i);
        text_buf_putc(w->cur, '=');
        write_logfmt_value(w->cur, values[i]);
    }
}

void log_uint_group(struct log_writer *w, const char *key, const char *const *names, const uint64_t *values,
                    size_t n) {
    if (!w->recording)
        return;
    if (w->format == LOG_JSON) {
        json_key(&w->json, key);
        json_begin_object(&w->json);
        for (size_t i = 0; i < n; i++) {
            json_key(&w->json, names[i]);
            json_uint(&w->json, values[i]);
        }
        json_end_object(&w->json);
        return;
    }
    for (size_t i = 0; i < n; i++)
        text_buf_printf(w->cur, " %s.%s=%llu", key, names[i], (unsigned long long)values[i]);
}

void log_fragment_begin(struct log_writer *w) {
    w->record_recording = w->recording;
    w->recording = true;
    text_buf_free(&w->fragment);
    w->cur = &w->fragment;
    w->json.buf = &w->fragment;
    /* Inside a record after its msg: every attribute is preceded by a comma. */
    w->json.need_comma[w->json.depth] = true;
    w->json.after_key = false;
}

/* Without memory the fragment comes out empty (text NULL). */
void log_fragment_end(struct log_writer *w, struct log_fragment *f) {
    f->text = text_buf_take(&w->fragment, &f->len);
    w->cur = &w->records;
    w->json.buf = &w->records;
    w->recording = w->record_recording;
}

void log_fragment_append(struct log_writer *w, const struct log_fragment *f) {
    if (!w->recording || !f->len)
        return;
    text_buf_put(w->cur, f->text, f->len);
    w->json.need_comma[w->json.depth] = true;
}

/* write(2) rather than stdio, a page at a time after poll said there is room for one: a blocking write to a
 * stdout nobody reads would never return, while this one looks every 100 ms whether gmon is stopping, and
 * gives up after a second of waiting then. stdio would also turn the EINTR of a stop signal into an error
 * and lose track of what was written. */
static bool write_out(struct log_writer *w, const char *p, size_t n) {
    int fd = fileno(w->out);
    if (fd < 0) /* a memory stream (tests) */
        return fwrite(p, 1, n, w->out) == n && fflush(w->out) == 0;
    fflush(w->out);
    bool direct = w->out_never_blocks; /* the whole batch in one write, no poll */
    int waited_stopping_ms = 0;
    while (n > 0) {
        struct pollfd ready = {.fd = fd, .events = POLLOUT};
        int r = direct ? 1 : poll(&ready, 1, 100);
        if (r < 0 && errno != EINTR)
            return false;
        if (r <= 0) {
            if (w->give_up && w->give_up() && (waited_stopping_ms += 100) >= 1000)
                return false;
            continue;
        }
        ssize_t k = write(fd, p, direct || n <= PIPE_BUF ? n : PIPE_BUF);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Why the log lines of this process stopped being written (a write to their file failed), or 0. */
static int lost_errno;

/* Writes the records built since the last write, and empties the buffer. Records that found no memory are
 * not written half: they are dropped, and stderr says so. */
static void write_pending(struct log_writer *w) {
    struct text_buf *b = &w->records;
    if (b->failed) {
        fprintf(stderr, "gmon: out of memory: %zu bytes of log lines dropped\n", b->len);
        b->failed = false;
    } else if (b->len && !w->abandoned && !write_out(w, b->data, b->len)) {
        int why = errno;
        w->abandoned = true;
        bool given_up = w->give_up && w->give_up();
        if (!given_up) /* asked to stop, with a reader that reads no more: not a failure */
            lost_errno = why ? why : EIO;
        fprintf(stderr, "gmon: stdout %s: no more log lines are written%s%s\n",
                given_up ? "did not drain after the stop request" : "failed", given_up ? "" : ": ",
                given_up ? "" : strerror(lost_errno));
    }
    b->len = 0;
}

int log_writer_lost_errno(void) {
    return lost_errno;
}

void log_end(struct log_writer *w) {
    if (!w->recording)
        return;
    if (w->format == LOG_JSON)
        json_end_object(&w->json); /* ends the line itself */
    else
        text_buf_putc(w->cur, '\n');
    w->recording = false;
    if (!w->holds)
        write_pending(w);
}

void log_hold(struct log_writer *w) {
    if (!w->holds++)
        w->records.len = 0;
}

void log_release(struct log_writer *w) {
    if (!w->holds || --w->holds)
        return;
    write_pending(w);
}

void log_write_if_over(struct log_writer *w, size_t bytes) {
    if (!w->holds)
        return;
    if (w->records.len >= bytes)
        write_pending(w);
}

/* v/unit with up to `digits` (at most 9) decimals, trailing zeros trimmed ("1.5", "2"); returns its length.
 */
static size_t put_fraction(char *out, uint64_t v, uint64_t unit, int digits) {
    size_t n = decimal_text(out, v / unit);
    uint64_t frac = v % unit;
    if (frac == 0)
        return n;
    out[n++] = '.';
    for (int i = digits - 1; i >= 0; i--, frac /= 10)
        out[n + (size_t)i] = (char)('0' + frac % 10);
    while (digits > 1 && out[n + (size_t)digits - 1] == '0')
        digits--;
    return n + (size_t)digits;
}

static size_t put_text(char *out, const char *text) {
    size_t n = strlen(text);
    memcpy(out, text, n);
    return n;
}

void format_go_duration(uint64_t ns, char *out, size_t size) {
    const uint64_t US = 1000, MS = 1000 * US, S = 1000 * MS, M = 60 * S, H = 60 * M;
    char text[64]; /* the longest, 2562047h47m16.854775807s, is 24 bytes */
    size_t n = 0;
    if (ns == 0) {
        n = put_text(text, "0s");
    } else if (ns < US) {
        n = decimal_text(text, ns);
        n += put_text(text + n, "ns");
    } else if (ns < MS) {
        n = put_fraction(text, ns, US, 3);
        n += put_text(text + n, "µs");
    } else if (ns < S) {
        n = put_fraction(text, ns, MS, 6);
        n += put_text(text + n, "ms");
    } else {
        if (ns >= H) {
            n = decimal_text(text, ns / H);
            text[n++] = 'h';
        }
        if (ns >= M) {
            n += decimal_text(text + n, ns % H / M);
            text[n++] = 'm';
        }
        n += put_fraction(text + n, ns % M, S, 9);
        text[n++] = 's';
    }
    if (size == 0)
        return;
    if (n >= size)
        n = size - 1;
    memcpy(out, text, n);
    out[n] = '\0';
}
