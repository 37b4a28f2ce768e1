/* Go's .gopclntab (Go 1.16-1.27): the function table, names, pc->file:line and inlined frames.
 * Works on stripped binaries: the linker keeps this table for the runtime's own tracebacks.
 * All addresses here are link-time virtual addresses; callers add the load bias of a running PIE.
 * Every read is bounds-checked against the table, so corrupted input gives "not found", never a crash. */
#ifndef GMON_PCLNTAB_H
#define GMON_PCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmon_error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum pclntab_magic {
    PCLNTAB_MAGIC_116 = 0xfffffffa, /* Go 1.16-1.17 */
    PCLNTAB_MAGIC_118 = 0xfffffff0, /* Go 1.18-1.19 */
    PCLNTAB_MAGIC_120 = 0xfffffff1, /* Go 1.20 and later */
};

struct pclntab {
    const uint8_t *data; /* pcHeader and everything after it */
    size_t size;
    uint64_t vaddr; /* link-time address of the pcHeader */
    uint32_t magic;
    uint8_t quantum;
    uint64_t nfunc;
    uint64_t nfiles;
    uint64_t header_text_start; /* as stored: 0 in Go 1.26+ */
    uint64_t text_start;        /* base of 1.18+ entry offsets: moduledata.text when known */
    /* [start, end) of each area, as offsets into data */
    uint64_t funcnametab, cutab, filetab, pctab, pcln;
    uint64_t funcnametab_end, cutab_end, filetab_end, pctab_end;
    /* Link-time address of moduledata.gofunc (1.18+), the base of funcdata offsets; 0 while unknown. */
    uint64_t gofunc;
    /* Reads bytes at a link-time address, for inline trees that live outside the table; may be NULL. */
    const uint8_t *(*read_vaddr)(const void *ctx, uint64_t vaddr, size_t len);
    const void *read_ctx;
};

struct go_func {
    uint32_t index;
    uint64_t entry; /* link-time */
    uint64_t end;   /* entry of the next function (etext for the last) */
    const char *name;
    uint8_t funcid;
    uint8_t flag;
    uint32_t funcoff; /* offset of the _func record in the pcln area */
};

struct go_frame {
    const char *function;
    const char *file; /* "?" when unknown */
    int line;         /* 0 when unknown */
    bool inlined;     /* true for every frame but the outermost (the physical function) */
    uint8_t funcid;   /* the release's abi.FuncID of the (inlined) function */
    int start_line;   /* line of its func keyword (Go 1.20+), 0 when not recorded */
    uint64_t pc; /* where file:line was looked up: the physical frame's is its inlined callee's call site */
};

/* FUNCDATA numbers (internal/abi/symtab.go; runtime/symtab.go before 1.21), the same in 1.17-1.27. */
enum { FUNCDATA_INL_TREE = 3, FUNCDATA_ARG_INFO = 5, FUNCDATA_ARG_LIVE_INFO = 6 };
/* PCDATA numbers: the argument liveness index (1.18+). */
enum { PCDATA_ARG_LIVE_INDEX = 3 };
/* _func.flag bits (abi.FuncFlag): the outermost frame of a stack, a function that writes SP arbitrarily. */
enum { FUNCFLAG_TOPFRAME = 1, FUNCFLAG_SPWRITE = 2 };

/* Parses a pcHeader at data (size bytes available). */
int pclntab_parse(struct pclntab *t, const uint8_t *data, size_t size, uint64_t vaddr,
                  struct gmon_error *err);

/* True when data starts like a pcHeader of a supported family (used to scan segments for the table). */
bool pclntab_header_plausible(const uint8_t *data, size_t size);

/* The Go release family of the magic, e.g. "1.18-1.19". */
const char *pclntab_family_name(uint32_t magic);

/* The i-th function (0 <= i < nfunc). Returns false on a corrupted record. */
bool pclntab_func(const struct pclntab *t, uint64_t i, struct go_func *fn);
/* The function containing pc, by binary search; no allocation. */
bool pclntab_func_at(const struct pclntab *t, uint64_t pc, struct go_func *fn);
/* Functions named exactly name (ABI wrappers share their target's name): fills up to max, returns the count.
 */
size_t pclntab_funcs_named(const struct pclntab *t, const char *name, struct go_func *out, size_t max);

/* Innermost file:line at pc inside fn. Returns false when the table has none. */
bool pclntab_line(const struct pclntab *t, const struct go_func *fn, uint64_t pc, const char **file,
                  int *line);
/* The logical frames at pc, innermost (inlined) first, the physical function last. Returns the count (>= 1
 * when fn is valid, capped at max). */
int pclntab_frames(const struct pclntab *t, const struct go_func *fn, uint64_t pc, struct go_frame *out,
                   int max);
/* The logical frames of a stack's return address (a link-time address): those of the CALL before it. Returns
 * 0 when no function holds it. */
int pclntab_frames_at_return(const struct pclntab *t, uint64_t return_pc, struct go_frame *out, int max);

/* Link-time address of fn's funcdata number index (FUNCDATA_*), 0 when it has none. */
uint64_t pclntab_funcdata(const struct pclntab *t, const struct go_func *fn, uint32_t index);
/* How far SP is below the function's entry SP at pc (its pcsp table), -1 when unknown. */
int32_t pclntab_sp_delta(const struct pclntab *t, const struct go_func *fn, uint64_t pc);
/* The line of fn's func keyword (Go 1.20+ record it), 0 otherwise. */
int pclntab_start_line(const struct pclntab *t, const struct go_func *fn);

/* abi.FuncIDWrapper in release 1.minor (the FuncID numbering changed): 22 (1.17), 21 (1.18-1.21), 22
 * (1.22-1.24), 23 (1.25+). Wrappers are elided from tracebacks and from Callers' inline expansion. */
uint8_t pclntab_funcid_wrapper(int minor);
/* Value of pc-value table number `table` (PCDATA index) at pc, or -1. Exposed for probes and tests. */
int32_t pclntab_pcdata(const struct pclntab *t, const struct go_func *fn, uint32_t table, uint64_t pc);
/* Decodes a pc-value table at pctab offset `off` for function entry `entry` at target pc; -1 when absent. */
int32_t pclntab_pcvalue(const struct pclntab *t, uint32_t off, uint64_t entry, uint64_t pc);

#ifdef __cplusplus
}
#endif

#endif
