/* UTF-8 decoding for the writers that must treat text as Go's strings do (slog's quoting, encoding/json's
 * escaping): what a sequence decodes to, and which code points Go does not print as they are. */
#ifndef GMON_UTF8_H
#define GMON_UTF8_H
#include <stdbool.h>
#include <stdint.h>

/* The code point of the UTF-8 sequence at s, with its length in *len; -1 (and *len 1) when s does not start
 * a valid one: a stray or missing continuation byte, an overlong form, a surrogate, or a value past U+10FFFF,
 * which Go's utf8.DecodeRuneInString reports as RuneError, width 1. s is NUL-terminated. */
static inline int32_t utf8_decode(const unsigned char *s, int *len) {
    unsigned char c = s[0];
    int n = c < 0x80                 ? 1
            : c >= 0xc2 && c <= 0xdf ? 2
            : c >= 0xe0 && c <= 0xef ? 3
            : c >= 0xf0 && c <= 0xf4 ? 4
                                     : 0;
    int32_t r = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            n = 0;
            break;
        }
        r = r << 6 | (s[i] & 0x3f);
    }
    if (n == 0 || (n == 3 && (r < 0x800 || (r >= 0xd800 && r <= 0xdfff))) ||
        (n == 4 && (r < 0x10000 || r > 0x10ffff))) {
        *len = 1;
        return -1;
    }
    *len = n;
    return r;
}

/* Whether code point r (beyond ASCII) is one Go's unicode.IsPrint accepts, which strconv.Quote keeps as it is
 * and which alone does not make slog's TextHandler quote a value: a letter, mark, number, punctuation or
 * symbol of Unicode 15.0.0, the release of go1.21's to go1.27's tables. Not a space beyond ASCII, a control,
 * a format character, a surrogate, private use or an unassigned code point. U+FFFD is printable, though slog
 * quotes a value that holds it (it cannot tell it from a decoding error). */
bool utf8_printable(int32_t r);

#endif
