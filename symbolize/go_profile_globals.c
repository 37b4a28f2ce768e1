#include "go_profile_globals.h"

#include <string.h>

#include "x86_flag_store.h"
#include "x86_rip_refs.h"

enum { MAX_REFS = 256, MAX_STORES = 64, DEFAULT_MEM_PROFILE_RATE = 512 * 1024 };

static uint64_t symbol(const struct go_binary *b, const char *name) {
    uint64_t value = 0, size = 0;
    return elf_image_find_symbol(&b->elf, name, &value, &size) ? value : 0;
}

static const uint8_t *code_of(const struct go_binary *b, const char *name, struct go_func *fn) {
    if (!go_binary_find_func(b, name, fn, NULL) || fn->end <= fn->entry)
        return NULL;
    return elf_image_at_vaddr(&b->elf, fn->entry, fn->end - fn->entry);
}

static bool in_data(const struct go_moduledata *md, uint64_t a) {
    return (a >= md->noptrdata && a < md->enoptrdata) || (a >= md->data && a < md->edata) ||
           (a >= md->bss && a < md->ebss) || (a >= md->noptrbss && a < md->enoptrbss);
}

/* runtime.mProf_FlushLocked begins with `head := mbuckets.Load()` (1.19+), or `c := mProf.cycle; for b :=
 * mbuckets` (1.17, 1.18): its first 8-aligned data references, in code order. */
static void mbuckets_from_code(const struct go_binary *b, struct go_profile_globals *out) {
    struct go_func fn;
    const uint8_t *code = code_of(b, "runtime.mProf_FlushLocked", &fn);
    uint64_t refs[MAX_REFS];
    size_t n = code ? x86_rip_refs(code, fn.end - fn.entry, fn.entry, refs, MAX_REFS) : 0;
    for (size_t i = 0; i < n && out->nmbuckets < MBUCKETS_CANDIDATES; i++) {
        bool seen = false;
        for (int k = 0; k < out->nmbuckets; k++)
            seen |= out->mbuckets[k] == refs[i];
        if (!seen && in_data(&b->md, refs[i]) && refs[i] % 8 == 0)
            out->mbuckets[out->nmbuckets++] = refs[i];
    }
}

/* The 8-byte value the binary links at vaddr (0 for .bss or when outside the file). */
static uint64_t linked_u64(const struct go_binary *b, uint64_t vaddr) {
    const uint8_t *p = elf_image_at_vaddr(&b->elf, vaddr, 8);
    uint64_t v = 0;
    if (p)
        memcpy(&v, p, 8);
    return v;
}

/* The flag-guarded store of MemProfileRate: in schedinit the setting's linked value is the default rate
 * (1.20+); in runtime.init the default is an immediate between flag and store (1.17-1.19). */
static bool rate_from_code(const struct go_binary *b, const char *function, struct go_profile_globals *out) {
    struct go_func fn;
    const uint8_t *code = code_of(b, function, &fn);
    struct x86_flag_store st[MAX_STORES];
    size_t n = code ? x86_flag_stores(code, fn.end - fn.entry, fn.entry, st, MAX_STORES) : 0;
    for (size_t i = 0; i < n; i++) {
        if (!in_data(&b->md, st[i].flag) || !in_data(&b->md, st[i].setting) || st[i].setting % 8 != 0)
            continue;
        if (st[i].imm_between == DEFAULT_MEM_PROFILE_RATE ||
            linked_u64(b, st[i].setting) == DEFAULT_MEM_PROFILE_RATE) {
            out->disable_flag = st[i].flag;
            out->mem_profile_rate = st[i].setting;
            out->rate_from = function;
            return true;
        }
    }
    return false;
}

void go_profile_globals_find(const struct go_binary *b, struct go_profile_globals *out) {
    memset(out, 0, sizeof(*out));
    out->flag_in_file = -1;
    out->mbuckets[0] = symbol(b, "runtime.mbuckets");
    out->mbuckets_from = "symbol table";
    if (out->mbuckets[0]) {
        out->nmbuckets = 1;
    } else {
        mbuckets_from_code(b, out);
        out->mbuckets_from = "code of runtime.mProf_FlushLocked";
    }
    out->mem_profile_rate = symbol(b, "runtime.MemProfileRate");
    out->disable_flag = symbol(b, "runtime.disableMemoryProfiling");
    out->rate_from = "symbol table";
    if (!out->mem_profile_rate || !out->disable_flag) {
        out->mem_profile_rate = out->disable_flag = 0;
        if (!rate_from_code(b, "runtime.schedinit", out))
            rate_from_code(b, "runtime.init", out);
    }
    if (out->disable_flag) {
        const uint8_t *p = elf_image_at_vaddr(&b->elf, out->disable_flag, 1);
        out->flag_in_file = p ? *p : 0; /* .bss: zero */
    }
    struct go_func fn;
    out->marker_present = go_binary_find_func(b, "runtime.MemProfile", &fn, NULL) ||
                          go_binary_find_func(b, "runtime.memProfileInternal", &fn, NULL);
}
