/* Finds a named top-level entry (a struct type, a global variable) in any compile unit of a file's DWARF,
 * with libdw, and hands it to a callback while the DWARF is open. */
#ifndef GMON_DWARF_FIND_H
#define GMON_DWARF_FIND_H
#include <stdbool.h>

#include <elfutils/libdw.h>

/* Calls found(die, ctx) for the first compile-unit child with this tag (DW_TAG_structure_type,
 * DW_TAG_variable, ...) and name. Returns false when the file has no DWARF or no such entry. */
bool dwarf_find_named(const char *path, int tag, const char *name, void (*found)(Dwarf_Die *die, void *ctx),
                      void *ctx);

#endif
