#include "dwarf_find.h"

#include <string.h>

#include "dwarf_open.h"

static bool child_named(Dwarf_Die *cu, int tag, const char *name, Dwarf_Die *out) {
    if (dwarf_child(cu, out) != 0)
        return false;
    do {
        const char *n = dwarf_diename(out);
        if (dwarf_tag(out) == tag && n && strcmp(n, name) == 0)
            return true;
    } while (dwarf_siblingof(out, out) == 0);
    return false;
}

bool dwarf_find_named(const char *path, int tag, const char *name, void (*found)(Dwarf_Die *die, void *ctx),
                      void *ctx) {
    struct dwarf_types d;
    if (!dwarf_types_open(path, &d))
        return false;
    Dwarf *dbg = d.dbg;
    bool seen = false;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (!seen && dwarf_nextcu(dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, die;
        if (dwarf_offdie(dbg, off + hsize, &cu) && child_named(&cu, tag, name, &die)) {
            found(&die, ctx);
            seen = true;
        }
        off = next;
    }
    dwarf_types_close(&d);
    return seen;
}
