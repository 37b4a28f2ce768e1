/* Reads the runtime.g / runtime.m / runtime.p field offsets from a binary's DWARF with libdw, to confirm the
 * version table (runtime_layout.h). Go compresses its DWARF; libdw decompresses it. */
#ifndef GMON_DWARF_LAYOUT_H
#define GMON_DWARF_LAYOUT_H

#include <stdbool.h>

#include "runtime_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One field compared between the table and DWARF. */
struct layout_check {
    const char *field; /* "g.goid" */
    int table;         /* -1: the table says the field does not exist */
    int dwarf;         /* -1: DWARF has no such field */
};

enum { LAYOUT_MAX_CHECKS = 24 };

struct layout_verdict {
    bool has_dwarf; /* DWARF with the runtime types was found */
    int compared;   /* fields present in both */
    int mismatches; /* fields whose offsets differ, or that exist in only one */
    struct layout_check checks[LAYOUT_MAX_CHECKS];
    int nchecks;
};

/* Compares layout against the DWARF of the ELF file at path. Returns -1 only when the file cannot be read;
 * a binary without DWARF gives has_dwarf=false. */
int dwarf_layout_check(const char *path, const struct runtime_layout *layout, struct layout_verdict *v,
                       struct gmon_error *err);

/* Reads the offsets from DWARF alone into out (fields DWARF lacks are -1). Returns false without DWARF. */
bool dwarf_layout_read(const char *path, struct g_offsets *g, struct m_offsets *m, struct p_offsets *p);
/* The offsets of named members of one struct type (e.g. "runtime.gcControllerState"), -1 for the members it
 * lacks. Returns false when the file has no DWARF or no such type. */
bool dwarf_struct_members(const char *path, const char *type, const char *const *members, int *offsets,
                          size_t n);

#ifdef __cplusplus
}
#endif

#endif
