/* Chooses the runtime layout for a binary: the version table row for its Go release, confirmed by the
 * binary's DWARF when it has DWARF. Every command that reads runtime structures goes through here. */
#ifndef GMON_LAYOUT_SELECT_H
#define GMON_LAYOUT_SELECT_H

#include "dwarf_layout.h"
#include "go_binary.h"
#include "runtime_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

struct layout_choice {
    const struct runtime_layout *layout; /* NULL when none could be chosen: see problem */
    struct layout_verdict dwarf;
    bool register_abi; /* false for GOEXPERIMENT=noregabi builds: no register arguments, no R14 */
    char problem[256];
};

/* Returns -1 (with err) when the binary's release is outside 1.17-1.27 or DWARF contradicts the table.
 * A binary whose release is only known by family gets layout NULL and a problem, but returns 0. */
int layout_select(const struct go_binary *b, struct layout_choice *c, struct gmon_error *err);

#ifdef __cplusplus
}
#endif

#endif
