#include "pclntab.h"

#include <string.h>

#include "elf_image.h" /* le32/le64 */

enum { PCDATA_INL_TREE_INDEX = 2 };

/* Where the fields of a _func record sit, per table family (runtime/symtab.go, type _func, of each release:
 * 1.16-1.17 with an 8-byte entry PC, 1.18-1.19 with a 4-byte entryOff, 1.20+ with startLine before funcID).
 */
struct func_layout {
    uint32_t size, nameoff, pcsp, pcfile, pcln, npcdata, cuoff, start_line, funcid, flag, nfuncdata;
};
static const struct func_layout FUNC_116 = {.size = 44,
                                            .nameoff = 8,
                                            .pcsp = 20,
                                            .pcfile = 24,
                                            .pcln = 28,
                                            .npcdata = 32,
                                            .cuoff = 36,
                                            .funcid = 40,
                                            .flag = 41,
                                            .nfuncdata = 43};
static const struct func_layout FUNC_118 = {.size = 40,
                                            .nameoff = 4,
                                            .pcsp = 16,
                                            .pcfile = 20,
                                            .pcln = 24,
                                            .npcdata = 28,
                                            .cuoff = 32,
                                            .funcid = 36,
                                            .flag = 37,
                                            .nfuncdata = 39};
static const struct func_layout FUNC_120 = {.size = 44,
                                            .nameoff = 4,
                                            .pcsp = 16,
                                            .pcfile = 20,
                                            .pcln = 24,
                                            .npcdata = 28,
                                            .cuoff = 32,
                                            .start_line = 36,
                                            .funcid = 40,
                                            .flag = 41,
                                            .nfuncdata = 43};

/* inlinedCall (runtime/symtab.go): up to 1.19 {parent int16, funcID uint8, _ byte, file, line, func_,
 * parentPc int32}; from 1.20 {funcID uint8, _ [3]byte, nameOff, parentPc, startLine int32}. start_line 0: not
 * recorded. */
struct inline_layout {
    uint32_t size, funcid, nameoff, parent_pc, start_line;
};
static const struct inline_layout INL_116 = {.size = 20, .funcid = 2, .nameoff = 12, .parent_pc = 16};
static const struct inline_layout INL_120 = {
    .size = 16, .funcid = 0, .nameoff = 4, .parent_pc = 8, .start_line = 12};

static const struct func_layout *func_layout(const struct pclntab *t) {
    switch (t->magic) {
    case PCLNTAB_MAGIC_116:
        return &FUNC_116;
    case PCLNTAB_MAGIC_118:
        return &FUNC_118;
    default:
        return &FUNC_120;
    }
}

static const struct inline_layout *inline_layout(const struct pclntab *t) {
    return t->magic == PCLNTAB_MAGIC_120 ? &INL_120 : &INL_116;
}

static bool is_116(const struct pclntab *t) {
    return t->magic == PCLNTAB_MAGIC_116;
}

static size_t functab_entry_size(const struct pclntab *t) {
    return is_116(t) ? 16 : 8;
}

const char *pclntab_family_name(uint32_t magic) {
    switch (magic) {
    case PCLNTAB_MAGIC_116:
        return "go1.16-1.17";
    case PCLNTAB_MAGIC_118:
        return "go1.18-1.19";
    case PCLNTAB_MAGIC_120:
        return "go1.20+";
    default:
        return "unknown";
    }
}

bool pclntab_header_plausible(const uint8_t *d, size_t size) {
    if (size < 72)
        return false;
    uint32_t magic = le32(d);
    if (magic != PCLNTAB_MAGIC_116 && magic != PCLNTAB_MAGIC_118 && magic != PCLNTAB_MAGIC_120)
        return false;
    /* Same checks as debug/gosym: zero pads, pc quantum 1/2/4, pointer size 8 (we read amd64 only). */
    return d[4] == 0 && d[5] == 0 && (d[6] == 1 || d[6] == 2 || d[6] == 4) && d[7] == 8;
}

