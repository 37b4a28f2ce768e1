/* libFuzzer target: an ELF image as gmon reads the symbols of code a process mapped (the vDSO from its
 * memory, a shared library it loaded: a target can map any file), with the mapping's file offset in the first
 * 8 bytes. Every symbol read must be found again by its address, with a bounded name. */
#include <stdlib.h>
#include <string.h>

#include "native_symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 8)
        return 0;
    uint64_t off;
    memcpy(&off, data, 8);
    size -= 8;
    char *image = malloc(size ? size : 1); /* its own buffer: ASan sees a read past the image */
    if (!image)
        return 0;
    memcpy(image, data + 8, size);
    struct native_symbols t;
    uint64_t vaddr;
    if (native_symbols_from_image(&t, image, size, off, &vaddr)) {
        for (size_t i = 0; i < t.n; i++) {
            const char *name = native_symbols_find(&t, t.syms[i].addr);
            if (t.syms[i].name >= t.names_len || !name || strlen(name) >= NATIVE_SYMBOL_MAX_NAME)
                __builtin_trap();
        }
        native_symbols_find(&t, off);
        native_symbols_free(&t);
    }
    free(image);
    return 0;
}
