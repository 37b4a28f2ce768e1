#include "go_moduledata.h"

#include <elf.h>
#include <string.h>

/* Field offsets of moduledata, stable from Go 1.16 to 1.27 (runtime/symtab.go). */
enum {
    MD_PCHEADER = 0,
    MD_FUNCNAMETAB = 8,
    MD_MINPC = 160,
    MD_MAXPC = 168,
    MD_TEXT = 176,
    MD_ETEXT = 184,
    MD_NOPTRDATA = 192,
    MD_ENOPTRDATA = 200,
    MD_DATA = 208,
    MD_EDATA = 216,
    MD_BSS = 224,
    MD_EBSS = 232,
    MD_NOPTRBSS = 240,
    MD_ENOPTRBSS = 248,
    MD_MIN_SIZE = 352,
};

static bool looks_like_moduledata(const uint8_t *p, const struct pclntab *t) {
    return le64(p + MD_PCHEADER) == t->vaddr && le64(p + MD_FUNCNAMETAB) == t->vaddr + t->funcnametab;
}

static const uint8_t *scan_for_moduledata(const struct elf_image *img, const struct pclntab *t,
                                          uint64_t *vaddr) {
    for (size_t i = 0; i < img->nloads; i++) {
        const struct elf_segment *s = &img->loads[i];
        if (!(s->flags & PF_W) || s->filesz < MD_MIN_SIZE)
            continue;
        const uint8_t *base = img->data + s->offset;
        for (uint64_t off = 0; off + MD_MIN_SIZE <= s->filesz; off += 8) {
            if (looks_like_moduledata(base + off, t)) {
                *vaddr = s->vaddr + off;
                return base + off;
            }
        }
    }
    return NULL;
}

static const uint8_t *read_vaddr(const void *ctx, uint64_t vaddr, size_t len) {
    return elf_image_at_vaddr(ctx, vaddr, len);
}

/* A gofunc candidate is right when the inline trees it leads to name real functions. Checks up to `want`
 * functions that have inline trees; a table without any inlining cannot disprove the candidate. */
static bool gofunc_decodes(const struct elf_image *img, const struct pclntab *t, uint64_t gofunc) {
    struct pclntab probe = *t;
    probe.gofunc = gofunc;
    probe.read_vaddr = read_vaddr;
    probe.read_ctx = img;
    int checked = 0, want = 8;
    struct go_func fn;
    struct go_frame frames[4];
    for (uint64_t i = 0; i < t->nfunc && checked < want; i += 1 + t->nfunc / 512) {
        if (!pclntab_func(&probe, i, &fn))
            continue;
        for (uint64_t pc = fn.entry; pc < fn.end && pc < fn.entry + 256; pc += 4) {
            if (pclntab_pcdata(&probe, &fn, 2, pc) < 0)
                continue;
            int n = pclntab_frames(&probe, &fn, pc, frames, 4);
            if (n < 2 || strcmp(frames[0].function, "?") == 0 || frames[0].line <= 0)
                return false;
            checked++;
            break;
        }
    }
    return true;
}

static void gofunc_candidates(const struct pclntab *t, int go_minor, int out[2]) {
    out[0] = out[1] = 0;
    if (t->magic == PCLNTAB_MAGIC_118) {
        out[0] = 304;
    } else if (t->magic == PCLNTAB_MAGIC_120) {
        /* 1.20-1.26 keep gofunc at 320; 1.27 reorganised moduledata and moved it to 344. */
        out[0] = go_minor >= 27 ? 344 : 320;
        out[1] = go_minor >= 27 ? 320 : 344;
    }
}

int go_moduledata_find(const struct elf_image *img, const struct pclntab *t, int go_minor,
                       struct go_moduledata *md, struct gmon_error *err) {
    memset(md, 0, sizeof(*md));
    const uint8_t *p = NULL;
    const struct elf_section *sec = elf_image_section(img, ".go.module");
    const uint8_t *secdata = elf_image_section_data(img, sec);
    if (secdata && sec->size >= MD_MIN_SIZE && looks_like_moduledata(secdata, t)) {
        p = secdata;
        md->vaddr = sec->addr;
        md->how = "section .go.module";
    } else if ((p = scan_for_moduledata(img, t, &md->vaddr)) != NULL) {
        md->how = "data scan";
    } else {
        return 0;
    }
    md->found = true;
    md->minpc = le64(p + MD_MINPC);
    md->maxpc = le64(p + MD_MAXPC);
    md->text = le64(p + MD_TEXT);
    md->etext = le64(p + MD_ETEXT);
    md->noptrdata = le64(p + MD_NOPTRDATA);
    md->enoptrdata = le64(p + MD_ENOPTRDATA);
    md->data = le64(p + MD_DATA);
    md->edata = le64(p + MD_EDATA);
    md->bss = le64(p + MD_BSS);
    md->ebss = le64(p + MD_EBSS);
    md->noptrbss = le64(p + MD_NOPTRBSS);
    md->enoptrbss = le64(p + MD_ENOPTRBSS);
    if (md->text == 0 || md->etext <= md->text)
        return gmon_fail(err, "moduledata (%s at %#llx) has an invalid text range", md->how,
                         (unsigned long long)md->vaddr);
    int cand[2];
    gofunc_candidates(t, go_minor, cand);
    for (int i = 0; i < 2 && cand[i]; i++) {
        uint64_t gofunc = le64(p + cand[i]);
        struct pclntab rebased = *t;
        rebased.text_start = md->text;
        if (gofunc && elf_image_segment_of(img, gofunc) && gofunc_decodes(img, &rebased, gofunc)) {
            md->gofunc = gofunc;
            md->gofunc_offset = cand[i];
            break;
        }
    }
    return 0;
}
