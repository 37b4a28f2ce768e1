/* Which code points Go prints as they are (unicode.IsPrint), by a binary search of the ranges generated from
 * Unicode's own data: telling unassigned code points by hand is not possible. */
#include <stddef.h>

#include "utf8.h"

static const int32_t PRINTABLE_RANGES[][2] = {
#include "unicode_printable.inc"
};

/* Latin-1 by hand (unicode/graphic.go: the pLmask table for r <= MaxLatin1): printable from U+00A1 on but
 * the soft hyphen (U+00AD, a format character); U+00A0 is a space. */
static bool latin1_printable(int32_t r) {
    return r >= 0xa1 && r != 0xad;
}

bool utf8_printable(int32_t r) {
    if (r < 0x100)
        return latin1_printable(r);
    size_t low = 0, high = sizeof(PRINTABLE_RANGES) / sizeof(PRINTABLE_RANGES[0]);
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (r < PRINTABLE_RANGES[mid][0])
            high = mid;
        else if (r > PRINTABLE_RANGES[mid][1])
            low = mid + 1;
        else
            return true;
    }
    return false;
}
