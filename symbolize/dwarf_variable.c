#include "dwarf_variable.h"

#include "dwarf_find.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <string.h>

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

static void type_variable(Dwarf_Die *var, void *ctx) {
    Dwarf_Die type;
    if (type_of(var, &type))
        classify(&type, ctx);
}

bool dwarf_variable_type(const char *path, const char *name, struct go_var_type *out) {
    memset(out, 0, sizeof(*out));
    out->kind = GO_VAR_OTHER;
    return dwarf_find_named(path, DW_TAG_variable, name, type_variable, out);
}
