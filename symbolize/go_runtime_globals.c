#include "go_runtime_globals.h"

#include <stdlib.h>
#include <string.h>

#include "x86_rip_refs.h"

enum { MAX_REFS = 512 };

static bool in_data(const struct go_moduledata *md, uint64_t a) {
    return (a >= md->noptrdata && a < md->enoptrdata) || (a >= md->data && a < md->edata) ||
           (a >= md->bss && a < md->ebss) || (a >= md->noptrbss && a < md->enoptrbss);
}

static bool contains(const uint64_t *refs, size_t n, uint64_t a) {
    for (size_t i = 0; i < n; i++)
        if (refs[i] == a)
            return true;
    return false;
}

/* The lowest data address A the function refers to together with A+8 and A+16: a slice header. 0: none. */
static uint64_t lowest_slice_ref(const struct go_binary *b, const char *function) {
    struct go_func fn;
    if (!go_binary_find_func(b, function, &fn, NULL))
        return 0;
    const uint8_t *code = elf_image_at_vaddr(&b->elf, fn.entry, fn.end - fn.entry);
    if (!code)
        return 0;
    uint64_t refs[MAX_REFS];
    size_t n = x86_rip_refs(code, fn.end - fn.entry, fn.entry, refs, MAX_REFS);
    uint64_t best = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = refs[i];
        if (in_data(&b->md, a) && (!best || a < best) && contains(refs, n, a + 8) &&
            contains(refs, n, a + 16))
            best = a;
    }
    return best;
}

static uint64_t symbol(const struct go_binary *b, const char *name) {
    uint64_t value = 0, size = 0;
    return elf_image_find_symbol(&b->elf, name, &value, &size) ? value : 0;
}

int go_runtime_globals_find(const struct go_binary *b, struct go_runtime_globals *out,
                            struct gmon_error *err) {
    memset(out, 0, sizeof(*out));
    out->allgs = symbol(b, "runtime.allgs");
    out->allgs_from = "symbol table";
    if (!out->allgs) {
        out->allgs = lowest_slice_ref(b, "runtime.allgadd");
        out->allgs_from = "code of runtime.allgadd";
    }
    out->allp = symbol(b, "runtime.allp");
    out->allp_from = "symbol table";
    if (!out->allp) {
        out->allp = lowest_slice_ref(b, "runtime.procresize");
        out->allp_from = "code of runtime.procresize";
    }
    if (!out->allgs)
        return gmon_fail(err,
                         "runtime.allgs not found: no symbol table, and runtime.allgadd does not show it");
    return 0;
}
