/* libFuzzer target: .gopclntab bytes alone (header, function table, names, pcvalue tables, file tables,
 * inline trees), every function walked, as a damaged or hostile table would be. */
#include <string.h>

#include "pclntab.h"

/* The inline trees of 1.18+ point outside the table (go:func.*): here, back into the input. */
static const uint8_t *read_in_input(const void *ctx, uint64_t vaddr, size_t len) {
    const struct pclntab *t = ctx;
    if (vaddr < t->vaddr || vaddr - t->vaddr > t->size || len > t->size - (vaddr - t->vaddr))
        return NULL;
    return t->data + (vaddr - t->vaddr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const uint64_t VADDR = 0x6ecd20, TEXT = 0x401000;
    struct pclntab t;
    struct gmon_error err;
    if (pclntab_parse(&t, data, size, VADDR, &err) != 0)
        return 0;
    if (!t.text_start) /* Go 1.26+ leaves it to moduledata.text, as go_binary.c fills it */
        t.text_start = TEXT;
    t.gofunc = VADDR;
    t.read_vaddr = read_in_input;
    t.read_ctx = &t;
    /* 256 functions spread over the table: every area is reached without making each run slow. */
    uint64_t stride = t.nfunc / 256 + 1;
    for (uint64_t i = 0; i < t.nfunc; i += stride) {
        struct go_func fn, again;
        struct go_frame frames[8];
        const char *file;
        int line;
        if (!pclntab_func(&t, i, &fn))
            continue;
        uint64_t pcs[] = {fn.entry, fn.entry + 1, fn.end > fn.entry ? fn.end - 1 : fn.entry, fn.end};
        for (size_t k = 0; k < sizeof(pcs) / sizeof(pcs[0]); k++) {
            pclntab_line(&t, &fn, pcs[k], &file, &line);
            pclntab_frames(&t, &fn, pcs[k], frames, 8);
            pclntab_pcdata(&t, &fn, (uint32_t)k, pcs[k]);
            pclntab_func_at(&t, pcs[k], &again);
            pclntab_frames_at_return(&t, pcs[k], frames, 8);
        }
        if (fn.name)
            pclntab_funcs_named(&t, fn.name, &again, 1);
    }
    return 0;
}
