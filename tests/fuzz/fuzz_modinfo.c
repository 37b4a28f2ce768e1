/* libFuzzer target: the modinfo text of .go.buildinfo (path, mod, dep and build lines, with or without its
 * 16-byte sentinels), as a crafted binary could hold. */
#include <string.h>

#include "go_buildinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct go_buildinfo bi;
    memset(&bi, 0, sizeof(bi));
    go_buildinfo_parse_modinfo((const char *)data, size, &bi);
    if (bi.nsettings > GO_BUILDINFO_MAX_SETTINGS)
        __builtin_trap();
    go_buildinfo_setting(&bi, "CGO_ENABLED");
    return 0;
}
