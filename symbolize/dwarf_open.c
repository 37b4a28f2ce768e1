#include "dwarf_open.h"

#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The file dwarf_types_hold keeps open, lent to one lookup at a time; one per thread, so that a lookup on
 * another thread never shares it. */
static _Thread_local struct {
    bool held, lent;
    char path[PATH_MAX];
    struct dwarf_types d;
} kept = {.d = {.fd = -1}};

bool dwarf_types_section_needed(const char *name) {
    static const char *const needed[] = {"info", "abbrev", "str", "str_offsets", "line_str", "addr", "types"};
    const char *base = strncmp(name, ".debug_", 7) == 0    ? name + 7
                       : strncmp(name, ".zdebug_", 8) == 0 ? name + 8
                                                           : NULL;
    if (!base)
        return true; /* not DWARF: libdw does not look at it */
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (strcmp(base, needed[i]) == 0)
            return true;
    return false;
}

/* Marks the debug sections no lookup reads as holding no bytes (SHT_NOBITS), which libdw skips. The change is
 * to libelf's copy of the section headers in a private mapping: the file is never written. */
static void hide_unneeded_sections(Elf *elf) {
    size_t names;
    if (elf_getshdrstrndx(elf, &names) != 0)
        return;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        const char *name = gelf_getshdr(scn, &shdr) ? elf_strptr(elf, names, shdr.sh_name) : NULL;
        if (!name || dwarf_types_section_needed(name))
            continue;
        shdr.sh_type = SHT_NOBITS;
        gelf_update_shdr(scn, &shdr);
    }
}

static void close_file(struct dwarf_types *d) {
    if (d->dbg)
        dwarf_end(d->dbg);
    if (d->elf)
        elf_end(d->elf);
    if (d->fd >= 0)
        close(d->fd);
    *d = (struct dwarf_types){.fd = -1};
}

static bool open_file(const char *path, struct dwarf_types *d) {
    *d = (struct dwarf_types){.fd = -1};
    elf_version(EV_CURRENT);
    d->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (d->fd < 0)
        return false;
    d->elf = elf_begin(d->fd, ELF_C_READ_MMAP_PRIVATE, NULL);
    if (d->elf && elf_kind(d->elf) == ELF_K_ELF) {
        hide_unneeded_sections(d->elf);
        d->dbg = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
    }
    if (!d->dbg) {
        close_file(d);
        return false;
    }
    return true;
}

static bool kept_for(const char *path) {
    return kept.held && !kept.lent && strcmp(kept.path, path) == 0;
}

bool dwarf_types_open(const char *path, struct dwarf_types *d) {
    if (!kept_for(path))
        return open_file(path, d);
    kept.lent = true;
    *d = kept.d;
    return true;
}

void dwarf_types_close(struct dwarf_types *d) {
    if (kept.lent && d->dbg == kept.d.dbg) {
        kept.lent = false;
        *d = (struct dwarf_types){.fd = -1};
        return;
    }
    close_file(d);
}

void dwarf_types_hold(const char *path) {
    dwarf_types_release();
    if (strlen(path) >= sizeof(kept.path) || !open_file(path, &kept.d))
        return; /* the lookups open the file themselves, and fail as they would have */
    snprintf(kept.path, sizeof(kept.path), "%s", path);
    kept.held = true;
}

void dwarf_types_release(void) {
    if (!kept.held)
        return;
    close_file(&kept.d);
    kept.held = kept.lent = false;
}
