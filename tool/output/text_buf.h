/* Text built in memory by appending: what a log record is assembled in. A stdio memory stream did the same
 * with a library call per piece (a key, a number, a quote), and those calls were a third of gmon's CPU per
 * log line; these appends are a copy. Out of memory, a buffer stops growing and says so (failed); what it
 * holds until then stays whole. */
#ifndef GMON_TEXT_BUF_H
#define GMON_TEXT_BUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct text_buf {
    char *data; /* malloc'd; not NUL-terminated */
    size_t len, cap;
    bool failed; /* an append found no memory: it and every later one were dropped */
};

/* Makes room for n more bytes; false when there is none. */
bool text_buf_reserve(struct text_buf *b, size_t n);
void text_buf_free(struct text_buf *b);
/* Hands over the text (malloc'd, NUL-terminated; NULL when none or after a failure) and empties b. */
char *text_buf_take(struct text_buf *b, size_t *len);

static inline void text_buf_put(struct text_buf *b, const void *p, size_t n) {
    if (b->cap - b->len < n && !text_buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void text_buf_putc(struct text_buf *b, char c) {
    if (b->cap == b->len && !text_buf_reserve(b, 1))
        return;
    b->data[b->len++] = c;
}

static inline void text_buf_puts(struct text_buf *b, const char *s) {
    text_buf_put(b, s, strlen(s));
}

/* v in decimal, without printf: at out (20 bytes are enough; no NUL), returning its length; or appended. */
size_t decimal_text(char *out, uint64_t v);
void text_buf_uint(struct text_buf *b, uint64_t v);
void text_buf_printf(struct text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
