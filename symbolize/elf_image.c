#include "elf_image.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Refuse absurd headers before allocating for them: real binaries have a few dozen of each. */
enum { MAX_PHDRS = 4096, MAX_SECTIONS = 65536 };

static int map_file(struct elf_image *img, const char *path, struct gmon_error *err) {
    /* O_NONBLOCK: a FIFO given as the binary would block the open until a writer came; it is refused below.
     */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return gmon_fail(err, "%s", errno == ENOENT ? "no such file" : strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return gmon_fail(err, "%s", strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return gmon_fail(err, "is a directory, not an executable");
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return gmon_fail(err, "not a regular file");
    }
    if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return gmon_fail(err, "not an ELF file (only %lld bytes)", (long long)st.st_size);
    }
    /* Writable (never written): the kernel puts the breakpoints of uprobes already on this file (another
     * gmon, any tracer) into every read-only private mapping of it, so a read-only one shows 0xCC where the
     * code has RETs. It leaves writable ones alone. */
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return gmon_fail(err, "cannot map the file: %s", strerror(errno));
    img->data = map;
    img->size = (size_t)st.st_size;
    return 0;
}

static int read_program_headers(struct elf_image *img, Elf *elf, struct gmon_error *err) {
    size_t n;
    if (elf_getphdrnum(elf, &n) != 0)
        return gmon_fail(err, "corrupted ELF program headers");
    if (n > MAX_PHDRS)
        return gmon_fail(err, "corrupted ELF program headers: %zu of them (gmon reads at most %d)", n,
                         MAX_PHDRS);
    img->loads = calloc(n ? n : 1, sizeof(*img->loads));
    if (!img->loads)
        return gmon_fail(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph))
            return gmon_fail(err, "corrupted ELF program header %zu", i);
        if (ph.p_type == PT_INTERP)
            img->has_interp = true;
        if (ph.p_type == PT_TLS) {
            img->has_tls = true;
            img->tls_memsz = ph.p_memsz;
            img->tls_align = ph.p_align;
        }
        if (ph.p_type != PT_LOAD)
            continue;
        struct elf_segment *s = &img->loads[img->nloads++];
        s->vaddr = ph.p_vaddr;
        s->memsz = ph.p_memsz;
        s->offset = ph.p_offset;
        s->filesz = ph.p_filesz;
        s->flags = ph.p_flags;
        /* A truncated file keeps its headers: clamp what is backed by bytes so later reads fail cleanly. */
        if (s->offset > img->size)
            s->filesz = 0;
        else if (s->filesz > img->size - s->offset)
            s->filesz = img->size - s->offset;
    }
    return 0;
}

static void read_dynamic_needed(struct elf_image *img, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh) {
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || sh->sh_entsize == 0)
        return;
    size_t count = sh->sh_size / sh->sh_entsize;
    for (size_t i = 0; i < count && img->nneeded < 8; i++) {
        GElf_Dyn dyn;
        if (!gelf_getdyn(d, (int)i, &dyn))
            break;
        if (dyn.d_tag != DT_NEEDED)
            continue;
        const char *name = elf_strptr(elf, sh->sh_link, dyn.d_un.d_val);
        if (name)
            snprintf(img->needed[img->nneeded++], sizeof(img->needed[0]), "%s", name);
    }
}

static int read_section_headers(struct elf_image *img, Elf *elf, struct gmon_error *err) {
    size_t n, shstrndx;
    if (elf_getshdrnum(elf, &n) != 0)
        return gmon_fail(err, "corrupted ELF section headers");
    if (n > MAX_SECTIONS)
        return gmon_fail(err, "corrupted ELF section headers: %zu of them (gmon reads at most %d)", n,
                         MAX_SECTIONS);
    if (n == 0)
        return 0; /* section headers removed (sstrip): segments are enough */
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return gmon_fail(err, "corrupted ELF section name table");
    img->sections = calloc(n, sizeof(*img->sections));
    if (!img->sections)
        return gmon_fail(err, "out of memory");
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return gmon_fail(err, "corrupted ELF section header");
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        struct elf_section *s = &img->sections[img->nsections++];
        snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
        s->type = sh.sh_type;
        s->flags = sh.sh_flags;
        s->addr = sh.sh_addr;
        s->offset = sh.sh_offset;
        s->size = sh.sh_size;
        s->link = sh.sh_link;
        s->entsize = sh.sh_entsize;
        if (sh.sh_type == SHT_DYNAMIC && sh.sh_offset < img->size && sh.sh_size <= img->size - sh.sh_offset)
            read_dynamic_needed(img, elf, scn, &sh);
    }
    return 0;
}