static int check_areas(struct pclntab *t, struct gmon_error *err) {
    uint64_t order[] = {t->funcnametab, t->cutab, t->filetab, t->pctab, t->pcln};
    uint64_t header = is_116(t) ? 64 : 72;
    if (order[0] < header)
        return gmon_fail(err, ".gopclntab header is corrupted (tables overlap the header)");
    for (size_t i = 1; i < 5; i++)
        if (order[i] < order[i - 1])
            return gmon_fail(err, ".gopclntab header is corrupted (tables out of order)");
    if (t->pcln >= t->size)
        return gmon_fail(err, ".gopclntab is truncated (function table at %#llx, table size %#zx)",
                         (unsigned long long)t->pcln, t->size);
    t->funcnametab_end = t->cutab;
    t->cutab_end = t->filetab;
    t->filetab_end = t->pctab;
    t->pctab_end = t->pcln;
    uint64_t need = (t->nfunc + 1) * functab_entry_size(t);
    if (t->nfunc == 0 || t->nfunc > (1u << 24) || need > t->size - t->pcln)
        return gmon_fail(err, ".gopclntab is truncated or corrupted (%llu functions)",
                         (unsigned long long)t->nfunc);
    return 0;
}

int pclntab_parse(struct pclntab *t, const uint8_t *d, size_t size, uint64_t vaddr, struct gmon_error *err) {
    memset(t, 0, sizeof(*t));
    if (!pclntab_header_plausible(d, size))
        return gmon_fail(err, ".gopclntab header is not one of Go 1.16-1.27");
    t->data = d;
    t->size = size;
    t->vaddr = vaddr;
    t->magic = le32(d);
    t->quantum = d[6];
    t->nfunc = le64(d + 8);
    t->nfiles = le64(d + 16);
    if (is_116(t)) {
        t->funcnametab = le64(d + 24);
        t->cutab = le64(d + 32);
        t->filetab = le64(d + 40);
        t->pctab = le64(d + 48);
        t->pcln = le64(d + 56);
    } else {
        t->header_text_start = le64(d + 24);
        t->text_start = t->header_text_start;
        t->funcnametab = le64(d + 32);
        t->cutab = le64(d + 40);
        t->filetab = le64(d + 48);
        t->pctab = le64(d + 56);
        t->pcln = le64(d + 64);
    }
    if (check_areas(t, err) != 0)
        return -1;
    /* The functab is sorted: the first two entries must be ordered. */
    struct go_func a, b;
    if (!pclntab_func(t, 0, &a) || (t->nfunc > 1 && (!pclntab_func(t, 1, &b) || b.entry < a.entry)))
        return gmon_fail(err, ".gopclntab function table is corrupted");
    return 0;
}

/* Entry PC and _func offset of functab slot i (slot nfunc holds only the end of text). */
static void functab_slot(const struct pclntab *t, uint64_t i, uint64_t *entry, uint32_t *funcoff) {
    const uint8_t *p = t->data + t->pcln + i * functab_entry_size(t);
    if (is_116(t)) {
        *entry = le64(p);
        *funcoff = (uint32_t)le64(p + 8);
    } else {
        *entry = t->text_start + le32(p);
        *funcoff = le32(p + 4);
    }
}

/* A NUL-terminated string at offset off of an area, or NULL. */
static const char *string_in(const struct pclntab *t, uint64_t area, uint64_t area_end, uint64_t off) {
    if (off >= area_end - area)
        return NULL;
    const char *s = (const char *)t->data + area + off;
    return memchr(s, '\0', area_end - area - off) ? s : NULL;
}

/* The _func record of fn, or NULL when it lies outside the table. */
static const uint8_t *func_record(const struct pclntab *t, uint32_t funcoff) {
    const struct func_layout *l = func_layout(t);
    uint64_t avail = t->size - t->pcln;
    if (funcoff > avail || l->size > avail - funcoff)
        return NULL;
    return t->data + t->pcln + funcoff;
}

bool pclntab_func(const struct pclntab *t, uint64_t i, struct go_func *fn) {
    if (i >= t->nfunc)
        return false;
    uint32_t next_off;
    functab_slot(t, i, &fn->entry, &fn->funcoff);
    functab_slot(t, i + 1, &fn->end, &next_off);
    const uint8_t *rec = func_record(t, fn->funcoff);
    if (!rec)
        return false;
    const struct func_layout *l = func_layout(t);
    fn->index = (uint32_t)i;
    fn->name = string_in(t, t->funcnametab, t->funcnametab_end, le32(rec + l->nameoff));
    fn->funcid = rec[l->funcid];
    fn->flag = rec[l->flag];
    return fn->name != NULL;
}

