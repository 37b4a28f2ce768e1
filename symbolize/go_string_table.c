#include "go_string_table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <elf.h>

/* The string an {pointer, length} header at `at` refers to, or NULL when it points outside the file. */
static const char *string_at(const struct elf_image *img, const uint8_t *at, uint64_t *len) {
    *len = le64(at + 8);
    if (*len > GO_STRING_MAX_LEN)
        return NULL;
    if (*len == 0)
        return "";
    return (const char *)elf_image_at_vaddr(img, le64(at), *len);
}

static bool header_is(const struct elf_image *img, const uint8_t *at, const char *want) {
    uint64_t len;
    const char *s = string_at(img, at, &len);
    return s && len == strlen(want) && memcmp(s, want, len) == 0;
}

static bool printable(const char *s, uint64_t len) {
    for (uint64_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

static void copy_entries(const struct elf_image *img, const uint8_t *at, const uint8_t *end,
                         struct go_string_table *out) {
    for (; at + 16 <= end && out->n < GO_STRING_TABLE_MAX; at += 16) {
        uint64_t len;
        const char *s = string_at(img, at, &len);
        if (!s || !printable(s, len) || (len == 0 && out->n > 0))
            return;
        out->strings[out->n] = strndup(s, len);
        if (!out->strings[out->n])
            return;
        out->n++;
    }
}

static bool starts_with(const struct elf_image *img, const uint8_t *at, const uint8_t *end,
                        const char *const *first, size_t nfirst) {
    if (at + 16 * nfirst > end)
        return false;
    for (size_t i = 0; i < nfirst; i++)
        if (!header_is(img, at + 16 * i, first[i]))
            return false;
    return true;
}

int go_string_table_find(const struct elf_image *img, const char *const *first, size_t nfirst,
                         struct go_string_table *out) {
    memset(out, 0, sizeof(*out));
    if (nfirst == 0)
        return -1;
    for (size_t s = 0; s < img->nloads; s++) {
        const struct elf_segment *seg = &img->loads[s];
        if (!(seg->flags & PF_W) || seg->offset > img->size || seg->filesz > img->size - seg->offset)
            continue;
        const uint8_t *begin = img->data + seg->offset, *end = begin + seg->filesz;
        for (const uint8_t *at = begin + ((8 - seg->vaddr % 8) % 8); at + 16 <= end; at += 8)
            if (starts_with(img, at, end, first, nfirst)) {
                copy_entries(img, at, end, out);
                return 0;
            }
    }
    return -1;
}

const char *go_string_table_get(const struct go_string_table *t, size_t i) {
    return i < t->n ? t->strings[i] : NULL;
}

void go_string_table_free(struct go_string_table *t) {
    for (size_t i = 0; i < t->n; i++)
        free(t->strings[i]);
    memset(t, 0, sizeof(*t));
}

int go_wait_reasons_find(const struct elf_image *img, struct go_string_table *out) {
    const char *first[] = {"", "GC assist marking", "IO wait"};
    return go_string_table_find(img, first, 3, out);
}

int go_stw_reasons_find(const struct elf_image *img, struct go_string_table *out) {
    const char *first[] = {"unknown", "GC mark termination", "GC sweep termination"};
    return go_string_table_find(img, first, 3, out);
}
