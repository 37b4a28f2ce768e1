/* A Go executable opened for gmon: ELF, build info, Go version (with how it was found), .gopclntab and
 * moduledata. Everything else in gmon starts from here. */
#ifndef GMON_GO_BINARY_H
#define GMON_GO_BINARY_H

#include "elf_image.h"
#include "go_buildinfo.h"
#include "go_moduledata.h"
#include "go_version.h"
#include "pclntab.h"

#ifdef __cplusplus
extern "C" {
#endif

enum go_version_source {
    GOVER_BUILDINFO,      /* .go.buildinfo */
    GOVER_SYMTAB,         /* runtime.buildVersion found through .symtab */
    GOVER_DATA_SCAN,      /* a runtime.buildVersion-like string header found in writable data */
    GOVER_PCLNTAB_FAMILY, /* only the pclntab magic: the release family, not the release */
    GOVER_USER,           /* --go-version */
};

struct go_binary {
    struct elf_image elf;
    struct go_buildinfo buildinfo;
    char buildinfo_problem[256]; /* a damaged build info blob, when the version came from elsewhere */
    char version_string[128];
    struct go_version version;
    enum go_version_source version_source;
    bool version_exact; /* false when only the pclntab family is known */
    struct pclntab pcln;
    const char *pclntab_where;
    struct go_moduledata md;
    bool module_inferred; /* main package/module guessed from source file names: the binary has no build info
                           */
    bool stripped;        /* no .symtab */
    bool has_dwarf;       /* .debug_info present */
};

int go_binary_open(struct go_binary *b, const char *path, struct gmon_error *err);
void go_binary_close(struct go_binary *b);

/* Replaces the detected version with one the user gave (--go-version), for a binary whose build info is
 * damaged: refused when the binary contradicts it (its build info or runtime.buildVersion names another
 * release, its pclntab is of another family, or it has runtime functions of other releases). */
int go_binary_set_version(struct go_binary *b, const char *user_version, struct gmon_error *err);

/* The function named exactly name, skipping ABI0->ABIInternal wrappers that share it. *wrappers (may be NULL)
 * receives how many were skipped. */
bool go_binary_find_func(const struct go_binary *b, const char *name, struct go_func *fn, int *wrappers);

/* True when the code at fn's entry is an ABI wrapper prologue (xorps %xmm15,%xmm15; mov %fs:-8,%r14). */
bool go_binary_is_abi_wrapper(const struct go_binary *b, const struct go_func *fn);

const char *go_version_source_name(enum go_version_source s);

#ifdef __cplusplus
}
#endif

#endif
