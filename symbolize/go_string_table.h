/* Tables of Go strings compiled into a binary ([...]string arrays such as runtime.stwReasonStrings and
 * runtime.waitReasonStrings), found by the strings they start with. Enum names are then read from the target
 * itself: nothing hard-coded per Go release, and stripped binaries work because the data stays. */
#ifndef GMON_GO_STRING_TABLE_H
#define GMON_GO_STRING_TABLE_H

#include <stddef.h>

#include "elf_image.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { GO_STRING_TABLE_MAX = 256, GO_STRING_MAX_LEN = 128 };

struct go_string_table {
    size_t n;
    char *strings[GO_STRING_TABLE_MAX];
};

/* Finds an array of Go string headers ({pointer, length} pairs) in the binary's writable data whose first
 * entries are `first` (an empty string matches any pointer with length 0), and copies the entries that follow
 * while they are printable strings, up to GO_STRING_TABLE_MAX. Returns 0, or -1 when no such array exists. */
int go_string_table_find(const struct elf_image *img, const char *const *first, size_t nfirst,
                         struct go_string_table *out);
/* runtime.waitReasonStrings (every release: it starts "", "GC assist marking", "IO wait"). */
int go_wait_reasons_find(const struct elf_image *img, struct go_string_table *out);
/* runtime.stwReasonStrings (Go 1.21+: "unknown", "GC mark termination", "GC sweep termination"). */
int go_stw_reasons_find(const struct elf_image *img, struct go_string_table *out);
/* Entry i, or NULL when the table has no entry i. */
const char *go_string_table_get(const struct go_string_table *t, size_t i);
void go_string_table_free(struct go_string_table *t);

#ifdef __cplusplus
}
#endif

#endif
