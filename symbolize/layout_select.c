#include "layout_select.h"

#include <stdio.h>
#include <string.h>

static int describe_mismatch(const struct layout_verdict *v, const char *version, struct gmon_error *err) {
    char list[384] = "";
    size_t used = 0;
    for (int i = 0; i < v->nchecks && used < sizeof(list) - 64; i++) {
        const struct layout_check *c = &v->checks[i];
        if (c->table == c->dwarf)
            continue;
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s table %d, DWARF %d",
                                 used ? "; " : "", c->field, c->table, c->dwarf);
    }
    return gmon_fail(err,
                     "the runtime layout for %s disagrees with the binary's DWARF (%s); refusing to guess",
                     version, list);
}

int layout_select(const struct go_binary *b, struct layout_choice *c, struct gmon_error *err) {
    memset(c, 0, sizeof(*c));
    if (!b->version_exact) {
        snprintf(c->problem, sizeof(c->problem),
                 "the Go release is unknown (only the %s family); pass --go-version 1.NN", b->version_string);
        return 0;
    }
    c->layout = runtime_layout_for(&b->version);
    if (!c->layout)
        return gmon_fail(err, "Go %d.%d is not supported (gmon supports Go 1.%d to 1.%d)", b->version.major,
                         b->version.minor, GMON_GO_MIN_MINOR, GMON_GO_MAX_MINOR);
    c->register_abi = !go_version_has_experiment(&b->version, "noregabi");
    if (!b->has_dwarf)
        return 0;
    if (dwarf_layout_check(b->elf.path, c->layout, &c->dwarf, err) != 0)
        return -1;
    if (c->dwarf.has_dwarf && c->dwarf.mismatches > 0)
        return describe_mismatch(&c->dwarf, b->version_string, err);
    return 0;
}
