#include "text_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool text_buf_reserve(struct text_buf *b, size_t n) {
    if (b->failed)
        return false;
    if (b->cap - b->len >= n)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

void text_buf_free(struct text_buf *b) {
    free(b->data);
    memset(b, 0, sizeof(*b));
}

char *text_buf_take(struct text_buf *b, size_t *len) {
    char *text = NULL;
    *len = 0;
    if (!b->failed && text_buf_reserve(b, 1)) {
        b->data[b->len] = '\0';
        char *fitted = realloc(b->data, b->len + 1); /* a fragment is kept per site: not its 4 KiB */
        text = fitted ? fitted : b->data;
        *len = b->len;
        b->data = NULL;
    }
    text_buf_free(b);
    return text;
}

/* "00" to "99": two digits per division. Every log line carries a few numbers. */
static const char DIGIT_PAIRS[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static size_t decimal_length(uint64_t v) {
    size_t n = 1;
    for (; v >= 100; v /= 100)
        n += 2;
    return n + (v >= 10);
}

/* Written from the last digit back, in place: a copy of a variable length was a call to memmove. */
size_t decimal_text(char *out, uint64_t v) {
    size_t n = decimal_length(v);
    char *p = out + n;
    while (v >= 100) {
        p -= 2;
        memcpy(p, DIGIT_PAIRS + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(p - 2, DIGIT_PAIRS + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
    return n;
}

void text_buf_uint(struct text_buf *b, uint64_t v) {
    if (text_buf_reserve(b, 20))
        b->len += decimal_text(b->data + b->len, v);
}

void text_buf_printf(struct text_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[128];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        text_buf_put(b, small, (size_t)n);
        return;
    }
    if (!text_buf_reserve(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
