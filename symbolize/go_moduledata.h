/* runtime.firstmoduledata: the linker's description of the module, whose `text` field is the true base of
 * 1.18+ pclntab entry offsets (the pcHeader stores 0 there from Go 1.26) and whose `gofunc` is the base of
 * funcdata offsets (inline trees). Found in the .go.module section (1.26+) or by scanning writable data for
 * its first two fields, which point at the pcHeader and the function name table. */
#ifndef GMON_GO_MODULEDATA_H
#define GMON_GO_MODULEDATA_H

#include "elf_image.h"
#include "pclntab.h"

#ifdef __cplusplus
extern "C" {
#endif

struct go_moduledata {
    bool found;
    const char *how; /* "section .go.module" or "data scan" */
    uint64_t vaddr;
    uint64_t text, etext, minpc, maxpc;
    uint64_t noptrdata, enoptrdata, data, edata, bss, ebss, noptrbss, enoptrbss;
    uint64_t gofunc; /* 0 for 1.16-1.17, which store absolute funcdata pointers */
    int gofunc_offset;
};

/* Locates moduledata for the pclntab t. go_minor (0 when unknown) picks where gofunc lies; candidates are
 * validated by decoding inline-tree names. Returns 0 with found=false when no moduledata is there. */
int go_moduledata_find(const struct elf_image *img, const struct pclntab *t, int go_minor,
                       struct go_moduledata *md, struct gmon_error *err);

#ifdef __cplusplus
}
#endif

#endif
