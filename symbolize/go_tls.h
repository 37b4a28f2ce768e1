/* Where linux/amd64 Go keeps the current g in thread-local storage: at FS_base + this offset. The runtime's
 * TLS variable runtime.tlsg sits at the end of the executable's TLS block, which ends at FS_base (variant II
 * TLS): -8 in internally linked binaries, and in externally linked ones whose C libraries keep their TLS
 * elsewhere (a dynamically linked glibc); a statically linked C library puts its TLS in the same block, and
 * the offset moves (runtime/go_tls.h, runtime.tlsg in cmd/link). */
#ifndef GMON_GO_TLS_H
#define GMON_GO_TLS_H
#include <stdbool.h>

#include "elf_image.h"

/* The offset from the binary's runtime.tlsg symbol and PT_TLS segment; without the symbol (stripped), -8
 * when the TLS block holds only Go's 16 bytes. *certain false: -8 is a guess (a stripped binary with C TLS);
 * readers must check what they find there. */
long go_tls_g_offset(const struct elf_image *img, bool *certain);

#endif
