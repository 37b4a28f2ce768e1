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

/* The first 8-aligned data reference of the first function of names that the binary has, 0 when none. */
static uint64_t first_load(const struct go_binary *b, const char *const *names, size_t n, const char **from) {
    for (size_t k = 0; k < n; k++) {
        struct go_func fn;
        const uint8_t *code = code_of(b, names[k], &fn);
        uint64_t refs[MAX_REFS];
        size_t nrefs = code ? x86_rip_refs(code, fn.end - fn.entry, fn.entry, refs, MAX_REFS) : 0;
        for (size_t i = 0; i < nrefs; i++) {
            if (in_data(&b->md, refs[i]) && refs[i] % 8 == 0) {
                *from = names[k];
                return refs[i];
            }
        }
    }
    return 0;
}

/* runtime.stkbucket picks the list by bucket type: `lea mbuckets` for memProfile, `lea xbuckets` for
 * mutexProfile, else `lea bbuckets`: the two distinct data references after mbuckets, in code order. */
static void contention_lists_from_code(const struct go_binary *b, struct go_profile_globals *out) {
    struct go_func fn;
    const uint8_t *code = code_of(b, "runtime.stkbucket", &fn);
    uint64_t refs[MAX_REFS];
    size_t n = code ? x86_rip_refs(code, fn.end - fn.entry, fn.entry, refs, MAX_REFS) : 0;
    for (int c = 0; c < out->nmbuckets; c++) {
        size_t i = 0;
        while (i < n && refs[i] != out->mbuckets[c])
            i++;
        uint64_t found[2] = {0, 0};
        for (int k = 0; i < n && k < 2; i++) {
            if (refs[i] != out->mbuckets[c] && (k == 0 || refs[i] != found[0]) && in_data(&b->md, refs[i]) &&
                refs[i] % 8 == 0)
                found[k++] = refs[i];
        }
        out->xbuckets[c] = found[0];
        out->bbuckets[c] = found[1];
    }
    out->contention_from = "code of runtime.stkbucket";
}

/* runtime.ticks: {lock mutex; pad uint32; val uint64} up to Go 1.20, {lock mutex; startTicks, startTime
 * int64; val atomic.Int64} from 1.21 (runtime.go ticksType); a mutex is one word. */
static void ticks_find(const struct go_binary *b, int minor, struct go_profile_globals *out) {
    uint64_t ticks = symbol(b, "runtime.ticks");
    uint64_t val_offset = minor >= 21 ? 24 : 16;
    out->ticks_from = "symbol table";
    if (ticks) {
        out->ticks_val = ticks + val_offset;
    } else {
        /* ticks.val.Load() (1.21+) or atomic.Load64(&ticks.val) (up to 1.20) comes first */
        static const char *const NAMES[] = {"runtime.ticksPerSecond", "runtime.tickspersecond"};
        out->ticks_val = first_load(b, NAMES, 2, &out->ticks_from);
    }
    if (!out->ticks_val && minor >= 21) {
        /* (*ticksType).init begins with lock(&ticks.lock): the struct's address (a function of its own in
         * 1.26+ binaries that never compute ticks per second; inlined into schedinit before) */
        static const char *const INIT[] = {"runtime.(*ticksType).init"};
        uint64_t base = first_load(b, INIT, 1, &out->ticks_from);
        out->ticks_val = base ? base + val_offset : 0;
    }
    if (out->ticks_val && minor >= 21)
        out->ticks_start = out->ticks_val - 16;
}

static void contention_find(const struct go_binary *b, int minor, struct go_profile_globals *out) {
    uint64_t bbuckets = symbol(b, "runtime.bbuckets"), xbuckets = symbol(b, "runtime.xbuckets");
    out->contention_from = "symbol table";
    for (int c = 0; c < MBUCKETS_CANDIDATES && bbuckets && xbuckets; c++) {
        out->bbuckets[c] = bbuckets;
        out->xbuckets[c] = xbuckets;
    }
    if (!bbuckets || !xbuckets)
        contention_lists_from_code(b, out);
    const char *from = NULL;
    out->block_rate = symbol(b, "runtime.blockprofilerate");
    if (!out->block_rate) {
        static const char *const NAMES[] = {"runtime.blockevent"};
        out->block_rate = first_load(b, NAMES, 1, &from);
    }
    out->mutex_rate = symbol(b, "runtime.mutexprofilerate");
    if (!out->mutex_rate) {
        /* runtime.mutexevent is linknamed sync.event up to 1.26 */
        static const char *const NAMES[] = {"sync.event", "runtime.mutexevent"};
        out->mutex_rate = first_load(b, NAMES, 2, &from);
    }
    ticks_find(b, minor, out);
}

void go_profile_globals_find(const struct go_binary *b, int minor, struct go_profile_globals *out) {
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
    contention_find(b, minor, out);
}
