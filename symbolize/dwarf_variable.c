#include "dwarf_variable.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *go_var_kind_name(enum go_var_kind kind) {
    static const char *const NAMES[] = {"int", "uint", "bool", "float", "string", "pointer", "other"};
    return kind <= GO_VAR_OTHER ? NAMES[kind] : "other";
}

static bool type_of(Dwarf_Die *die, Dwarf_Die *type) {
    Dwarf_Attribute attr;
    return dwarf_attr(die, DW_AT_type, &attr) && dwarf_formref_die(&attr, type) != NULL;
}

static enum go_var_kind base_kind(Dwarf_Die *type) {
    Dwarf_Attribute attr;
    Dwarf_Word encoding;
    if (!dwarf_attr(type, DW_AT_encoding, &attr) || dwarf_formudata(&attr, &encoding) != 0)
        return GO_VAR_OTHER;
    switch (encoding) {
    case DW_ATE_signed:
        return GO_VAR_INT;
    case DW_ATE_unsigned:
        return GO_VAR_UINT;
    case DW_ATE_boolean:
        return GO_VAR_BOOL;
    case DW_ATE_float:
        return GO_VAR_FLOAT;
    default:
        return GO_VAR_OTHER;
    }
}

/* Classifies a type DIE, following typedefs (named types) to the underlying type; keeps the first name. */
static void classify(Dwarf_Die *type, struct go_var_type *out) {
    for (int depth = 0; depth < 8; depth++) {
        const char *name = dwarf_diename(type);
        if (name && !out->name[0])
            snprintf(out->name, sizeof(out->name), "%s", name);
        int tag = dwarf_tag(type);
        Dwarf_Word size = 0;
        Dwarf_Attribute attr;
        if (dwarf_attr(type, DW_AT_byte_size, &attr))
            dwarf_formudata(&attr, &size);
        out->size = size;
        if (tag == DW_TAG_typedef) {
            Dwarf_Die under;
            if (!type_of(type, &under))
                break;
            *type = under;
            continue;
        }
        if (tag == DW_TAG_base_type)
            out->kind = base_kind(type);
        else if (tag == DW_TAG_pointer_type)
            out->kind = GO_VAR_POINTER, out->size = 8;
        else if (tag == DW_TAG_structure_type && name && strcmp(name, "string") == 0)
            out->kind = GO_VAR_STRING;
        return;
    }
    out->kind = GO_VAR_OTHER;
}

static bool find_variable(Dwarf_Die *cu, const char *name, Dwarf_Die *out) {
    if (dwarf_child(cu, out) != 0)
        return false;
    do {
        const char *n = dwarf_diename(out);
        if (dwarf_tag(out) == DW_TAG_variable && n && strcmp(n, name) == 0)
            return true;
    } while (dwarf_siblingof(out, out) == 0);
    return false;
}

bool dwarf_variable_type(const char *path, const char *name, struct go_var_type *out) {
    memset(out, 0, sizeof(*out));
    out->kind = GO_VAR_OTHER;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Dwarf *dbg = dwarf_begin(fd, DWARF_C_READ);
    bool found = false;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dbg && !found && dwarf_nextcu(dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, var, type;
        if (dwarf_offdie(dbg, off + hsize, &cu) && find_variable(&cu, name, &var)) {
            found = true;
            if (type_of(&var, &type))
                classify(&type, out);
        }
        off = next;
    }
    if (dbg)
        dwarf_end(dbg);
    close(fd);
    return found;
}
