#include "go_tls.h"

enum { GO_TLS_BLOCK = 16, DEFAULT_OFFSET = -8 };

long go_tls_g_offset(const struct elf_image *img, bool *certain) {
    *certain = true;
    if (!img->has_tls)
        return DEFAULT_OFFSET;
    uint64_t align = img->tls_align ? img->tls_align : 1;
    uint64_t block = (img->tls_memsz + align - 1) / align * align;
    uint64_t tlsg, size;
    if (elf_image_find_symbol(img, "runtime.tlsg", &tlsg, &size) && tlsg < block)
        return (long)tlsg - (long)block;
    *certain = block <= GO_TLS_BLOCK;
    return DEFAULT_OFFSET;
}
