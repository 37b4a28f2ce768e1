/* An ELF file opened read-only: its loadable segments and sections, and address arithmetic between virtual
 * addresses and file offsets. The file is mapped once; every read through this API is bounds-checked, so a
 * truncated or corrupted file yields an error, never an out-of-bounds access. */
#ifndef GMON_ELF_IMAGE_H
#define GMON_ELF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmon_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct elf_segment {
    uint64_t vaddr;
    uint64_t memsz;
    uint64_t offset;
    uint64_t filesz;
    uint32_t flags; /* PF_R | PF_W | PF_X */
};

struct elf_section {
    char name[64];
    uint32_t type;
    uint64_t flags;
    uint64_t addr;
    uint64_t offset;
    uint64_t size;
    uint32_t link;
    uint64_t entsize;
};

struct elf_image {
    char path[4096];
    const uint8_t *data; /* the whole file, mapped privately (writable, never written: see elf_image.c) */
    size_t size;
    uint16_t type; /* ET_EXEC or ET_DYN */
    uint64_t entry;
    struct elf_segment *loads; /* PT_LOAD segments, in file order */
    size_t nloads;
    struct elf_section *sections;
    size_t nsections;
    bool has_interp;
    bool has_tls;
    uint64_t tls_memsz, tls_align; /* the PT_TLS segment's, when has_tls */
    char needed[8][64];            /* DT_NEEDED libraries, the first few */
    size_t nneeded;
};

/* Opens and indexes path. On failure fills err with "<problem>" (the caller adds the file name) and returns
 * -1. */
int elf_image_open(struct elf_image *img, const char *path, struct gmon_error *err);
void elf_image_close(struct elf_image *img);

/* The named section, or NULL. */
const struct elf_section *elf_image_section(const struct elf_image *img, const char *name);
/* The bytes of a section that has file contents, or NULL (NOBITS, or outside the file). */
const uint8_t *elf_image_section_data(const struct elf_image *img, const struct elf_section *sec);

/* File offset of a link-time virtual address that has file bytes behind it. */
bool elf_image_vaddr_to_offset(const struct elf_image *img, uint64_t vaddr, uint64_t *offset);
/* Link-time virtual address of a file offset inside a PT_LOAD segment. */
bool elf_image_offset_to_vaddr(const struct elf_image *img, uint64_t offset, uint64_t *vaddr);
/* len bytes of file contents at vaddr, or NULL when any of them is not backed by the file. */
const uint8_t *elf_image_at_vaddr(const struct elf_image *img, uint64_t vaddr, size_t len);
/* The PT_LOAD segment containing vaddr, or NULL. */
const struct elf_segment *elf_image_segment_of(const struct elf_image *img, uint64_t vaddr);

/* Looks a symbol up in .symtab (absent from stripped binaries). Returns false when there is none. */
bool elf_image_find_symbol(const struct elf_image *img, const char *name, uint64_t *value, uint64_t *size);
/* The same, with the symbol's type (STT_OBJECT for a variable, STT_FUNC for a function...) in *type. */
bool elf_image_find_typed_symbol(const struct elf_image *img, const char *name, uint64_t *value,
                                 uint64_t *size, unsigned char *type);

/* Position-independent: ET_DYN, loaded at a bias chosen by the kernel. */
bool elf_image_is_pie(const struct elf_image *img);
/* Linked against the C library (cgo, or a Go program using the system resolver). */
bool elf_image_links_libc(const struct elf_image *img);
/* Linked by an external linker (gcc/clang leave a .comment section; Go's internal linker does not). */
bool elf_image_externally_linked(const struct elf_image *img);

/* Reads a little-endian integer; the caller guarantees bounds. */
static inline uint64_t le64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}
static inline uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#ifdef __cplusplus
}
#endif

#endif
