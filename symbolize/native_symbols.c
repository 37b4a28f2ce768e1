#include "native_symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow_array.h"

enum { PAGE = 4096 };

static bool add_symbol(struct native_symbols *t, size_t *cap, uint64_t addr, uint64_t size,
                       const char *name) {
    if (t->n >= NATIVE_SYMBOLS_MAX || !name[0])
        return false;
    size_t len = strnlen(name, NATIVE_SYMBOL_MAX_NAME - 1);
    char *names = grow_array(t->names, &t->names_cap, t->names_len + len, 1, 4096);
    struct native_symbol *syms = grow_array(t->syms, cap, t->n, sizeof(*syms), 1024);
    if (names)
        t->names = names;
    if (syms)
        t->syms = syms;
    if (!names || !syms)
        return false;
    memcpy(t->names + t->names_len, name, len);
    t->names[t->names_len + len] = 0;
    t->syms[t->n++] = (struct native_symbol){addr, size, (uint32_t)t->names_len};
    t->names_len += len + 1;
    return true;
}

static int by_address(const void *a, const void *b) {
    const struct native_symbol *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool finish(struct native_symbols *t) {
    if (t->n == 0) {
        native_symbols_free(t);
        return false;
    }
    qsort(t->syms, t->n, sizeof(*t->syms), by_address);
    return true;
}

static void read_symbol_section(struct native_symbols *t, size_t *cap, Elf *elf, Elf_Scn *scn,
                                const GElf_Shdr *shdr) {
    Elf_Data *data = elf_getdata(scn, NULL);
    if (!data || shdr->sh_entsize == 0)
        return;
    size_t count = shdr->sh_size / shdr->sh_entsize;
    for (size_t i = 0; i < count; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_value == 0 ||
            sym.st_shndx == SHN_UNDEF)
            continue;
        const char *name = elf_strptr(elf, shdr->sh_link, sym.st_name);
        if (name && !add_symbol(t, cap, sym.st_value, sym.st_size, name) && t->n >= NATIVE_SYMBOLS_MAX)
            return;
    }
}

/* .symtab when there is one (it holds .dynsym's functions and the static ones), else .dynsym. */
static bool symbols_of(struct native_symbols *t, Elf *elf) {
    size_t cap = 0;
    for (int pass = 0; elf && pass < 2 && t->n == 0; pass++) {
        for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
            GElf_Shdr shdr;
            if (gelf_getshdr(scn, &shdr) && shdr.sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM))
                read_symbol_section(t, &cap, elf, scn, &shdr);
        }
    }
    return finish(t);
}

/* The link-time address of the byte at file offset off, the start of an executable mapping: the executable
 * PT_LOAD segment whose pages hold it (the mapping starts at the page below p_offset: p_offset need not be
 * page-aligned, as lld lays segments out). */
static bool offset_to_vaddr(Elf *elf, uint64_t off, uint64_t *vaddr) {
    size_t n = 0;
    if (!elf || elf_getphdrnum(elf, &n) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
            continue;
        uint64_t first_page = ph.p_offset & ~(uint64_t)(PAGE - 1);
        if (off >= first_page && off < ph.p_offset + ph.p_filesz) {
            *vaddr = off + ph.p_vaddr - ph.p_offset;
            return true;
        }
    }
    return false;
}

bool native_symbols_from_elf(struct native_symbols *t, const char *path, uint64_t off, uint64_t *vaddr) {
    memset(t, 0, sizeof(*t));
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    bool ok = offset_to_vaddr(elf, off, vaddr) && symbols_of(t, elf);
    if (elf)
        elf_end(elf);
    close(fd);
    return ok;
}

bool native_symbols_from_image(struct native_symbols *t, const void *image, size_t size, uint64_t off,
                               uint64_t *vaddr) {
    memset(t, 0, sizeof(*t));
    elf_version(EV_CURRENT);
    Elf *elf = elf_memory((char *)image, size);
    bool ok = offset_to_vaddr(elf, off, vaddr) && symbols_of(t, elf);
    if (elf)
        elf_end(elf);
    return ok;
}

bool native_symbols_from_kallsyms(struct native_symbols *t) {
    memset(t, 0, sizeof(*t));
    FILE *f = fopen("/proc/kallsyms", "r");
    if (!f)
        return false;
    size_t cap = 0;
    char line[NATIVE_SYMBOL_MAX_NAME + 64];
    bool any_address = false;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long addr;
        char type, name[NATIVE_SYMBOL_MAX_NAME];
        if (sscanf(line, "%llx %c %511s", &addr, &type, name) != 3 ||
            (type != 't' && type != 'T' && type != 'w' && type != 'W'))
            continue;
        any_address |= addr != 0;
        if (!add_symbol(t, &cap, addr, 0, name) && t->n >= NATIVE_SYMBOLS_MAX)
            break;
    }
    fclose(f);
    if (!any_address) {
        native_symbols_free(t);
        return false;
    }
    return finish(t);
}

const char *native_symbols_find(const struct native_symbols *t, uint64_t addr) {
    size_t lo = 0, hi = t->n;
    while (lo < hi) { /* the first symbol above addr */
        size_t mid = lo + (hi - lo) / 2;
        if (t->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct native_symbol *s = &t->syms[lo - 1];
    if (s->size && addr - s->addr >= s->size) /* not addr >= addr + size: a crafted size wraps around */
        return NULL;
    return t->names + s->name;
}

void native_symbols_free(struct native_symbols *t) {
    free(t->syms);
    free(t->names);
    memset(t, 0, sizeof(*t));
}
