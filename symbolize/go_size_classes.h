/* Go's allocation size classes (runtime/sizeclasses.go): the object size of each small class, class 0 being
 * "large" (over 32 KiB, its own span). gmon knows the table of each release and reads the target's own
 * runtime.class_to_size from its data (stripped binaries keep it), so that the two can be checked against
 * each other. */
#ifndef GMON_GO_SIZE_CLASSES_H
#define GMON_GO_SIZE_CLASSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"
#include "go_version.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { GO_SIZE_CLASSES_MAX = 128, GO_MAX_SMALL_SIZE = 32768 };

struct go_size_classes {
    size_t n;                           /* classes, including class 0 */
    uint32_t size[GO_SIZE_CLASSES_MAX]; /* object size of class i; size[0] == 0 */
};

/* The table of a Go release. Returns 0, or -1 for a release gmon has no table for. */
int go_size_classes_for_version(const struct go_version *v, struct go_size_classes *out);
/* runtime.class_to_size in the binary: a uint16 array 0, 8, 16, 24, 32, 48, ... rising strictly to 32768.
 * Returns 0, or -1 when the binary holds no such array. */
int go_size_classes_find(const struct elf_image *img, struct go_size_classes *out);
/* The classes to use for a binary: its own class_to_size, else the table of its release. *disagree is set
 * when both exist and differ (the binary's wins). Returns 0, or -1 when neither exists. */
int go_size_classes_choose(const struct elf_image *img, const struct go_version *v,
                           struct go_size_classes *out, bool *disagree);
/* True when both tables list the same classes. */
bool go_size_classes_equal(const struct go_size_classes *a, const struct go_size_classes *b);
/* The class an allocation of size bytes gets: the smallest class that fits it, 0 for large ones. */
int go_size_class_of(const struct go_size_classes *c, uint64_t size);

#ifdef __cplusplus
}
#endif

#endif