bool pclntab_func_at(const struct pclntab *t, uint64_t pc, struct go_func *fn) {
    uint64_t first, last;
    uint32_t unused;
    functab_slot(t, 0, &first, &unused);
    functab_slot(t, t->nfunc, &last, &unused);
    if (pc < first || pc >= last)
        return false;
    /* Largest slot whose entry is <= pc. */
    uint64_t lo = 0, hi = t->nfunc;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint64_t entry;
        functab_slot(t, mid, &entry, &unused);
        if (entry <= pc)
            lo = mid;
        else
            hi = mid;
    }
    return pclntab_func(t, lo, fn);
}

size_t pclntab_funcs_named(const struct pclntab *t, const char *name, struct go_func *out, size_t max) {
    size_t found = 0;
    struct go_func fn;
    for (uint64_t i = 0; i < t->nfunc; i++) {
        if (!pclntab_func(t, i, &fn) || strcmp(fn.name, name) != 0)
            continue;
        if (found < max)
            out[found] = fn;
        found++;
    }
    return found < max ? found : max;
}

static bool read_uvarint(const uint8_t **p, const uint8_t *end, uint32_t *out) {
    uint32_t v = 0;
    for (unsigned shift = 0; *p < end && shift < 35; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

int32_t pclntab_pcvalue(const struct pclntab *t, uint32_t off, uint64_t entry, uint64_t target) {
    if (off == 0 || off >= t->pctab_end - t->pctab)
        return -1;
    const uint8_t *p = t->data + t->pctab + off;
    const uint8_t *end = t->data + t->pctab_end;
    int32_t val = -1;
    uint64_t pc = entry;
    for (bool first = true;; first = false) {
        uint32_t uv, pcdelta;
        if (!read_uvarint(&p, end, &uv) || (uv == 0 && !first))
            return -1;
        /* zig-zag: the low bit is the sign. The sum wraps as Go's int32 does (unsigned arithmetic): a hostile
         * table must not reach signed overflow, which C leaves undefined (found by fuzz_pclntab). */
        uint32_t delta = (uv & 1) ? ~(uv >> 1) : (uv >> 1);
        val = (int32_t)((uint32_t)val + delta);
        if (!read_uvarint(&p, end, &pcdelta))
            return -1;
        pc += (uint64_t)pcdelta * t->quantum;
        if (target < pc)
            return val;
    }
}

int32_t pclntab_pcdata(const struct pclntab *t, const struct go_func *fn, uint32_t table, uint64_t pc) {
    const struct func_layout *l = func_layout(t);
    const uint8_t *rec = func_record(t, fn->funcoff);
    if (!rec)
        return -1;
    uint32_t npcdata = le32(rec + l->npcdata);
    if (table >= npcdata)
        return -1;
    uint64_t at = (uint64_t)fn->funcoff + l->size + 4ull * table;
    if (at + 4 > t->size - t->pcln)
        return -1;
    return pclntab_pcvalue(t, le32(t->data + t->pcln + at), fn->entry, pc);
}

static const char *file_name(const struct pclntab *t, const uint8_t *rec, int32_t fileno) {
    if (fileno < 0)
        return NULL;
    uint64_t cu = le32(rec + func_layout(t)->cuoff);
    uint64_t at = 4 * (cu + (uint64_t)fileno);
    if (at + 4 > t->cutab_end - t->cutab)
        return NULL;
    uint32_t off = le32(t->data + t->cutab + at);
    if (off == 0xffffffff)
        return NULL;
    return string_in(t, t->filetab, t->filetab_end, off);
}

bool pclntab_line(const struct pclntab *t, const struct go_func *fn, uint64_t pc, const char **file,
                  int *line) {
    const uint8_t *rec = func_record(t, fn->funcoff);
    if (!rec)
        return false;
    const struct func_layout *l = func_layout(t);
    int32_t ln = pclntab_pcvalue(t, le32(rec + l->pcln), fn->entry, pc);
    const char *f = file_name(t, rec, pclntab_pcvalue(t, le32(rec + l->pcfile), fn->entry, pc));
    if (ln < 0 || !f)
        return false;
    *file = f;
    *line = ln;
    return true;
}

uint64_t pclntab_funcdata(const struct pclntab *t, const struct go_func *fn, uint32_t index) {
    const struct func_layout *l = func_layout(t);
    const uint8_t *rec = func_record(t, fn->funcoff);
    if (!rec || rec[l->nfuncdata] <= index)
        return 0;
    uint64_t base = (uint64_t)fn->funcoff + l->size + 4ull * le32(rec + l->npcdata);
    uint64_t avail = t->size - t->pcln;
    if (is_116(t)) {
        /* 1.16-1.17: pointer-sized absolute addresses, 8-aligned in memory */
        if ((t->vaddr + t->pcln + base) & 4)
            base += 4;
        uint64_t at = base + 8ull * index;
        return at + 8 <= avail ? le64(t->data + t->pcln + at) : 0;
    }
    /* 1.18+: 32-bit offsets from moduledata.gofunc, ^0 for none */
    uint64_t at = base + 4ull * index;
    if (at + 4 > avail || t->gofunc == 0)
        return 0;
    uint32_t off = le32(t->data + t->pcln + at);
    return off == 0xffffffff ? 0 : t->gofunc + off;
}

int32_t pclntab_sp_delta(const struct pclntab *t, const struct go_func *fn, uint64_t pc) {
    const uint8_t *rec = func_record(t, fn->funcoff);
    uint32_t off = rec ? le32(rec + func_layout(t)->pcsp) : 0;
    return off ? pclntab_pcvalue(t, off, fn->entry, pc) : -1;
}

int pclntab_start_line(const struct pclntab *t, const struct go_func *fn) {
    const struct func_layout *l = func_layout(t);
    const uint8_t *rec = func_record(t, fn->funcoff);
    return rec && l->start_line ? (int)le32(rec + l->start_line) : 0;
}

static void set_frame(const struct pclntab *t, const struct go_func *fn, uint64_t pc, const char *name,
                      bool inlined, struct go_frame *f) {
    f->function = name;
    f->inlined = inlined;
    f->pc = pc;
    if (!inlined) {
        f->funcid = fn->funcid;
        f->start_line = pclntab_start_line(t, fn);
    }
    if (!pclntab_line(t, fn, pc, &f->file, &f->line)) {
        f->file = "?";
        f->line = 0;
    }
}

int pclntab_frames(const struct pclntab *t, const struct go_func *fn, uint64_t pc, struct go_frame *out,
                   int max) {
    if (max <= 0)
        return 0;
    int n = 0;
    uint64_t tree = t->read_vaddr ? pclntab_funcdata(t, fn, FUNCDATA_INL_TREE) : 0;
    const struct inline_layout *il = inline_layout(t);
    while (tree && n < max - 1) {
        int32_t idx = pclntab_pcdata(t, fn, PCDATA_INL_TREE_INDEX, pc);
        if (idx < 0)
            break;
        const uint8_t *call = t->read_vaddr(t->read_ctx, tree + (uint64_t)idx * il->size, il->size);
        if (!call)
            break;
        const char *name = string_in(t, t->funcnametab, t->funcnametab_end, le32(call + il->nameoff));
        struct go_frame *f = &out[n++];
        set_frame(t, fn, pc, name ? name : "?", true, f);
        f->funcid = call[il->funcid];
        f->start_line = il->start_line ? (int)le32(call + il->start_line) : 0;
        /* Continue at an instruction whose position is the call site in the caller. */
        pc = fn->entry + (uint32_t)le32(call + il->parent_pc);
    }
    set_frame(t, fn, pc, fn->name, false, &out[n++]);
    return n;
}

int pclntab_frames_at_return(const struct pclntab *t, uint64_t return_pc, struct go_frame *out, int max) {
    uint64_t pc = return_pc - 1; /* the CALL instruction, not the one after it */
    struct go_func fn;
    if (!pclntab_func_at(t, pc, &fn))
        return 0;
    return pclntab_frames(t, &fn, pc, out, max);
}

uint8_t pclntab_funcid_wrapper(int minor) {
    return minor == 17 ? 22 : minor <= 21 ? 21 : minor <= 24 ? 22 : 23;
}
