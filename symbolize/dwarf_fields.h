/* Offsets of nested struct members ("runq.size" in runtime.schedt) and struct sizes, read from a binary's
 * DWARF with libdw in one pass over its compile units, however many are asked for: Go compresses its DWARF,
 * and opening it once per field would decompress it each time. */
#ifndef GMON_DWARF_FIELDS_H
#define GMON_DWARF_FIELDS_H
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dwarf_field_query {
    const char *type; /* a named struct type of the runtime package: "runtime.schedt" */
    const char *path; /* dot-separated members: "runq.size"; "" asks for the size of the type */
    int offset;       /* out: the member's offset (or the type's size), -1 when DWARF has no such member */
    int size;         /* out: the size of the member's type, -1 when unknown */
};

/* Answers every query. Returns false when the file has no DWARF (every offset stays -1). */
bool dwarf_fields_resolve(const char *path, struct dwarf_field_query *q, size_t n);

#ifdef __cplusplus
}
#endif

#endif
