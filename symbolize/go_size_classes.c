#include "go_size_classes.h"

#include <string.h>

/* runtime/sizeclasses.go, unchanged from Go 1.12 to the go1.27 binaries gmon was checked on (the test suite
 * compares it with the class_to_size of every binary in the corpus). */
static const uint16_t SIZES_1_17[] = {
    0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,   160,   176,
    192,   208,   224,   240,   256,   288,   320,   352,   384,   416,   448,   480,   512,   576,
    640,   704,   768,   896,   1024,  1152,  1280,  1408,  1536,  1792,  2048,  2304,  2688,  3072,
    3200,  3456,  4096,  4864,  5376,  6144,  6528,  6784,  6912,  8192,  9472,  9728,  10240, 10880,
    12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
};

static void fill(struct go_size_classes *out, const uint16_t *sizes, size_t n) {
    memset(out, 0, sizeof(*out));
    out->n = n;
    for (size_t i = 0; i < n; i++)
        out->size[i] = sizes[i];
}

int go_size_classes_for_version(const struct go_version *v, struct go_size_classes *out) {
    if (v->major != 1 || v->minor < 17 || v->minor > 27)
        return -1;
    fill(out, SIZES_1_17, sizeof(SIZES_1_17) / sizeof(SIZES_1_17[0]));
    return 0;
}

static uint16_t u16_at(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

/* The table starting at p (the first 8 entries already matched), when it rises strictly to 32768. */
static bool read_table(const uint8_t *p, const uint8_t *end, struct go_size_classes *out) {
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < GO_SIZE_CLASSES_MAX && p + 2 * i + 2 <= end; i++) {
        uint16_t size = u16_at(p + 2 * i);
        if (i > 0 && size <= out->size[i - 1])
            return false;
        out->size[i] = size;
        if (size == GO_MAX_SMALL_SIZE) {
            out->n = i + 1;
            return out->n >= 32;
        }
    }
    return false;
}

int go_size_classes_find(const struct elf_image *img, struct go_size_classes *out) {
    static const uint8_t start[] = {0, 0, 8, 0, 16, 0, 24, 0, 32, 0, 48, 0, 64, 0, 80, 0};
    for (size_t s = 0; s < img->nloads; s++) {
        const struct elf_segment *seg = &img->loads[s];
        if (seg->offset >= img->size)
            continue;
        const uint8_t *base = img->data + seg->offset;
        const uint8_t *end =
            base + (seg->filesz < img->size - seg->offset ? seg->filesz : img->size - seg->offset);
        for (const uint8_t *p = base; p + sizeof(start) <= end; p += 2) {
            p = memmem(p, (size_t)(end - p), start, sizeof(start));
            if (!p)
                break;
            if (((uintptr_t)(p - base) & 1) == 0 && read_table(p, end, out))
                return 0;
        }
    }
    return -1;
}

bool go_size_classes_equal(const struct go_size_classes *a, const struct go_size_classes *b) {
    return a->n == b->n && memcmp(a->size, b->size, a->n * sizeof(a->size[0])) == 0;
}

int go_size_classes_choose(const struct elf_image *img, const struct go_version *v,
                           struct go_size_classes *out, bool *disagree) {
    struct go_size_classes known, found;
    bool have_known = go_size_classes_for_version(v, &known) == 0;
    bool have_found = go_size_classes_find(img, &found) == 0;
    *disagree = have_known && have_found && !go_size_classes_equal(&known, &found);
    if (!have_found && !have_known)
        return -1;
    *out = have_found ? found : known;
    return 0;
}

int go_size_class_of(const struct go_size_classes *c, uint64_t size) {
    if (size > GO_MAX_SMALL_SIZE || c->n < 2)
        return 0;
    size_t lo = 1, hi = c->n - 1; /* the first class whose size is >= size */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->size[mid] >= size)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (int)lo;
}
