#include "dwarf_fields.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <string.h>

#include "dwarf_open.h"

/* A member's type, through typedefs. */
static bool member_type(Dwarf_Die *member, Dwarf_Die *out) {
    Dwarf_Attribute attr;
    if (!dwarf_attr(member, DW_AT_type, &attr) || !dwarf_formref_die(&attr, out))
        return false;
    while (dwarf_tag(out) == DW_TAG_typedef) {
        if (!dwarf_attr(out, DW_AT_type, &attr) || !dwarf_formref_die(&attr, out))
            return false;
    }
    return true;
}

/* The child member of st named by the first len bytes of name. */
static bool find_member(Dwarf_Die *st, const char *name, size_t len, Dwarf_Die *out, int *offset) {
    if (dwarf_child(st, out) != 0)
        return false;
    do {
        const char *n = dwarf_diename(out);
        Dwarf_Attribute attr;
        Dwarf_Word off;
        if (dwarf_tag(out) == DW_TAG_member && n && strlen(n) == len && strncmp(n, name, len) == 0 &&
            dwarf_attr(out, DW_AT_data_member_location, &attr) && dwarf_formudata(&attr, &off) == 0) {
            *offset = (int)off;
            return true;
        }
    } while (dwarf_siblingof(out, out) == 0);
    return false;
}

static int type_size(Dwarf_Die *type) {
    if (dwarf_tag(type) == DW_TAG_pointer_type)
        return 8; /* Go's DWARF gives pointers no byte size; gmon reads amd64 only */
    int size = dwarf_bytesize(type);
    return size >= 0 ? size : -1;
}

static void resolve_path(Dwarf_Die *type, struct dwarf_field_query *q) {
    if (!q->path[0]) {
        q->offset = q->size = type_size(type);
        return;
    }
    Dwarf_Die st = *type, member;
    int total = 0;
    for (const char *p = q->path;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        int off;
        if (!find_member(&st, p, len, &member, &off))
            return;
        total += off;
        bool typed = member_type(&member, &st);
        if (!dot) {
            q->offset = total;
            q->size = typed ? type_size(&st) : -1;
            return;
        }
        if (!typed || dwarf_tag(&st) != DW_TAG_structure_type)
            return;
        p = dot + 1;
    }
}

/* Answers the queries about one struct type; true when any of them was about it. */
static bool answer(Dwarf_Die *die, const char *name, struct dwarf_field_query *q, size_t n, bool *done) {
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (done[i] || strcmp(q[i].type, name) != 0)
            continue;
        resolve_path(die, &q[i]);
        done[i] = any = true;
    }
    return any;
}

static size_t scan_cu(Dwarf_Die *cu, struct dwarf_field_query *q, size_t n, bool *done) {
    size_t answered = 0;
    Dwarf_Die die;
    if (dwarf_child(cu, &die) != 0)
        return 0;
    do {
        const char *name = dwarf_diename(&die);
        if (dwarf_tag(&die) != DW_TAG_structure_type || !name || strncmp(name, "runtime.", 8) != 0)
            continue;
        if (answer(&die, name, q, n, done))
            for (size_t i = 0; i < n; i++)
                answered += done[i] && strcmp(q[i].type, name) == 0;
    } while (dwarf_siblingof(&die, &die) == 0);
    return answered;
}

bool dwarf_fields_resolve(const char *path, struct dwarf_field_query *q, size_t n) {
    for (size_t i = 0; i < n; i++)
        q[i].offset = q[i].size = -1;
    struct dwarf_types d;
    if (!dwarf_types_open(path, &d))
        return false;
    Dwarf *dbg = d.dbg;
    bool done[n ? n : 1];
    memset(done, 0, sizeof(done));
    size_t answered = 0;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (answered < n && dwarf_nextcu(dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(dbg, off + hsize, &cu))
            answered += scan_cu(&cu, q, n, done);
        off = next;
    }
    dwarf_types_close(&d);
    return true;
}
