/* Opens a binary's DWARF for looking up types and variables by name, with only the sections such lookups
 * read. libdw decompresses every debug section it knows as it opens a file, and Go compresses them all: for a
 * small Go binary, the line table, location lists, frames and ranges that no lookup of gmon's reads were two
 * thirds of the opening's time (and a sixth of a whole snapshot's). */
#ifndef GMON_DWARF_OPEN_H
#define GMON_DWARF_OPEN_H
#include <stdbool.h>

#include <elfutils/libdw.h>
#include <libelf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dwarf_types {
    int fd;
    Elf *elf;
    Dwarf *dbg; /* NULL when the file has no DWARF */
};

/* Opens path; false (and nothing to close) when it cannot be opened or has no DWARF. */
bool dwarf_types_open(const char *path, struct dwarf_types *d);
void dwarf_types_close(struct dwarf_types *d);

/* Keeps path's DWARF open for this thread's lookups in it until dwarf_types_release: a snapshot checks the
 * version table's g/m/p fields and the runtime state's fields against DWARF, two lookups that would each
 * decompress the same sections (a fifth of a small snapshot's time). Only a short scope: what it keeps (the
 * decompressed entries) can be tens of megabytes for a large program. */
void dwarf_types_hold(const char *path);
void dwarf_types_release(void);

/* Whether a lookup of types and variables reads the section of this name (".debug_info", ".zdebug_abbrev",
 * ...): the entries, their abbreviations, and the strings and addresses they refer to. */
bool dwarf_types_section_needed(const char *name);

#ifdef __cplusplus
}
#endif

#endif
