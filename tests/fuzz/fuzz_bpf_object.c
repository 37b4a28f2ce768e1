/* libFuzzer target: a compiled BPF program as the cache keeps it (probes/bpf_object.c) and the cache entry
 * around it (probes/bpf_cache.c), as a damaged or crafted file in the cache directory could hold. The first
 * byte chooses: even, the rest is an object; odd, the rest is an entry under the key "gmon-fuzz-key". An
 * object that parses must serialize back to the same bytes, and every map reference must name a map. */
#include <stdlib.h>
#include <string.h>

#include "bpf_cache.h"
#include "bpf_object.h"

static const char KEY[] = "gmon-fuzz-key";

static void check_object(const uint8_t *data, size_t size) {
    struct bpf_object o;
    struct gmon_error err;
    if (bpf_object_parse(&o, data, size, &err) != 0)
        return;
    for (uint32_t f = 0; f < o.nfunctions; f++) {
        const struct bpf_object_function *fn = &o.functions[f];
        if (bpf_object_function(&o, fn->name) == NULL)
            __builtin_trap();
        for (uint32_t i = 0; i + 1 < fn->ninsns; i++)
            if (fn->insns[i].code == BPF_OBJECT_LD_IMM64) {
                if (fn->insns[i].regs >> 4 == BPF_OBJECT_PSEUDO_MAP_FD &&
                    (uint32_t)fn->insns[i].imm >= o.nmaps)
                    __builtin_trap();
                i++;
            }
    }
    uint8_t *again = NULL;
    size_t again_size = 0;
    if (bpf_object_serialize(&o, &again, &again_size) != 0)
        abort();
    if (again_size != size || memcmp(again, data, size) != 0)
        __builtin_trap();
    free(again);
    bpf_object_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0) {
        check_object(data + 1, size - 1);
        return 0;
    }
    size_t at, n;
    if (bpf_cache_entry_parse(data + 1, size - 1, KEY, sizeof(KEY) - 1, &at, &n)) {
        if (at > size - 1 || n > size - 1 - at)
            __builtin_trap();
        check_object(data + 1 + at, n);
    }
    return 0;
}
