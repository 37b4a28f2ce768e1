#include "go_runtime_code.h"

#include <string.h>

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool go_is_runtime_function(const char *name) {
    /* The package paths of src/runtime, of the packages under src/runtime/internal (Go 1.17-1.22) and of
     * those under src/internal/runtime (Go 1.23 on: atomic, exithook, syscall; maps and sys by 1.24; gc and
     * cgroup by 1.26). */
    return starts_with(name, "runtime.") || starts_with(name, "runtime/internal/") ||
           starts_with(name, "internal/runtime/");
}
