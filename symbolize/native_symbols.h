/* Names for code that is not Go: the function symbols of an ELF file (.symtab, else .dynsym: C code linked
 * into a cgo binary, shared libraries such as libc) and of the running kernel (/proc/kallsyms), looked up by
 * address. Used by the CPU profiler for the frames pclntab does not cover. Bounded: at most
 * NATIVE_SYMBOLS_MAX symbols per table, names cut at NATIVE_SYMBOL_MAX_NAME bytes. */
#ifndef GMON_NATIVE_SYMBOLS_H
#define GMON_NATIVE_SYMBOLS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { NATIVE_SYMBOLS_MAX = 1 << 21, NATIVE_SYMBOL_MAX_NAME = 512 };

struct native_symbol {
    uint64_t addr, size; /* size 0: up to the next symbol */
    uint32_t name;       /* offset in names */
};

struct native_symbols {
    struct native_symbol *syms; /* by address */
    size_t n;
    char *names;
    size_t names_len, names_cap;
};

/* The function symbols of the ELF file at path, at their link-time addresses, and in *vaddr the link-time
 * address of the byte at file offset off (a mapping's offset: its PT_LOAD segment's p_vaddr - p_offset
 * applied); false when it cannot be read, has no symbol or no segment holds off. */
bool native_symbols_from_elf(struct native_symbols *t, const char *path, uint64_t off, uint64_t *vaddr);
/* The same from an ELF image in memory (the kernel's vDSO, read from the process). */
bool native_symbols_from_image(struct native_symbols *t, const void *image, size_t size, uint64_t off,
                               uint64_t *vaddr);
/* The kernel's text symbols from /proc/kallsyms; false when unreadable or all addresses are hidden (zero:
 * kernel.kptr_restrict). */
bool native_symbols_from_kallsyms(struct native_symbols *t);
/* The name of the function containing addr, or NULL. */
const char *native_symbols_find(const struct native_symbols *t, uint64_t addr);
void native_symbols_free(struct native_symbols *t);

#ifdef __cplusplus
}
#endif

#endif