int elf_image_open(struct elf_image *img, const char *path, struct gmon_error *err) {
    memset(img, 0, sizeof(*img));
    snprintf(img->path, sizeof(img->path), "%s", path);
    if (map_file(img, path, err) != 0)
        return -1;
    if (memcmp(img->data, ELFMAG, SELFMAG) != 0) {
        elf_image_close(img);
        return gmon_fail(err, "not an ELF file");
    }
    if (img->data[EI_CLASS] != ELFCLASS64 || img->data[EI_DATA] != ELFDATA2LSB) {
        elf_image_close(img);
        return gmon_fail(err, "not a 64-bit little-endian ELF file (gmon supports x86_64 only)");
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_memory((char *)img->data, img->size);
    int rc = -1;
    GElf_Ehdr eh;
    if (!elf || !gelf_getehdr(elf, &eh)) {
        gmon_fail(err, "corrupted ELF header");
    } else if (eh.e_machine != EM_X86_64) {
        gmon_fail(err, "ELF file is not for x86_64 (e_machine %u)", eh.e_machine);
    } else if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        gmon_fail(err, "ELF file is not an executable (e_type %u)", eh.e_type);
    } else {
        img->type = eh.e_type;
        img->entry = eh.e_entry;
        rc = read_program_headers(img, elf, err);
        if (rc == 0)
            rc = read_section_headers(img, elf, err);
    }
    if (elf)
        elf_end(elf);
    if (rc != 0)
        elf_image_close(img);
    return rc;
}

void elf_image_close(struct elf_image *img) {
    if (img->data)
        munmap((void *)img->data, img->size);
    free(img->loads);
    free(img->sections);
    img->data = NULL;
    img->loads = NULL;
    img->sections = NULL;
    img->nloads = img->nsections = 0;
}

const struct elf_section *elf_image_section(const struct elf_image *img, const char *name) {
    for (size_t i = 0; i < img->nsections; i++)
        if (strcmp(img->sections[i].name, name) == 0)
            return &img->sections[i];
    return NULL;
}

const uint8_t *elf_image_section_data(const struct elf_image *img, const struct elf_section *sec) {
    if (!sec || sec->type == SHT_NOBITS || sec->offset > img->size || sec->size > img->size - sec->offset)
        return NULL;
    return img->data + sec->offset;
}

const struct elf_segment *elf_image_segment_of(const struct elf_image *img, uint64_t vaddr) {
    for (size_t i = 0; i < img->nloads; i++) {
        const struct elf_segment *s = &img->loads[i];
        if (vaddr >= s->vaddr && vaddr - s->vaddr < s->memsz)
            return s;
    }
    return NULL;
}

bool elf_image_vaddr_to_offset(const struct elf_image *img, uint64_t vaddr, uint64_t *offset) {
    const struct elf_segment *s = elf_image_segment_of(img, vaddr);
    if (!s || vaddr - s->vaddr >= s->filesz)
        return false;
    *offset = s->offset + (vaddr - s->vaddr);
    return true;
}

bool elf_image_offset_to_vaddr(const struct elf_image *img, uint64_t offset, uint64_t *vaddr) {
    for (size_t i = 0; i < img->nloads; i++) {
        const struct elf_segment *s = &img->loads[i];
        if (offset >= s->offset && offset - s->offset < s->filesz) {
            *vaddr = s->vaddr + (offset - s->offset);
            return true;
        }
    }
    return false;
}

const uint8_t *elf_image_at_vaddr(const struct elf_image *img, uint64_t vaddr, size_t len) {
    const struct elf_segment *s = elf_image_segment_of(img, vaddr);
    if (!s)
        return NULL;
    uint64_t rel = vaddr - s->vaddr;
    if (rel > s->filesz || len > s->filesz - rel)
        return NULL;
    return img->data + s->offset + rel;
}

bool elf_image_is_pie(const struct elf_image *img) {
    return img->type == ET_DYN;
}

bool elf_image_links_libc(const struct elf_image *img) {
    for (size_t i = 0; i < img->nneeded; i++)
        if (strncmp(img->needed[i], "libc.so", 7) == 0 || strncmp(img->needed[i], "libpthread.so", 13) == 0)
            return true;
    return false;
}

bool elf_image_externally_linked(const struct elf_image *img) {
    return elf_image_section(img, ".comment") != NULL;
}

bool elf_image_find_symbol(const struct elf_image *img, const char *name, uint64_t *value, uint64_t *size) {
    unsigned char type;
    return elf_image_find_typed_symbol(img, name, value, size, &type);
}

bool elf_image_find_typed_symbol(const struct elf_image *img, const char *name, uint64_t *value,
                                 uint64_t *size, unsigned char *type) {
    const struct elf_section *symtab = elf_image_section(img, ".symtab");
    /* sh_link counts ELF sections from the null section 0, which sections[] leaves out. */
    if (!symtab || symtab->entsize != sizeof(Elf64_Sym) || symtab->link == 0 || symtab->link > img->nsections)
        return false;
    const struct elf_section *strtab = &img->sections[symtab->link - 1];
    const uint8_t *syms = elf_image_section_data(img, symtab);
    const uint8_t *strs = elf_image_section_data(img, strtab);
    if (!syms || !strs)
        return false;
    size_t n = symtab->size / sizeof(Elf64_Sym);
    size_t name_len = strlen(name);
    for (size_t i = 0; i < n; i++) {
        Elf64_Sym sym;
        memcpy(&sym, syms + i * sizeof(sym), sizeof(sym));
        if (sym.st_name >= strtab->size || strtab->size - sym.st_name <= name_len)
            continue;
        const char *s = (const char *)strs + sym.st_name;
        if (memcmp(s, name, name_len + 1) == 0) {
            *value = sym.st_value;
            *size = sym.st_size;
            *type = ELF64_ST_TYPE(sym.st_info);
            return true;
        }
    }
    return false;
}
